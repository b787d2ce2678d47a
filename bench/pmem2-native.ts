// The C baseline of the pmem2 bench (issue 20): bench/pmem2-native.c, compiled at bench time
// with the system compiler against Debian's libpmem2 (libpmem2-dev) into a temporary directory,
// then started once per granularity on the same file as the TypeScript side and asked to run
// one case at a time (it waits on stdin in between), so C and TS can alternate case by case.
// Nothing built here is kept or committed. When the compiler or the library is missing the
// bench prints why.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured case: `ops` operations in `wallNs` wall-clock and `cpuNs` process CPU time. */
export interface NativeCase {
  readonly op: 'memcpy' | 'persist';
  readonly size: number;
  readonly ops: number;
  readonly wallNs: number;
  readonly cpuNs: number;
}

/** One pmem2-native process: the file mapped at one granularity, answering one case at a time. */
export interface NativeSession {
  /** Runs `name` ("memcpy:64", "persist:64", …) for at least `ms` milliseconds. */
  run(name: string, ms: number): Promise<NativeCase>;
  close(): Promise<void>;
}

export interface NativeBaseline {
  open(file: string, granularity: string): Promise<NativeSession>;
  dispose(): void;
}
/** The C source, found from build/bench/ (compiled JS) or bench/ (the source tree). */
function sourcePath(): string | null {
  for (const rel of ['../../bench/pmem2-native.c', './pmem2-native.c']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return null;
}

/** Parses one output line of pmem2-native: "CASE SIZE OPS WALL_NS CPU_NS". */
export function parseNativeLine(line: string): NativeCase {
  const m = /^(memcpy|persist) (\d+) (\d+) (\d+) (\d+)$/.exec(line.trim());
  if (m === null) throw new Error(`pmem2-native: unexpected output line ${JSON.stringify(line)}`);
  return {
    op: m[1] as NativeCase['op'],
    size: Number(m[2]),
    ops: Number(m[3]),
    wallNs: Number(m[4]),
    cpuNs: Number(m[5]),
  };
}

/** Compiles the baseline; returns it, or the reason it cannot be had on this machine. */
export function buildNativeBaseline(): NativeBaseline | string {
  const src = sourcePath();
  if (src === null) return 'bench/pmem2-native.c not found next to the build';
  const cc = process.env.CC ?? 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0)
    return `no C compiler (${cc}); apt-get install -y build-essential`;
  const dir = mkdtempSync(join(tmpdir(), 'pmem2-native-'));
  const bin = join(dir, 'pmem2-native');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', bin, src, '-lpmem2'], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const first = (r.stderr || r.stdout || '').split('\n').find((l) => l.trim() !== '') ?? '';
    const missing = /libpmem2\.h|-lpmem2|cannot find/.test(r.stderr ?? '');
    return missing
      ? `C libpmem2 not installed (${first.trim()}); apt-get install -y libpmem2-dev`
      : `cannot compile the C baseline: ${first.trim()}`;
  }
  return {
    open: (file, granularity) => openSession(bin, file, granularity),
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts pmem2-native and waits for its "ready" line (or its error, if it exits first). */
function openSession(bin: string, file: string, granularity: string): Promise<NativeSession> {
  const child = spawn(bin, [file, granularity], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let pending = '';
  const waiters: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const lines: string[] = [];
  let ended: Error | null = null;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const w = waiters.shift();
      if (w !== undefined) w.resolve(line);
      else lines.push(line);
    }
  });
  child.on('close', (code) => {
    ended = new Error(`pmem2-native exited (${code}): ${stderr.trim() || 'no message'}`);
    for (const w of waiters.splice(0)) w.reject(ended);
  });
  const next = (): Promise<string> => {
    const l = lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (ended !== null) return Promise.reject(ended);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };
  return next().then((first) => {
    if (first !== 'ready') throw new Error(`pmem2-native: expected "ready", got ${first}`);
    return {
      async run(name, ms) {
        child.stdin.write(`${name} ${ms}\n`);
        const line = await next();
        if (line.startsWith('error:')) throw new Error(`pmem2-native: ${line}`);
        return parseNativeLine(line);
      },
      close() {
        return new Promise((resolve) => {
          if (ended !== null) return resolve();
          child.once('close', () => resolve());
          child.stdin.end();
        });
      },
    };
  });
}
