// The persistence-domain model: which stores survive a power failure (issue #6; reference
// qemu-pmem-ndctl.md §1.3, §2.2, §4.4).
//
// Granularity of durability, per region:
//  - 'byte'       share=on + pmem=on mapped with MAP_SYNC on DAX, platform domain `cpu`
//                 (eADR): a store that reached the CPU is durable. Nothing is lost.
//  - 'cache-line' the same with domain `mem-ctrl` or unset (ADR): a 64-byte line is durable
//                 once flushed (clwb/clflushopt) and drained (sfence). Lines flushed but not
//                 yet drained are "in flight": any subset of them may survive.
//  - 'page'       share=on on a regular (non-DAX) file, or a virtio-pmem device: the page
//                 cache holds stores; a page is durable once msync/fsync (or a virtio-pmem
//                 flush) wrote it back. Unsynced pages are lost.
//  - 'none'       share=off or ram: nothing written during this run survives (handled by the
//                 backend, which knows what a restart sees: the untouched file, or nothing).
//
// What is modelled: stores made through the tracked API (MemoryBackend.write/fill, and
// callers that announce a raw store with beforeStore()). Before the first tracked store to a
// unit (line or page) since it was last made durable, the unit's durable content (its
// pre-image) is saved; persisting the unit drops the pre-image; a power failure writes the
// pre-images back. Not modelled: stores made directly through a raw Uint8Array view without
// beforeStore() (they are treated as durable), the kernel's own background writeback of
// dirty pages (assumed never to happen: worst case), torn writes inside a line or page.

import assert from 'node:assert/strict';

export type Granularity = 'byte' | 'cache-line' | 'page' | 'none';

export const CACHE_LINE = 64;

interface Unit {
  /** Durable content of the unit (what a restart would see). */
  pre: Uint8Array;
  /** Generation of the last tracked store (orders stores against flush requests). */
  gen: number;
  /** cache-line only: content and generation when last flushed, until the next drain. */
  flushed: { content: Uint8Array; gen: number } | undefined;
}

/** A store range a power failure reverted, with the bytes it restored. */
export interface RevertedRange {
  readonly offset: number;
  readonly length: number;
}

/** Snapshot taken when a flush request (virtio-pmem) starts; see beginFlush(). */
export interface FlushToken {
  readonly units: ReadonlyMap<number, { readonly content: Uint8Array; readonly gen: number }>;
}

/** Decides per in-flight cache line (by byte offset) whether it survives a power failure. */
export type InFlightChooser = (lineOffset: number) => boolean;

/** Memory access the model needs: copy out / copy in of the mapped bytes. */
export interface ModelMemory {
  readonly length: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

export class PersistenceModel {
  readonly #mem: ModelMemory;
  readonly #pageSize: number;
  #granularity: Granularity;
  readonly #units = new Map<number, Unit>();
  #gen = 0;

  constructor(mem: ModelMemory, granularity: Granularity, pageSize: number) {
    this.#mem = mem;
    this.#granularity = granularity;
    this.#pageSize = pageSize;
  }

  get granularity(): Granularity {
    return this.#granularity;
  }

  /** Bytes per tracked unit (0 when nothing is tracked). */
  get unitSize(): number {
    switch (this.#granularity) {
      case 'cache-line':
        return CACHE_LINE;
      case 'page':
        return this.#pageSize;
      case 'byte':
      case 'none':
        return 0;
    }
  }

  /** Changes the granularity (a device decides it at realize); everything so far is durable. */
  setGranularity(g: Granularity): void {
    this.#units.clear();
    this.#granularity = g;
  }

  /** Number of units whose latest content is not durable yet. */
  get pendingUnits(): number {
    return this.#units.size;
  }

