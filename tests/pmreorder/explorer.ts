// The nvmemu side of the pmreorder comparison (tests/pmreorder/README.md; not a test, not run by
// CI): the store explorer on the four programs of tests/pmem2-store-explorer.test.ts (same
// layout, stores and checks as tests/pmreorder/*.c) under the word8 and cacheline models with
// each engine, printing verdict, images checked, and the time of exploreStores (running the
// program, tracing its stores with stacks, exploring and checking in-process).
// Usage: npm run build && node build/tests/pmreorder/explorer.js [ROUNDS]
// Times: the first call in the process (cold: JIT) and the median of ROUNDS further calls
// (default 21), wall and process CPU time; the machine is shared, so CPU time is the figure.

import { cpus, loadavg } from 'node:os';
import type { PersistenceModel, ReorderEngine } from '../../src/pmem2/explore-stores.js';
import { exploreStores } from '../../src/pmem2/cross-media.js';
import { simMap, STORE_PROGRAMS } from '../support/pmem2-record.js';

/** The programs, store for store as tests/pmreorder/*.c. */
const PROGRAMS = Object.entries(STORE_PROGRAMS).map(([name, p]) => ({ name, ...p }));

const MODELS: readonly PersistenceModel[] = ['word8', 'cacheline'];
const ENGINES: readonly ReorderEngine[] = ['full', 'accumulative', 'partial', 'no-reorder'];

interface Run {
  readonly ok: boolean;
  readonly images: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function once(
  p: (typeof PROGRAMS)[number],
  model: PersistenceModel,
  engine: ReorderEngine,
): Promise<Run> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const m = simMap();
  const r = await exploreStores(m, p.run, p.check, { model, engine, seed: 1 });
  m.delete();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { ok: r.ok, images: r.images, wallMs, cpuMs: (c.user + c.system) / 1e3 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
};

async function main(): Promise<void> {
  const startMs = process.uptime() * 1000;
  const arg = process.argv[2];
  const rounds = arg === undefined ? 21 : Number(arg);
  if (!Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write(`explorer: ROUNDS must be a positive integer, got '${arg}'\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(
    `nvmemu store explorer, node ${process.version}, ${cpus().length} cpus, ` +
      `load ${loadavg()[0]!.toFixed(2)}; node start and module loading took ${startMs.toFixed(0)} ms; ` +
      `times in ms: first call (cold), then median of ${rounds}\n`,
  );
  const head = ['program', 'model', 'engine', 'verdict', 'images', 'cold wall', 'wall', 'cpu'];
  process.stdout.write(head.join('\t') + '\n');
  for (const p of PROGRAMS) {
    for (const model of MODELS) {
      for (const engine of ENGINES) {
        const first = await once(p, model, engine);
        const runs: Run[] = [];
        for (let i = 0; i < rounds; i++) runs.push(await once(p, model, engine));
        const row = [
          p.name,
          model,
          engine,
          first.ok ? 'consistent' : 'INCONSISTENT',
          String(first.images),
          first.wallMs.toFixed(3),
          median(runs.map((r) => r.wallMs)).toFixed(3),
          median(runs.map((r) => r.cpuMs)).toFixed(3),
        ];
        process.stdout.write(row.join('\t') + '\n');
      }
    }
  }
}

await main();
