// Builds machines from QEMU-style argv in-process with only the pmem types registered (the
// tests of issue #6 must not depend on other device families), printing errors and warnings
// the way `nvmemu run` does.

import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/config/errors.js';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerPmemTypes } from '../src/pmem/index.js';

export function formatError(e: unknown): string {
  if (e instanceof ConfigError)
    return `nvmemu: ${e.location ? `${e.location}: ` : ''}${e.message}\n`;
  return `nvmemu: ${e instanceof Error ? e.message : String(e)}\n`;
}

export interface Built {
  readonly machine: Machine | undefined;
  readonly stderr: string;
}

/** Builds a machine from `argv` with `cwd` as working folder for relative paths. */
export async function build(argv: readonly string[], dataDir: string): Promise<Built> {
  registerPmemTypes();
  let stderr = '';
  const origWrite = process.stderr.write.bind(process.stderr);
  // QEMU's raw fprintf warnings (MAP_SYNC) go straight to stderr; capture them too.
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    const args = parseArgs(argv);
    const machine = await Machine.create(args.items, {
      settings: machineSettings(args),
      dataDir,
      warn: (line) => {
        stderr += `nvmemu: ${line}\n`;
      },
    });
    return { machine, stderr };
  } catch (e) {
    return { machine: undefined, stderr: stderr + formatError(e) };
  } finally {
    process.stderr.write = origWrite;
  }
}

/** A scratch folder with the catalogue's images: pm.img 1 GiB, small.img 1 MiB (sparse). */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, size] of [
    ['pm.img', 1 << 30],
    ['small.img', 1 << 20],
  ] as const) {
    writeFileSync(join(dir, name), '');
    truncateSync(join(dir, name), size);
  }
  return dir;
}
