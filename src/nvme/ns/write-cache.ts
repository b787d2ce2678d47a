// The volatile write cache model of a namespace (power cuts; docs/faults.md "Power cuts").
//
// A real drive with a volatile write cache (VWC, FID 06h) acknowledges a write once the data is
// in its cache; the data is durable only after a Flush, a FUA write of those blocks, or with the
// cache disabled (write through). With the model attached, nvmemu's namespace has such a cache:
// writes are kept here, in submission order with their bytes, and reach the image only when they
// become durable, so the image always holds exactly the durable content and nothing has to be
// undone at a cut. Reads see the cached content over the image (overlay).
//  - A Flush makes everything completed before it durable (NVMe Base Spec 2.0 §7.1): the cached
//    writes are written back in order, then the drive is flushed.
//  - A FUA write makes its own blocks durable, superseding older cached writes of them (NVM
//    Command Set 1.0 §3.2.6), never anything else: their newest content is written back.
//  - The cache destages its oldest write when its data outgrows capacityBytes.
//
// A cut writes back the writes that survive — none ('all' lost), a seeded prefix of the log
// ('prefix': the cache destaged in order and stopped), or a seeded subset ('subset': each write
// independently) — in submission order, so that overlapping survivors end as the later one wrote
// them; the rest is gone. Write-back happens in the block store's flush (store.ts), which waits
// for it before the drive flush; a cut waits for flushes under way (the host never saw them
// complete, so either outcome is legal, and this one is what the image then holds).

import assert from 'node:assert/strict';
import type { Geometry } from './lbaf.js';
import type { Blocks, BlockStore, StoreBytes, StoreJournal } from './store.js';
import { SeededRng } from '../../util/rng.js';
import { then, type MaybePromise } from '../../util/maybe.js';
import { CacheBlocks } from './write-cache-blocks.js';

/** How much of the non-durable log survives a cut. */
export type CutMode = 'all' | 'prefix' | 'subset';

export const CUT_MODES: readonly CutMode[] = ['all', 'prefix', 'subset'];

/** Default cache size: writes beyond it destage the oldest (become durable). */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

interface Entry {
  readonly seq: number;
  readonly lba: number;
  readonly nlb: number;
  readonly data: StoreBytes;
  readonly meta: StoreBytes;
  /**
   * Per block: 1 while this write is a cached, not yet durable, content of the block; made at
   * the first block that stops being one (until then: all of them while liveCount > 0).
   */
  live: Uint8Array | undefined;
  liveCount: number;
  readonly bytes: number;
}

/** One acknowledged write that is not durable (the audit's unit). */
export interface VolatileWrite {
  readonly seq: number;
  readonly lba: number;
  readonly nlb: number;
  /** Blocks of it still volatile (later durable writes may have superseded some). */
  readonly volatileBlocks: number;
}

export interface CutReport {
  readonly mode: CutMode;
  /** Writes in the cache at the cut. */
  readonly volatileWrites: number;
  /** Of them, replayed (survived). */
  readonly survived: number;
  /** The writes lost, in submission order. */
  readonly lost: readonly VolatileWrite[];
  /** Blocks whose content went back to an older durable state, as sorted ranges [start, end). */
  readonly reverted: readonly { readonly start: number; readonly end: number }[];
}

export interface WriteCacheStats {
  /** Writes recorded since the model was attached. */
  writes: number;
  /** Writes made durable by Flush, FUA or write through. */
  persisted: number;
  /** Writes destaged because the cache was full. */
  destaged: number;
}

export class WriteCacheModel implements StoreJournal {
  readonly #store: BlockStore;
  /** Cached write data past which the oldest write is destaged (becomes durable). */
  readonly capacityBytes: number;
  #blocks = new CacheBlocks();
  #log: Entry[] = [];
  readonly #bySeq = new Map<number, Entry>();
  #bytes = 0;
  #seq = 0;
  /** Write-backs under way (aio=threads drives): the next one and a cut wait for them. */
  #pending: Promise<void> = Promise.resolve();
  readonly stats: WriteCacheStats = { writes: 0, persisted: 0, destaged: 0 };
  /** Set by a power cut: nothing may reach the image any more. */
  #sealed = false;

  constructor(store: BlockStore, capacityBytes = DEFAULT_CACHE_BYTES) {
    this.#store = store;
    this.capacityBytes = capacityBytes;
  }

