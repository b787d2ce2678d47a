// Recording overhead (issue 24: recording with data hashes costs ≤ 15% of 4 KiB QD32 IOPS).
// 4 KiB random reads and writes at QD 32, recording off (the baseline), with `hash` (what the
// host sent whole, what the device returned hashed: the default) and with `hash-all` (every
// data section hashed), in two shapes:
//   - in-process: the in-process host on the machine's controller, one event loop.
//   - NVMe/TCP: the real usage (`nvmemu run --record`): the host library at QD 32 against a
//     target in a child process (bench/record-server.ts) recorded by RecordingControl, the code
//     behind --record and x-nvmemu-record-start.
// A fourth mode, `seam`, installs a no-op command observer instead of the recorder: what the
// observer seam (Controller.observers) costs any observer, so that the recorder's own share
// shows. The four modes run ROUNDS times per shape in a rotating order, and the figures are medians
// (the returned results are the default mode's; the printed table has both). The machine is
// shared, so besides IOPS each round reports the CPU time per command of the process that
// records (all threads, and its main thread alone: the recorder's file writes run on libuv's
// thread pool), the steadier figures.
//
// Knobs: NVMEMU_BENCH_ROUNDS (default 7), NVMEMU_BENCH_MS (per round, default 1000).

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { Recorder } from '../src/replay/recorder.js';
import { formatTable, median } from './checks.js';
import { closedLoop } from './nvme-tcp.js';
import { mainThreadCpuUs, NOOP_OBSERVER, RECORD_IMAGE_BYTES, RECORD_NQN } from './record-server.js';
import type { Benchmark, BenchResult } from './main.js';

const SERVER = fileURLToPath(new URL('./record-server.js', import.meta.url));
const ROUND_MS = Number(process.env.NVMEMU_BENCH_MS ?? 1000);
const ROUNDS = Math.max(1, Number(process.env.NVMEMU_BENCH_ROUNDS ?? 7));
const QD = 32;
/** The bound: recording keeps ≥ 85% of the IOPS. */
const TARGET = 0.85;
const LBA = 512;
const BLOCKS_4K = RECORD_IMAGE_BYTES / 4096;

/** One round: IOPS, and CPU µs per command of the recording process (all threads, main). */
interface Round {
  readonly iops: number;
  readonly cpu: number;
  readonly main: number | undefined;
}

interface Row {
  readonly name: string;
  readonly off: readonly Round[];
  /** Recording with `hash` (the default: what the host sent whole, returned data hashed). */
  readonly on: readonly Round[];
  /** Recording with `hash-all` (every data section hashed: compact, not replayable). */
  readonly all: readonly Round[];
  /** A no-op command observer: the seam's own cost. */
  readonly seam: readonly Round[];
}

type Mode = 'off' | 'seam' | 'hash' | 'hash-all';

/** A recording switch and a load generator for one shape. */
interface Shape {
  readonly name: string;
  record(mode: Mode): Promise<void>;
  round(write: boolean): Promise<Round>;
}

/** Rounds of one shape and direction, the four modes in a rotating order. */
async function measure(s: Shape, write: boolean): Promise<Row> {
  const got: Record<Mode, Round[]> = { off: [], seam: [], hash: [], 'hash-all': [] };
  const modes: Mode[] = ['off', 'seam', 'hash', 'hash-all'];
  // Warm-up of every mode (V8 optimises the command path and the recorder).
  for (const m of modes) {
    await s.record(m);
    await s.round(write);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < modes.length; k++) {
      const m = modes[(r + k) % modes.length]!;
      await s.record(m);
      got[m].push(await s.round(write));
    }
  }
  await s.record('off');
  return {
    name: `4k rand${write ? 'write' : 'read'} qd32, ${s.name}`,
    off: got.off,
    on: got.hash,
    all: got['hash-all'],
    seam: got.seam,
  };
}

