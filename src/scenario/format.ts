// The scenario file (docs/scenarios.md): a JSON document that names a machine, the faults to
// inject, a workload of host commands, and what must be seen — so a failure (and the recovery
// from it) is reproduced exactly by `nvmemu scenario run FILE`. parseScenario checks the whole
// file before anything runs (house rule 1) and reports the path of the first mistake.

import { parseFaultSpec } from '../faults/catalogue.js';
import { CUT_MODES, type CutMode } from '../nvme/ns/write-cache.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import { checkScenarioShape } from './schema.js';
import { ANA_STATE_NAMES, ANAGRPMAX } from '../nvme/spec/ana.js';

/** An invalid scenario file; the message starts with the offending field (`f.steps[2].write.lba`). */
export class ScenarioError extends EmuError {
  constructor(where: string, message: string) {
    super(ErrorCode.EMU_ERR_CONFIG, `${where}: ${message}`);
  }
}

/** What a step expects of the command it ran (all optional). */
export interface Expect {
  /** NVMe status (SCT << 8 | SC, DNR bit 14 included). */
  readonly status?: number;
  /** Read data: every block holds this pattern (0 = zeros). */
  readonly pattern?: number;
  /** false: the command must not complete within `wait` ms (held by a timeout fault). */
  readonly completes?: boolean;
  /** power-cut: how many cached writes were lost. */
  readonly lostWrites?: number;
  /** audit: how many acknowledged writes are not durable. */
  readonly volatileWrites?: number;
  /** smart: fields of the SMART / Health log. */
  readonly smart?: Readonly<Partial<Record<SmartField, number>>>;
  /** fault: how often it fired (checked at this step). */
  readonly fired?: number;
  /** replay: how many divergences the replay reports (default 0). */
  readonly divergences?: number;
}

export type SmartField =
  | 'critical-warning'
  | 'temperature'
  | 'power-cycles'
  | 'unsafe-shutdowns'
  | 'media-errors'
  // A device model's wear (docs/models.md): SMART bytes 3 and 5.
  | 'available-spare'
  | 'percentage-used';

export const SMART_FIELDS: readonly SmartField[] = [
  'critical-warning',
  'temperature',
  'power-cycles',
  'unsafe-shutdowns',
  'media-errors',
  'available-spare',
  'percentage-used',
];

export interface IoTarget {
  /** nvme controller id (default: the first controller). */
  readonly ctrl?: string;
  readonly nsid: number;
  readonly lba: number;
  readonly count: number;
}

export type Step =
  | {
      readonly op: 'fault';
      readonly fault: Readonly<Record<string, unknown>>;
      readonly as?: string;
    }
  | { readonly op: 'clear'; /** A fault's `as` name, or 'all'. */ readonly name: string }
  | { readonly op: 'write'; readonly io: IoTarget; readonly pattern: number; readonly fua: boolean }
  | { readonly op: 'read'; readonly io: IoTarget }
  | { readonly op: 'flush'; readonly ctrl?: string; readonly nsid: number }
  | { readonly op: 'reset'; readonly ctrl?: string }
  | { readonly op: 'power-cut'; readonly mode: CutMode; readonly seed?: number }
  | { readonly op: 'restart' }
  | { readonly op: 'audit' }
  | { readonly op: 'smart'; readonly ctrl?: string }
  | { readonly op: 'check-fault'; readonly name: string }
  | { readonly op: 'sleep'; readonly ms: number }
  | {
      readonly op: 'ana';
      /** An nvme or nvme-subsys id (default: every controller). */
      readonly ctrl?: string;
      readonly group: number;
      readonly state: string;
      readonly transition?: number;
    }
  | {
      readonly op: 'replay';
      /** The recording (docs/record-replay.md), relative to the scenario file's folder. */
      readonly file: string;
      /** Controller time compared within this many ms; undefined: times not compared. */
      readonly timeToleranceMs?: number;
    };

/** One parsed step: the operation, its expectations, its title. */
export interface ScenarioStep {
  readonly step: Step;
  readonly expect: Expect;
  /** ms to wait for a completion that must not come (completes: false). */
  readonly wait: number;
  /** Text shown in the report (default: derived from the step). */
  readonly title: string;
}