  get #g(): Geometry {
    return this.#store.geometry;
  }

  /** The power is gone: every later write fails before it is taken. */
  seal(): void {
    this.#sealed = true;
  }

  /** Write data held in bytes: cached writes and write-backs under way. */
  get bytes(): number {
    return this.#bytes;
  }

  // ---- StoreJournal -----------------------------------------------------------------------------

  absorb(lba: number, nlb: number, data: StoreBytes, meta: StoreBytes): MaybePromise<void> {
    if (this.#sealed) throw new Error('power cut: the device is off');
    const size = (x: StoreBytes): number => (x instanceof Uint8Array ? x.length : 0);
    const e: Entry = {
      seq: ++this.#seq,
      lba,
      nlb,
      // The caller's buffers may be reused: keep copies (Uint8Array's slice: a Buffer's own
      // slice() would return a view).
      data: data instanceof Uint8Array ? copyOf(data) : data,
      meta: meta instanceof Uint8Array ? copyOf(meta) : meta,
      live: undefined,
      liveCount: nlb,
      bytes: size(data) + size(meta),
    };
    this.#log.push(e);
    this.#bySeq.set(e.seq, e);
    this.#bytes += e.bytes;
    this.#blocks.cover(lba, nlb, e.seq);
    this.stats.writes++;
    // Destage the oldest writes until the rest fits (bytes counts write-backs under way too).
    const oldest: Entry[] = [];
    for (let over = this.#bytes - this.capacityBytes; over > 0 && this.#log.length > 1;) {
      const old = this.#log.shift()!;
      oldest.push(old);
      over -= old.bytes;
    }
    this.stats.destaged += oldest.length;
    return this.#writeBack(oldest);
  }

  overlay(lba: number, nlb: number, b: Blocks): void {
    if (this.#blocks.empty) return;
    const { lbaSize, ms } = this.#g;
    for (let x = lba; x < lba + nlb; x++) {
      const seq = this.#blocks.newest(x);
      if (seq === 0) continue;
      const e = this.#bySeq.get(seq);
      assert(e !== undefined, `write cache: block ${x} names write ${seq}, which is gone`);
      const i = x - e.lba;
      const at = x - lba;
      place(e.data, lbaSize, i, b.data, at);
      if (ms > 0) place(e.meta, ms, i, b.meta, at);
    }
  }

  mark(): number {
    return this.#seq;
  }

  /**
   * Writes back what a flush up to `mark` covers: every cached write up to it, oldest first, or
   * (FUA, write through) only the newest content of `range`'s blocks, superseding older cached
   * writes of them. Resolves once the image holds it.
   */
  writeBack(
    mark: number,
    range?: { readonly lba: number; readonly nlb: number },
  ): MaybePromise<void> {
    if (range === undefined) {
      const due: Entry[] = [];
      while (this.#log.length > 0 && this.#log[0]!.seq <= mark) due.push(this.#log.shift()!);
      this.stats.persisted += due.length;
      return this.#writeBack(due);
    }
    const end = range.lba + range.nlb;
    // Newest first: the first write met for a block is its newest content.
    const newest = new Map<number, Entry>();
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const e = this.#log[i]!;
      if (e.seq > mark || e.lba >= end || e.lba + e.nlb <= range.lba) continue;
      const from = Math.max(e.lba, range.lba);
      const to = Math.min(e.lba + e.nlb, end);
      for (let b = from; b < to; b++) {
        if (!isLive(e, b)) continue;
        if (!newest.has(b)) newest.set(b, e);
        else this.#kill(e, b);
      }
    }
    const pieces = runsOf(newest);
    return this.#schedule(
      () => this.#putRuns(pieces),
      () => {
        for (const [b, e] of newest) this.#kill(e, b);
        this.#log = this.#log.filter((e) => {
          if (e.liveCount > 0) return true;
          this.stats.persisted++;
          this.#drop(e);
          return false;
        });
      },
    );
  }

  formatted(): void {
    this.#blocks = new CacheBlocks();
    this.#log = [];
    this.#bySeq.clear();
    this.#bytes = 0;
  }

  // ---- Inspection ---------------------------------------------------------------------------------

  /** Writes acknowledged and not durable, oldest first (the flush audit). */
  audit(): VolatileWrite[] {
    return this.#log.map((e) => ({
      seq: e.seq,
      lba: e.lba,
      nlb: e.nlb,
      volatileBlocks: e.liveCount,
    }));
  }

  /**
   * What a cut would work from now (the store explorer's view of one instant): the durable
   * content of every block with cached writes, and the cached writes in submission order with
   * the data of their blocks that are still cached. Copies; the model is not changed.
   */
  snapshot(): {
    durable: Map<number, Uint8Array>;
    cached: { seq: number; lba: number; blocks: Map<number, Uint8Array> }[];
  } {
    const { lbaSize } = this.#g;
    const durable = new Map<number, Uint8Array>();
    const cached = this.#log.map((e) => {
      const blocks = new Map<number, Uint8Array>();
      for (let b = e.lba; b < e.lba + e.nlb; b++) {
        if (!isLive(e, b)) continue;
        // The image holds the durable content (write-backs under way aside: aio=threads).
        if (!durable.has(b)) {
          const d = new Uint8Array(lbaSize);
          this.#store.drive.readNow(d, b * lbaSize);
          durable.set(b, d);
        }
        const c = partOf(e.data, lbaSize, b - e.lba, 1);
        if (c !== undefined) blocks.set(b, c.slice());
      }
      return { seq: e.seq, lba: e.lba, blocks };
    });
    return { durable, cached };
  }

  /** Blocks whose content a cut could change now. */
  get volatileBlocks(): number {
    return this.#blocks.covered;
  }

  /**
   * Power cut: the writes that survive reach the image, the others are gone. `seed` chooses the
   * survivors of 'prefix' and 'subset'. The model is empty afterwards.
   */
  async cut(mode: CutMode, seed: number): Promise<CutReport> {
    await this.#pending;
    const rng = new SeededRng(seed);
    const log = this.#log;
    let keep: boolean[];
    switch (mode) {
      case 'all':
        keep = log.map(() => false);
        break;
      case 'prefix': {
        const k = rng.below(log.length + 1);
        keep = log.map((_, i) => i < k);
        break;
      }
      case 'subset':
        keep = log.map(() => rng.next() < 0.5);
        break;
    }
    const lost: VolatileWrite[] = [];
    const survivors: Entry[] = [];
    log.forEach((e, i) => {
      if (keep[i]) survivors.push(e);
      else lost.push({ seq: e.seq, lba: e.lba, nlb: e.nlb, volatileBlocks: e.liveCount });
    });
    const report: CutReport = {
      mode,
      volatileWrites: log.length,
      survived: survivors.length,
      lost,
      reverted: reverted(log, keep),
    };
    await this.#writeBack(survivors);
    await this.#store.drive.flush();
    this.formatted();
    return report;
  }

  // ---- Write-back ---------------------------------------------------------------------------------

  /**
   * Writes the live blocks of `entries` to the image in order (where two overlap the later
   * one's content lands last, so the image ends as it wrote), then forgets them.
   */
  #writeBack(entries: readonly Entry[]): MaybePromise<void> {
    if (entries.length === 0) return;
    const pieces: Run[] = [];
    for (const e of entries) liveRuns(e, pieces);
    return this.#schedule(
      () => this.#putRuns(pieces),
      () => {
        for (const e of entries) this.#retire(e);
      },
    );
  }

  /**
   * Runs `write`, then `after` once the image holds what it wrote: until then, reads still see
   * the cache. Synchronous when the drive is; otherwise chained behind the write-backs under
   * way, so the image receives them in order.
   */
  #schedule(write: () => MaybePromise<void>, after: () => void): MaybePromise<void> {
    const run = (): MaybePromise<void> => then(write(), after);
    if (this.#store.drive.aio === 'sync') return run();
    const p = this.#pending.then(run);
    this.#pending = p.catch(() => undefined);
    return p;
  }

  /** Writes each run's blocks from its write's data and metadata. */
  #putRuns(runs: readonly Run[]): MaybePromise<void> {
    const { lbaSize, ms, metaOffset } = this.#g;
    const drive = this.#store.drive;
    let done: MaybePromise<void> = undefined;
    for (const { e, from, n } of runs) {
      const i = from - e.lba;
      const d = partOf(e.data, lbaSize, i, n);
      const m = ms > 0 ? partOf(e.meta, ms, i, n) : undefined;
      if (d !== undefined) done = then(done, () => drive.write(d, from * lbaSize));
      if (m !== undefined) done = then(done, () => drive.write(m, metaOffset + from * ms));
    }
    return done;
  }

  /** The write is durable or gone: none of its blocks is cached any more. */
  #retire(e: Entry): void {
    if (e.liveCount === e.nlb) {
      for (let b = e.lba; b < e.lba + e.nlb; b++) this.#blocks.uncover(b);
    } else {
      for (let b = e.lba; b < e.lba + e.nlb; b++) if (isLive(e, b)) this.#blocks.uncover(b);
    }
    e.liveCount = 0;
    e.live = undefined;
    this.#drop(e);
  }

  /** Block `b` of write `e` is durable or superseded. */
  #kill(e: Entry, b: number): void {
    if (!isLive(e, b)) return;
    e.live ??= new Uint8Array(e.nlb).fill(1);
    e.live[b - e.lba] = 0;
    e.liveCount--;
    this.#blocks.uncover(b);
  }

  #drop(e: Entry): void {
    this.#bySeq.delete(e.seq);
    this.#bytes -= e.bytes;
  }
}

