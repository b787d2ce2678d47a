// Environment variables (pmdk.md §1.5). PMDK reads PMEM_NO_* and PMEM_MOVNT_THRESHOLD once in
// its library constructor and PMEM2_FORCE_GRANULARITY on every map_new; we do the same: the
// constructor-time values are read at module load (cpu.ts, mem.ts), the rest on each call.
//
// PMEM2_LOG_LEVEL / PMEM2_LOG_FILE are honoured by PMDK's debug build only; ours behaves like
// that build: level 0 silent (default), 1 errors (every failing call's message), 2 warnings,
// 3 decisions (granularity, flush instruction), 4 per-call tracing. A file name ending in '-'
// gets the process id appended. Without a file the log goes to stderr.

import { appendFileSync } from 'node:fs';

/** PMDK's "only the exact string 1 counts" rule for PMEM_NO_CLWB and friends. */
export function envFlag(env: NodeJS.ProcessEnv, name: string): boolean {
  return env[name] === '1';
}

/** PMEM_MOVNT_THRESHOLD: non-negative integer, else the 256-byte default (negative ignored). */
export function movntThreshold(env: NodeJS.ProcessEnv): number {
  const v = env.PMEM_MOVNT_THRESHOLD;
  if (v === undefined) return 256;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : 256;
}

export type ForcedGranularity = 0 | 1 | 2 | null;

/** PMEM2_FORCE_GRANULARITY, case-insensitive BYTE / CACHE_LINE / CACHELINE / PAGE, else null. */
export function forcedGranularity(env: NodeJS.ProcessEnv): ForcedGranularity {
  const v = env.PMEM2_FORCE_GRANULARITY;
  if (v === undefined || v.length >= 11) return null;
  switch (v.toUpperCase()) {
    case 'BYTE':
      return 0;
    case 'CACHE_LINE':
    case 'CACHELINE':
      return 1;
    case 'PAGE':
      return 2;
    default:
      return null;
  }
}

interface LogTarget {
  level: number;
  file: string | null;
}

function logTarget(env: NodeJS.ProcessEnv): LogTarget {
  const n = Number.parseInt(env.PMEM2_LOG_LEVEL ?? '0', 10);
  const level = Number.isFinite(n) ? Math.max(0, Math.min(4, n)) : 0;
  let file = env.PMEM2_LOG_FILE ?? null;
  if (file !== null && file.endsWith('-')) file = `${file}${process.pid}`;
  return { level, file };
}

const target = logTarget(process.env);

/** Log a line at `level` (1..4) when PMEM2_LOG_LEVEL allows it. Prefix mimics PMDK's "<pid> ". */
export function log(level: number, fn: string, message: string): void {
  if (level > target.level) return;
  const line = `<libpmem2>: <${level}> [${fn}] ${message}\n`;
  if (target.file === null) process.stderr.write(line);
  else appendFileSync(target.file, line);
}

/** Test hook: re-read PMEM2_LOG_LEVEL / PMEM2_LOG_FILE from `env`. */
export function reloadLogSettings(env: NodeJS.ProcessEnv): void {
  Object.assign(target, logTarget(env));
}
