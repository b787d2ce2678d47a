// A counterexample file (docs/pmem2.md "Store explorer"): the recorded store trace of a run —
// every store with its stack, flush, fence, marker and (cross-media runs) NVMe write-cache
// state — with the explorer's options and the minimised counterexample (its seed, instant and
// choice). Another process reproduces the inconsistent image from the file alone
// (`crashImage`), and `exploreTrace` with the file's seed and options finds the same
// counterexample again: no program run is needed.
//
// Versioned JSON: {"format": "nvmemu-store-trace", "version": 1, "size", "initial" (base64),
// "events": [...], "options": {...}, "counterexample": {...}}; byte strings are base64, maps
// are [key, value] pairs. The parser checks every field and names the first bad one.

import type { StoreTrace, TraceEvent, NvmeState } from './store-trace.js';
import {
  PERSISTENCE_MODELS,
  REORDER_ENGINES,
  type Counterexample,
  type StoreExploreOptions,
} from './explore-stores.js';

/** The `format` field of a counterexample file. */
export const TRACE_FORMAT = 'nvmemu-store-trace';
/** The version of counterexample files this nvmemu writes and reads. */
export const TRACE_FILE_VERSION = 1;

/** What a counterexample file holds. */
export interface CounterexampleFile {
  readonly trace: StoreTrace;
  /** The explorer's options of the run that found it (model, engines, seed, ...). */
  readonly options: StoreExploreOptions;
  readonly counterexample: Counterexample;
}

/** A file that is not a counterexample file of a version this nvmemu reads. */
export class TraceFileError extends Error {}

const b64 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
const pairs = (m: ReadonlyMap<number, Uint8Array>): [number, string][] =>
  [...m].map(([k, v]) => [k, b64(v)]);

function eventJson(e: TraceEvent): unknown {
  switch (e.kind) {
    case 'store':
      return { ...e, bytes: b64(e.bytes) };
    case 'nvme':
      return {
        ...e,
        state: {
          namespaces: e.state.namespaces.map((n) => ({
            nsid: n.nsid,
            lbaSize: n.lbaSize,
            current: pairs(n.current),
            durable: pairs(n.durable),
            cached: n.cached.map((c) => ({ seq: c.seq, lba: c.lba, blocks: pairs(c.blocks) })),
          })),
        },
      };
    default:
      return e;
  }
}

/** The file's text. */
export function encodeCounterexampleFile(f: CounterexampleFile): string {
  return JSON.stringify({
    format: TRACE_FORMAT,
    version: TRACE_FILE_VERSION,
    size: f.trace.size,
    initial: b64(f.trace.initial),
    events: f.trace.events.map(eventJson),
    options: f.options,
    counterexample: f.counterexample,
  });
}

// ---- parsing ---------------------------------------------------------------------------------

type Obj = Readonly<Record<string, unknown>>;

class Reader {
  constructor(readonly where: string) {}
  fail(what: string): never {
    throw new TraceFileError(`counterexample file: ${this.where}: ${what}`);
  }
  at(key: string | number): Reader {
    return new Reader(typeof key === 'number' ? `${this.where}[${key}]` : `${this.where}.${key}`);
  }
}

function obj(r: Reader, v: unknown): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail('expected an object');
  return v as Obj;
}
function arr(r: Reader, v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) r.fail('expected an array');
  return v as unknown[];
}
function nat(r: Reader, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    r.fail('expected a non-negative integer');
  }
  return v;
}
function str(r: Reader, v: unknown): string {
  if (typeof v !== 'string') r.fail('expected a string');
  return v;
}
function bytes(r: Reader, v: unknown): Uint8Array {
  const s = str(r, v);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) r.fail('expected base64 bytes');
  return new Uint8Array(Buffer.from(s, 'base64'));
}
function blockMap(r: Reader, v: unknown): Map<number, Uint8Array> {
  return new Map(
    arr(r, v).map((p, i) => {
      const pr = r.at(i);
      const [k, b] = arr(pr, p);
      return [nat(pr.at(0), k), bytes(pr.at(1), b)];
    }),
  );
}
function oneOf<T extends string>(r: Reader, v: unknown, allowed: readonly T[]): T {
  const s = str(r, v);
  if (!allowed.includes(s as T)) r.fail(`expected one of ${allowed.join(', ')}`);
  return s as T;
}

function nvmeState(r: Reader, v: unknown): NvmeState {
  const o = obj(r, v);
  return {
    namespaces: arr(r.at('namespaces'), o.namespaces).map((n, i) => {
      const nr = r.at('namespaces').at(i);
      const x = obj(nr, n);
      return {
        nsid: nat(nr.at('nsid'), x.nsid),
        lbaSize: nat(nr.at('lbaSize'), x.lbaSize),
        current: blockMap(nr.at('current'), x.current),
        durable: blockMap(nr.at('durable'), x.durable),
        cached: arr(nr.at('cached'), x.cached).map((c, j) => {
          const cr = nr.at('cached').at(j);
          const y = obj(cr, c);
          return {
            seq: nat(cr.at('seq'), y.seq),
            lba: nat(cr.at('lba'), y.lba),
            blocks: blockMap(cr.at('blocks'), y.blocks),
          };
        }),
      };
    }),
  };
}

