// The store explorer, second generation (docs/pmem2.md "Store explorer"): crash states from
// every store, not only from contents at persist points.
//
// A crash can happen after any event of the trace (store-trace.ts). At that instant each
// persistence unit holds its committed content (made durable by flush + fence) or any content
// it had since — every store in between is a possible eviction, so intermediate values reach
// media (a flag set and cleared again before a persist can survive as set). Units are
// independent: a cache line is evicted whenever the CPU likes.
//   cacheline  64-byte units (x86 write-back of a line: a line never tears)
//   word8      8-byte units (pmreorder's model: pmemcheck logs stores of at most 8 bytes)
//   eadr       caches inside the persistence domain: a store is durable once done, so a crash
//              image is the program's memory after some store, nothing reordered
// NVMe writes (cross-media runs) are units too: a cached write survives or not, as the write
// cache model's 'subset' cut decides (nvme/ns/write-cache.ts), from its own state.
//
// Engines choose which combinations to check at an instant (pmreorder's names):
//   full          every combination when there are at most maxExhaustive, else seeded samples
//   accumulative  uncertain stores applied in program order, prefix by prefix
//   no-reorder    the program's memory as it is (all stores in order)
//   partial       seeded samples only
// Markers (`map.mark('NAME.BEGIN')` … `'NAME.END'`) set the engine of a region (`engines`)
// and are passed to the check. The first inconsistent image stops the run; it is minimised
// (uncertain units put back to their committed content while the check still fails), and the
// store to blame is named with its stack: the last store that reached media in the minimal
// image, or, when none did, the first store that never became durable.

import { mulberry32 } from './power-fail.js';
import type { StoreTrace, TraceEvent, NvmeState } from './store-trace.js';

/** What a crash can keep of a store: whole cache lines, 8-byte words, or everything (eADR). */
export type PersistenceModel = 'cacheline' | 'word8' | 'eadr';
/** How the explorer reorders stores between fences (pmreorder's engines; see above). */
export type ReorderEngine = 'full' | 'accumulative' | 'no-reorder' | 'partial';
/** Every persistence model, for option checking and help texts. */
export const PERSISTENCE_MODELS: readonly PersistenceModel[] = ['cacheline', 'word8', 'eadr'];
/** Every reorder engine, for option checking and help texts. */
export const REORDER_ENGINES: readonly ReorderEngine[] = [
  'full',
  'accumulative',
  'no-reorder',
  'partial',
];

/** What the check sees of one crash. */
export interface CrashView {
  readonly pmem: Uint8Array;
  /** Markers emitted before the crash, in order. */
  readonly markers: readonly string[];
  /** NVMe block `lba` of namespace `nsid` after the crash (cross-media runs), or undefined. */
  nvme(nsid: number, lba: number): Uint8Array | undefined;
}

/** Consistent when it returns undefined/null/true; a string or false is the failure. */
export type StoreCheck = (v: CrashView) => string | boolean | null | undefined | void;

/** Options of exploreTrace: model, engines, how many images to check and the seed of samples. */
export interface StoreExploreOptions {
  readonly model?: PersistenceModel;
  readonly engine?: ReorderEngine;
  /** Engines per marker region (pmreorder -x NAME=Engine). */
  readonly engines?: Readonly<Record<string, ReorderEngine>>;
  readonly maxExhaustive?: number;
  readonly samples?: number;
  readonly seed?: number;
}

/** A store of the trace as a report shows it. */
export interface BlamedStore {
  readonly event: number;
  readonly offset: number;
  readonly length: number;
  readonly via: string;
  readonly stack: string;
}

/** A minimised crash state: how to rebuild it (crashImage) and what to blame. */
export interface Counterexample {
  readonly model: PersistenceModel;
  /** Crash after this many trace events. */
  readonly instant: number;
  /** Per uncertain unit (in the instant's order): 0 committed, k the k-th candidate. */
  readonly choice: readonly number[];
  readonly seed: number;
  readonly message: string;
  readonly markers: readonly string[];
  /** Stores (or NVMe writes) that reached media beyond the committed state. */
  readonly kept: readonly string[];
  readonly culprit: BlamedStore | undefined;
  readonly culpritRole:
    'reached media too early' | 'never made durable' | 'made the image inconsistent' | 'none';
}

