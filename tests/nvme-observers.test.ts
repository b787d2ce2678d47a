// Controller.observers: the seam the live view and record/replay watch commands through. Each
// command is seen once at begin and once at end with its completion, on the admin and I/O
// queues, whether it completed at once or later; removing the observer stops the calls.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandObserver } from '../src/nvme/ctrl/controller.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { FakeNamespace, rig } from './nvme-fakes.js';

describe('command observers', () => {
  it('see every command begin and end once, with its status and a duration', async () => {
    const { ctrl, host } = rig({ ns: [new FakeNamespace(1, { delayMs: 5 })] });
    await host.createIoQueues(1);
    const seen: string[] = [];
    const obs: CommandObserver = {
      begin: (_c, ctx) => seen.push(`begin ${ctx.sqid}:${ctx.cmd.opcode}`),
      end: (_c, ctx, c, ns) => {
        assert.ok(ns >= 0n);
        seen.push(`end ${ctx.sqid}:${ctx.cmd.opcode}:${c.status}`);
      },
    };
    ctrl.observers.push(obs);
    await host.command(1, { opcode: IoOpc.READ, nsid: 1, cdw12: 0 }, new Uint8Array(512));
    await host.admin({ opcode: 0x3e });
    ctrl.observers.splice(0);
    await host.admin({ opcode: AdminOpc.GET_FEATURES, cdw10: 0x07 });
    assert.deepEqual(seen, ['begin 1:2', 'end 1:2:0', 'begin 0:62', `end 0:62:${0x4001}`]);
  });
});
