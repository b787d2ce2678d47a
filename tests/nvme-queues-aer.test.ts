// Queue mechanics (§2.5): many commands in flight on many queues, a full CQ defers posting and
// then fills the SQ, SQ deletion discards completions, doorbell errors; AER (§3.6).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Cqe } from '../src/nvme/spec/command.js';
import { statusName } from '../src/nvme/spec/status.js';
import { bufferData } from '../src/nvme/spec/transfer.js';
import { Reg } from '../src/nvme/ctrl/regs.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import { openController } from '../src/nvme/index.js';
import { FakeNamespace, page, rig, pcieOf } from './nvme-fakes.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('queues', () => {
  it('runs 8 queues x 32 commands concurrently and completes each with its data', async () => {
    const ns = new FakeNamespace(1, { blocks: 512, delayMs: 1 });
    const { host } = rig({ ns: [ns] });
    await host.createIoQueues(8, 64);
    const jobs: Promise<void>[] = [];
    for (let q = 1; q <= 8; q++) {
      for (let i = 0; i < 32; i++) {
        const lba = (q - 1) * 32 + i;
        jobs.push(
          (async () => {
            const data = new Uint8Array(512).fill(lba & 0xff);
            const w = await host.command(q, { opcode: 1, nsid: 1, cdw10: lba }, data);
            assert.equal(w.status, 0);
            const back = new Uint8Array(512);
            const r = await host.command(q, { opcode: 2, nsid: 1, cdw10: lba }, back);
            assert.equal(r.status, 0);
            assert.deepEqual(back, data);
          })(),
        );
      }
    }
    await Promise.all(jobs);
    assert.ok(ns.maxInFlight >= 64, `in flight at once: ${ns.maxInFlight}`);
  });

  it('defers posting while the CQ is full and stops fetching once request slots run out', async () => {
    const ns = new FakeNamespace(1);
    const { ctrl, host } = rig({ ns: [ns] });
    // CQ of 3 entries (holds 2), SQ of 4 entries.
    assert.equal(
      (await host.admin({ opcode: 5, prp1: 0x100000n, cdw10: (2 << 16) | 1, cdw11: 1 })).status,
      0,
    );
    assert.equal(
      (await host.admin({ opcode: 1, prp1: 0x200000n, cdw10: (3 << 16) | 1, cdw11: 1 | (1 << 16) }))
        .status,
      0,
    );
    const buf = (): ReturnType<typeof bufferData> => bufferData(new Uint8Array(512));
    const cq = pcieOf(ctrl).cqs[1]!;
    // Fetching is immediate while request slots are free (one per SQ entry: 4).
    for (let i = 0; i < 3; i++)
      assert.ok(pcieOf(ctrl).submit(1, { opcode: 2, nsid: 1, cid: i }, buf()));
    await tick();
    assert.equal(ns.executed, 3);
    assert.equal(cq.pending.length, 1, 'two posted, the third waits for room');
    for (let i = 3; i < 6; i++)
      assert.ok(pcieOf(ctrl).submit(1, { opcode: 2, nsid: 1, cid: i }, buf()));
    await tick();
    assert.equal(ns.executed, 6);
    assert.equal(cq.pending.length, 4, 'all four request slots wait on the full CQ');
    // No slot is free: entries stay in the SQ until it is full (3 of 4 entries).
    for (let i = 6; i < 9; i++)
      assert.ok(pcieOf(ctrl).submit(1, { opcode: 2, nsid: 1, cid: i }, buf()));
    assert.equal(pcieOf(ctrl).submit(1, { opcode: 2, nsid: 1, cid: 9 }, buf()), false, 'SQ full');
    await tick();
    assert.equal(ns.executed, 6);
    const got: Cqe[] = [];
    while (got.length < 9) {
      got.push(...pcieOf(ctrl).reap(1));
      await tick();
    }
    assert.deepEqual(got.map((c) => c.cid).sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(
      got.map((c) => c.phase),
      [1, 1, 1, 0, 0, 0, 1, 1, 1],
    );
    assert.equal(ns.executed, 9);
  });

  it('discards the completions of commands in flight on a deleted SQ', async () => {
    const ns = new FakeNamespace(1, { delayMs: 20 });
    const { ctrl, host } = rig({ ns: [ns] });
    await host.createIoQueues(1);
    assert.ok(
      pcieOf(ctrl).submit(1, { opcode: 2, nsid: 1, cid: 1 }, bufferData(new Uint8Array(512))),
    );
    await tick();
    assert.equal(ns.inFlight, 1);
    assert.equal((await host.admin({ opcode: 0, cdw10: 1 })).status, 0);
    await tick(40);
    assert.equal(ns.inFlight, 0);
    assert.deepEqual(pcieOf(ctrl).reap(1), []);
  });

  it('routes I/O NSID errors and Flush per §4.1 steps 1-2', async () => {
    const ns = [new FakeNamespace(1), new FakeNamespace(2)];
    const { host } = rig({ ns });
    await host.createIoQueues(1);
    const st = async (nsid: number, opcode = 2): Promise<string> =>
      statusName((await host.command(1, { opcode, nsid }, new Uint8Array(512))).status);
    assert.equal(await st(0), 'INVALID_NSID+DNR');
    assert.equal(await st(257), 'INVALID_NSID+DNR');
    assert.equal(await st(0xffffffff), 'INVALID_FIELD+DNR');
    assert.equal(await st(9), 'INVALID_FIELD+DNR');
    assert.equal(await st(0xffffffff, 0), 'SUCCESS');
    assert.deepEqual(
      ns.map((n) => n.flushes),
      [1, 1],
    );
    assert.equal(await st(2, 0), 'SUCCESS');
    assert.equal(await st(9, 0), 'INVALID_FIELD+DNR');
    assert.equal(await st(0, 0), 'INVALID_NSID+DNR');
    ns[1]!.failFlush = true;
    assert.equal(await st(0xffffffff, 0), 'WRITE_FAULT');
  });
});

