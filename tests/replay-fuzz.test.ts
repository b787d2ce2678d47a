// Fuzz crashes are recordings (docs/record-replay.md "Fuzzing"): the seeded fuzzer saves each
// crashing case (here: Internal Error from a seeded fault) as a recording that `nvmemu replay`
// re-runs on a fresh machine with every completion reproduced, the crashing one included; the
// same seed finds the same cases; random commands on a real machine without faults find none.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/app.js';
import { fuzzMachine, type FuzzOptions } from '../src/replay/fuzz.js';
import { parseRecording } from '../src/replay/index.js';
import { tempDir } from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

function options(extra: Partial<FuzzOptions>): FuzzOptions {
  const t = tempDir('fuzz');
  dirs.push(t.cleanup);
  return {
    argv: [
      '-drive',
      'file=d0.img,if=none,id=d0,format=raw',
      '-device',
      'nvme,id=nvme0,serial=fz0',
      '-device',
      'nvme-ns,drive=d0,nsid=1',
    ],
    images: { 'd0.img': 1 << 20 },
    dataDir: join(t.dir, 'work'),
    corpus: join(t.dir, 'corpus'),
    seed: 7,
    cases: 4,
    commands: 40,
    ...extra,
  };
}

describe('fuzz crashes saved as recordings', () => {
  it('a crashing case is a recording that nvmemu replay reproduces; the same seed finds the same cases', async () => {
    const faults = [{ kind: 'internal-error', qid: 1, probability: 0.1 }];
    const r = await fuzzMachine(options({ faults }));
    assert.ok(r.crashes.length >= 2, `crashes: ${r.crashes.length}`);
    for (const c of r.crashes) {
      assert.match(c.reason, /^I\/O opcode 0x[0-9a-f]+: Internal Error$/);
      const rec = parseRecording(readFileSync(c.file));
      // The crashing command is the recording's last, with the status the fuzzer saw.
      assert.equal(rec.commands.length, c.command);
      assert.equal(rec.commands[c.command - 1]!.status & 0x7ff, 0x006);
      assert.deepEqual(
        rec.events.map((e) => e.kind),
        ['controller', 'fault-inject'],
      );
      const out: string[] = [];
      const code = await main(['replay', c.file], {
        out: (s: string) => out.push(s),
        err: (s: string) => out.push(s),
      });
      assert.equal(code, 0, out.join(''));
      assert.match(out.join(''), /, 0 divergences$/m);
    }
    const again = await fuzzMachine(options({ faults }));
    assert.deepEqual(
      again.crashes.map((c) => [c.case, c.seed, c.command, c.reason]),
      r.crashes.map((c) => [c.case, c.seed, c.command, c.reason]),
    );
  });

  it('random admin and I/O commands on a real machine without faults crash nothing', async () => {
    const r = await fuzzMachine(options({ cases: 8, seed: 11 }));
    assert.equal(r.commands, 8 * 40);
    assert.deepEqual(r.crashes, []);
  });
});