function event(r: Reader, v: unknown, size: number): TraceEvent {
  const o = obj(r, v);
  const kind = oneOf(r.at('kind'), o.kind, ['store', 'flush', 'fence', 'mark', 'nvme']);
  switch (kind) {
    case 'store': {
      const offset = nat(r.at('offset'), o.offset);
      const b = bytes(r.at('bytes'), o.bytes);
      if (offset + b.length > size)
        r.fail(`store [${offset}, ${offset + b.length}) beyond the map (${size} bytes)`);
      return {
        kind,
        offset,
        bytes: b,
        via: str(r.at('via'), o.via),
        stack: str(r.at('stack'), o.stack),
      };
    }
    case 'flush':
      return { kind, offset: nat(r.at('offset'), o.offset), length: nat(r.at('length'), o.length) };
    case 'fence':
      return { kind };
    case 'mark':
      return { kind, name: str(r.at('name'), o.name) };
    case 'nvme':
      return {
        kind,
        state: nvmeState(r.at('state'), o.state),
        what: str(r.at('what'), o.what),
        stack: str(r.at('stack'), o.stack),
      };
  }
}

function options(r: Reader, v: unknown): StoreExploreOptions {
  const o = obj(r, v);
  const out: Record<string, unknown> = {};
  if (o.model !== undefined) out.model = oneOf(r.at('model'), o.model, PERSISTENCE_MODELS);
  if (o.engine !== undefined) out.engine = oneOf(r.at('engine'), o.engine, REORDER_ENGINES);
  if (o.engines !== undefined) {
    const e = obj(r.at('engines'), o.engines);
    out.engines = Object.fromEntries(
      Object.entries(e).map(([k, x]) => [k, oneOf(r.at('engines').at(k), x, REORDER_ENGINES)]),
    );
  }
  for (const k of ['maxExhaustive', 'samples', 'seed'] as const) {
    if (o[k] !== undefined) out[k] = nat(r.at(k), o[k]);
  }
  return out;
}

const ROLES: readonly Counterexample['culpritRole'][] = [
  'reached media too early',
  'never made durable',
  'made the image inconsistent',
  'none',
];

function counterexample(r: Reader, v: unknown): Counterexample {
  const o = obj(r, v);
  let culprit: Counterexample['culprit'];
  if (o.culprit !== undefined) {
    const cr = r.at('culprit');
    const c = obj(cr, o.culprit);
    culprit = {
      event: nat(cr.at('event'), c.event),
      offset: nat(cr.at('offset'), c.offset),
      length: nat(cr.at('length'), c.length),
      via: str(cr.at('via'), c.via),
      stack: str(cr.at('stack'), c.stack),
    };
  }
  return {
    model: oneOf(r.at('model'), o.model, PERSISTENCE_MODELS),
    instant: nat(r.at('instant'), o.instant),
    choice: arr(r.at('choice'), o.choice).map((x, i) => nat(r.at('choice').at(i), x)),
    seed: nat(r.at('seed'), o.seed),
    message: str(r.at('message'), o.message),
    markers: arr(r.at('markers'), o.markers).map((x, i) => str(r.at('markers').at(i), x)),
    kept: arr(r.at('kept'), o.kept).map((x, i) => str(r.at('kept').at(i), x)),
    culprit,
    culpritRole: oneOf(r.at('culpritRole'), o.culpritRole, ROLES),
  };
}

/** Parses a counterexample file; throws TraceFileError naming the first bad field. */
export function parseCounterexampleFile(text: string): CounterexampleFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TraceFileError(`counterexample file: not JSON: ${(e as Error).message}`);
  }
  const r = new Reader('file');
  const o = obj(r, doc);
  if (o.format !== TRACE_FORMAT) r.at('format').fail(`expected "${TRACE_FORMAT}"`);
  if (o.version !== TRACE_FILE_VERSION) {
    r.at('version').fail(
      `version ${String(o.version)} is not supported (this nvmemu reads version ${TRACE_FILE_VERSION})`,
    );
  }
  const size = nat(r.at('size'), o.size);
  const initial = bytes(r.at('initial'), o.initial);
  if (initial.length !== size) r.at('initial').fail(`${initial.length} bytes, the map has ${size}`);
  const events = arr(r.at('events'), o.events).map((e, i) => event(r.at('events').at(i), e, size));
  const cx = counterexample(r.at('counterexample'), o.counterexample);
  if (cx.instant > events.length) {
    r.at('counterexample')
      .at('instant')
      .fail(`${cx.instant} is beyond the trace's ${events.length} events`);
  }
  return {
    trace: { size, initial, events },
    options: options(r.at('options'), o.options),
    counterexample: cx,
  };
}
