// Power-failure simulation (issue 7 "Power-failure simulation"; pmdk.md §7.3 design hints).
//
// Model. A simulated map keeps two images: the live bytes (the Uint8Array the program writes,
// directly or through the mem functions) and `media`, what survives a power failure for certain.
// Memory is cut into persistence units: 64-byte lines for CACHE_LINE and BYTE maps, pages for
// PAGE maps. Each unit is in one of three states:
//   clean     live == media
//   dirty     live != media, not flushed: a crash may keep the media bytes or, if the line was
//             evicted, the live bytes
//   flushed   flush() captured the live bytes (CLWB writes the line as it is at that moment);
//             until the next drain a crash may keep media, the captured bytes, or newer live bytes
// drain() (SFENCE) commits captured lines to media. persist = flush + drain. PAGE maps commit
// at once (msync is synchronous); their dirty pages may also have been written back early.
// BYTE maps (eADR) have caches inside the persistence domain: every store is persistent once
// visible, so only stores since the last fence are uncertain, and drain commits all of them.
//
// Honest limit. Stores made through map.memcpy/memmove/memset are attributed to operations in
// the log. Stores made directly into the Uint8Array view cannot be seen when they happen; they
// are discovered by comparing live bytes against `media` (and against captured lines) at flush
// time and at each persist point, so their unit of detection is the persistence unit, and the
// log names them "direct stores" at the operation that revealed them. Within a unit we do not
// tear: a unit survives whole or not at all (pmreorder's 8-byte store split is finer; ours
// models the line/page write-back that hardware and the page cache perform).

import type { Granularity } from './config.js';
import { PAGE_SIZE } from '../memory/libc.js';

export type OpKind = 'memcpy' | 'memmove' | 'memset' | 'flush' | 'drain' | 'persist' | 'mark';

/** One store, flush or drain the power-failure simulation recorded. */
export interface OpRecord {
  readonly seq: number;
  readonly kind: OpKind;
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  readonly note: string;
}

/** One uncertain unit at a crash point and the contents it may hold after restart. */
export interface UncertainUnit {
  readonly unit: number;
  readonly offset: number;
  /** Distinct candidate contents; index 0 is always the media (oldest) content. */
  readonly options: readonly Uint8Array[];
  readonly labels: readonly string[];
}

/** What the store explorer's tracer (store-trace.ts) is told, in program order. */
export interface SimTracer {
  /** Bytes just stored at `offset` (a view of the live bytes after the store). */
  store(offset: number, bytes: Uint8Array, via: string): void;
  flush(offset: number, length: number): void;
  fence(): void;
  mark(name: string): void;
}

export interface PersistPoint {
  /** Sequence number of the drain/persist that is about to take effect. */
  readonly seq: number;
  readonly uncertain: readonly UncertainUnit[];
  /** Image with every uncertain unit at option 0 (nothing beyond media survived). */
  readonly media: Uint8Array;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The power-failure model of a simulated map: what is on the media versus only in the CPU's caches. */
export class PowerFailSim {
  /** The map granularity the model follows. */
  readonly granularity: Granularity;
  /** Bytes per persistence unit: a cache line (64) or a page. */
  readonly unitSize: number;
  /** What survives a power failure now. */
  readonly media: Uint8Array;
  /** Every recorded operation, in order. */
  readonly ops: OpRecord[] = [];
  /** Called before each drain/persist takes effect (crash-state explorer hook). */
  onPersistPoint: ((p: PersistPoint) => void) | null = null;
  /** Sees every store, flush, fence and marker as it happens (the store explorer's tracer). */
  tracer: SimTracer | null = null;
  readonly #live: Uint8Array;
  readonly #pending = new Map<number, Uint8Array>();
  #seq = 0;

  constructor(granularity: Granularity, live: Uint8Array) {
    this.granularity = granularity;
    this.unitSize = granularity === 2 ? PAGE_SIZE : 64;
    this.#live = live;
    this.media = live.slice();
  }

  /** Records an operation; returns its sequence number. */
  record(kind: OpKind, offset: number, length: number, flags = 0, note = ''): number {
    const seq = ++this.#seq;
    this.ops.push({ seq, kind, offset, length, flags, note });
    if (this.tracer !== null && (kind === 'memcpy' || kind === 'memmove' || kind === 'memset')) {
      this.tracer.store(offset, this.#live.subarray(offset, offset + length), kind);
    } else if (this.tracer !== null && kind === 'mark') {
      this.tracer.mark(note);
    }
    return seq;
  }

