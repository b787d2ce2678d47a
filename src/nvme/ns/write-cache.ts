// The volatile write cache model of a namespace (power cuts; docs/faults.md "Power cuts").
//
// A real drive with a volatile write cache (VWC, FID 06h) acknowledges a write once the data
// is in its cache; the data is durable only after a Flush, a FUA write of those blocks, or with
// the cache disabled (write through). nvmemu writes every command into the image at once (the
// host's page cache), so this model remembers what a power cut would take back:
//  - the durable content of every block written since it was last made durable (its pre-image,
//    captured just before the first such write), and
//  - the log of writes not yet durable, in submission order, with their bytes.
// A Flush makes everything completed before it durable (NVMe Base Spec 2.0 §7.1); a FUA write
// makes its own blocks durable, superseding older cached writes of them (NVM Command Set 1.0
// §3.2.6), never anything else; the log is destaged oldest first when it outgrows the cache.
//
// A cut restores the pre-images and replays the writes that survive: none ('all' lost), a
// seeded prefix of the log ('prefix': the cache destaged in order and stopped), or a seeded
// subset ('subset': each write independently), always in submission order so that overlapping
// survivors end as the later one wrote them.

import type { Geometry } from './lbaf.js';
import type { BlockStore, StoreBytes, StoreJournal } from './store.js';
import { SeededRng } from '../../util/rng.js';
import type { MaybePromise } from '../../util/maybe.js';

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
  /** Per block: 1 while this write is the cached, not yet durable, content of the block. */
  readonly live: Uint8Array;
  liveCount: number;
  readonly bytes: number;
}

interface Durable {
  readonly data: Uint8Array;
  readonly meta: Uint8Array;
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
  readonly capacityBytes: number;
  readonly #pre = new Map<number, Durable>();
  /** Live entries covering each block. */
  readonly #cover = new Map<number, number>();
  #log: Entry[] = [];
  #bytes = 0;
  #seq = 0;
  /** Pre-image captures run one after another so a capture never sees a newer write. */
  #chain: Promise<void> = Promise.resolve();
  readonly #claimed = new Set<number>();
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

  /** The power is gone: every later write fails before it touches the image. */
  seal(): void {
    this.#sealed = true;
  }