/** Blocks not rewritten by a surviving write (they hold their older durable content). */
function reverted(
  log: readonly Entry[],
  keep: readonly boolean[],
): { start: number; end: number }[] {
  // A block takes the content of its last surviving write; it is reverted when the last cached
  // write of it did not survive.
  const last = new Map<number, boolean>();
  log.forEach((e, i) => {
    for (let b = e.lba; b < e.lba + e.nlb; b++) {
      if (isLive(e, b)) last.set(b, keep[i] === true);
    }
  });
  const blocks = [...last].filter(([, kept]) => !kept).map(([b]) => b);
  blocks.sort((a, b) => a - b);
  const out: { start: number; end: number }[] = [];
  for (const b of blocks) {
    const tail = out.at(-1);
    if (tail !== undefined && tail.end === b) tail.end = b + 1;
    else out.push({ start: b, end: b + 1 });
  }
  return out;
}

interface Run {
  readonly e: Entry;
  readonly from: number;
  n: number;
}

function isLive(e: Entry, b: number): boolean {
  return e.live === undefined ? e.liveCount > 0 : e.live[b - e.lba] === 1;
}

/** Appends the runs of `e`'s live blocks to `out`. */
function liveRuns(e: Entry, out: Run[]): void {
  if (e.liveCount === 0) return;
  if (e.liveCount === e.nlb) {
    out.push({ e, from: e.lba, n: e.nlb });
    return;
  }
  for (let b = e.lba; b < e.lba + e.nlb; b++) {
    if (!isLive(e, b)) continue;
    const last = out.at(-1);
    if (last?.e === e && last.from + last.n === b) last.n++;
    else out.push({ e, from: b, n: 1 });
  }
}