/** A parsed scenario file (docs/scenarios.md). */
export interface Scenario {
  readonly name: string;
  readonly seed: number;
  /** nvmemu run options (QEMU syntax), one argument per element. */
  readonly machine: readonly string[];
  /** Images created sparse in the scenario's data folder before the machine starts. */
  readonly images: Readonly<Record<string, number>>;
  /** Attach the write cache model to every namespace at start (and after restarts). */
  readonly trackWrites: boolean;
  readonly steps: readonly ScenarioStep[];
}

type Obj = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const STATUS_NAMES: Readonly<Record<string, number>> = {
  success: 0x000,
  'internal-error': 0x006,
  'abort-requested': 0x007,
  'namespace-not-ready': 0x082,
  'write-fault': 0x280,
  'unrecovered-read-error': 0x281,
  'read-only': 0x4182,
};

function int(where: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ScenarioError(where, `expected an integer in [${min}, ${max}]`);
  }
  return v;
}

function optInt(where: string, v: unknown, min = 0, max?: number): number | undefined {
  return v === undefined ? undefined : int(where, v, min, max);
}

function optStr(where: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ScenarioError(where, 'expected a string');
  return v;
}

function keys(where: string, o: Obj, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ScenarioError(where, `unknown key '${k}'`);
  }
}

/** A status as a number, a hex string ("0x281") or a name ("unrecovered-read-error"). */
function status(where: string, v: unknown): number {
  if (typeof v === 'string') {
    const named = STATUS_NAMES[v];
    if (named !== undefined) return named;
    if (/^0x[0-9a-f]+$/i.test(v)) return int(where, Number.parseInt(v, 16), 0, 0x7fff);
    throw new ScenarioError(
      where,
      `unknown status '${v}' (${Object.keys(STATUS_NAMES).join(', ')})`,
    );
  }
  return int(where, v, 0, 0x7fff);
}

function parseExpect(where: string, v: unknown): Expect {
  if (v === undefined) return {};
  if (!isObj(v)) throw new ScenarioError(where, 'expected an object');
  keys(where, v, [
    'status',
    'pattern',
    'completes',
    'lost-writes',
    'volatile-writes',
    'smart',
    'fired',
    'divergences',
  ]);
  if (v.completes !== undefined && typeof v.completes !== 'boolean') {
    throw new ScenarioError(`${where}.completes`, 'expected a boolean');
  }
  let smart: Partial<Record<SmartField, number>> | undefined;
  if (v.smart !== undefined) {
    if (!isObj(v.smart)) throw new ScenarioError(`${where}.smart`, 'expected an object');
    keys(`${where}.smart`, v.smart, SMART_FIELDS);
    smart = {};
    for (const [k, x] of Object.entries(v.smart))
      smart[k as SmartField] = int(`${where}.smart.${k}`, x);
  }
  const opt = <T>(k: keyof Expect, x: T | undefined) => (x === undefined ? {} : { [k]: x });
  return {
    ...opt('status', v.status === undefined ? undefined : status(`${where}.status`, v.status)),
    ...opt('pattern', optInt(`${where}.pattern`, v.pattern, 0, 0xffff)),
    ...opt('completes', v.completes),
    ...opt('lostWrites', optInt(`${where}.lost-writes`, v['lost-writes'])),
    ...opt('volatileWrites', optInt(`${where}.volatile-writes`, v['volatile-writes'])),
    ...opt('smart', smart),
    ...opt('fired', optInt(`${where}.fired`, v.fired)),
    ...opt('divergences', optInt(`${where}.divergences`, v.divergences)),
  };
}

function io(where: string, o: Obj): IoTarget {
  keys(where, o, ['ctrl', 'nsid', 'lba', 'count', 'pattern', 'fua']);
  const ctrl = optStr(`${where}.ctrl`, o.ctrl);
  return {
    ...(ctrl !== undefined ? { ctrl } : {}),
    nsid: optInt(`${where}.nsid`, o.nsid, 1, 0xffff_fffe) ?? 1,
    lba: int(`${where}.lba`, o.lba),
    count: optInt(`${where}.count`, o.count, 1, 0x10000) ?? 1,
  };
}