/** What a store exploration found: what it covered and the first (minimised) failure. */
export interface StoreReport {
  readonly ok: boolean;
  readonly instants: number;
  readonly images: number;
  /** Combinations at the instants visited (Infinity past 2^53). */
  readonly space: number;
  /** Instants whose every combination was checked. */
  readonly exhaustive: number;
  readonly coverage: number;
  readonly failure: Counterexample | undefined;
}

interface Cand {
  readonly event: number;
  readonly content: Uint8Array;
}

type Unit =
  | { readonly kind: 'pmem'; readonly unit: number; readonly cands: readonly Cand[] }
  | { readonly kind: 'nvme'; readonly ns: number; readonly entry: number; readonly event: number };

interface Instant {
  readonly at: number;
  readonly committed: Uint8Array;
  readonly units: readonly Unit[];
  readonly markers: readonly string[];
  readonly engine: ReorderEngine;
  readonly nvme: NvmeState | undefined;
}

const unitSize = (m: PersistenceModel): number => (m === 'word8' ? 8 : 64);

/** Walks the trace and yields the crash instants with their uncertain units. */
function* instants(
  trace: StoreTrace,
  model: PersistenceModel,
  o: StoreExploreOptions,
): Generator<Instant> {
  const size = unitSize(model);
  const committed = trace.initial.slice();
  const cands = new Map<number, Cand[]>();
  const captured = new Map<number, number>();
  const live = trace.initial.slice();
  const markers: string[] = [];
  const stack: ReorderEngine[] = [o.engine ?? 'full'];
  let nvme: NvmeState | undefined;
  const nvmeSeen = new Map<string, number>();
  const snapshot = (at: number): Instant => {
    const units: Unit[] = [];
    for (const [u, c] of [...cands].sort((a, b) => a[0] - b[0]))
      if (c.length > 0) units.push({ kind: 'pmem', unit: u, cands: c });
    nvme?.namespaces.forEach((ns, i) =>
      ns.cached.forEach((e, j) =>
        units.push({
          kind: 'nvme',
          ns: i,
          entry: j,
          event: nvmeSeen.get(`${ns.nsid}:${e.seq}`) ?? at,
        }),
      ),
    );
    return {
      at,
      committed: committed.slice(),
      units,
      markers: [...markers],
      engine: stack.at(-1)!,
      nvme,
    };
  };
  yield snapshot(0);
  for (const [i, e] of trace.events.entries()) {
    const at = i + 1;
    switch (e.kind) {
      case 'store': {
        live.set(e.bytes, e.offset);
        if (model === 'eadr') {
          committed.set(e.bytes, e.offset);
          break;
        }
        const first = Math.floor(e.offset / size);
        const last = Math.floor((e.offset + e.bytes.length - 1) / size);
        for (let u = first; u <= last; u++) {
          const c = cands.get(u) ?? [];
          c.push({
            event: at,
            content: live.slice(u * size, Math.min((u + 1) * size, live.length)),
          });
          cands.set(u, c);
        }
        break;
      }
      case 'flush': {
        // CLWB writes back whole cache lines, whatever the model's unit.
        const from = Math.floor(e.offset / 64) * 64;
        const to = Math.ceil((e.offset + e.length) / 64) * 64;
        for (
          let u = Math.floor(from / size);
          u < Math.ceil(Math.min(to, live.length) / size);
          u++
        ) {
          const n = cands.get(u)?.length ?? 0;
          if (n > 0) captured.set(u, n);
        }
        break;
      }
      case 'fence':
        for (const [u, n] of captured) {
          const c = cands.get(u)!;
          committed.set(c[n - 1]!.content, u * size);
          cands.set(u, c.slice(n));
        }
        captured.clear();
        break;
      case 'mark': {
        markers.push(e.name);
        const [name, edge] = splitMarker(e.name);
        if (edge === 'BEGIN') stack.push(o.engines?.[name] ?? stack.at(-1)!);
        else if (edge === 'END') {
          if (stack.length === 1)
            throw new Error(`marker ${e.name} ends a region that did not begin`);
          stack.pop();
        }
        break;
      }
      case 'nvme':
        nvme = e.state;
        for (const ns of e.state.namespaces) {
          for (const c of ns.cached)
            if (!nvmeSeen.has(`${ns.nsid}:${c.seq}`)) nvmeSeen.set(`${ns.nsid}:${c.seq}`, at);
        }
        break;
    }
    if (e.kind !== 'flush') yield snapshot(at);
  }
}