/** Runs of consecutive blocks that take their content from the same write, by block. */
function runsOf(blocks: ReadonlyMap<number, Entry>): Run[] {
  const out: Run[] = [];
  for (const b of [...blocks.keys()].sort((x, y) => x - y)) {
    const e = blocks.get(b)!;
    const last = out.at(-1);
    if (last?.e === e && last.from + last.n === b) last.n++;
    else out.push({ e, from: b, n: 1 });
  }
  return out;
}

/** Copies block `i` of a write's part (bytes, zeros or nothing) to block `at` of `into`. */
function place(x: StoreBytes, size: number, i: number, into: Uint8Array, at: number): void {
  if (x === undefined) return;
  if (x === 'zero') into.fill(0, at * size, (at + 1) * size);
  else into.set(x.subarray(i * size, (i + 1) * size), at * size);
}

/** Blocks [i, i + n) of a write's part as bytes to write, or undefined when it wrote none. */
function partOf(x: StoreBytes, size: number, i: number, n: number): Uint8Array | undefined {
  if (x === undefined) return undefined;
  if (x === 'zero') return new Uint8Array(n * size);
  return x.subarray(i * size, (i + n) * size);
}

/** Attaches a write cache model to a block store (replacing none). */
export function attachWriteCacheModel(store: BlockStore, capacityBytes?: number): WriteCacheModel {
  if (store.journal instanceof WriteCacheModel) return store.journal;
  const m = new WriteCacheModel(store, capacityBytes);
  store.journal = m;
  return m;
}

/**
 * Copies of written data are carved from shared slabs: a fresh ArrayBuffer per 4 KiB write
 * costs more than the rest of the model together. Writes leave the cache mostly in the order
 * they came (Flush, destage), so a slab is freed soon after its last carve; one held by a long
 * lived carve costs at most SLAB_BYTES.
 */
const SLAB_BYTES = 256 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** A copy of `b` that does not share its memory. */
function copyOf(b: Uint8Array): Uint8Array {
  if (b.length > SLAB_BYTES / 4) return Uint8Array.prototype.slice.call(b);
  if (slabUsed + b.length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + b.length);
  out.set(b);
  slabUsed += (b.length + 7) & ~7;
  return out;
}
