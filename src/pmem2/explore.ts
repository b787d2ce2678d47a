// Crash-state explorer (issue 7; what pmreorder does with valgrind, pmdk.md §7, without either).
//
// The workload runs once on a map created with power-failure simulation. Before every drain /
// persist takes effect (a "persist point"), and once more when the workload returns, the
// explorer takes the set of uncertain units (power-fail.ts: dirty, flushed-but-not-drained, or
// stored again after a flush) and builds crash images from them: all combinations when there are
// at most `maxExhaustive`, otherwise `samples` images drawn with a seeded PRNG plus the two
// extremes (nothing survived, everything survived). The user's check runs on each image; the
// first failing image stops the run and is reported with the operations that led to it.
//
// Compared with pmreorder: we also test stores that were never flushed but may have been
// evicted (pmreorder only reorders flushed stores), and we test at every fence and at the end.

import type { Pmem2Map } from './map.js';
import { mulberry32, type OpRecord, type PersistPoint, type UncertainUnit } from './power-fail.js';

/** Consistent when the check returns undefined/null/true; a string or false is a failure. */
export type CrashCheck = (image: Uint8Array) => string | boolean | null | undefined | void;

/** Limits of exploreCrashStates. */
export interface ExploreOptions {
  readonly maxExhaustive?: number;
  readonly samples?: number;
  readonly seed?: number;
}

export interface CrashChoice {
  readonly offset: number;
  readonly length: number;
  readonly kept: string;
}

/** A crash state the check rejected, with how to reach it. */
export interface CrashFailure {
  /** Sequence number of the drain/persist the crash happened before; 'end' after the workload. */
  readonly point: number | 'end';
  readonly message: string;
  readonly image: Uint8Array;
  /** Uncertain units that kept something other than the committed media bytes. */
  readonly choices: readonly CrashChoice[];
  /** The operations up to the crash point. */
  readonly ops: readonly OpRecord[];
}

/** What exploreCrashStates explored and which states failed. */
export interface ExploreReport {
  readonly ok: boolean;
  readonly points: number;
  readonly images: number;
  readonly failure: CrashFailure | null;
}

class Stop extends Error {}

function verdict(check: CrashCheck, img: Uint8Array): string | null {
  try {
    const r = check(img);
    if (r === false) return 'check returned false';
    if (typeof r === 'string') return r;
    return null;
  } catch (e) {
    return `check threw: ${(e as Error).message}`;
  }
}

/** Images for one point as lists of option indices per uncertain unit. */
function* combos(
  u: readonly UncertainUnit[],
  opts: ExploreOptions,
  seed: number,
): Generator<number[]> {
  const max = opts.maxExhaustive ?? 4096;
  let total = 1;
  for (const x of u) {
    total *= x.options.length;
    if (total > max) break;
  }
  if (total <= max) {
    const idx = u.map(() => 0);
    for (let n = 0; n < total; n++) {
      yield idx.slice();
      for (let i = 0; i < idx.length; i++) {
        idx[i]!++;
        if (idx[i]! < u[i]!.options.length) break;
        idx[i] = 0;
      }
    }
    return;
  }
  yield u.map(() => 0);
  yield u.map((x) => x.options.length - 1);
  const rnd = mulberry32(seed);
  for (let s = 0; s < (opts.samples ?? 256); s++)
    yield u.map((x) => Math.floor(rnd() * x.options.length));
}

/** Runs `work` on a simulated map and checks every crash state it can leave (docs/pmem2.md). */
export function exploreCrashStates(
  map: Pmem2Map,
  run: (map: Pmem2Map) => void,
  check: CrashCheck,
  opts: ExploreOptions = {},
): ExploreReport {
  const sim = map.sim;
  if (sim === null)
    throw new Error('exploreCrashStates needs a map created with setPowerFailSimulation(true)');
  let points = 0;
  let images = 0;
  let failure: CrashFailure | null = null;
  const visit = (p: PersistPoint | null): void => {
    const uncertain = p?.uncertain ?? sim.uncertainUnits();
    const media = p?.media ?? sim.media.slice();
    points++;
    for (const pick of combos(uncertain, opts, (opts.seed ?? 1) + points)) {
      const img = media.slice();
      const choices: CrashChoice[] = [];
      pick.forEach((k, i) => {
        const u = uncertain[i]!;
        if (k === 0) return;
        img.set(u.options[k]!, u.offset);
        choices.push({ offset: u.offset, length: u.options[k]!.length, kept: u.labels[k]! });
      });
      images++;
      const msg = verdict(check, img);
      if (msg !== null) {
        const upTo = p?.seq ?? Infinity;
        failure = {
          point: p === null ? 'end' : p.seq,
          message: msg,
          image: img,
          choices,
          ops: sim.ops.filter((o) => o.seq <= upTo),
        };
        throw new Stop();
      }
    }
  };
  const prev = sim.onPersistPoint;
  sim.onPersistPoint = visit;
  try {
    visit({ seq: 0, uncertain: [], media: sim.media.slice() });
    run(map);
    visit(null);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  } finally {
    sim.onPersistPoint = prev;
  }
  return { ok: failure === null, points, images, failure };
}

/** Human-readable failure report (for test output and the docs example). */
export function formatFailure(f: CrashFailure): string {
  const lines = [
    `inconsistent crash image before ${f.point === 'end' ? 'the end of the workload' : `operation #${f.point}`}: ${f.message}`,
    ...f.choices.map(
      (c) => `  bytes [${c.offset}, ${c.offset + c.length}) kept ${c.kept} contents`,
    ),
    'operations:',
    ...f.ops.map(
      (o) =>
        `  #${o.seq} ${o.kind}(offset ${o.offset}, length ${o.length}${o.flags !== 0 ? `, flags 0x${o.flags.toString(16)}` : ''})${o.note !== '' ? ` ${o.note}` : ''}`,
    ),
  ];
  return lines.join('\n');
}