let seed = 12345;
/** A random 4 KiB-aligned block (LCG: the same sequence with and without recording). */
function block4k(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed % BLOCKS_4K;
}

async function inProcessShape(dir: string): Promise<{ shape: Shape; close: () => Promise<void> }> {
  registerAllTypes();
  const img = join(dir, 'd.img');
  writeFileSync(img, '');
  truncateSync(img, RECORD_IMAGE_BYTES);
  const argv = [
    '-drive',
    `file=${img},if=none,id=d0,format=raw`,
    '-device',
    'nvme,id=n0,serial=bench',
    '-device',
    'nvme-ns,drive=d0,nsid=1',
  ];
  const args = parseArgs(argv);
  const m = await Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: dir,
    warn: () => undefined,
  });
  const ctrl = m.components().find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller;
  const h = new Host(ctrl);
  h.enable();
  await h.createIoQueues(2, 64);
  const bufs = Array.from({ length: QD }, (_, i) => new Uint8Array(4096).fill(i));
  let rec: Recorder | undefined;
  const shape: Shape = {
    name: 'in-process',
    record: (mode) => {
      rec?.stop();
      rec = undefined;
      const i = ctrl.observers.indexOf(NOOP_OBSERVER);
      if (i >= 0) ctrl.observers.splice(i, 1);
      if (mode === 'seam') ctrl.observers.push(NOOP_OBSERVER);
      else if (mode !== 'off') {
        rec = new Recorder(m, undefined, { argv, data: mode, file: join(dir, 'b.nvrec') });
      }
      return Promise.resolve();
    },
    round: async (write) => {
      const c0 = process.cpuUsage();
      const m0 = mainThreadCpuUs();
      const r = await closedLoop(QD, ROUND_MS, async (i) => {
        const c = await h.command(
          1 + (i % 2),
          { opcode: write ? IoOpc.WRITE : IoOpc.READ, nsid: 1, cdw10: block4k() * 8, cdw12: 7 },
          bufs[i % QD],
        );
        if (c.status !== 0) throw new Error(`status 0x${c.status.toString(16)}`);
      });
      const cpu = process.cpuUsage(c0);
      const m1 = mainThreadCpuUs();
      return {
        iops: r.ops,
        cpu: (cpu.user + cpu.system) / r.done,
        main: m0 === undefined || m1 === undefined ? undefined : (m1 - m0) / r.done,
      };
    },
  };
  return { shape, close: () => m.shutdown() };
}

interface ChildCpu {
  cpu: number;
  main: number | undefined;
}

async function ask<T>(child: ChildProcess, msg: unknown): Promise<T> {
  const reply = once(child, 'message') as Promise<[T]>;
  child.send(msg as string);
  return (await reply)[0];
}

async function tcpShape(): Promise<{ shape: Shape; close: () => Promise<void> }> {
  const child = fork(SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [hello] = (await once(child, 'message')) as [{ port: number; dir: string }];
  const ctrl = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port: hello.port,
    subnqn: RECORD_NQN,
    ioQueues: 1,
    queueSize: 128,
  });
  const data = Buffer.alloc(4096, 0xa5);
  const shape: Shape = {
    name: 'NVMe/TCP',
    record: async (mode) => {
      await ask(child, 'stop');
      if (mode === 'seam') await ask(child, 'seam');
      else if (mode !== 'off') {
        await ask(child, { record: join(hello.dir, 'b.nvrec'), data: mode });
      }
    },
    round: async (write) => {
      const s0 = await ask<ChildCpu>(child, 'cpu');
      const r = await closedLoop(QD, ROUND_MS, async () => {
        const res = await ctrl.ioCommand(
          {
            opcode: write ? IoOpc.WRITE : IoOpc.READ,
            nsid: 1,
            cdw10: block4k() * (4096 / LBA),
            cdw12: 4096 / LBA - 1,
          },
          write ? { write: data } : { readLength: 4096 },
        );
        if (res.status !== 0) throw new Error(`status 0x${res.status.toString(16)}`);
      });
      const s1 = await ask<ChildCpu>(child, 'cpu');
      return {
        iops: r.ops,
        cpu: (s1.cpu - s0.cpu) / r.done,
        main:
          s0.main === undefined || s1.main === undefined ? undefined : (s1.main - s0.main) / r.done,
      };
    },
  };
  return {
    shape,
    close: async () => {
      await ctrl.disconnect().catch(() => undefined);
      child.disconnect();
      await once(child, 'exit');
    },
  };
}

