// Two `nvmemu run --instance` processes serving one subsystem from one data folder and one image
// are two paths (docs/multipath.md): distinct controller ID ranges, one reservation state (a
// fence set through one process holds in the other, the notification reaches a host on the
// other process), ANA per process from its own monitor, the refusals of a shared folder, and a
// killed process coming back to a reservation the other one kept alive.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { QmpClient } from '../src/monitor/client.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import { readU32le, writeU64le } from '../src/util/bytes.js';
import { CLI, startRun, stopRun, type Running } from './support/run.js';

const NQN = 'nqn.2019-08.org.qemu:mp';
let dir = '';
let img = '';

/** The command line of instance `name` with controller IDs `range`. */
const runArgs = (name: string, range: [number, number], extra: string[] = []): string[] => [
  '--instance',
  name,
  '--data',
  join(dir, 'data'),
  '--listen',
  '127.0.0.1:0',
  '--discovery',
  'none',
  '-drive',
  `file=${img},if=none,id=d1,format=raw`,
  '-device',
  `nvme-subsys,id=s0,nqn=mp,cntlid-min=${range[0]},cntlid-max=${range[1]}`,
  '-device',
  'nvme,id=c0,serial=mp0001,subsys=s0',
  // A second controller: each host needs its own on a port (process).
  '-device',
  'nvme,id=c1,serial=mp0001,subsys=s0',
  '-device',
  'nvme-ns,drive=d1,nsid=1,anagrpid=1,uuid=2f0e9d9c-55a6-4b52-9e0b-6c1b7f4f3c11',
  ...extra,
];

const portOf = (r: Running): number => {
  const m = /nvme-tcp: listening on 127\.0\.0\.1:(\d+)/.exec(r.out);
  assert.ok(m, r.out);
  return Number(m[1]);
};

/** `nvmemu run ARGS` expected to fail: its stderr. */
function runFails(args: string[]): Promise<string> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      assert.equal(code, 1, err);
      done(err);
    });
  });
}

const hostid = (n: number): Uint8Array => new Uint8Array(16).fill(n);
const connect = (port: number, n: number) =>
  NvmeTcpController.connect({
    address: '127.0.0.1',
    port,
    subnqn: NQN,
    hostnqn: `nqn.2014-08.org.nvmexpress:uuid:0${n}000000-0000-0000-0000-000000000000`,
    hostid: hostid(n),
    ioQueues: 1,
    kato: 0,
  });
const keys = (a: bigint, b = 0n): Uint8Array => {
  const d = new Uint8Array(16);
  writeU64le(d, 0, a);
  writeU64le(d, 8, b);
  return d;
};
const write = (c: NvmeTcpController, fill: number) =>
  c.ioCommand({ opcode: IoOpc.WRITE, nsid: 1 }, { write: new Uint8Array(512).fill(fill) });
const read = (c: NvmeTcpController) =>
  c.ioCommand({ opcode: IoOpc.READ, nsid: 1 }, { readLength: 512 });

