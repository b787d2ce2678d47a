// Per-block state of the volatile write cache model (write-cache.ts), kept compact so the model
// costs little per command: for each block, how many cached (not yet durable) writes cover it
// and which of them is the newest (its content is what the block reads as). Blocks are grouped in
// chunks of CHUNK_BLOCKS, made when a block of theirs is first written and dropped when none of
// their blocks is covered any more, so a namespace of any size costs nothing where it is not
// written.

/** Blocks per chunk of per-block state. */
const CHUNK_BLOCKS = 128;

interface Chunk {
  /** Cached writes covering each block. */
  readonly cover: Uint32Array;
  /** Sequence number of the newest cached write of each block (0: none). */
  readonly newest: Float64Array;
  /** Blocks of the chunk with a non-zero cover. */
  used: number;
}

export class CacheBlocks {
  readonly #chunks = new Map<number, Chunk>();
  /** Blocks covered by at least one cached write. */
  #covered = 0;

  /** Blocks whose content a cut could change (covered by a cached write). */
  get covered(): number {
    return this.#covered;
  }

  /** True when no block is cached (reads need no overlay). */
  get empty(): boolean {
    return this.#covered === 0;
  }

  /** Write `seq` covers [lba, lba + nlb) and is now the newest content of those blocks. */
  cover(lba: number, nlb: number, seq: number): void {
    for (let b = lba; b < lba + nlb;) {
      const k = Math.floor(b / CHUNK_BLOCKS);
      let c = this.#chunks.get(k);
      if (c === undefined) {
        c = {
          cover: new Uint32Array(CHUNK_BLOCKS),
          newest: new Float64Array(CHUNK_BLOCKS),
          used: 0,
        };
        this.#chunks.set(k, c);
      }
      const end = Math.min(lba + nlb, (k + 1) * CHUNK_BLOCKS);
      for (; b < end; b++) {
        const i = b - k * CHUNK_BLOCKS;
        if (c.cover[i]! === 0) {
          c.used++;
          this.#covered++;
        }
        c.cover[i]!++;
        c.newest[i] = seq;
      }
    }
  }

  /**
   * One cached write of `b` less (it became durable or was superseded). When none is left the
   * image holds the block's content. Returns the covers left.
   */
  uncover(b: number): number {
    const k = Math.floor(b / CHUNK_BLOCKS);
    const c = this.#chunks.get(k);
    if (c === undefined) return 0;
    const i = b - k * CHUNK_BLOCKS;
    const n = c.cover[i]!;
    if (n === 0) return 0;
    c.cover[i] = n - 1;
    if (n > 1) return n - 1;
    c.newest[i] = 0;
    this.#covered--;
    if (--c.used === 0) this.#chunks.delete(k);
    return 0;
  }

  /** The sequence number of the newest cached write of `b`, 0 when it has none. */
  newest(b: number): number {
    const k = Math.floor(b / CHUNK_BLOCKS);
    const c = this.#chunks.get(k);
    return c === undefined ? 0 : c.newest[b - k * CHUNK_BLOCKS]!;
  }
}
