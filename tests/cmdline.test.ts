// Command lines from QEMU's documentation and the reference seed examples, valid and invalid,
// with the outcome QEMU 7.2 gives. Expected messages were read off Debian's
// qemu-system-x86_64 7.2 (`qemu-system-x86_64:` → `nvmemu:`); tests/qemu-differential.test.ts
// re-checks them against the binary when it is installed.
//
// Every failing line must also leave the working folder exactly as it was.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync, statSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMachine } from '../src/cli/run.js';
import { bufferIo } from '../src/cli/io.js';
import { CMDLINE_CASES } from './cmdline-cases.js';

let dir = '';

function snapshot(): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f}:${st.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`}`;
    })
    .join('\n');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-cmdline-'));
  process.chdir(dir);
  for (const [name, size] of [
    ['nvm.img', 64 << 20],
    ['nvm2.img', 64 << 20],
    ['pm.img', 1 << 30],
    ['small.img', 1 << 20],
  ] as const) {
    writeFileSync(name, '');
    truncateSync(name, size);
  }
});

after(() => {
  process.chdir(tmpdir());
  rmSync(dir, { recursive: true, force: true });
});

describe('QEMU command lines', () => {
  it('covers at least 40 command lines', () => {
    assert.ok(CMDLINE_CASES.length >= 40, `only ${CMDLINE_CASES.length} cases`);
  });

  for (const c of CMDLINE_CASES) {
    it(c.name, async () => {
      const io = bufferIo();
      const before = snapshot();
      const argv = ['--data', join(dir, 'state'), ...c.argv];
      const started = await startMachine(argv, io);
      if (c.expect === 'ok') {
        assert.notEqual(typeof started, 'number', `start failed: ${io.stderr}`);
        if (typeof started !== 'number') await started.machine.shutdown();
        if (c.warning !== undefined) assert.equal(io.stderr, c.warning);
      } else {
        assert.equal(started, 1);
        assert.equal(io.stderr, `nvmemu: ${c.expect}\n`);
        assert.equal(snapshot(), before, 'a failed start must not touch the disk');
      }
    });
  }
});
