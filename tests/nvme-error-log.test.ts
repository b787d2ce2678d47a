// Every rejected command leaves one Error Information log entry (Get Log Page 01h; NVMe Base Spec
// 2.0 §5.16.1.2) and emits one `nvme:cmd:err` trace event (house rule 2), once — through the
// in-process host and over NVMe/TCP alike; SMART's Number of Error Information Log Entries counts
// them. The log keeps ELPE + 1 = 64 entries, newest first.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readU16le, readU32le, readU64le } from '../src/util/bytes.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { onTrace, type TraceEvents } from '../src/trace/catalogue.js';
import { ELPE, ERROR_ENTRY_SIZE, parameterErrorLocation } from '../src/nvme/ctrl/error-log.js';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { FakeNamespace, rig } from './nvme-fakes.js';
import { fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

const numd = (bytes: number): number => ((bytes / 4 - 1) & 0xffff) << 16;
const GET_LOG = AdminOpc.GET_LOG_PAGE;

interface Entry {
  count: bigint;
  sqid: number;
  cid: number;
  status: number;
  pel: number;
  lba: bigint;
  nsid: number;
  opcode: number;
}

function entries(page: Uint8Array): Entry[] {
  const out: Entry[] = [];
  for (let o = 0; o < page.length; o += ERROR_ENTRY_SIZE) {
    const count = readU64le(page, o);
    if (count === 0n) break;
    out.push({
      count,
      sqid: readU16le(page, o + 8),
      cid: readU16le(page, o + 10),
      status: readU16le(page, o + 12) >>> 1,
      pel: readU16le(page, o + 14),
      lba: readU64le(page, o + 16),
      nsid: readU32le(page, o + 24),
      opcode: page[o + 31]!,
    });
  }
  return out;
}

function traced(): { events: TraceEvents['nvme:cmd:err'][]; stop: () => void } {
  const events: TraceEvents['nvme:cmd:err'][] = [];
  return { events, stop: onTrace('nvme:cmd:err', (e) => events.push(e)) };
}

describe('the Error Information log', () => {
  it('records a failed I/O and a failed admin command, newest first, once each', async () => {
    const { ctrl, host } = rig({ ns: [new FakeNamespace(1, { blocks: 64 })] });
    await host.createIoQueues(1);
    const t = traced();
    try {
      const bad = await host.command(
        1,
        { opcode: IoOpc.READ, cid: 7, nsid: 1, cdw10: 100, cdw12: 0 },
        new Uint8Array(512),
      );
      assert.equal(bad.status, 0x4080);
      const cns = await host.admin(
        { opcode: AdminOpc.IDENTIFY, cid: 9, cdw10: 0xff },
        new Uint8Array(4096),
      );
      assert.equal(cns.status, 0x4002);
      const page = new Uint8Array(4096);
      const log = await host.admin({ opcode: GET_LOG, cdw10: 0x01 | numd(4096) }, page);
      assert.equal(log.status, 0);
      assert.deepEqual(entries(page), [
        {
          count: 2n,
          sqid: 0,
          cid: 9,
          status: 0x4002,
          pel: parameterErrorLocation('cdw10.cns'),
          lba: 0n,
          nsid: 0,
          opcode: AdminOpc.IDENTIFY,
        },
        {
          count: 1n,
          sqid: 1,
          cid: 7,
          status: 0x4080,
          pel: 40,
          lba: 100n,
          nsid: 1,
          opcode: IoOpc.READ,
        },
      ]);
      assert.deepEqual(
        t.events.map((e) => [e.command, e.field, e.status, e.dnr, e.lba]),
        [
          ['Read', 'slba', 0x4080, true, 100n],
          ['Identify', 'cdw10.cns', 0x4002, true, undefined],
        ],
      );
      assert.deepEqual(ctrl.stats, {
        adminCommands: 4,
        adminErrors: 1,
        ioCommands: 1,
        ioErrors: 1,
      });
      // SMART: Number of Error Information Log Entries (offset 176).
      const smart = new Uint8Array(512);
      await host.admin({ opcode: GET_LOG, nsid: 0xffffffff, cdw10: 0x02 | numd(512) }, smart);
      assert.equal(readU64le(smart, 176), 2n);
    } finally {
      t.stop();
    }
  });

  it('keeps the newest 64 entries and the lifetime count', async () => {
    const { host } = rig();
    for (let i = 0; i < 70; i++) await host.admin({ opcode: 0x3e, cid: i + 1 });
    const page = new Uint8Array(4096);
    await host.admin({ opcode: GET_LOG, cdw10: 0x01 | numd(4096) }, page);
    const got = entries(page);
    assert.equal(got.length, ELPE + 1);
    assert.deepEqual([got[0]!.count, got[0]!.cid, got.at(-1)!.count], [70n, 70, 7n]);
    assert.equal(got[0]!.pel, 0, 'Invalid Opcode blames the opcode (byte 0)');
  });

  it('counts a command failed over NVMe/TCP once', async () => {
    const { subsys, ctrls } = fakeSubsystem('nqn.2019-08.org.qemu:errlog');
    const target = await TcpTarget.start(() => [subsys], { port: 0, discoveryPort: null });
    const t = traced();
    try {
      const h = await NvmeTcpController.connect({
        address: '127.0.0.1',
        port: target.ioPort.port,
        subnqn: subsys.nqn,
        ioQueues: 1,
      });
      try {
        const r = await h.ioCommand({ opcode: IoOpc.READ, nsid: 9, cdw12: 0 }, { readLength: 512 });
        assert.equal(r.status, 0x4002);
        assert.equal(ctrls[0]!.errors.count, 1n);
        assert.equal(ctrls[0]!.stats.ioErrors, 1);
        assert.deepEqual(
          t.events.map((e) => [e.command, e.field, e.sqid]),
          [['Read', 'nsid', 1]],
        );
      } finally {
        await h.disconnect();
      }
    } finally {
      t.stop();
      await target.close();
    }
  });
});
