// The scenario file's shape as a valibot schema: what parseScenario checks first (every key,
// type and range, with the offending field's path in the message), and what `nvmemu scenario
// schema` turns into a JSON Schema for editors (schemas/scenario.schema.json; a scenario file
// names it with "$schema"). What a schema cannot say — a fault's own fields, a status name,
// that `clear` names an earlier fault — parseScenario (format.ts) checks after it.

import * as v from 'valibot';
import { toJsonSchema } from '@valibot/to-json-schema';
import { CUT_MODES } from '../nvme/ns/write-cache.js';

const U32 = 0xffff_ffff;
const SIZE_MSG = 'expected a size: bytes, or a string like "64M"';

function int(min: number, max: number = Number.MAX_SAFE_INTEGER) {
  const msg = `expected an integer in [${min}, ${max}]`;
  return v.pipe(v.number(msg), v.integer(msg), v.minValue(min, msg), v.maxValue(max, msg));
}

const str = (what = 'expected a string') => v.string(what);
const bool = () => v.boolean('expected a boolean');

/** An object with exactly these keys (optional ones may be absent). */
function obj<E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, (issue) => {
    const key = String(issue.path?.at(-1)?.key);
    if (issue.expected === 'never') return `unknown key '${key}'`;
    // A required key is missing: say what it must be.
    if (issue.received === 'undefined' && key in entries) {
      const m = (entries[key] as { message?: unknown }).message;
      return typeof m === 'string' ? m : 'required';
    }
    return 'expected an object';
  });
}

const opt = <S extends v.GenericSchema>(s: S) => v.optional(s);

/** A status: a number, a hex string ("0x281") or a name ("unrecovered-read-error"). */
const STATUS = v.union([int(0, 0x7fff), str()], 'expected a status number or name');

const SMART = obj({
  'critical-warning': opt(int(0)),
  temperature: opt(int(0)),
  'power-cycles': opt(int(0)),
  'unsafe-shutdowns': opt(int(0)),
  'media-errors': opt(int(0)),
  'available-spare': opt(int(0)),
  'percentage-used': opt(int(0)),
});

const EXPECT = obj({
  status: opt(STATUS),
  pattern: opt(int(0, 0xffff)),
  completes: opt(bool()),
  'lost-writes': opt(int(0)),
  'volatile-writes': opt(int(0)),
  smart: opt(SMART),
  fired: opt(int(0)),
  divergences: opt(int(0)),
});

const IO = {
  ctrl: opt(str()),
  nsid: opt(int(1, 0xffff_fffe)),
  lba: int(0),
  count: opt(int(1, 0x10000)),
};

/** The operations of a step; a step has exactly one of them. */
export const STEP_OPS = {
  fault: v.record(str(), v.unknown(), 'expected an object'),
  clear: str('expected a fault name'),
  write: obj({ ...IO, pattern: opt(int(1, 0xffff)), fua: opt(bool()) }),
  read: obj(IO),
  flush: obj({ ctrl: opt(str()), nsid: opt(int(1)) }),
  reset: obj({ ctrl: opt(str()) }),
  'power-cut': obj({
    mode: opt(v.picklist(CUT_MODES, `expected one of ${CUT_MODES.join(', ')}`)),
    seed: opt(int(0, U32)),
  }),
  restart: obj({}),
  audit: obj({}),
  smart: obj({ ctrl: opt(str()) }),
  'check-fault': str('expected a fault name'),
  sleep: int(0, 60_000),
  ana: obj({
    group: int(1, 128),
    state: str(),
    ctrl: opt(str()),
    transition: opt(int(0, 10_000)),
  }),
  replay: obj({
    file: v.pipe(
      str('expected a recording file name'),
      v.minLength(1, 'expected a recording file name'),
    ),
    'time-tolerance': opt(int(0, 3_600_000)),
  }),
} as const;

const OP_NAMES = Object.keys(STEP_OPS) as (keyof typeof STEP_OPS)[];

const STEP = v.pipe(
  obj({
    ...Object.fromEntries(OP_NAMES.map((k) => [k, opt(STEP_OPS[k])])),
    expect: opt(EXPECT),
    as: opt(str()),
    wait: opt(int(1, 60_000)),
    title: opt(str()),
  }),
  v.check(
    (s) => OP_NAMES.filter((k) => (s as Record<string, unknown>)[k] !== undefined).length === 1,
    `a step has exactly one of: ${OP_NAMES.join(', ')}`,
  ),
);

/** The scenario document. */
export const SCENARIO_SCHEMA = obj({
  $schema: opt(str()),
  name: opt(str()),
  description: opt(str()),
  seed: opt(int(0, U32)),
  machine: v.array(
    str('expected an array of option strings'),
    'expected an array of option strings',
  ),
  images: opt(
    v.record(
      str(),
      v.union([int(1), v.pipe(str(), v.regex(/^\d+[KMG]?$/i, SIZE_MSG))], SIZE_MSG),
      'expected an object',
    ),
  ),
  'track-writes': opt(bool()),
  steps: v.array(STEP, 'expected an array'),
});

/** `[2]` for indices, `.key` for keys. */
function pathText(path: readonly { key: unknown }[] | undefined): string {
  return (path ?? [])
    .map((p) => (typeof p.key === 'number' ? `[${p.key}]` : `.${String(p.key)}`))
    .join('');
}

/**
 * Checks a parsed JSON document against the schema. Returns undefined when it fits, else the
 * first mistake as [path, message] (path like `steps[2].write.lba`, from `where`).
 */
export function checkScenarioShape(doc: unknown, where: string): [string, string] | undefined {
  const r = v.safeParse(SCENARIO_SCHEMA, doc, { abortEarly: true });
  if (r.success) return undefined;
  const issue = r.issues[0];
  // An unknown key is reported at the object that has it, as the hand-written checks did.
  const path = issue.message.startsWith('unknown key') ? issue.path?.slice(0, -1) : issue.path;
  return [`${where}${pathText(path)}`, issue.message];
}

/** The JSON Schema (draft-07) of scenario files, for editors. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(SCENARIO_SCHEMA, { errorMode: 'ignore' }) as Record<string, unknown>;
  // valibot's `check` (exactly one operation per step) has no JSON Schema form of its own.
  const steps = (
    schema.properties as Record<string, { items: Record<string, unknown> } | undefined>
  ).steps;
  steps!.items.oneOf = OP_NAMES.map((op) => ({ required: [op] }));
  return {
    ...schema,
    title: 'nvmemu scenario',
    description: 'A fault / power-cut scenario for `nvmemu scenario run` (docs/scenarios.md).',
  };
}
