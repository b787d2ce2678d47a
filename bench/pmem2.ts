// nvmemu's libpmem2 beside Debian's C libpmem2 running natively (issue 20): the same loops on the
// same file in the same run, at BYTE (eADR), CACHE_LINE and PAGE granularity, forced with
// PMEM2_FORCE_GRANULARITY on both sides (an ordinary file, so no real pmem is needed). The C side
// is bench/pmem2-native.c, built at bench time; it runs its own loop with no FFI in between
// (DESIGN.md rule 12). An earlier version of this bench called C's memcpy_fn through koffi from
// JS, which charged C the FFI toll on every call and made TS look 2× faster than it is.
//
// Loop (both sides): op i targets map offset (i & (SLOTS-1)) * STRIDE, STRIDE = max(size, 4 KiB),
// over a 16 MiB file. Cases: memcpy_fn(dst, buf, size, 0) — copy and persist — at 64 B and 4 KiB,
// and persist_fn(dst, 64) with no store before it. Figures are CPU time per operation of the
// measuring thread (the machine is shared and noisy; wall time is printed beside it): C and TS
// run the same case back to back, in alternating order, giving one ratio per round; the table
// shows medians over ROUNDS rounds, after one unmeasured warm-up round (JIT, page cache).

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pmem2Config, Pmem2Map, Pmem2Source } from '../src/pmem2/index.js';
import { measureFfiFloor } from './ffi-floor.js';
import { threadCpuNs } from './sched.js';
import { buildNativeBaseline, type NativeCase, type NativeSession } from './pmem2-native.js';

const FILE_SIZE = 16 * 1024 * 1024;
interface Case {
  readonly op: 'memcpy' | 'persist';
  readonly size: number;
  /** Minimum ratio TS/C (throughput) from issue 20's targets. */
  readonly target: number;
  /**
   * The koffi crossings TS cannot avoid per op (JS has no CLWB/SFENCE/MOVNT): 'empty' for an
   * argument-less kernel call, 'buffer' for one with a JS buffer argument (ntcopyBuf). PAGE's
   * msync crossing is left out: it is nothing beside the msync itself.
   */
  readonly ffi?: 'empty' | 'buffer';
}

type GranName = 'BYTE' | 'CACHE_LINE' | 'PAGE';

const GRANS: readonly {
  name: GranName;
  g: 0 | 1 | 2;
  ms: number;
  cases: Case[];
}[] = [
  {
    name: 'BYTE',
    g: 0,
    ms: 60,
    cases: [
      { op: 'memcpy', size: 64, target: 0.5 },
      { op: 'memcpy', size: 4096, target: 0.9 },
      { op: 'persist', size: 64, target: 0.5 },
    ],
  },
  {
    name: 'CACHE_LINE',
    g: 1,
    ms: 60,
    cases: [
      { op: 'memcpy', size: 64, target: 0.8, ffi: 'empty' },
      { op: 'memcpy', size: 4096, target: 0.8, ffi: 'buffer' },
      { op: 'persist', size: 64, target: 0.8, ffi: 'empty' },
    ],
  },
  {
    name: 'PAGE',
    g: 2,
    ms: 150,
    cases: [
      { op: 'memcpy', size: 64, target: 0.8 },
      { op: 'memcpy', size: 4096, target: 0.8 },
      { op: 'persist', size: 64, target: 0.8 },
    ],
  },
];

/** PMEM2_BENCH_ROUNDS (measured rounds, default 7) and PMEM2_BENCH_GRANS (e.g. BYTE,PAGE). */
function settings(env: NodeJS.ProcessEnv): { rounds: number; only: GranName[] | null } {
  const r = env.PMEM2_BENCH_ROUNDS ?? '7';
  const rounds = Number(r);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000)
    throw new Error(
      `PMEM2_BENCH_ROUNDS must be an integer from 1 to 1000, not ${JSON.stringify(r)}`,
    );
  const g = env.PMEM2_BENCH_GRANS;
  if (g === undefined) return { rounds, only: null };
  const only = g.split(',');
  for (const n of only)
    if (!GRANS.some((x) => x.name === n))
      throw new Error(
        `PMEM2_BENCH_GRANS: unknown granularity ${JSON.stringify(n)} (BYTE, CACHE_LINE, PAGE)`,
      );
  return { rounds, only: only as GranName[] };
}