  beforeWrite(lba: number, nlb: number): MaybePromise<void> {
    if (this.#sealed) throw new Error('power cut: the device is off');
    if (this.#store.drive.aio === 'sync') {
      // Reads on the event loop: the capture is done before any later write can start.
      for (let b = lba; b < lba + nlb; b++) if (!this.#pre.has(b)) this.#pre.set(b, this.#read(b));
      return;
    }
    // Blocks whose pre-write image is not captured yet (first write since the last flush).
    const uncaptured: number[] = [];
    for (let b = lba; b < lba + nlb; b++) {
      if (!this.#pre.has(b) && !this.#claimed.has(b)) {
        this.#claimed.add(b);
        uncaptured.push(b);
      }
    }
    const run = this.#chain.then(() => this.#capture(uncaptured));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #capture(blocks: readonly number[]): Promise<void> {
    const { lbaSize, ms, metaOffset } = this.#g;
    const drive = this.#store.drive;
    for (const b of blocks) {
      const data = new Uint8Array(lbaSize);
      await drive.read(data, b * lbaSize);
      const meta = new Uint8Array(ms);
      if (ms > 0) await drive.read(meta, metaOffset + b * ms);
      this.#claimed.delete(b);
      this.#pre.set(b, { data, meta });
    }
  }

  /** Block `b` as the image holds it, read on the event loop (`aio=sync` drives). */
  #read(b: number): Durable {
    const { lbaSize, ms, metaOffset } = this.#g;
    const drive = this.#store.drive;
    const data = new Uint8Array(lbaSize);
    void drive.read(data, b * lbaSize);
    const meta = new Uint8Array(ms);
    if (ms > 0) void drive.read(meta, metaOffset + b * ms);
    return { data, meta };
  }

  wrote(lba: number, nlb: number, data: StoreBytes, meta: StoreBytes): void {
    if (this.#sealed) return;
    const size = (x: StoreBytes): number => (x instanceof Uint8Array ? x.length : 0);
    const e: Entry = {
      seq: ++this.#seq,
      lba,
      nlb,
      // The store's buffers may be reused by the caller: keep copies.
      data: data instanceof Uint8Array ? data.slice() : data,
      meta: meta instanceof Uint8Array ? meta.slice() : meta,
      live: new Uint8Array(nlb).fill(1),
      liveCount: nlb,
      bytes: size(data) + size(meta),
    };
    this.#log.push(e);
    this.#bytes += e.bytes;
    for (let b = lba; b < lba + nlb; b++) this.#cover.set(b, (this.#cover.get(b) ?? 0) + 1);
    this.stats.writes++;
    while (this.#bytes > this.capacityBytes && this.#log.length > 1) {
      this.stats.destaged++;
      this.#destage(this.#log.shift()!);
    }
  }

  mark(): number {
    return this.#seq;
  }

  persisted(mark: number, range?: { readonly lba: number; readonly nlb: number }): void {
    if (range === undefined) {
      while (this.#log.length > 0 && this.#log[0]!.seq <= mark) {
        this.stats.persisted++;
        this.#destage(this.#log.shift()!);
      }
      return;
    }
    // FUA / write through: the newest cached content of each block of the range (up to the
    // mark) becomes durable; older cached writes of those blocks are superseded.
    const end = range.lba + range.nlb;
    const done = new Set<number>();
    for (let i = this.#log.length - 1; i >= 0; i--) {
      const e = this.#log[i]!;
      if (e.seq > mark || e.lba >= end || e.lba + e.nlb <= range.lba) continue;
      const from = Math.max(e.lba, range.lba);
      const to = Math.min(e.lba + e.nlb, end);
      for (let b = from; b < to; b++) {
        if (e.live[b - e.lba] === 0) continue;
        if (!done.has(b)) {
          done.add(b);
          this.#setDurable(b, e);
        }
        this.#kill(e, b);
      }
    }
    const kept: Entry[] = [];
    for (const e of this.#log) {
      if (e.liveCount > 0) {
        kept.push(e);
      } else {
        this.#dropBytes(e);
        this.stats.persisted++;
      }
    }
    this.#log = kept;
  }

  formatted(): void {
    this.#pre.clear();
    this.#cover.clear();
    this.#log = [];
    this.#bytes = 0;
  }

  /** Writes acknowledged and not durable, oldest first (the flush audit). */
  audit(): VolatileWrite[] {
    return this.#log.map((e) => ({
      seq: e.seq,
      lba: e.lba,
      nlb: e.nlb,
      volatileBlocks: e.liveCount,
    }));
  }

  /** Bytes of data and metadata held in the cache, not yet durable (the live view's figure). */
  get dirtyBytes(): number {
    return this.#bytes;
  }

  /** Blocks whose content a cut could change now. */
  get volatileBlocks(): number {
    return this.#pre.size;
  }

  /**
   * Power cut: the image goes back to what was durable plus the surviving writes. `seed`
   * chooses the survivors of 'prefix' and 'subset'. The model is empty afterwards.
   */
  async cut(mode: CutMode, seed: number): Promise<CutReport> {
    await this.#chain;
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
    const g = this.#g;
    const drive = this.#store.drive;
    for (const [b, d] of this.#pre) {
      await drive.write(d.data, b * g.lbaSize);
      if (g.ms > 0) await drive.write(d.meta, g.metaOffset + b * g.ms);
    }
    const lost: VolatileWrite[] = [];
    for (let i = 0; i < log.length; i++) {
      const e = log[i]!;
      if (!keep[i]) {
        lost.push({ seq: e.seq, lba: e.lba, nlb: e.nlb, volatileBlocks: e.liveCount });
        continue;
      }
      for (let b = e.lba; b < e.lba + e.nlb; b++) {
        if (e.live[b - e.lba] === 0) continue;
        const c = this.#content(e, b);
        if (c.data !== undefined) await drive.write(c.data, b * g.lbaSize);
        if (c.meta !== undefined && g.ms > 0) await drive.write(c.meta, g.metaOffset + b * g.ms);
      }
    }
    await drive.flush();
    const report: CutReport = {
      mode,
      volatileWrites: log.length,
      survived: keep.filter(Boolean).length,
      lost,
      reverted: this.#reverted(log, keep),
    };
    this.formatted();
    return report;
  }

  /** Blocks not rewritten by a surviving write (they hold their older durable content). */
  #reverted(log: readonly Entry[], keep: readonly boolean[]): { start: number; end: number }[] {
    // A block takes the content of its last surviving write; it is reverted when the last
    // cached write of it did not survive.
    const last = new Map<number, boolean>();
    log.forEach((e, i) => {
      for (let b = e.lba; b < e.lba + e.nlb; b++) {
        if (e.live[b - e.lba] === 1) last.set(b, keep[i] === true);
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

  /** The bytes `e` wrote to block `b` (undefined: that part was not written). */
  #content(e: Entry, b: number): { data?: Uint8Array; meta?: Uint8Array } {
    const { lbaSize, ms } = this.#g;
    const i = b - e.lba;
    const part = (x: StoreBytes, size: number): Uint8Array | undefined => {
      if (x === undefined || size === 0) return undefined;
      if (x === 'zero') return new Uint8Array(size);
      return x.subarray(i * size, (i + 1) * size);
    };
    const data = part(e.data, lbaSize);
    const meta = part(e.meta, ms);
    return { ...(data ? { data } : {}), ...(meta ? { meta } : {}) };
  }

  /** `e`'s content of block `b` is now the durable one. */
  #setDurable(b: number, e: Entry): void {
    const old = this.#pre.get(b);
    if (old === undefined) return;
    const c = this.#content(e, b);
    this.#pre.set(b, {
      data: c.data !== undefined ? c.data.slice() : old.data,
      meta: c.meta !== undefined ? c.meta.slice() : old.meta,
    });
  }

  #kill(e: Entry, b: number): void {
    e.live[b - e.lba] = 0;
    e.liveCount--;
    const n = (this.#cover.get(b) ?? 1) - 1;
    if (n > 0) {
      this.#cover.set(b, n);
    } else {
      // No cached write of the block left: the image holds its durable content.
      this.#cover.delete(b);
      this.#pre.delete(b);
    }
  }

  /** The oldest entry becomes durable. */
  #destage(e: Entry): void {
    for (let b = e.lba; b < e.lba + e.nlb; b++) {
      if (e.live[b - e.lba] === 0) continue;
      this.#setDurable(b, e);
      this.#kill(e, b);
    }
    this.#dropBytes(e);
  }

  #dropBytes(e: Entry): void {
    this.#bytes -= e.bytes;
  }
}

/** Attaches a write cache model to a block store (replacing none). */
export function attachWriteCacheModel(store: BlockStore, capacityBytes?: number): WriteCacheModel {
  if (store.journal instanceof WriteCacheModel) return store.journal;
  const m = new WriteCacheModel(store, capacityBytes);
  store.journal = m;
  return m;
}
