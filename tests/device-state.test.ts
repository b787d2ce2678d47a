// Device state kept across separate runs (docs/faults.md "Device state across restarts"):
// SMART counters with `-device nvme,x-persist-smart=on` and FDP state with
// `-device nvme-subsys,fdp=on,x-persist-fdp=on`. Each machine here is built afresh with
// Machine.create over the same data folder, as a second `nvmemu run` would be: nothing is
// carried in memory, only the files in the folder.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { powerCutMachine } from '../src/faults/power-cut.js';
import { copyFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le, readU32le, readU64le, writeU16le } from '../src/util/bytes.js';
import { decodeSmartCounters, encodeSmartCounters } from '../src/nvme/persist/smart-state.js';
import { controllerOf, flush, tempDir } from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

function folder(): string {
  const t = tempDir('state');
  dirs.push(t.cleanup);
  for (const n of ['a', 'b']) {
    writeFileSync(join(t.dir, `${n}.img`), new Uint8Array(0));
    truncateSync(join(t.dir, `${n}.img`), 1 << 20);
  }
  return t.dir;
}

async function build(dir: string, line: string): Promise<Machine> {
  registerAllTypes();
  const a = parseArgs(
    line.replace(/file=(\w)\.img/g, (_, n: string) => `file=${join(dir, `${n}.img`)}`).split(' '),
  );
  return Machine.create(a.items, { settings: machineSettings(a), dataDir: dir, warn: () => {} });
}

async function hostOf(m: Machine): Promise<Host> {
  const h = new Host(controllerOf(m, 'c'));
  h.enable();
  await h.createIoQueues(1, 64);
  return h;
}

/** A read or write; with `pid` a Data Placement write (DTYPE 2, DSPEC = pid). */
async function io(
  h: Host,
  opcode: number,
  lba: number,
  nlb: number,
  pid?: number,
): Promise<number> {
  const cdw12 = (nlb - 1) | (pid === undefined ? 0 : 2 << 20);
  const cdw13 = pid === undefined ? 0 : pid << 16;
  const cqe = await h.command(
    1,
    { opcode, nsid: 1, cdw10: lba, cdw12, cdw13 },
    new Uint8Array(nlb * 512),
  );
  return cqe.status;
}

async function getLog(h: Host, lid: number, len: number, lsp = 0, cdw11 = 0): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  const cqe = await h.admin(
    {
      opcode: AdminOpc.GET_LOG_PAGE,
      nsid: 0xffffffff,
      cdw10: lid | (lsp << 8) | ((len / 4 - 1) << 16),
      cdw11,
    },
    buf,
  );
  assert.equal(cqe.status, 0);
  return buf;
}

interface Smart {
  unitsRead: bigint;
  unitsWritten: bigint;
  readCmds: bigint;
  writeCmds: bigint;
  powerCycles: bigint;
  unsafe: bigint;
  mediaErrors: bigint;
}

async function smart(h: Host): Promise<Smart> {
  const l = await getLog(h, 0x02, 512);
  return {
    unitsRead: readU64le(l, 32),
    unitsWritten: readU64le(l, 48),
    readCmds: readU64le(l, 64),
    writeCmds: readU64le(l, 80),
    powerCycles: readU64le(l, 112),
    unsafe: readU64le(l, 144),
    mediaErrors: readU64le(l, 160),
  };
}

const CTRL = (props: string): string =>
  '-drive file=a.img,if=none,id=a,format=raw -device nvme-subsys,id=s0,nqn=s0 ' +
  `-device nvme,id=c,serial=st0,subsys=s0${props} -device nvme-ns,id=ns1,drive=a,nsid=1`;

/** 3 writes of 8 blocks, 2 reads of 1 block, a flush. */
async function workload(h: Host): Promise<void> {
  for (let i = 0; i < 3; i++) assert.equal(await io(h, IoOpc.WRITE, 8 * i, 8), 0);
  for (let i = 0; i < 2; i++) assert.equal(await io(h, IoOpc.READ, i, 1), 0);
  assert.equal(await flush(h), 0);
}

