// The device model's cost (issue 23): 4 KiB random writes and reads (half each) into a 64 MiB
// namespace with the `ssd` model on but every latency zero (so completions stay synchronous and
// only the model's bookkeeping is measured: the FTL, the die queues, the tickets), against the
// same namespace with `x-model=none`, in the same run: alternating rounds, medians of the CPU
// time per command (the machine is shared; CPU time is steadier than wall time).
//
// Target: throughput with the model on ≥ 80% of the model off.
// Also printed: the FTL's steady-state WAF under greedy GC beside Desnoyers' analytic value.

import { randomBytes } from 'node:crypto';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { ctxOf, rw, tempNamespace, type TempNs } from '../src/nvme/ns/fixtures.js';
import { DEFAULT_PARAMS } from '../src/nvme/model/params.js';
import { greedyWaf } from '../src/nvme/model/desnoyers.js';
import { PageFtl } from '../src/nvme/model/ftl.js';
import { SeededRng } from '../src/util/rng.js';
import { atLeast, median, verdict } from './checks.js';
import type { Benchmark, BenchResult } from './main.js';

const ROUNDS = Math.max(1, Number(process.env.NVMEMU_BENCH_ROUNDS ?? 5));
const OPS = 20_000;
const IMAGE = 64 << 20;
const PAGES = IMAGE / 4096;

async function mixed(t: TempNs, n: number, rng: SeededRng): Promise<number> {
  const data = randomBytes(4096);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const slba = rng.below(PAGES) * 8;
    const opcode = (i & 1) === 0 ? IoOpc.WRITE : IoOpc.READ;
    const c = await t.ns.execute(ctxOf({ opcode, ...rw(slba, 8) }, data));
    if (c.status !== 0) throw new Error(`command failed: ${c.status}`);
  }
  const u = process.cpuUsage(start);
  return (u.user + u.system) / n;
}

/** Steady-state WAF of uniform random page writes at spare factor `sf` (greedy GC). */
export function measuredWaf(sf: number, blocks = 512, ppb = 128, seed = 23): number {
  const user = Math.floor(blocks * ppb * (1 - sf));
  const ftl = new PageFtl({ blocks, pagesPerBlock: ppb, userPages: user, gc: 'greedy' });
  const rng = new SeededRng(seed);
  for (let lpn = 0; lpn < user; lpn++) ftl.write(lpn);
  for (let i = 0; i < 4 * user; i++) ftl.write(rng.below(user));
  const h = ftl.hostPages;
  const m = ftl.mediaPages;
  for (let i = 0; i < 4 * user; i++) ftl.write(rng.below(user));
  return (ftl.mediaPages - m) / (ftl.hostPages - h);
}

export const modelsBenchmark: Benchmark = {
  name: 'models',
  description:
    'the ssd device model with zero latencies against x-model=none (CPU per 4 KiB command), and greedy WAF against Desnoyers',
  async run(log): Promise<BenchResult[]> {
    const zero = {
      ...DEFAULT_PARAMS,
      kind: 'ssd' as const,
      tReadUs: 0,
      tProgUs: 0,
      tEraseUs: 0,
      channelMBps: 0,
    };
    const t = await tempNamespace(IMAGE, { lbaSize: 512, model: zero });
    const off: number[] = [];
    const on: number[] = [];
    try {
      const rng = new SeededRng(1);
      // Fill the FTL so GC runs during the measured rounds.
      await mixed(t, 4000, rng);
      for (let r = 0; r < ROUNDS; r++) {
        t.ns.setModelProp('x-model', 'none');
        off.push(await mixed(t, OPS, rng));
        t.ns.setModelProp('x-model', 'ssd');
        on.push(await mixed(t, OPS, rng));
      }
    } finally {
      await t.cleanup();
    }
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
    log(`ssd model, zero latencies: CPU/command off ${fmt(off)} µs, on ${fmt(on)} µs`);
    const ratio = median(off) / median(on);
    const bound = atLeast(0.8, '≥ 80%');
    log(
      `throughput with the model on: ${(ratio * 100).toFixed(1)}% of off ${verdict(ratio, bound)}`,
    );
    for (const sf of [0.07, 0.13, 0.28]) {
      const w = measuredWaf(sf);
      const a = greedyWaf(sf);
      const err = Math.abs(w - a) / a;
      log(
        `greedy WAF at Sf ${sf}: FTL ${w.toFixed(3)}, Desnoyers ${a.toFixed(3)} (${(err * 100).toFixed(1)}% off) ${verdict(err, { kind: 'max', bound: 0.1, text: '≤ 10%' })}`,
      );
    }
    return [
      {
        name: 'ssd model on (zero latencies)',
        opsPerSec: 1e6 / median(on),
        latencyUs: median(on),
        bytesPerSec: 0,
        baseline: { name: 'x-model=none', opsPerSec: 1e6 / median(off), latencyUs: median(off) },
        target: { ratio: 0.8, text: '≥ 80%' },
      },
    ];
  },
};