const OPS = [
  'fault',
  'clear',
  'write',
  'read',
  'flush',
  'reset',
  'power-cut',
  'restart',
  'audit',
  'smart',
  'check-fault',
  'sleep',
  'ana',
  'replay',
] as const;

function parseStep(where: string, v: unknown): ScenarioStep {
  if (!isObj(v)) throw new ScenarioError(where, 'expected an object');
  const ops = OPS.filter((k) => v[k] !== undefined);
  if (ops.length !== 1) {
    throw new ScenarioError(where, `a step has exactly one of: ${OPS.join(', ')}`);
  }
  const op = ops[0]!;
  keys(where, v, [op, 'expect', 'as', 'wait', 'title']);
  const arg = v[op];
  const w = `${where}.${op}`;
  const objArg = (): Obj => {
    if (!isObj(arg)) throw new ScenarioError(w, 'expected an object');
    return arg;
  };
  let step: Step;
  switch (op) {
    case 'fault': {
      const spec = objArg();
      try {
        parseFaultSpec(spec);
      } catch (e) {
        throw new ScenarioError(w, (e as Error).message);
      }
      const as = optStr(`${where}.as`, v.as);
      step = { op, fault: spec, ...(as !== undefined ? { as } : {}) };
      break;
    }
    case 'clear':
      step = { op, name: optStr(w, arg) ?? 'all' };
      break;
    case 'write': {
      const o = objArg();
      if (o.fua !== undefined && typeof o.fua !== 'boolean') {
        throw new ScenarioError(`${w}.fua`, 'expected a boolean');
      }
      step = {
        op,
        io: io(w, o),
        pattern: optInt(`${w}.pattern`, o.pattern, 1, 0xffff) ?? 1,
        fua: o.fua === true,
      };
      break;
    }
    case 'read':
      step = { op, io: io(w, objArg()) };
      break;
    case 'flush': {
      const o = objArg();
      keys(w, o, ['ctrl', 'nsid']);
      const ctrl = optStr(`${w}.ctrl`, o.ctrl);
      step = { op, nsid: optInt(`${w}.nsid`, o.nsid, 1) ?? 1, ...(ctrl ? { ctrl } : {}) };
      break;
    }
    case 'reset':
    case 'smart': {
      const o = objArg();
      keys(w, o, ['ctrl']);
      const ctrl = optStr(`${w}.ctrl`, o.ctrl);
      step = { op, ...(ctrl ? { ctrl } : {}) };
      break;
    }
    case 'power-cut': {
      const o = objArg();
      keys(w, o, ['mode', 'seed']);
      const mode = optStr(`${w}.mode`, o.mode) ?? 'all';
      if (!CUT_MODES.includes(mode as CutMode)) {
        throw new ScenarioError(`${w}.mode`, `expected one of ${CUT_MODES.join(', ')}`);
      }
      const seed = optInt(`${w}.seed`, o.seed, 0, 0xffff_ffff);
      step = { op, mode: mode as CutMode, ...(seed !== undefined ? { seed } : {}) };
      break;
    }
    case 'restart':
    case 'audit':
      objArg();
      step = { op };
      break;
    case 'check-fault': {
      const name = optStr(w, arg);
      if (name === undefined) throw new ScenarioError(w, 'expected a fault name');
      step = { op, name };
      break;
    }
    case 'sleep':
      step = { op, ms: int(w, arg, 0, 60_000) };
      break;
    case 'ana': {
      const o = objArg();
      keys(w, o, ['group', 'state', 'ctrl', 'transition']);
      const state = optStr(`${w}.state`, o.state);
      if (state === undefined || !ANA_STATE_NAMES.has(state)) {
        throw new ScenarioError(
          `${w}.state`,
          `expected one of ${[...ANA_STATE_NAMES.keys()].join(', ')}`,
        );
      }
      const ctrl = optStr(`${w}.ctrl`, o.ctrl);
      const transition = optInt(`${w}.transition`, o.transition, 0, 10_000);
      step = {
        op,
        group: int(`${w}.group`, o.group, 1, ANAGRPMAX),
        state,
        ...(ctrl !== undefined ? { ctrl } : {}),
        ...(transition !== undefined ? { transition } : {}),
      };
      break;
    }
    case 'replay': {
      const o = objArg();
      keys(w, o, ['file', 'time-tolerance']);
      const file = optStr(`${w}.file`, o.file);
      if (file === undefined || file === '') {
        throw new ScenarioError(`${w}.file`, 'expected a recording file name');
      }
      const tol = optInt(`${w}.time-tolerance`, o['time-tolerance'], 0, 3_600_000);
      step = { op, file, ...(tol !== undefined ? { timeToleranceMs: tol } : {}) };
      break;
    }
  }
  return {
    step,
    expect: parseExpect(`${where}.expect`, v.expect),
    wait: optInt(`${where}.wait`, v.wait, 1, 60_000) ?? 50,
    title: optStr(`${where}.title`, v.title) ?? `${op} ${JSON.stringify(arg)}`,
  };
}