const us = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));
const medianOf = (rs: readonly Round[], k: 'iops' | 'cpu'): number => median(rs.map((r) => r[k]));
const medianMain = (rs: readonly Round[]): number | undefined =>
  rs.some((r) => r.main === undefined) ? undefined : median(rs.map((r) => r.main!));

const modesOf = (r: Row): [string, readonly Round[]][] => [
  ['seam', r.seam],
  ['hash', r.on],
  ['hash-all', r.all],
];

function table(rows: readonly Row[]): string[] {
  const out: string[][] = [
    [
      'shape',
      'recording',
      'IOPS off',
      'IOPS on',
      'on/off',
      'pairs',
      'target',
      'CPU µs/cmd off → on',
      'CPU on/off',
      'main thread µs/cmd off → on',
    ],
  ];
  for (const r of rows) {
    for (const [mode, on] of modesOf(r)) {
      const ratio = medianOf(on, 'iops') / medianOf(r.off, 'iops');
      // Each round's recording-on IOPS over the same round's recording-off IOPS.
      const pairs = median(on.map((x, i) => x.iops / r.off[i]!.iops));
      out.push([
        r.name,
        mode,
        Math.round(medianOf(r.off, 'iops')).toString(),
        Math.round(medianOf(on, 'iops')).toString(),
        `${(ratio * 100).toFixed(1)}%`,
        `${(pairs * 100).toFixed(1)}%`,
        `≥ 85% ${ratio >= TARGET ? 'PASS' : 'MISS'}`,
        `${us(medianOf(r.off, 'cpu'))} → ${us(medianOf(on, 'cpu'))}`,
        `${((medianOf(on, 'cpu') / medianOf(r.off, 'cpu')) * 100).toFixed(0)}%`,
        `${us(medianMain(r.off))} → ${us(medianMain(on))}`,
      ]);
    }
  }
  return formatTable(out);
}

export const recordBenchmark: Benchmark = {
  name: 'record',
  description: `recording (hash, hash-all) and a no-op observer (seam) vs off: 4 KiB random read/write at QD 32, in-process and over NVMe/TCP, median of ${ROUNDS} alternating rounds of ${ROUND_MS} ms`,
  async run(log) {
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-record-'));
    const rows: Row[] = [];
    try {
      for (const make of [() => inProcessShape(dir), tcpShape]) {
        const { shape, close } = await make();
        try {
          for (const write of [false, true]) {
            const row = await measure(shape, write);
            log(
              `${row.name}: IOPS rounds hash ${row.on.map((x) => Math.round(x.iops)).join(' ')}; ` +
                `hash-all ${row.all.map((x) => Math.round(x.iops)).join(' ')}; ` +
                `off ${row.off.map((x) => Math.round(x.iops)).join(' ')}`,
            );
            rows.push(row);
          }
        } finally {
          await close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const line of table(rows)) log(line);
    return rows.map((r): BenchResult => ({
      name: `${r.name}, recording (hash)`,
      opsPerSec: medianOf(r.on, 'iops'),
      latencyUs: 0,
      bytesPerSec: medianOf(r.on, 'iops') * 4096,
      baseline: { name: 'recording off', opsPerSec: medianOf(r.off, 'iops'), latencyUs: 0 },
      target: { ratio: TARGET, text: '≥ 85% of off' },
    }));
  },
};
