// Asymmetric Namespace Access (NVMe Base Spec 2.0 §8.20; docs/multipath.md) through NVMe/TCP:
// the Identify fields an ANA subsystem reports, the ANA log page (groups, NSIDs, RGO, change
// count), the ANA change notice, the path statuses of a non-accessible group (no DNR, so a
// multipath host fails over) and the change state with its transition; set from the monitor's
// implementation (nvme/ana-control.ts), the fault kind, and the cntlid ranges.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status } from '../src/nvme/spec/status.js';
import { readU16le, readU32le, readU64le } from '../src/util/bytes.js';
import { setAnaState } from '../src/nvme/ana-control.js';
import { machineFaults } from '../src/faults/injector.js';
import { tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:ana';
const args = (dir: string): string[] => [
  '-drive',
  `file=${dir}/a.img,if=none,id=d1,format=raw`,
  '-drive',
  `file=${dir}/b.img,if=none,id=d2,format=raw`,
  '-drive',
  `file=${dir}/c.img,if=none,id=d3,format=raw`,
  '-device',
  'nvme-subsys,id=s0,nqn=ana,cntlid-min=17,cntlid-max=31',
  '-device',
  'nvme,id=c0,serial=ana0,subsys=s0',
  '-device',
  'nvme-ns,drive=d1,nsid=1,anagrpid=2',
  '-device',
  'nvme-ns,drive=d2,nsid=2,anagrpid=2',
  '-device',
  // No anagrpid: group 1 of an ANA subsystem.
  'nvme-ns,drive=d3,nsid=3',
];

const anaLog = async (c: NvmeTcpController, lsp = 0) =>
  (
    await c.adminOk(
      'Get Log Page 0Ch',
      { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x0c | (lsp << 8) | ((4096 / 4 - 1) << 16) },
      { readLength: 4096 },
    )
  ).data;

describe('ANA over NVMe/TCP', () => {
  let m: TcpMachine;
  let c: NvmeTcpController;
  before(async () => {
    m = await tcpMachine('ana', { 'a.img': 1 << 20, 'b.img': 1 << 20, 'c.img': 1 << 20 }, args);
    c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: m.port,
      subnqn: NQN,
      ioQueues: 1,
      kato: 0,
    });
  });
  after(async () => {
    await c.disconnect();
    await m.close();
  });

  it('hands out controller IDs from cntlid-min', () => {
    assert.equal(c.cntlid, 17);
  });

  it('reports ANA in Identify: CMIC bits 0/1/3, OAES bit 11, ANATT, ANACAP, group limits', async () => {
    const id = c.identify;
    assert.equal(id[76], 0x0b);
    assert.equal(readU32le(id, 92) & (1 << 11), 1 << 11);
    assert.equal(id[342], 10);
    assert.equal(id[343], 0xdf);
    assert.equal(readU32le(id, 344), 128);
    assert.equal(readU32le(id, 348), 128);
    assert.equal(readU32le(id, 540), 256, 'MNAN = NN');
    const ns = async (nsid: number) =>
      readU32le(
        (await c.adminOk('Identify NS', { opcode: AdminOpc.IDENTIFY, nsid }, { readLength: 4096 }))
          .data,
        92,
      );
    assert.deepEqual([await ns(1), await ns(2), await ns(3)], [2, 2, 1]);
  });

  it('lists the groups with their NSIDs and states; RGO leaves the NSIDs out', async () => {
    const log = await anaLog(c);
    assert.equal(readU16le(log, 8), 2, 'two groups');
    const g1 = { grpid: readU32le(log, 16), n: readU32le(log, 20), state: log[32] };
    assert.deepEqual(g1, { grpid: 1, n: 1, state: 1 });
    assert.equal(readU32le(log, 48), 3);
    const g2 = 52;
    assert.deepEqual([readU32le(log, g2), readU32le(log, g2 + 4), log[g2 + 16]], [2, 2, 1]);
    assert.deepEqual([readU32le(log, g2 + 32), readU32le(log, g2 + 36)], [1, 2]);
    const rgo = await anaLog(c, 1);
    assert.equal(readU32le(rgo, 20), 0);
    assert.equal(readU32le(rgo, 16 + 32), 2, 'the second descriptor follows at once');
  });

  it('is as long as NANAGRPID and MNAN make it: nvme-cli reads it in 4 KiB pieces', async () => {
    // nvme-cli 2.3 `ana-log` sizes the log 16 + NANAGRPID * 32 + MNAN * 4 and libnvme fetches
    // it 4 KiB at a time with LPO; the guest saw 0x4002 for the second piece of a short log.
    const size = 16 + 128 * 32 + 256 * 4;
    const parts: Uint8Array[] = [];
    for (let lpo = 0; lpo < size; lpo += 4096) {
      const len = Math.min(4096, size - lpo);
      const r = await c.adminOk(
        'Get Log Page 0Ch at LPO',
        {
          opcode: AdminOpc.GET_LOG_PAGE,
          cdw10: 0x0c | ((len / 4 - 1) << 16),
          cdw12: lpo,
        },
        { readLength: len },
      );
      parts.push(r.data);
    }
    assert.equal(readU16le(parts[0]!, 8), 2, 'the header in the first piece');
    assert.ok(
      parts.slice(1).every((p) => p.every((b) => b === 0)),
      'zero padding after it',
    );
    const past = await c.adminCommand(
      { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x0c | ((4 / 4 - 1) << 16), cdw12: size },
      { readLength: 4 },
    );
    assert.equal(past.status & 0x7ff, Status.INVALID_FIELD, 'an offset past the log');
  });

  it('an inaccessible group fails I/O with ANA Inaccessible (no DNR) and notifies', async () => {
    await c.adminOk('Set Features AEC', {
      opcode: AdminOpc.SET_FEATURES,
      cdw10: 0x0b,
      cdw11: 1 << 11,
    });
    const aer = c.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
    const before = readU64le(await anaLog(c), 0);
    assert.deepEqual(
      setAnaState(m.machine.components(), { group: 2, state: 'inaccessible' }),
      [17],
    );
    const ev = await aer;
    assert.equal(ev.dw0, 2 | (3 << 8) | (0x0c << 16), 'Notice, ANA change, log 0Ch');
    const log = await anaLog(c);
    assert.equal(readU64le(log, 0), before + 1n);
    assert.equal(log[52 + 16], 3);
    const r = await c.ioCommand({ opcode: IoOpc.READ, nsid: 1 }, { readLength: 512 });
    assert.equal(r.status, Status.ANA_INACCESSIBLE);
    // Group 1 is still optimized.
    const ok = await c.ioCommand({ opcode: IoOpc.READ, nsid: 3 }, { readLength: 512 });
    assert.equal(ok.status, 0);
    setAnaState(m.machine.components(), { group: 2, state: 'optimized' });
    assert.equal(
      (await c.ioCommand({ opcode: IoOpc.READ, nsid: 1 }, { readLength: 512 })).status,
      0,
    );
  });

  it('a transition reports the change state (0x303) first, then the target state', async () => {
    setAnaState(m.machine.components(), {
      id: 's0',
      group: 1,
      state: 'persistent-loss',
      transitionMs: 150,
    });
    const r = await c.ioCommand({ opcode: IoOpc.READ, nsid: 3 }, { readLength: 512 });
    assert.equal(r.status, Status.ANA_TRANSITION);
    await new Promise((done) => setTimeout(done, 300));
    const r2 = await c.ioCommand({ opcode: IoOpc.READ, nsid: 3 }, { readLength: 512 });
    assert.equal(r2.status, Status.ANA_PERSISTENT_LOSS);
    setAnaState(m.machine.components(), { group: 1, state: 'optimized' });
  });

  it('the ana-state fault sets a group for its duration and restores it', async () => {
    const inj = machineFaults(m.machine);
    const id = inj.inject({ kind: 'ana-state', id: 'c0', group: 2, state: 'non-optimized' });
    assert.equal((await anaLog(c))[52 + 16], 2);
    assert.equal(
      (await c.ioCommand({ opcode: IoOpc.READ, nsid: 2 }, { readLength: 512 })).status,
      0,
    );
    inj.clear(id);
    assert.equal((await anaLog(c))[52 + 16], 1);
  });

  it('refuses bad requests with a message', () => {
    assert.throws(
      () => setAnaState(m.machine.components(), { group: 2, state: 'gone' }),
      /ANA state 'gone' is not one of: optimized, non-optimized/,
    );
    assert.throws(
      () => setAnaState(m.machine.components(), { group: 0, state: 'optimized' }),
      /between 1 and 128/,
    );
    assert.throws(
      () => setAnaState(m.machine.components(), { id: 'd1', group: 1, state: 'optimized' }),
      /Device 'd1' (not found|is not)/,
    );
  });
});
