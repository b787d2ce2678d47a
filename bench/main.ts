// `npm run bench`: runs every registered benchmark and prints one table. Each benchmark measures
// a baseline in the same run and reports ratios against it (DESIGN.md: bench/). Add a benchmark
// by appending to BENCHMARKS; `node build/bench/main.js NAME...` runs a subset.

import { nvmeTcpBenchmark } from './nvme-tcp.js';
import { benchPmem2 } from './pmem2.js';
import { znsBenchmark } from './zns.js';
import { writeCacheBenchmark } from './write-cache.js';
import { recordBenchmark } from './record.js';
import { liveViewBenchmark } from './live-view.js';
import { startupBenchmark } from './startup.js';
import { modelsBenchmark } from './models.js';
import { statusLine } from '../src/memory/progress.js';

export interface BenchResult {
  readonly name: string;
  /** Operations per second (IOPS, requests/s). */
  readonly opsPerSec: number;
  /** Mean latency in microseconds (0 when not meaningful). */
  readonly latencyUs: number;
  /** Bytes per second moved (0 when not meaningful). */
  readonly bytesPerSec: number;
  /** The same shape measured on the baseline, when there is one. */
  readonly baseline?: {
    readonly name: string;
    readonly opsPerSec: number;
    readonly latencyUs: number;
  };
  /** Pass/fail target, e.g. "≥ 50% of baseline". */
  readonly target?: { readonly ratio: number; readonly text: string };
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(log: (line: string) => void): Promise<BenchResult[]>;
}

/** libpmem2 prints its own ratio table (TS vs the C library on the same file). */
const pmem2Benchmark: Benchmark = {
  name: 'pmem2',
  description:
    'memcpy+persist and persist at each granularity, beside Debian C libpmem2 running natively',
  run: async (log) => {
    for (const line of await benchPmem2()) log(line);
    return [];
  },
};

export const BENCHMARKS: Benchmark[] = [
  nvmeTcpBenchmark,
  pmem2Benchmark,
  znsBenchmark,
  writeCacheBenchmark,
  recordBenchmark,
  liveViewBenchmark,
  startupBenchmark,
  modelsBenchmark,
];

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d });

export function formatResults(results: readonly BenchResult[]): string {
  const rows = [
    ['test', 'ops/s', 'lat µs', 'MB/s', 'baseline ops/s', 'base lat µs', 'ratio', 'target'],
  ];
  for (const r of results) {
    const ratio = r.baseline ? r.opsPerSec / r.baseline.opsPerSec : undefined;
    const verdict =
      r.target === undefined || ratio === undefined
        ? ''
        : `${r.target.text} ${ratio >= r.target.ratio ? 'PASS' : 'MISS'}`;
    rows.push([
      r.name,
      fmt(r.opsPerSec),
      fmt(r.latencyUs, 1),
      r.bytesPerSec > 0 ? fmt(r.bytesPerSec / 1e6, 1) : '',
      r.baseline ? fmt(r.baseline.opsPerSec) : '',
      r.baseline ? fmt(r.baseline.latencyUs, 1) : '',
      ratio === undefined ? '' : `${(ratio * 100).toFixed(1)}%`,
      verdict,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return (
    rows
      .map((row) =>
        row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
      )
      .join('\n') + '\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const chosen = argv.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => argv.includes(b.name));
  if (chosen.length === 0) {
    process.stderr.write(
      `unknown benchmark; available: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  // On a terminal, a status line says which benchmark runs and for how long (stderr; erased).
  const status = statusLine();
  for (const [i, b] of chosen.entries()) {
    process.stdout.write(`# ${b.name}: ${b.description}\n`);
    const t0 = Date.now();
    const show = (): void =>
      status.set(`[${i + 1}/${chosen.length}] ${b.name} ${Math.round((Date.now() - t0) / 1000)} s`);
    show();
    const timer = setInterval(show, 1000);
    timer.unref();
    try {
      const results = await b.run((line) => {
        status.end();
        process.stdout.write(`  ${line}\n`);
        show();
      });
      status.end();
      process.stdout.write(formatResults(results));
    } finally {
      clearInterval(timer);
      status.end();
    }
  }
  return 0;
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  process.exitCode = await main(process.argv.slice(2));
}
