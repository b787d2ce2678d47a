// The volatile write cache model's cost (issue 20): 4 KiB random writes into a namespace with
// the model attached, against the same writes with it off, in the same run (alternating rounds,
// medians of the CPU time per write), a Flush every 256 writes on both sides. And its memory:
// with a small cap and no flushes (the model full and destaging), the ArrayBuffer memory it
// holds against the cap it documents.
//
// Targets: CPU per write with the model ≤ 1.3× without it; memory ≤ 1.2× the cap.

import { randomBytes } from 'node:crypto';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { ctxOf, rw, tempNamespace, type TempNs } from '../src/nvme/ns/fixtures.js';
import { attachWriteCacheModel } from '../src/nvme/ns/write-cache.js';
import type { Benchmark, BenchResult } from './main.js';

const ROUNDS = Math.max(1, Number(process.env.NVMEMU_BENCH_ROUNDS ?? 5));
const WRITES = 20_000;
const IMAGE = 64 << 20;
const BLOCKS = IMAGE / 512;
const MEMORY_CAP = 8 << 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function writes(t: TempNs, n: number, flushEvery: number): Promise<number> {
  const data = randomBytes(4096);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const slba = Math.floor(Math.random() * (BLOCKS / 8)) * 8;
    const c = await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(slba, 8) }, data));
    if (c.status !== 0) throw new Error(`write failed: ${c.status}`);
    if (flushEvery > 0 && i % flushEvery === flushEvery - 1) await t.ns.flush();
  }
  const u = process.cpuUsage(start);
  return (u.user + u.system) / n;
}

async function costRatio(log: (line: string) => void): Promise<{ off: number; on: number }> {
  const t = await tempNamespace(IMAGE);
  try {
    await writes(t, 2000, 256); // warm-up
    const off: number[] = [];
    const on: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Detach only once the cache is written back (detaching drops what it holds).
      await t.ns.flush();
      t.ns.ioCore().store.journal = undefined;
      off.push(await writes(t, WRITES, 256));
      attachWriteCacheModel(t.ns.ioCore().store);
      on.push(await writes(t, WRITES, 256));
    }
    await t.ns.flush();
    t.ns.ioCore().store.journal = undefined;
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
    log(`  write cache model: CPU/write off ${fmt(off)} µs, on ${fmt(on)} µs`);
    return { off: median(off), on: median(on) };
  } finally {
    await t.cleanup();
  }
}

async function memory(log: (line: string) => void): Promise<number> {
  const t = await tempNamespace(IMAGE);
  try {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const before = process.memoryUsage().arrayBuffers;
    const m = attachWriteCacheModel(t.ns.ioCore().store, MEMORY_CAP);
    await writes(t, 10_000, 0);
    gc?.();
    const held = process.memoryUsage().arrayBuffers - before;
    log(
      `  write cache model memory: ${(held / 2 ** 20).toFixed(1)} MiB held for a ${MEMORY_CAP / 2 ** 20} MiB cap` +
        ` (model accounts ${(m.bytes / 2 ** 20).toFixed(1)} MiB; ${gc ? 'after gc' : 'no --expose-gc: upper bound'})`,
    );
    return held / MEMORY_CAP;
  } finally {
    await t.cleanup();
  }
}

export const writeCacheBenchmark: Benchmark = {
  name: 'write-cache',
  description:
    'the volatile write cache model: CPU per 4 KiB write against the model off, memory against its cap',
  async run(log): Promise<BenchResult[]> {
    const { off, on } = await costRatio(log);
    const mem = await memory(log);
    const cost = on / off;
    log(
      `  write cache model: ${cost.toFixed(2)}× the CPU per write of the model off (target ≤ 1.3×) ${cost <= 1.3 ? 'PASS' : 'MISS'}`,
    );
    log(
      `  write cache model: memory ${mem.toFixed(2)}× its cap (target ≤ 1.2×) ${mem <= 1.2 ? 'PASS' : 'MISS'}`,
    );
    return [
      {
        name: 'write cache model on',
        opsPerSec: 1e6 / on,
        latencyUs: on,
        bytesPerSec: 0,
        baseline: { name: 'model off', opsPerSec: 1e6 / off, latencyUs: off },
        target: { ratio: 1 / 1.3, text: '≥ 77% (≤ 1.3× CPU)' },
      },
    ];
  },
};