/** The slot layout both sides use (see pmem2-native.c). */
function layout(size: number, mapSize: number): { stride: number; mask: number } {
  const stride = Math.max(size, 4096);
  let slots = 1;
  while (slots * 2 * stride <= mapSize) slots *= 2;
  return { stride, mask: slots - 1 };
}

/** CPU time of this thread in ns, CLOCK_THREAD_CPUTIME_ID as the C side reads it. */
const cpuNow = threadCpuNs;

function memcpyLoop(
  map: Pmem2Map,
  buf: Uint8Array,
  from: number,
  n: number,
  mask: number,
  stride: number,
): void {
  for (let i = from; i < from + n; i++) map.memcpy((i & mask) * stride, buf);
}

function persistLoop(
  map: Pmem2Map,
  size: number,
  from: number,
  n: number,
  mask: number,
  stride: number,
): void {
  for (let i = from; i < from + n; i++) map.persist((i & mask) * stride, size);
}

/** The TypeScript side of one case, shaped like the C loop (batches double up to 1 ms). */
function runTs(map: Pmem2Map, c: Case, ms: number): NativeCase {
  const { stride, mask } = layout(c.size, map.size);
  const buf = new Uint8Array(c.size).fill(0x5a);
  const step = (from: number, n: number): void =>
    c.op === 'memcpy'
      ? memcpyLoop(map, buf, from, n, mask, stride)
      : persistLoop(map, c.size, from, n, mask, stride);
  step(0, 64); // touch the slots first, as the C side does
  let ops = 0;
  let batch = 1;
  const limit = ms * 1e6;
  const w0 = performance.now() * 1e6;
  const c0 = cpuNow();
  let w1 = w0;
  do {
    const wb = w1;
    step(ops, batch);
    ops += batch;
    w1 = performance.now() * 1e6;
    if (w1 - wb < 1e6 && batch < 65536) batch *= 2;
  } while (w1 - w0 < limit);
  return { op: c.op, size: c.size, ops, wallNs: w1 - w0, cpuNs: cpuNow() - c0 };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const perOp = (r: NativeCase, k: 'cpuNs' | 'wallNs'): number => r[k] / r.ops;

function fmtNs(ns: number): string {
  return ns >= 1e5
    ? `${(ns / 1e3).toFixed(0)} µs`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(1)} ns`;
}

export async function benchPmem2(log: (line: string) => void = () => {}): Promise<string[]> {
  const { rounds: ROUNDS, only: ONLY } = settings(process.env);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const lines: string[] = [
    `pmem2 memcpy+persist and persist: nvmemu TS vs Debian C libpmem2 running natively, same file`,
    `machine: ${cpu}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start ` +
      `(shared machine: CPU time per op, median of ${ROUNDS} rounds; ratio = C time / TS time)`,
  ];
  const native = buildNativeBaseline();
  if (typeof native === 'string') {
    lines.push(`skipped: ${native}`);
    return lines;
  }
  const floor = measureFfiFloor(cpuNow);
  lines.push(
    `FFI floor (koffi call to a bare RET, thread CPU, median of 7): ${fmtNs(floor.emptyNs)} ` +
      `without arguments, ${fmtNs(floor.bufferNs)} with one JS buffer; ` +
      `"FFI ceiling" = C / (C + floor), the best ratio a case needing that crossing can reach`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pmem2-bench-'));
  const path = join(dir, 'pool');
  writeFileSync(path, Buffer.alloc(FILE_SIZE));
  const fd = openSync(path, 'r+');
  const header =
    `  ${'granularity'.padEnd(11)} ${'case'.padEnd(13)} ${'TS cpu/op'.padStart(10)} ${'C cpu/op'.padStart(10)}` +
    ` ${'ratio'.padStart(6)} ${'wall ratio'.padStart(10)} ${'FFI ceiling'.padStart(11)}` +
    `  ${'target'.padEnd(7)} verdict`;
  lines.push(header);
  try {
    for (const gr of GRANS) {
      if (ONLY !== null && !ONLY.includes(gr.name)) continue;
      process.env.PMEM2_FORCE_GRANULARITY = gr.name;
      const src = Pmem2Source.fromFd(fd);
      const map = Pmem2Map.create(new Pmem2Config().setRequiredStoreGranularity(2), src);
      let session: NativeSession;
      try {
        session = await native.open(path, gr.name);
      } catch (e) {
        lines.push(
          `  ${gr.name.padEnd(11)} skipped: the C baseline failed: ${(e as Error).message}`,
        );
        map.delete();
        src.delete();
        continue;
      }
      try {
        if (map.storeGranularity !== gr.g) throw new Error(`TS granularity is not ${gr.name}`);
        const ts: NativeCase[][] = gr.cases.map(() => []);
        const cc: NativeCase[][] = gr.cases.map(() => []);
        // Round 0 warms up (JIT, caches, page cache) and is not counted.
        for (let r = 0; r <= ROUNDS; r++) {
          for (const [i, c] of gr.cases.entries()) {
            const name = `${c.op}:${c.size}`;
            // Alternate who goes first so that drift on the shared machine favours neither side.
            let t: NativeCase;
            let n: NativeCase;
            if (r % 2 === 0) {
              n = await session.run(name, gr.ms);
              t = runTs(map, c, gr.ms);
            } else {
              t = runTs(map, c, gr.ms);
              n = await session.run(name, gr.ms);
            }
            if (r > 0) {
              ts[i]!.push(t);
              cc[i]!.push(n);
            }
          }
          if (r > 0) log(`pmem2 ${gr.name}: round ${r}/${ROUNDS} done`);
        }
        gr.cases.forEach((c, i) => {
          const t = ts[i]!;
          const n = cc[i]!;
          const ratio = median(t.map((x, k) => perOp(n[k]!, 'cpuNs') / perOp(x, 'cpuNs')));
          const wall = median(t.map((x, k) => perOp(n[k]!, 'wallNs') / perOp(x, 'wallNs')));
          const tsNs = median(t.map((x) => perOp(x, 'cpuNs')));
          const cNs = median(n.map((x) => perOp(x, 'cpuNs')));
          const cross =
            c.ffi === undefined ? null : c.ffi === 'empty' ? floor.emptyNs : floor.bufferNs;
          const ceiling = cross === null ? '' : `${(cNs / (cNs + cross)).toFixed(2)}×`;
          lines.push(
            `  ${gr.name.padEnd(11)} ${`${c.op} ${c.size} B`.padEnd(13)} ${fmtNs(tsNs).padStart(10)}` +
              ` ${fmtNs(cNs).padStart(10)} ${`${ratio.toFixed(2)}×`.padStart(6)}` +
              ` ${`${wall.toFixed(2)}×`.padStart(10)} ${ceiling.padStart(11)}` +
              `  ${`≥ ${c.target}×`.padEnd(7)}` +
              ` ${ratio >= c.target ? 'PASS' : 'MISS'}`,
          );
        });
      } finally {
        await session.close();
        map.delete();
        src.delete();
      }
    }
  } finally {
    delete process.env.PMEM2_FORCE_GRANULARITY;
    native.dispose();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of await benchPmem2((s) => process.stderr.write(`${s}\n`))) console.log(l);
}