/** Image sizes: bytes, or a string with K/M/G suffix. */
function size(where: string, v: unknown): number {
  if (typeof v === 'string') {
    const m = /^(\d+)([KMG]?)$/i.exec(v);
    if (m === null) throw new ScenarioError(where, `bad size '${v}'`);
    const mul = { '': 1, K: 1024, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase()] ?? 1;
    return Number(m[1]) * mul;
  }
  return int(where, v, 1);
}

/** Parses and checks a scenario file; throws ScenarioError naming the offending field. */
export function parseScenario(text: string, where = 'scenario'): Scenario {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(where, `not JSON: ${(e as Error).message}`);
  }
  if (!isObj(doc)) throw new ScenarioError(where, 'expected a JSON object');
  // The shape first (schema.ts, also the editors' JSON Schema); then what a schema cannot say.
  const shape = checkScenarioShape(doc, where);
  if (shape !== undefined) throw new ScenarioError(shape[0], shape[1]);
  keys(where, doc, [
    '$schema',
    'name',
    'description',
    'seed',
    'machine',
    'images',
    'track-writes',
    'steps',
  ]);
  const machine = doc.machine;
  if (!Array.isArray(machine) || !machine.every((a) => typeof a === 'string')) {
    throw new ScenarioError(`${where}.machine`, 'expected an array of option strings');
  }
  const images: Record<string, number> = {};
  if (doc.images !== undefined) {
    if (!isObj(doc.images)) throw new ScenarioError(`${where}.images`, 'expected an object');
    for (const [f, s] of Object.entries(doc.images)) {
      if (f.includes('/') || f.startsWith('.')) {
        throw new ScenarioError(`${where}.images`, `image '${f}' must be a plain file name`);
      }
      images[f] = size(`${where}.images.${f}`, s);
    }
  }
  if (!Array.isArray(doc.steps)) throw new ScenarioError(`${where}.steps`, 'expected an array');
  const steps = doc.steps.map((s, i) => parseStep(`${where}.steps[${i}]`, s));
  const names = new Set<string>();
  for (const [i, s] of steps.entries()) {
    if (s.step.op === 'fault' && s.step.as !== undefined) names.add(s.step.as);
    if ((s.step.op === 'clear' && s.step.name !== 'all') || s.step.op === 'check-fault') {
      if (!names.has(s.step.name)) {
        throw new ScenarioError(`${where}.steps[${i}]`, `no earlier fault named '${s.step.name}'`);
      }
    }
  }
  if (doc['track-writes'] !== undefined && typeof doc['track-writes'] !== 'boolean') {
    throw new ScenarioError(`${where}.track-writes`, 'expected a boolean');
  }
  return {
    name: optStr(`${where}.name`, doc.name) ?? where,
    seed: optInt(`${where}.seed`, doc.seed, 0, 0xffff_ffff) ?? 0,
    machine,
    images,
    trackWrites: doc['track-writes'] !== false,
    steps,
  };
}
