// Differential check: every command line of tests/cmdline-cases.ts given to QEMU 7.2 itself
// (Debian's qemu-system-x86_64) must produce the outcome our table claims — so the table,
// and with it nvmemu, stays QEMU's and not our memory of QEMU. Skips, saying why, when the
// binary is not installed (.ci/run installs it).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMDLINE_CASES } from './cmdline-cases.js';

const QEMU = 'qemu-system-x86_64';
const probe = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
const version = probe.status === 0 ? /version (\d+\.\d+)/.exec(probe.stdout)?.[1] : undefined;
const skip =
  version === undefined
    ? `${QEMU} is not installed`
    : version !== '7.2'
      ? `${QEMU} is ${version}, the table is QEMU 7.2's`
      : false;
if (skip !== false) console.log(`# skipping QEMU differential tests: ${skip}`);

let dir = '';
before(() => {
  if (skip !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qemu-diff-'));
  for (const [name, size] of [
    ['nvm.img', 64 << 20],
    ['nvm2.img', 64 << 20],
    ['pm.img', 1 << 30],
    ['small.img', 1 << 20],
  ] as const) {
    writeFileSync(join(dir, name), '');
    truncateSync(join(dir, name), size);
  }
});
after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Runs QEMU paused; a line it accepts keeps running, so success = alive after `grace` ms. */
function runQemu(argv: readonly string[], grace = 1500): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(QEMU, ['-nodefaults', '-display', 'none', '-S', '-accel', 'tcg', ...argv], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), grace);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: signal === 'SIGKILL' && code === null, stderr });
    });
  });
}

describe('QEMU 7.2 agrees with the command-line table', { skip }, () => {
  for (const c of CMDLINE_CASES) {
    if (c.qemu === false) continue;
    // nvmemu-only spellings of the table (our --data) are not passed to QEMU.
    it(c.name, async () => {
      const r = await runQemu(c.argv);
      if (c.expect === 'ok') {
        assert.ok(r.ok, `QEMU refused: ${r.stderr}`);
        if (c.warning !== undefined) {
          assert.equal(r.stderr, c.warning.replaceAll('nvmemu:', `${QEMU}:`));
        }
      } else {
        assert.equal(r.ok, false, 'QEMU accepted the line');
        assert.equal(r.stderr, `${QEMU}: ${c.expect}\n`);
      }
    });
  }
});