describe('asynchronous events (§3.6)', () => {
  it('accepts aerl+1 AERs, answers the next with 0x105 and completes LIFO', async () => {
    const { ctrl, host } = rig();
    const aers = [1, 2, 3, 4].map((cid) => host.admin({ opcode: 0x0c, cid }));
    const over = await host.admin({ opcode: 0x0c, cid: 5 });
    assert.equal(statusName(over.status), 'AER_LIMIT_EXCEEDED');
    assert.equal(ctrl.aer.outstandingCount, 4);
    await host.admin({ opcode: 0x09, cdw10: 0x0b, cdw11: 0x02 });
    await host.admin({ opcode: 0x09, cdw10: 0x04, cdw11: 200 });
    const first = await aers[3]!;
    assert.equal(first.dw0, 0x00020101, 'SMART temperature event on the newest AER');
  });

  it('masks a type until its log is read with RAE=0, then reports the queued event', async () => {
    const { ctrl, host } = rig();
    await host.admin({ opcode: 0x09, cdw10: 0x0b, cdw11: 0xff });
    const a1 = host.admin({ opcode: 0x0c });
    ctrl.setSmartCriticalWarning(0x1);
    assert.equal((await a1).dw0, 0x00020201, 'spare event');
    const a2 = host.admin({ opcode: 0x0c });
    ctrl.setSmartCriticalWarning(0x1 | 0x4);
    await tick();
    assert.equal(ctrl.aer.queuedCount, 1, 'SMART masked');
    // RAE=1 keeps the mask.
    await host.admin({ opcode: 0x02, cdw10: (127 << 16) | 0x8002, nsid: 0xffffffff }, page());
    assert.equal(ctrl.aer.queuedCount, 1);
    // RAE=0 unmasks, and the event queued meanwhile is reported (QEMU 7.2, measured).
    await host.admin({ opcode: 0x02, cdw10: (127 << 16) | 0x02, nsid: 0xffffffff }, page());
    assert.equal((await a2).dw0, 0x00020001, 'reliability degraded -> reliability info');
    assert.equal(ctrl.aer.queuedCount, 0);
  });

  it('gates SMART events by AEC but not notices; raises only newly set warning bits', async () => {
    const { ctrl, host } = rig();
    ctrl.setSmartCriticalWarning(0x1);
    assert.equal(ctrl.aer.queuedCount, 0);
    assert.throws(() => ctrl.setSmartCriticalWarning(0x20), {
      message: 'unsupported smart critical warning bits: 0x20',
    });
    const log = page();
    await host.admin({ opcode: 0x02, cdw10: (127 << 16) | 0x02, nsid: 0xffffffff }, log);
    assert.equal(log[0], 0x1);
  });

  it('aborting an outstanding AER completes it with 0x007 and Abort dw0 0', async () => {
    const { host } = rig();
    const aer = host.admin({ opcode: 0x0c, cid: 0x42 });
    const ab = await host.admin({ opcode: 0x08, cdw10: 0x00420000 });
    assert.deepEqual([ab.status, ab.dw0], [0, 0]);
    assert.equal(statusName((await aer).status), 'ABORT_REQUESTED');
  });

  it('reports a doorbell write to a missing queue as an Error event when an AER waits', async () => {
    const { ctrl, host } = rig();
    pcieOf(ctrl).writeReg32(0x1000 + 8 * 5, 1); // no AER outstanding: ignored
    assert.equal(ctrl.aer.queuedCount, 0);
    const aer = host.admin({ opcode: 0x0c });
    await tick();
    pcieOf(ctrl).writeReg32(0x1000 + 8 * 5, 1);
    assert.equal((await aer).dw0, 0x00010000);
    const aer2 = host.admin({ opcode: 0x0c });
    await host.admin({ opcode: 0x02, cdw10: (15 << 16) | 0x01 }, page()); // read error log: unmask
    pcieOf(ctrl).writeReg32(0x1000 + 4, 4000); // admin CQ head beyond its size
    assert.equal((await aer2).dw0, 0x00010100);
  });

  it('drops AERs and queued events on controller reset', async () => {
    const { ctrl, host } = rig();
    void host.admin({ opcode: 0x0c }).catch(() => undefined);
    await tick();
    pcieOf(ctrl).writeReg32(Reg.CC, 0);
    assert.deepEqual([ctrl.aer.outstandingCount, ctrl.aer.queuedCount], [0, 0]);
  });

  it('sends the namespace-attribute notice 0x00040002 after attachment, once until the log is read', async () => {
    const subsys = new Subsystem(true, 'nqn.2019-08.org.qemu:s');
    const a = openController({ serial: 's', subsystem: subsys });
    subsys.addNamespace(new FakeNamespace(1, { detached: true }), a.controller);
    subsys.addNamespace(new FakeNamespace(2, { detached: true }), a.controller);
    const aer = a.host.admin({ opcode: 0x0c });
    const list = page();
    list.set([1, 0, 0, 0]);
    await a.host.admin({ opcode: 0x15, nsid: 1 }, list);
    assert.equal((await aer).dw0, 0x00040002);
    await a.host.admin({ opcode: 0x15, nsid: 2 }, list);
    assert.equal(a.controller.aer.queuedCount, 1, 'second notice masked');
  });
});