describe('SMART counters across runs (x-persist-smart)', () => {
  it('off (the default): the next run starts from zero, as QEMU, and writes no file', async () => {
    const dir = folder();
    const m1 = await build(dir, CTRL(''));
    await workload(await hostOf(m1));
    await m1.shutdown();
    const m2 = await build(dir, CTRL(''));
    const s = await smart(await hostOf(m2));
    await m2.shutdown();
    assert.deepEqual([s.writeCmds, s.readCmds, s.powerCycles, s.unsafe], [0n, 0n, 0n, 0n]);
    assert.equal(existsSync(join(dir, 'nvme', 's0-0.smart')), false);
  });

  it('on: a clean restart keeps data units, commands and media errors and counts one power cycle', async () => {
    const dir = folder();
    const m1 = await build(dir, CTRL(',x-persist-smart=on'));
    await workload(await hostOf(m1));
    controllerOf(m1, 'c').smart.counters.mediaErrors = 2n;
    await m1.shutdown();
    const m2 = await build(dir, CTRL(',x-persist-smart=on'));
    const h2 = await hostOf(m2);
    assert.deepEqual(await smart(h2), {
      unitsRead: 1n,
      unitsWritten: 1n,
      readCmds: 2n,
      writeCmds: 3n,
      powerCycles: 1n,
      unsafe: 0n,
      mediaErrors: 2n,
    });
    assert.equal(await io(h2, IoOpc.WRITE, 100, 1), 0);
    await m2.shutdown();
    const m3 = await build(dir, CTRL(',x-persist-smart=on'));
    const s3 = await smart(await hostOf(m3));
    await m3.shutdown();
    assert.deepEqual([s3.writeCmds, s3.readCmds, s3.powerCycles, s3.unsafe], [4n, 2n, 2n, 0n]);
  });

  it('on: a power cut counts one unsafe shutdown, and the next clean start does not count it again', async () => {
    const dir = folder();
    const m1 = await build(dir, CTRL(',x-persist-smart=on'));
    await workload(await hostOf(m1));
    const { machine: m2, report } = await powerCutMachine(m1);
    assert.deepEqual(report.unsafeShutdowns, { st0: 1 });
    const s2 = await smart(await hostOf(m2));
    assert.deepEqual([s2.writeCmds, s2.powerCycles, s2.unsafe], [3n, 1n, 1n]);
    await m2.shutdown();
    const m3 = await build(dir, CTRL(',x-persist-smart=on'));
    const s3 = await smart(await hostOf(m3));
    await m3.shutdown();
    assert.deepEqual([s3.writeCmds, s3.powerCycles, s3.unsafe], [3n, 2n, 1n]);
  });

  it('on: a run that ended without shutdown (killed) counts an unsafe shutdown and keeps what the last flush saved', async () => {
    const dir = folder();
    const file = join(dir, 'nvme', 's0-0.smart');
    const m1 = await build(dir, CTRL(',x-persist-smart=on'));
    const h1 = await hostOf(m1);
    await workload(h1);
    // What a SIGKILL now leaves in the folder: the snapshot of the flush, marked running.
    copyFileSync(file, `${file}.killed`);
    assert.equal(await io(h1, IoOpc.WRITE, 200, 1), 0); // after the flush: not saved
    await m1.shutdown();
    copyFileSync(`${file}.killed`, file);
    const m2 = await build(dir, CTRL(',x-persist-smart=on'));
    const s2 = await smart(await hostOf(m2));
    await m2.shutdown();
    assert.deepEqual([s2.writeCmds, s2.readCmds, s2.powerCycles, s2.unsafe], [3n, 2n, 1n, 1n]);
  });

  it('refuses a damaged state file and two controllers that would share one', async () => {
    const dir = folder();
    const m1 = await build(dir, CTRL(',x-persist-smart=on'));
    await m1.shutdown();
    const file = join(dir, 'nvme', 's0-0.smart');
    const b = readFileSync(file);
    b[70] = (b[70] ?? 0) ^ 0xff;
    writeFileSync(file, b);
    await assert.rejects(build(dir, CTRL(',x-persist-smart=on')), {
      message: `SMART state file '${file}' is damaged (a record fails its CRC); remove it`,
    });
    const twice =
      '-device nvme,id=c,serial=same,x-persist-smart=on -device nvme,id=d,serial=same,x-persist-smart=on';
    await assert.rejects(build(dir, twice), (e: Error) =>
      e.message.includes(
        `x-persist-smart: another controller already keeps its SMART state in '${join(dir, 'nvme', 'same-0.smart')}'`,
      ),
    );
  });

  it('encodes the counters as 8 little-endian u64 and a running flag (golden bytes)', () => {
    const c = {
      powerCycles: 1n,
      unsafeShutdowns: 2n,
      mediaErrors: 3n,
      powerOnMs: 0x1_0000_0004n,
      bytesRead: 5n,
      bytesWritten: 6n,
      readCommands: 7n,
      writeCommands: 8n,
    };
    const p = encodeSmartCounters(c, true);
    const golden = new Uint8Array(72);
    [1, 2, 3, 4, 5, 6, 7, 8].forEach((v, i) => (golden[8 * i] = v));
    golden[28] = 1; // powerOnMs high word
    golden[64] = 1; // running
    assert.deepEqual(p, golden);
    assert.deepEqual(decodeSmartCounters(p), { counters: c, running: true });
  });
});