function splitMarker(m: string): [string, string] {
  const dot = m.lastIndexOf('.');
  return dot < 0 ? [m, ''] : [m.slice(0, dot), m.slice(dot + 1)];
}

/** The crash state of `choice` at instant `x`. */
function view(x: Instant, choice: readonly number[], model: PersistenceModel): CrashView {
  const size = unitSize(model);
  const pmem = x.committed.slice();
  const survived = new Set<string>();
  x.units.forEach((u, i) => {
    const k = choice[i] ?? 0;
    if (k === 0) return;
    if (u.kind === 'pmem') pmem.set(u.cands[k - 1]!.content, u.unit * size);
    else survived.add(`${u.ns}:${u.entry}`);
  });
  return {
    pmem,
    markers: x.markers,
    nvme: (nsid, lba) => {
      const i = x.nvme?.namespaces.findIndex((n) => n.nsid === nsid) ?? -1;
      const ns = x.nvme?.namespaces[i];
      if (ns === undefined) return undefined;
      // As WriteCacheModel.cut: durable content, then surviving writes in submission order.
      let out = ns.durable.get(lba) ?? ns.current.get(lba);
      if (ns.durable.has(lba)) {
        ns.cached.forEach((e, j) => {
          if (survived.has(`${i}:${j}`) && e.blocks.has(lba)) out = e.blocks.get(lba);
        });
      }
      return out?.slice() ?? new Uint8Array(ns.lbaSize);
    },
  };
}

const options = (u: Unit): number => (u.kind === 'pmem' ? u.cands.length + 1 : 2);
const lastEvent = (u: Unit, k: number): number =>
  u.kind === 'pmem' ? u.cands[k - 1]!.event : u.event;

/** The choice vectors an engine checks at one instant, and whether they are all of them. */
function* choices(x: Instant, o: StoreExploreOptions, rnd: () => number): Generator<number[]> {
  const n = x.units.length;
  const all = (): number[] => x.units.map(options).map((k) => k - 1);
  switch (x.engine) {
    case 'no-reorder':
      yield all();
      return;
    case 'accumulative': {
      const events = [
        ...new Set(
          x.units.flatMap((u) => (u.kind === 'pmem' ? u.cands.map((c) => c.event) : [u.event])),
        ),
      ].sort((a, b) => a - b);
      for (const limit of [0, ...events]) {
        yield x.units.map((u) => {
          if (u.kind === 'nvme') return u.event <= limit ? 1 : 0;
          let k = 0;
          u.cands.forEach((c, j) => (c.event <= limit ? (k = j + 1) : undefined));
          return k;
        });
      }
      return;
    }
    case 'full': {
      const total = x.units.reduce((t, u) => t * options(u), 1);
      if (total <= (o.maxExhaustive ?? 4096)) {
        const idx = new Array<number>(n).fill(0);
        for (let c = 0; c < total; c++) {
          yield idx.slice();
          for (let i = 0; i < n; i++) {
            if (++idx[i]! < options(x.units[i]!)) break;
            idx[i] = 0;
          }
        }
        return;
      }
      yield new Array<number>(n).fill(0);
      yield all();
      break;
    }
    case 'partial':
      break;
  }
  for (let s = 0; s < (o.samples ?? 64); s++)
    yield x.units.map((u) => Math.floor(rnd() * options(u)));
}

function verdict(check: StoreCheck, v: CrashView): string | undefined {
  try {
    const r = check(v);
    if (r === false) return 'check returned false';
    return typeof r === 'string' ? r : undefined;
  } catch (e) {
    return `check threw: ${(e as Error).message}`;
  }
}

