// The scenario format's schema (valibot, src/scenario/schema.ts): it checks the shape first,
// naming the offending field; it emits the JSON Schema that schemas/scenario.schema.json holds
// (and the example scenarios name with "$schema"); the examples fit it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, ScenarioError } from '../src/scenario/index.js';
import { checkScenarioShape, scenarioJsonSchema } from '../src/scenario/schema.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const doc = (steps: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ machine: [], steps, ...extra });

describe('scenario schema', () => {
  const cases: [string, string, string][] = [
    [
      'a string LBA',
      doc([{ read: { lba: '0' } }]),
      'f.steps[0].read.lba: expected an integer in [0, 9007199254740991]',
    ],
    [
      'a missing LBA',
      doc([{ write: { count: 1 } }]),
      'f.steps[0].write.lba: expected an integer in [0, 9007199254740991]',
    ],
    [
      'a negative sleep',
      doc([{ sleep: -1 }]),
      'f.steps[0].sleep: expected an integer in [0, 60000]',
    ],
    [
      'a bad fua',
      doc([{ write: { lba: 0, fua: 'yes' } }]),
      'f.steps[0].write.fua: expected a boolean',
    ],
    [
      'an unknown expect key',
      doc([{ flush: {}, expect: { colour: 1 } }]),
      "f.steps[0].expect: unknown key 'colour'",
    ],
    ['a top-level typo', doc([], { sead: 1 }), "f: unknown key 'sead'"],
    [
      'a non-string option',
      JSON.stringify({ machine: [1], steps: [] }),
      'f.machine[0]: expected an array of option strings',
    ],
    [
      'a bad image size',
      doc([], { images: { 'a.img': '1X' } }),
      'f.images.a.img: expected a size: bytes, or a string like "64M"',
    ],
    [
      'a bad SMART field',
      doc([{ smart: {}, expect: { smart: { heat: 1 } } }]),
      "f.steps[0].expect.smart: unknown key 'heat'",
    ],
  ];
  for (const [what, text, msg] of cases) {
    it(`names the field of ${what}`, () => {
      assert.throws(
        () => parseScenario(text, 'f'),
        (e: unknown) => e instanceof ScenarioError && e.message === msg,
      );
    });
  }

  it('schemas/scenario.schema.json is the schema the program emits', () => {
    const file = JSON.parse(
      readFileSync(join(ROOT, 'schemas', 'scenario.schema.json'), 'utf8'),
    ) as unknown;
    assert.deepEqual(file, scenarioJsonSchema());
  });

  it('the JSON Schema requires machine and steps, refuses unknown keys, one operation per step', () => {
    const s = scenarioJsonSchema() as {
      required: string[];
      additionalProperties: boolean;
      properties: {
        steps: { items: { oneOf: { required: string[] }[]; additionalProperties: boolean } };
      };
    };
    assert.deepEqual(s.required, ['machine', 'steps']);
    assert.equal(s.additionalProperties, false);
    assert.equal(s.properties.steps.items.additionalProperties, false);
    assert.ok(s.properties.steps.items.oneOf.some((o) => o.required[0] === 'power-cut'));
  });

  it('every example scenario fits the schema and names it', () => {
    const dir = join(ROOT, 'examples', 'scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 4);
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      assert.equal(checkScenarioShape(d, f), undefined, f);
      assert.equal(d.$schema, '../../schemas/scenario.schema.json', f);
    }
  });
});