  /** Of the pending units, those flushed and not yet drained (cache-line: "in flight"). */
  get inFlightUnits(): number {
    let n = 0;
    for (const u of this.#units.values()) if (u.flushed !== undefined) n++;
    return n;
  }

  /** Offsets of the units that are not durable (sorted), for tests and diagnostics. */
  pending(): { offset: number; inFlight: boolean }[] {
    const u = this.unitSize;
    return [...this.#units.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, unit]) => ({ offset: i * u, inFlight: unit.flushed !== undefined }));
  }

  /** Must be called before a store to [offset, offset+length) so its pre-image is kept. */
  beforeStore(offset: number, length: number): void {
    const u = this.unitSize;
    if (u === 0 || length === 0) return;
    const gen = ++this.#gen;
    for (let i = Math.floor(offset / u); i <= Math.floor((offset + length - 1) / u); i++) {
      const unit = this.#units.get(i);
      if (unit === undefined) {
        this.#units.set(i, { pre: this.#readUnit(i), gen, flushed: undefined });
      } else {
        // A store after a flush is not covered by it; the flushed content stays in flight.
        unit.gen = gen;
      }
    }
  }

  /** cache-line: clwb/clflushopt of the lines in the range (durable after drain()). */
  flush(offset: number, length: number): void {
    if (this.#granularity !== 'cache-line' || length === 0) return;
    for (const i of this.#indexes(offset, length)) {
      const unit = this.#units.get(i);
      if (unit !== undefined) unit.flushed = { content: this.#readUnit(i), gen: unit.gen };
    }
  }

  /**
   * cache-line: sfence — every in-flight line reaches the persistence domain with the content
   * it had when flushed; a line stored to after its flush stays pending with that content as
   * its durable image.
   */
  drain(): void {
    for (const [i, unit] of this.#units) {
      if (unit.flushed === undefined) continue;
      if (unit.flushed.gen === unit.gen) this.#units.delete(i);
      else {
        unit.pre = unit.flushed.content;
        unit.flushed = undefined;
      }
    }
  }

  /** msync of a range: every unit in it becomes durable (any granularity). */
  persisted(offset: number, length: number): void {
    if (length === 0) return;
    for (const i of this.#indexes(offset, length)) this.#units.delete(i);
  }

  /** fsync / clean shutdown: everything is durable. */
  persistedAll(): void {
    this.#units.clear();
  }

  /** Start of a whole-file flush (virtio-pmem): remembers what the flush will cover. */
  beginFlush(): FlushToken {
    const units = new Map<number, { content: Uint8Array; gen: number }>();
    for (const [i, unit] of this.#units)
      units.set(i, { content: this.#readUnit(i), gen: unit.gen });
    return { units };
  }

  /**
   * End of a successful flush: units not stored to since beginFlush are durable; units stored
   * to meanwhile are durable with the content they had when the flush started.
   */
  completeFlush(token: FlushToken): void {
    for (const [i, snap] of token.units) {
      const unit = this.#units.get(i);
      if (unit === undefined) continue;
      if (unit.gen === snap.gen) this.#units.delete(i);
      else unit.pre = snap.content;
    }
  }

  /**
   * What a power failure writes back, per pending unit, in offset order: the pre-image, or
   * for an in-flight line that `keep` lets survive, its flushed content (nothing to write
   * when the line was not stored to after the flush).
   */
  #lost(keep?: InFlightChooser): [number, Uint8Array][] {
    const u = this.unitSize;
    const out: [number, Uint8Array][] = [];
    for (const [i, unit] of [...this.#units.entries()].sort((a, b) => a[0] - b[0])) {
      if (unit.flushed !== undefined && keep !== undefined && keep(i * u)) {
        if (unit.flushed.gen !== unit.gen) out.push([i, unit.flushed.content]);
      } else {
        out.push([i, unit.pre]);
      }
    }
    return out;
  }

  /** What a restart would see in [offset, offset+length) if power failed now (no side effect). */
  imageAfterPowerFail(offset: number, length: number, keep?: InFlightChooser): Uint8Array {
    const out = this.#mem.read(offset, length);
    const u = this.unitSize;
    for (const [i, content] of this.#lost(keep)) {
      const start = i * u;
      const from = Math.max(start, offset);
      const to = Math.min(start + content.length, offset + length);
      if (from < to) out.set(content.subarray(from - start, to - start), from - offset);
    }
    return out;
  }

  /**
   * Applies a power failure to the memory: lost units get their durable content back, so
   * the memory (and, for a shared file mapping, the file) holds exactly the post-crash image.
   * Returns the reverted ranges (adjacent units merged).
   */
  powerFail(keep?: InFlightChooser): RevertedRange[] {
    const u = this.unitSize;
    const out: { offset: number; length: number }[] = [];
    for (const [i, content] of this.#lost(keep)) {
      this.#mem.write(i * u, content);
      const last = out.at(-1);
      if (last !== undefined && last.offset + last.length === i * u) last.length += content.length;
      else out.push({ offset: i * u, length: content.length });
    }
    this.#units.clear();
    return out;
  }

  #readUnit(i: number): Uint8Array {
    const u = this.unitSize;
    assert.ok(u > 0, 'unit read without a tracking granularity');
    const start = i * u;
    return this.#mem.read(start, Math.min(u, this.#mem.length - start));
  }

  *#indexes(offset: number, length: number): Generator<number> {
    const u = this.unitSize;
    if (u === 0) return;
    for (let i = Math.floor(offset / u); i <= Math.floor((offset + length - 1) / u); i++) yield i;
  }
}
