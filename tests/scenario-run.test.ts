// Scenario files (docs/scenarios.md): the parser's messages, every example in
// examples/scenarios passing, and `nvmemu scenario run` exit statuses (0 pass, 1 fail, 2 bad).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/app.js';
import { parseScenario, ScenarioError, ScenarioRun } from '../src/scenario/index.js';
import { tempDir } from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples', 'scenarios');

const MACHINE = [
  '-drive',
  'file=d0.img,if=none,id=d0,format=raw',
  '-device',
  'nvme,id=nvme0,serial=t0,drive=d0',
];

function doc(steps: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ images: { 'd0.img': '256K' }, machine: MACHINE, steps, ...extra });
}

function capture(): {
  io: { out(s: string): void; err(s: string): void };
  out: string[];
  err: string[];
} {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s) => void out.push(s), err: (s) => void err.push(s) }, out, err };
}

describe('scenario parser', () => {
  const bad: [string, string, string][] = [
    ['not JSON', '{', 'f: not JSON'],
    ['no machine', JSON.stringify({ steps: [] }), 'f.machine: expected an array of option strings'],
    [
      'a step with two operations',
      doc([{ read: { lba: 0 }, flush: {} }]),
      'f.steps[0]: a step has exactly one of',
    ],
    [
      'an unknown step key',
      doc([{ read: { lba: 0 }, colour: 1 }]),
      "f.steps[0]: unknown key 'colour'",
    ],
    [
      'a bad fault',
      doc([{ fault: { kind: 'gremlins' } }]),
      "f.steps[0].fault: unknown fault kind 'gremlins'",
    ],
    [
      'an unknown status name',
      doc([{ read: { lba: 0 }, expect: { status: 'oops' } }]),
      "f.steps[0].expect.status: unknown status 'oops'",
    ],
    [
      'a clear of an unnamed fault',
      doc([{ clear: 'x' }]),
      "f.steps[0]: no earlier fault named 'x'",
    ],
    [
      'a bad cut mode',
      doc([{ 'power-cut': { mode: 'some' } }]),
      'f.steps[0].power-cut.mode: expected one of all, prefix, subset',
    ],
    [
      'an image path',
      doc([], { images: { '../x.img': 1 } }),
      "f.images: image '../x.img' must be a plain file name",
    ],
  ];
  for (const [what, text, msg] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseScenario(text, 'f'),
        (e: unknown) => {
          assert.ok(e instanceof ScenarioError);
          assert.ok(e.message.startsWith(msg), e.message);
          return true;
        },
      );
    });
  }

  it('reads statuses as numbers, hex strings and names', () => {
    const s = parseScenario(
      doc([
        { read: { lba: 0 }, expect: { status: 641 } },
        { read: { lba: 0 }, expect: { status: '0x4182' } },
        { read: { lba: 0 }, expect: { status: 'namespace-not-ready' } },
      ]),
    );
    assert.deepEqual(
      s.steps.map((x) => x.expect.status),
      [0x281, 0x4182, 0x082],
    );
  });
});

describe('example scenarios', () => {
  for (const f of readdirSync(EXAMPLES).filter((n) => n.endsWith('.json'))) {
    it(`${f} passes`, async () => {
      const t = tempDir('scn');
      dirs.push(t.cleanup);
      const s = parseScenario(readFileSync(join(EXAMPLES, f), 'utf8'), f);
      const r = await new ScenarioRun(s, t.dir).run();
      assert.deepEqual(
        r.steps.filter((x) => !x.ok).map((x) => `${x.index} ${x.title}: ${x.message}`),
        [],
      );
      assert.equal(r.passed, true);
    });
  }
});

describe('nvmemu scenario run', () => {
  it('exits 0 and prints a TAP line per step when every expectation holds', async () => {
    const c = capture();
    assert.equal(await main(['scenario', 'run', join(EXAMPLES, 'media-error.json')], c.io), 0);
    const text = c.out.join('');
    assert.match(text, /^ok 4 - read \{"lba":6,"count":4\} # status 0x281$/m);
    assert.match(text, /^# PASS$/m);
  });

  it('exits 1 and names the failing step when an expectation does not hold', async () => {
    const t = tempDir('scn-fail');
    dirs.push(t.cleanup);
    const f = join(t.dir, 's.json');
    writeFileSync(
      f,
      doc([
        { write: { lba: 0, pattern: 1 } },
        { 'power-cut': {} },
        { read: { lba: 0 }, expect: { pattern: 1 } },
      ]),
    );
    const c = capture();
    assert.equal(await main(['scenario', 'run', f], c.io), 1);
    const text = c.out.join('');
    assert.match(text, /^not ok 3 - read \{"lba":0\} # LBA 0 does not hold pattern 1$/m);
    assert.match(text, /^# FAIL \(1 of 3 steps\)$/m);
  });

  it('exits 2 for an invalid file or a usage error', async () => {
    const t = tempDir('scn-bad');
    dirs.push(t.cleanup);
    const f = join(t.dir, 'bad.json');
    writeFileSync(f, '{"machine": []}');
    const c = capture();
    assert.equal(await main(['scenario', 'run', f], c.io), 2);
    assert.equal(c.err.join(''), `nvmemu scenario: ${f}.steps: expected an array\n`);
    assert.equal(await main(['scenario'], capture().io), 2);
    assert.equal(await main(['scenario', 'run'], capture().io), 2);
  });
});
