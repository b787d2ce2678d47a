// Spawning `nvmemu run` for end-to-end tests: start it, wait for its summary line, stop it
// with a signal. Shared by the tests that drive a running machine from another process.

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI entry (tests run from build/tests/). */
export const CLI = resolve(fileURLToPath(import.meta.url), '../../../src/cli/main.js');

export interface Running {
  readonly child: ChildProcess;
  /** What the machine printed until it was ready. */
  readonly out: string;
  readonly err: string;
}

/** Starts `nvmemu run ARGS` and resolves once it prints "Running;" (or rejects after a timeout). */
export function startRun(
  args: readonly string[],
  opts: { readonly cwd?: string; readonly timeoutMs?: number } = {},
): Promise<Running> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`nvmemu run not ready: ${out}${err}`));
    }, opts.timeoutMs ?? 15_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Running;')) {
        clearTimeout(timer);
        ok({ child, out, err });
      }
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`nvmemu run exited with ${code ?? 'a signal'}: ${out}${err}`));
    });
  });
}

/** Sends `signal` and waits for the process to exit (no-op when it already has). */
export async function stopRun(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** `ok`, or `CODE: message` of what `fn` threw (libpmem2-style errors carry a code). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}