const FDP = (props: string): string =>
  '-drive file=a.img,if=none,id=a,format=raw ' +
  `-device nvme-subsys,id=s0,fdp=on,fdp.nrg=2,fdp.nruh=4,fdp.runs=65536${props} ` +
  '-device nvme,id=c,serial=f,subsys=s0 -device nvme-ns,drive=a,nsid=1,fdp.ruhs=1;2';

interface FdpView {
  ruamw: number[];
  stats: bigint[];
  ctrlEvents: number[];
  hostEvents: number[];
}

async function fdpView(h: Host): Promise<FdpView> {
  const buf = new Uint8Array(16 + 32 * 4);
  const cqe = await h.command(
    1,
    { opcode: IoOpc.IO_MGMT_RECV, nsid: 1, cdw10: 1, cdw11: buf.length / 4 - 1 },
    buf,
  );
  assert.equal(cqe.status, 0);
  const ruamw = [0, 1, 2, 3].map((i) => Number(readU64le(buf, 16 + 32 * i + 8)));
  const st = await getLog(h, 0x22, 64, 0, 1 << 16);
  const events = async (lsp: number): Promise<number[]> => {
    const l = await getLog(h, 0x23, 128, lsp, 1 << 16);
    // Count, then the first event: type, flags, PID, reclaim group, RUH id.
    return [
      readU32le(l, 0),
      l[64] ?? 0,
      l[65] ?? 0,
      readU16le(l, 66),
      readU16le(l, 96),
      l[98] ?? 0,
    ];
  };
  return {
    ruamw,
    stats: [readU64le(st, 0), readU64le(st, 16), readU64le(st, 32)],
    ctrlEvents: await events(0),
    hostEvents: await events(1),
  };
}

/** Events enabled on PH 1, a rollover in RG 1, an abandoned RU (RUH Update). */
async function fdpWorkload(h: Host): Promise<void> {
  const types = Uint8Array.of(0x00, 0x03, 0x81);
  const set = await h.admin(
    { opcode: 0x09, nsid: 1, cdw10: 0x1e, cdw11: 1 | (3 << 16), cdw12: 1 },
    types,
  );
  assert.equal(set.status, 0);
  assert.equal(await io(h, IoOpc.WRITE, 0, 140, 0x4001), 0);
  assert.equal(await io(h, IoOpc.WRITE, 200, 8), 0);
  assert.equal(await io(h, IoOpc.WRITE, 300, 4, 0x0001), 0);
  const pids = new Uint8Array(2);
  writeU16le(pids, 0, 0x0001);
  const upd = await h.command(1, { opcode: IoOpc.IO_MGMT_SEND, nsid: 1, cdw10: 1 }, pids);
  assert.equal(upd.status, 0);
  assert.equal(await io(h, IoOpc.WRITE, 304, 4, 0x0001), 0);
}

