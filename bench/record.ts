// Recording overhead (issue 24): 4 KiB random reads and writes at QD 32 through the in-process
// host on one machine, with recording off (the baseline) and on with data hashes (--record-data
// hash: what the host sent whole, what the device returned hashed), in alternating rounds of the
// same run. Reported: the median of the rounds' IOPS and of their CPU time per command (the
// machine is shared, so wall-clock IOPS are noisy; CPU µs per command is the steadier figure).
// Target: recording costs ≤ 15% of the IOPS.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Recorder } from '../src/replay/recorder.js';
import type { Benchmark, BenchResult } from './main.js';

const ROUND_MS = Number(process.env.NVMEMU_BENCH_MS ?? 1000);
const ROUNDS = 5;
const QD = 32;
const IMAGE = 256 << 20;
const BLOCKS = IMAGE / 4096;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** QD commands in flight for ROUND_MS: IOPS and CPU µs per command. */
async function round(h: Host, write: boolean): Promise<{ iops: number; cpuUs: number }> {
  const bufs = Array.from({ length: QD }, (_, i) => new Uint8Array(4096).fill(i));
  let n = 0;
  let seed = 12345;
  const end = performance.now() + ROUND_MS;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (i: number): Promise<void> => {
    while (performance.now() < end) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const lba = (seed % BLOCKS) * 8;
      const c = await h.command(
        1 + (i % 2),
        { opcode: write ? IoOpc.WRITE : IoOpc.READ, nsid: 1, cdw10: lba, cdw12: 7 },
        bufs[i],
      );
      if (c.status !== 0) throw new Error(`status 0x${c.status.toString(16)}`);
      n++;
    }
  };
  await Promise.all(Array.from({ length: QD }, (_, i) => worker(i)));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { iops: n / secs, cpuUs: (cpu.user + cpu.system) / n };
}

export const recordBenchmark: Benchmark = {
  name: 'record',
  description:
    'recording with data hashes vs recording off: 4 KiB random read/write at QD 32, in-process',
  async run(log) {
    registerAllTypes();
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-record-'));
    const results: BenchResult[] = [];
    try {
      writeFileSync(join(dir, 'd.img'), '');
      truncateSync(join(dir, 'd.img'), IMAGE);
      const argv = [
        '-drive',
        `file=${join(dir, 'd.img')},if=none,id=d0,format=raw`,
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
      const h = new Host(
        m.components().find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller,
      );
      h.enable();
      await h.createIoQueues(2, 64);
      for (const write of [false, true]) {
        const off: { iops: number; cpuUs: number }[] = [];
        const on: { iops: number; cpuUs: number }[] = [];
        await round(h, write); // warm-up
        for (let r = 0; r < ROUNDS; r++) {
          off.push(await round(h, write));
          const rec = new Recorder(m, undefined, {
            argv,
            data: 'hash',
            file: join(dir, 'bench.nvrec'),
          });
          on.push(await round(h, write));
          rec.stop();
        }
        const name = `4k rand${write ? 'write' : 'read'} qd32, recording (hash)`;
        const a = median(off.map((x) => x.iops));
        const b = median(on.map((x) => x.iops));
        log(
          `${name}: ${Math.round(b)} IOPS vs ${Math.round(a)} off (${((1 - b / a) * 100).toFixed(1)}% cost); ` +
            `CPU ${median(on.map((x) => x.cpuUs)).toFixed(2)} µs/cmd vs ${median(off.map((x) => x.cpuUs)).toFixed(2)} off; ` +
            `rounds on ${on.map((x) => Math.round(x.iops)).join(' ')}, off ${off.map((x) => Math.round(x.iops)).join(' ')}`,
        );
        results.push({
          name,
          opsPerSec: b,
          latencyUs: 0,
          bytesPerSec: b * 4096,
          baseline: { name: 'recording off', opsPerSec: a, latencyUs: 0 },
          target: { ratio: 0.85, text: '≥ 85% of off' },
        });
      }
      await m.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};
