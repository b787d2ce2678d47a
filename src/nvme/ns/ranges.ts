// A set of LBAs kept as sorted, disjoint, non-adjacent half-open intervals [start, end).
//
// Used for the two pieces of per-block state a raw image cannot hold: deallocated blocks
// (Dataset Management AD / Write Zeroes DEAC; DULBE reads them as `0x287`) and blocks marked
// with Write Uncorrectable (reads fail with `0x281`). Both are volatile, like every other
// namespace state QEMU keeps outside the image (reference qemu-nvme.md §5.2 "Nothing is
// persisted"). LBAs are numbers: a namespace never has more than 2^53 blocks because its image
// size is a safe integer (Drive offsets are numbers).

export interface LbaRange {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export class RangeSet {
  // Invariant: sorted by start, start < end, and ranges[i].end < ranges[i + 1].start.
  #ranges: LbaRange[] = [];

  get size(): number {
    return this.#ranges.length;
  }

  /** All ranges in ascending order (a copy). */
  list(): LbaRange[] {
    return [...this.#ranges];
  }

  clear(): void {
    this.#ranges = [];
  }

  /** Index of the first range whose end is >= `lba` (ranges before it end strictly earlier). */
  #firstEndingAtOrAfter(lba: number): number {
    let lo = 0;
    let hi = this.#ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ranges[mid]!.end < lba) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds [start, end), merging with overlapping or adjacent ranges. */
  add(start: number, end: number): void {
    checkArgs(start, end);
    if (start === end) return;
    const i = this.#firstEndingAtOrAfter(start);
    let j = i;
    let s = start;
    let e = end;
    while (j < this.#ranges.length && this.#ranges[j]!.start <= end) {
      s = Math.min(s, this.#ranges[j]!.start);
      e = Math.max(e, this.#ranges[j]!.end);
      j++;
    }
    this.#ranges.splice(i, j - i, { start: s, end: e });
  }

  /** Removes [start, end), splitting a range that straddles either end. */
  remove(start: number, end: number): void {
    checkArgs(start, end);
    if (start === end) return;
    const i = this.#firstEndingAtOrAfter(start + 1);
    const keep: LbaRange[] = [];
    let j = i;
    while (j < this.#ranges.length && this.#ranges[j]!.start < end) {
      const r = this.#ranges[j]!;
      if (r.start < start) keep.push({ start: r.start, end: start });
      if (r.end > end) keep.push({ start: end, end: r.end });
      j++;
    }
    this.#ranges.splice(i, j - i, ...keep);
  }

  /** True when any LBA of [start, end) is in the set. */
  intersects(start: number, end: number): boolean {
    checkArgs(start, end);
    if (start === end) return false;
    const i = this.#firstEndingAtOrAfter(start + 1);
    const r = this.#ranges[i];
    return r !== undefined && r.start < end;
  }

  /** True when every LBA of [start, end) is in the set (vacuously true when empty). */
  covers(start: number, end: number): boolean {
    checkArgs(start, end);
    if (start === end) return true;
    const i = this.#firstEndingAtOrAfter(start + 1);
    const r = this.#ranges[i];
    return r !== undefined && r.start <= start && r.end >= end;
  }

  has(lba: number): boolean {
    return this.intersects(lba, lba + 1);
  }

  /** The parts of [start, end) that are in the set, clipped, ascending. */
  overlaps(start: number, end: number): LbaRange[] {
    checkArgs(start, end);
    const out: LbaRange[] = [];
    for (let i = this.#firstEndingAtOrAfter(start + 1); i < this.#ranges.length; i++) {
      const r = this.#ranges[i]!;
      if (r.start >= end) break;
      out.push({ start: Math.max(r.start, start), end: Math.min(r.end, end) });
    }
    return out;
  }
}

function checkArgs(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid LBA range [${start}, ${end})`);
  }
}