const AFTER_WORKLOAD: FdpView = {
  // PH0/RG0 (RUH 1): 8 written; PH1/RG0 (RUH 2): 4, updated, 4; PH0/RG1 untouched;
  // PH1/RG1 (RUH 2): 140 = one full RU (128) + 12.
  ruamw: [120, 124, 128, 116],
  // Host bytes: 156 blocks; media bytes add the 124 blocks the update abandoned.
  stats: [156n * 512n, 280n * 512n, 0n],
  // The rollover of RUH 2 in RG 1; the update of RUH 2 in RG 0 (RU not fully written).
  ctrlEvents: [1, 0x81, 0x7, 0x4001, 1, 2],
  hostEvents: [1, 0x00, 0x7, 0x0001, 0, 2],
};

describe('FDP state across runs (x-persist-fdp)', () => {
  it('x-persist-fdp=on needs fdp=on', async () => {
    const dir = folder();
    await assert.rejects(build(dir, '-device nvme-subsys,id=s0,x-persist-fdp=on'), (e: Error) =>
      e.message.includes('x-persist-fdp=on needs fdp=on'),
    );
  });

  it('on: a clean restart keeps handles, reclaim units, statistics and events', async () => {
    const dir = folder();
    const m1 = await build(dir, FDP(',x-persist-fdp=on'));
    const h1 = await hostOf(m1);
    await fdpWorkload(h1);
    assert.deepEqual(await fdpView(h1), AFTER_WORKLOAD);
    await m1.shutdown();
    const m2 = await build(dir, FDP(',x-persist-fdp=on'));
    const h2 = await hostOf(m2);
    assert.deepEqual(await fdpView(h2), AFTER_WORKLOAD);
    // Enabled events stay enabled: the next rollover of PH1/RG1 is logged as the second.
    assert.equal(await io(h2, IoOpc.WRITE, 400, 116, 0x4001), 0);
    assert.equal((await fdpView(h2)).ctrlEvents[0], 2);
    await m2.shutdown();
  });

  it('off: the next run starts with fresh reclaim units (as QEMU)', async () => {
    const dir = folder();
    const m1 = await build(dir, FDP(''));
    await fdpWorkload(await hostOf(m1));
    await m1.shutdown();
    const m2 = await build(dir, FDP(''));
    const v = await fdpView(await hostOf(m2));
    await m2.shutdown();
    assert.deepEqual([v.ruamw, v.stats, v.ctrlEvents[0]], [[128, 128, 128, 128], [0n, 0n, 0n], 0]);
    assert.equal(existsSync(join(dir, 'nvme', 's0.fdp')), false);
  });

  it('on: after a power cut the restarted subsystem has the state of the cut, and so has the next run', async () => {
    const dir = folder();
    const m1 = await build(dir, FDP(',x-persist-fdp=on'));
    await fdpWorkload(await hostOf(m1)); // no flush after the last write
    const { machine: m2 } = await powerCutMachine(m1);
    assert.deepEqual(await fdpView(await hostOf(m2)), AFTER_WORKLOAD);
    await m2.shutdown();
    const m3 = await build(dir, FDP(',x-persist-fdp=on'));
    assert.deepEqual(await fdpView(await hostOf(m3)), AFTER_WORKLOAD);
    await m3.shutdown();
  });

  it('refuses a state file written for another FDP configuration', async () => {
    const dir = folder();
    const m1 = await build(dir, FDP(',x-persist-fdp=on'));
    await m1.shutdown();
    const file = join(dir, 'nvme', 's0.fdp');
    await assert.rejects(build(dir, FDP(',x-persist-fdp=on').replace('fdp.nrg=2', 'fdp.nrg=1')), {
      message:
        `FDP state file '${file}' was written for another FDP configuration ` +
        '(fdp.runs 65536, fdp.nrg 2, fdp.nruh 4); remove it',
    });
  });
});