function blame(
  trace: StoreTrace,
  x: Instant,
  choice: readonly number[],
): Pick<Counterexample, 'kept' | 'culprit' | 'culpritRole'> {
  const store = (ev: number): BlamedStore | undefined => {
    const e: TraceEvent | undefined = trace.events[ev - 1];
    if (e?.kind === 'store')
      return { event: ev, offset: e.offset, length: e.bytes.length, via: e.via, stack: e.stack };
    if (e?.kind === 'nvme')
      return { event: ev, offset: 0, length: 0, via: `nvme ${e.what}`, stack: e.stack };
    return undefined;
  };
  const kept: number[] = [];
  choice.forEach((k, i) => (k > 0 ? kept.push(lastEvent(x.units[i]!, k)) : undefined));
  const describe = (ev: number): string => {
    const s = store(ev);
    return s === undefined
      ? `event ${ev}`
      : `#${ev} ${s.via} [${s.offset}, ${s.offset + s.length})`;
  };
  if (kept.length > 0) {
    const ev = Math.max(...kept);
    return {
      kept: kept.sort((a, b) => a - b).map(describe),
      culprit: store(ev),
      culpritRole: 'reached media too early',
    };
  }
  const lost = x.units.map((u) => (u.kind === 'pmem' ? u.cands[0]!.event : u.event));
  if (lost.length === 0) {
    // Nothing uncertain (eADR): the image is the program's memory after the store at the crash.
    const s = store(x.at);
    return s === undefined
      ? { kept: [], culprit: undefined, culpritRole: 'none' }
      : { kept: [], culprit: s, culpritRole: 'made the image inconsistent' };
  }
  return { kept: [], culprit: store(Math.min(...lost)), culpritRole: 'never made durable' };
}

/** Explores every crash instant of a recorded trace (no program run needed). */
export function exploreTrace(
  trace: StoreTrace,
  check: StoreCheck,
  o: StoreExploreOptions = {},
): StoreReport {
  const model = o.model ?? 'cacheline';
  const seed = o.seed ?? 1;
  const rnd = mulberry32(seed);
  let n = 0;
  let images = 0;
  let space = 0;
  let exhaustive = 0;
  let checkedInSpace = 0;
  for (const x of instants(trace, model, o)) {
    n++;
    const total = x.units.reduce((t, u) => t * options(u), 1);
    space += total;
    const seen = new Set<string>();
    for (const c of choices(x, o, rnd)) {
      const key = c.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      images++;
      const msg = verdict(check, view(x, c, model));
      if (msg === undefined) continue;
      const min = c.slice();
      for (let i = 0; i < min.length; i++) {
        if (min[i] === 0) continue;
        const was = min[i]!;
        min[i] = 0;
        if (verdict(check, view(x, min, model)) === undefined) min[i] = was;
      }
      const final = verdict(check, view(x, min, model)) ?? msg;
      return {
        ok: false,
        instants: n,
        images,
        space,
        exhaustive,
        coverage: (checkedInSpace + seen.size) / space,
        failure: {
          model,
          instant: x.at,
          choice: min,
          seed,
          message: final,
          markers: x.markers,
          ...blame(trace, x, min),
        },
      };
    }
    checkedInSpace += Math.min(seen.size, total);
    if (seen.size >= total) exhaustive++;
  }
  return {
    ok: true,
    instants: n,
    images,
    space,
    exhaustive,
    coverage: space === 0 ? 1 : checkedInSpace / space,
    failure: undefined,
  };
}

/** The image of a counterexample, rebuilt from the trace (reproduction without the program). */
export function crashImage(
  trace: StoreTrace,
  cx: Counterexample,
  o: StoreExploreOptions = {},
): CrashView {
  for (const x of instants(trace, cx.model, o))
    if (x.at === cx.instant) return view(x, cx.choice, cx.model);
  throw new Error(`the trace has no crash instant ${cx.instant}`);
}

/** A counterexample as text: the crash point, what survived, and the store to blame. */
export function formatCounterexample(cx: Counterexample): string {
  const lines = [
    `inconsistent crash image (${cx.model}) after trace event ${cx.instant}: ${cx.message}`,
    ...(cx.markers.length > 0 ? [`  markers: ${cx.markers.join(' ')}`] : []),
    ...cx.kept.map((k) => `  reached media: ${k}`),
  ];
  if (cx.culprit !== undefined) {
    const c = cx.culprit;
    lines.push(
      `  blame: #${c.event} ${c.via} [${c.offset}, ${c.offset + c.length}) ${cx.culpritRole}`,
    );
    for (const f of c.stack.split('\n').filter((l) => l !== '')) lines.push(`    ${f}`);
  }
  return lines.join('\n');
}
