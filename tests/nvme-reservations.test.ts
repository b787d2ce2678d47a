// Reservations through the controllers (NVMe Base Spec 2.0 §8.19; docs/multipath.md), over
// NVMe/TCP with two hosts (Connect HOSTIDs) on two controllers of one subsystem sharing a
// namespace: register, acquire, the other host's writes fenced (Reservation Conflict, DNR),
// reads allowed, Reservation Report (extended, as CTRATT bit 0 asks), preemption with its
// notification (AER, log page 80h), the features 81h-83h, and PTPL across a machine restart.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { parseArgs } from '../src/config/options.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { startNvmeTcp, type NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import { readU16le, readU32le, readU64le, writeU64le } from '../src/util/bytes.js';
import { tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:resv';
const args = (dir: string): string[] => [
  '-drive',
  `file=${dir}/ns.img,if=none,id=d1,format=raw`,
  '-device',
  'nvme-subsys,id=s0,nqn=resv',
  '-device',
  'nvme,id=c0,serial=resv0,subsys=s0',
  '-device',
  'nvme,id=c1,serial=resv0,subsys=s0',
  '-device',
  'nvme-ns,drive=d1,nsid=1',
];

const hostid = (n: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => n * 16 + i);

async function connect(port: number, n: number): Promise<NvmeTcpController> {
  return NvmeTcpController.connect({
    address: '127.0.0.1',
    port,
    subnqn: NQN,
    hostnqn: `nqn.2014-08.org.nvmexpress:uuid:0000000${n}-0000-0000-0000-000000000000`,
    hostid: hostid(n),
    ioQueues: 1,
    kato: 0,
  });
}

const keys = (a: bigint, b = 0n): Uint8Array => {
  const d = new Uint8Array(16);
  writeU64le(d, 0, a);
  writeU64le(d, 8, b);
  return d;
};
const block = (fill: number): Uint8Array => new Uint8Array(512).fill(fill);

const register = (c: NvmeTcpController, nrkey: bigint, cdw10 = 0) =>
  c.ioCommand({ opcode: IoOpc.RESV_REGISTER, nsid: 1, cdw10 }, { write: keys(0n, nrkey) });
const acquireCmd = (c: NvmeTcpController, crkey: bigint, rtype: number, racqa = 0, prkey = 0n) =>
  c.ioCommand(
    { opcode: IoOpc.RESV_ACQUIRE, nsid: 1, cdw10: (rtype << 8) | racqa },
    { write: keys(crkey, prkey) },
  );
const write = (c: NvmeTcpController, lba: number, fill: number) =>
  c.ioCommand({ opcode: IoOpc.WRITE, nsid: 1, cdw10: lba }, { write: block(fill) });
const read = (c: NvmeTcpController, lba: number) =>
  c.ioCommand({ opcode: IoOpc.READ, nsid: 1, cdw10: lba }, { readLength: 512 });
const report = (c: NvmeTcpController, eds: boolean) =>
  c.ioCommand(
    { opcode: IoOpc.RESV_REPORT, nsid: 1, cdw10: 1024 / 4 - 1, cdw11: eds ? 1 : 0 },
    { readLength: 1024 },
  );

describe('reservations over NVMe/TCP: two hosts, two controllers, one namespace', () => {
  let m: TcpMachine;
  let a: NvmeTcpController;
  let b: NvmeTcpController;
  before(async () => {
    m = await tcpMachine('resv', { 'ns.img': 1 << 20 }, args);
    a = await connect(m.port, 1);
    b = await connect(m.port, 2);
  });
  after(async () => {
    await a.disconnect();
    await b.disconnect();
    await m.close();
  });

  it('advertises reservations: ONCS bit 5, RESCAP, CTRATT bit 0 (128-bit host IDs)', async () => {
    assert.notEqual(a.cntlid, b.cntlid);
    assert.equal(readU16le(a.identify, 520) & 0x20, 0x20);
    assert.equal(readU32le(a.identify, 96) & 1, 1);
    const ns = await a.adminOk(
      'Identify NS',
      { opcode: AdminOpc.IDENTIFY, nsid: 1 },
      { readLength: 4096 },
    );
    assert.equal(ns.data[31], 0xff);
  });

  it('fences the other host: registrants write, the holder holds, others get a conflict', async () => {
    assert.equal((await register(a, 0xaaan)).status, 0);
    assert.equal((await register(b, 0xbbbn)).status, 0);
    assert.equal((await acquireCmd(a, 0xaaan, 1)).status, 0); // Write Exclusive
    assert.equal((await write(a, 0, 0x11)).status, 0);
    const refused = await write(b, 0, 0x22);
    assert.equal(refused.status, withDnr(Status.RESERVATION_CONFLICT));
    // Reads stay allowed under Write Exclusive; the data is the holder's.
    const r = await read(b, 0);
    assert.equal(r.status, 0);
    assert.deepEqual(r.data, block(0x11));
    // A Flush is a write-group command too.
    const f = await b.ioCommand({ opcode: IoOpc.FLUSH, nsid: 1 });
    assert.equal(f.status, withDnr(Status.RESERVATION_CONFLICT));
  });

  it('reports the state in the extended structure; the 64-bit one is refused over fabrics', async () => {
    assert.equal((await report(b, false)).status, withDnr(Status.HOST_ID_INCONSISTENT));
    const r = await report(b, true);
    assert.equal(r.status, 0);
    const d = r.data;
    assert.equal(d[4], 1, 'RTYPE');
    assert.equal(readU16le(d, 5), 2, 'REGSTRNT');
    const entries = [0, 1].map((i) => ({
      cntlid: readU16le(d, 64 + 64 * i),
      rcsts: d[64 + 64 * i + 2],
      rkey: readU64le(d, 64 + 64 * i + 8),
      hostid: d.slice(64 + 64 * i + 16, 64 + 64 * i + 32),
    }));
    assert.deepEqual(entries, [
      { cntlid: a.cntlid, rcsts: 1, rkey: 0xaaan, hostid: hostid(1) },
      { cntlid: b.cntlid, rcsts: 0, rkey: 0xbbbn, hostid: hostid(2) },
    ]);
  });

  it('preempts: the preempted host is notified (AER 6, log 80h) and fenced in turn', async () => {
    // Host a's outstanding Asynchronous Event Request.
    const aer = a.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
    const p = await acquireCmd(b, 0xbbbn, 2, 1, 0xaaan); // Preempt into Exclusive Access
    assert.equal(p.status, 0);
    const ev = await aer;
    assert.equal(ev.status, 0);
    assert.equal(ev.dw0, 6 | (0x80 << 16), 'I/O command specific, reservation log');
    const log = await a.adminOk(
      'Get Log Page 80h',
      { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x80 | ((64 / 4 - 1) << 16) },
      { readLength: 64 },
    );
    assert.equal(readU64le(log.data, 0), 1n, 'log page count');
    assert.equal(log.data[8], 1, 'registration preempted');
    assert.equal(readU32le(log.data, 12), 1, 'NSID');
    const empty = await a.adminOk(
      'Get Log Page 80h',
      { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x80 | ((64 / 4 - 1) << 16) },
      { readLength: 64 },
    );
    assert.deepEqual(empty.data, new Uint8Array(64));
    // Exclusive Access: a (no longer registered) may neither read nor write.
    assert.equal((await read(a, 0)).status, withDnr(Status.RESERVATION_CONFLICT));
    assert.equal((await write(b, 1, 0x33)).status, 0);
  });

  it("Host Identifier (81h) is Connect's over fabrics; the notification mask (82h) is per namespace", async () => {
    const h = await a.adminOk(
      'Get Features 81h',
      { opcode: AdminOpc.GET_FEATURES, cdw10: 0x81, cdw11: 1 },
      { readLength: 16 },
    );
    assert.deepEqual(h.data, hostid(1));
    const set = await a.adminCommand(
      { opcode: AdminOpc.SET_FEATURES, cdw10: 0x81, cdw11: 1 },
      { write: hostid(9) },
    );
    assert.equal(set.status, withDnr(Status.COMMAND_SEQUENCE_ERROR));
    const bad = await a.adminCommand({
      opcode: AdminOpc.SET_FEATURES,
      nsid: 1,
      cdw10: 0x82,
      cdw11: 1,
    });
    assert.equal(bad.status, withDnr(Status.INVALID_FIELD));
    await a.adminOk('Set Features 82h', {
      opcode: AdminOpc.SET_FEATURES,
      nsid: 1,
      cdw10: 0x82,
      cdw11: 0xe,
    });
    const got = await a.adminOk('Get Features 82h', {
      opcode: AdminOpc.GET_FEATURES,
      nsid: 1,
      cdw10: 0x82,
    });
    assert.equal(got.dw0, 0xe);
  });
});

describe('Persist Through Power Loss across restarts', () => {
  it('keeps registrations with PTPL set (feature 83h or CPTPL), clears them otherwise', async () => {
    const m = await tcpMachine('ptpl', { 'ns.img': 1 << 20 }, args);
    let machine: Machine = m.machine;
    let svc: NvmeTcpService = m.svc;
    const restart = async (): Promise<number> => {
      await svc.close();
      await machine.shutdown();
      const p = parseArgs(args(m.dir));
      machine = await Machine.create(p.items, { settings: machineSettings(p), dataDir: m.dir });
      svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
      return svc.target.ioPort.port;
    };
    try {
      let c = await connect(m.port, 1);
      assert.equal((await register(c, 0x1n)).status, 0);
      assert.equal((await acquireCmd(c, 0x1n, 3)).status, 0);
      await c.disconnect();
      c = await connect(await restart(), 1);
      let r = await report(c, true);
      assert.equal(readU16le(r.data, 5), 0, 'without PTPL a restart clears the registrations');
      // CPTPL 11b sets PTPL with the registration.
      assert.equal((await register(c, 0x2n, 3 << 30)).status, 0);
      assert.equal((await acquireCmd(c, 0x2n, 3)).status, 0);
      const ptpl = await c.adminOk('Get Features 83h', {
        opcode: AdminOpc.GET_FEATURES,
        nsid: 1,
        cdw10: 0x83,
      });
      assert.equal(ptpl.dw0, 1);
      await c.disconnect();
      c = await connect(await restart(), 1);
      r = await report(c, true);
      assert.equal(readU16le(r.data, 5), 1, 'registrant kept');
      assert.equal(r.data[4], 3, 'reservation kept');
      assert.equal(r.data[9], 1, 'PTPLS');
      // Set Features 83h clears it; the next restart clears the state.
      await c.adminOk('Set Features 83h', {
        opcode: AdminOpc.SET_FEATURES,
        nsid: 1,
        cdw10: 0x83,
        cdw11: 0,
      });
      await c.disconnect();
      c = await connect(await restart(), 1);
      r = await report(c, true);
      assert.equal(readU16le(r.data, 5), 0);
      await c.disconnect();
    } finally {
      await svc.close();
      await machine.shutdown();
      await m.close().catch(() => undefined);
    }
  });
});