  #unit(u: number, img: Uint8Array): Uint8Array {
    const s = u * this.unitSize;
    return img.subarray(s, Math.min(s + this.unitSize, img.length));
  }

  #units(off: number, len: number): [number, number] {
    const first = Math.floor(Math.max(0, off) / this.unitSize);
    const end = Math.min(off + len, this.#live.length);
    return [first, end <= off ? first : Math.ceil(end / this.unitSize)];
  }

  /** Units of [off, off+len) whose live bytes differ from media (for the log). */
  #changed(off: number, len: number): number[] {
    const [a, b] = this.#units(off, len);
    const out: number[] = [];
    for (let u = a; u < b; u++)
      if (!same(this.#unit(u, this.#live), this.#unit(u, this.media))) out.push(u);
    return out;
  }

  /** Starts writing back the units of a range (durable after drain). */
  flush(off: number, len: number, seq?: number): void {
    const s = seq ?? this.record('flush', off, len, 0, this.#describe(off, len));
    this.tracer?.flush(off, len);
    if (this.granularity === 0) return; // BYTE: flush is a no-op (§2.3)
    if (this.granularity === 2) {
      this.#point(s, off, len);
      return;
    }
    const [a, b] = this.#units(off, len);
    for (let u = a; u < b; u++) this.#pending.set(u, this.#unit(u, this.#live).slice());
  }

  /** Makes every flushed unit durable. */
  drain(seq?: number): void {
    const s = seq ?? this.record('drain', 0, 0);
    this.tracer?.fence();
    if (this.granularity === 2) return;
    this.#point(s, 0, 0);
  }

  /** Flush and drain a range. */
  persist(off: number, len: number): void {
    const s = this.record('persist', off, len, 0, this.#describe(off, len));
    this.flush(off, len, s);
    this.drain(s);
  }

  #describe(off: number, len: number): string {
    const units = this.#changed(off, len);
    return units.length === 0 ? '' : `units changed since last commit: ${units.join(',')}`;
  }

  /** Report a persist point to the explorer, then commit (PAGE: the range; else the pending). */
  #point(seq: number, off: number, len: number): void {
    if (this.onPersistPoint !== null)
      this.onPersistPoint({ seq, uncertain: this.uncertainUnits(), media: this.media.slice() });
    if (this.granularity === 2) {
      const [a, b] = this.#units(off, len);
      for (let u = a; u < b; u++) this.#unit(u, this.media).set(this.#unit(u, this.#live));
    } else if (this.granularity === 0) {
      this.media.set(this.#live);
    } else {
      for (const [u, snap] of this.#pending) this.#unit(u, this.media).set(snap);
      this.#pending.clear();
    }
  }

  /** Every unit whose post-crash content is not certain, with its candidate contents. */
  uncertainUnits(): UncertainUnit[] {
    const out: UncertainUnit[] = [];
    const n = Math.ceil(this.#live.length / this.unitSize);
    for (let u = 0; u < n; u++) {
      const media = this.#unit(u, this.media);
      const options: Uint8Array[] = [media.slice()];
      const labels = ['media'];
      const snap = this.#pending.get(u);
      if (snap !== undefined && !same(snap, media)) {
        options.push(snap);
        labels.push('flushed');
      }
      const live = this.#unit(u, this.#live);
      if (!options.some((o) => same(o, live))) {
        options.push(live.slice());
        labels.push(snap === undefined ? 'dirty (evicted)' : 'stored after flush (evicted)');
      }
      if (options.length > 1) out.push({ unit: u, offset: u * this.unitSize, options, labels });
    }
    return out;
  }

  /**
   * The image a restart would see. 'persisted' (default): only what was committed; 'all': every
   * store survived (as if all lines were evicted); 'random': each uncertain unit picks one of its
   * candidates with a seeded PRNG.
   */
  simulatePowerFailure(
    opts: { mode?: 'persisted' | 'all' | 'random'; seed?: number } = {},
  ): Uint8Array {
    const mode = opts.mode ?? 'persisted';
    if (mode === 'persisted') return this.media.slice();
    if (mode === 'all') return this.#live.slice();
    const rnd = mulberry32(opts.seed ?? 1);
    const img = this.media.slice();
    for (const u of this.uncertainUnits())
      img.set(u.options[Math.floor(rnd() * u.options.length)]!, u.offset);
    return img;
  }
}

/** Small seeded PRNG (Mulberry32) so sampled explorations are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