describe('two nvmemu processes as two paths of one subsystem', () => {
  let a: Running;
  let b: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nvmemu-mp-'));
    img = join(dir, 'ns.img');
    writeFileSync(img, '');
    truncateSync(img, 1 << 20);
    a = await startRun(runArgs('a', [1, 15]));
    b = await startRun(runArgs('b', [16, 31]));
  });
  after(async () => {
    await stopRun(a.child);
    await stopRun(b.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an overlapping controller ID range and a run without --instance', async () => {
    assert.match(
      await runFails(runArgs('c', [10, 20])),
      /controller IDs 10-20 of nqn\.2019-08\.org\.qemu:mp overlap 1-15 of --instance a \(PID \d+\)/,
    );
    assert.match(
      await runFails(['--data', join(dir, 'data'), '--listen', 'none']),
      /is served by nvmemu --instance [ab] \(PID \d+\)/,
    );
  });

  it('fences across processes, notifies across processes, and ANA is per process', async () => {
    const x = await connect(portOf(a), 1); // host 1 through process a
    const y = await connect(portOf(b), 2); // host 2 through process b
    const x2 = await connect(portOf(b), 1); // host 1's second path, through b
    try {
      assert.deepEqual([x.cntlid, y.cntlid, x2.cntlid], [1, 16, 17]);
      const reg = (c: NvmeTcpController, k: bigint) =>
        c.ioCommand({ opcode: IoOpc.RESV_REGISTER, nsid: 1 }, { write: keys(0n, k) });
      assert.equal((await reg(x, 0x1n)).status, 0);
      assert.equal((await reg(y, 0x2n)).status, 0);
      const acq = await x.ioCommand(
        { opcode: IoOpc.RESV_ACQUIRE, nsid: 1, cdw10: 1 << 8 },
        { write: keys(0x1n) },
      );
      assert.equal(acq.status, 0);
      assert.equal((await write(x, 0x41)).status, 0);
      // Process b fences host 2 at once: the reservation was taken through process a.
      assert.equal((await write(y, 0x42)).status, withDnr(Status.RESERVATION_CONFLICT));
      assert.deepEqual((await read(y)).data, new Uint8Array(512).fill(0x41));
      // Host 1 is the holder on every path.
      assert.equal((await write(x2, 0x43)).status, 0);

      // Host 2 preempts through b; host 1 hears of it on its path through a.
      const aer = x.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
      const pre = await y.ioCommand(
        { opcode: IoOpc.RESV_ACQUIRE, nsid: 1, cdw10: (1 << 8) | 1 },
        { write: keys(0x2n, 0x1n) },
      );
      assert.equal(pre.status, 0);
      assert.equal((await aer).dw0, 6 | (0x80 << 16));
      const log = await x.adminOk(
        'Get Log Page 80h',
        { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x80 | (15 << 16) },
        { readLength: 64 },
      );
      assert.equal(log.data[8], 1, 'registration preempted');
      assert.equal((await write(x, 0x44)).status, withDnr(Status.RESERVATION_CONFLICT));

      // ANA through process a only.
      const q = await QmpClient.connect({ path: join(dir, 'data', 'qmp-a.sock') });
      await q.negotiate();
      assert.deepEqual(
        await q.execute('x-nvmemu-set-ana-state', { group: 1, state: 'inaccessible' }),
        { cntlids: [1, 2] },
      );
      assert.equal((await read(x)).status, Status.ANA_INACCESSIBLE);
      assert.equal((await read(x2)).status, 0);
      const info = (await q.execute('x-nvmemu-query-nvme')) as {
        controllers: { cntlid: number; 'ana-states': unknown[] }[];
      }[];
      assert.deepEqual(info[0]!.controllers[0]!['ana-states'], [
        { group: 1, state: 'inaccessible' },
      ]);
      assert.equal(info[0]!.controllers[0]!.cntlid, 1);
      // HMP (docs/multipath.md's recipe): back to optimized, then a bad state is refused.
      const hmp = (line: string) => q.execute('human-monitor-command', { 'command-line': line });
      assert.equal(
        await hmp('x_nvmemu_set_ana_state 1 optimized c0'),
        'ANA group 1 optimized on controller 1\r\n',
      );
      assert.equal((await read(x)).status, 0);
      assert.match(
        String(await hmp('x_nvmemu_set_ana_state 1 gone')),
        /^Error: ANA state 'gone' is not one of: optimized/,
      );
      await hmp('x_nvmemu_set_ana_state 1 inaccessible');
      q.close();
      const anaLog = await x2.adminOk(
        'Get Log Page 0Ch',
        { opcode: AdminOpc.GET_LOG_PAGE, cdw10: 0x0c | (63 << 16) },
        { readLength: 256 },
      );
      assert.equal(anaLog.data[16 + 16], 1, 'optimized through b');
      assert.equal(readU32le(anaLog.data, 16), 1);
    } finally {
      await x.disconnect();
      await y.disconnect();
      await x2.disconnect();
    }
  });

  it('a killed process comes back to the reservation the other kept alive', async () => {
    await stopRun(a.child, 'SIGKILL');
    a = await startRun(runArgs('a', [1, 15]));
    const y = await connect(portOf(a), 2);
    try {
      const r = await y.ioCommand(
        { opcode: IoOpc.RESV_REPORT, nsid: 1, cdw10: 63, cdw11: 1 },
        { readLength: 256 },
      );
      assert.equal(r.data[4], 1, 'still Write Exclusive');
      assert.equal(r.data[5], 1, 'one registrant: host 2, the holder');
      assert.deepEqual(r.data.slice(64 + 16, 64 + 32), hostid(2));
      assert.equal((await write(y, 0x45)).status, 0);
    } finally {
      await y.disconnect();
    }
  });
});
