// A page-mapped flash translation layer, as a model (docs/models.md): logical pages map to
// physical pages of erase blocks; a write goes to the open block of its stream and invalidates
// the old copy; when free blocks fall below the reserve, garbage collection picks a victim
// (greedy: fewest valid pages; cost-benefit: Rosenblum and Ousterhout's (1 − u)·age / 2u, as in
// Kawaguchi et al., USENIX 1995), rewrites its valid pages and erases it. Streams keep data
// apart (FDP reclaim unit handles: one open block each, GC rewrites into the victim's stream).
//
// It holds no data, only the mapping, and counts what the media would do: host and media page
// programs (WAF), GC page reads, erases per block. Each call leaves the work it caused in
// `work`, which the timing model (ssd.ts) charges to the die. Typed arrays keep a namespace of
// millions of pages at a few bytes per page.

export type GcPolicy = 'greedy' | 'cost-benefit';

export interface FtlShape {
  /** Physical erase blocks. */
  readonly blocks: number;
  readonly pagesPerBlock: number;
  /** Logical pages the host can address (at most blocks × pagesPerBlock − reserve). */
  readonly userPages: number;
  readonly gc: GcPolicy;
  /** Independent write frontiers (FDP reclaim unit handles); 1 without FDP. */
  readonly streams?: number;
  /** GC runs while fewer blocks than this are free (default 2: one for GC to write into). */
  readonly reserveBlocks?: number;
}

/** Media operations one call caused. */
export interface FtlWork {
  reads: number;
  programs: number;
  erases: number;
}

const FREE = 0;
const OPEN = 1;
const FULL = 2;

export class PageFtl {
  readonly blocks: number;
  readonly pagesPerBlock: number;
  readonly userPages: number;
  readonly streams: number;
  gc: GcPolicy;
  /** Work of the last write/trim call (reset by each). */
  readonly work: FtlWork = { reads: 0, programs: 0, erases: 0 };
  /** Pages written by the host and programmed on the media (host + GC), per stream too. */
  hostPages = 0;
  mediaPages = 0;
  readonly hostPagesByStream: Float64Array;
  readonly mediaPagesByStream: Float64Array;
  /** Erases per block (P/E cycles). */
  readonly erases: Uint32Array;
  totalErases = 0;
  gcRuns = 0;
  /** The highest erase count of any block. */
  maxErases = 0;
  /** Blocks erased at least `wearLimit` times (the rated P/E cycles; wear in ssd.ts). */
  worn = 0;
  #wearLimit = Infinity;

  readonly #reserve: number;
  readonly #l2p: Int32Array;
  readonly #p2l: Int32Array;
  readonly #valid: Int32Array;
  readonly #state: Uint8Array;
  readonly #stream: Uint16Array;
  /** Program sequence number of each block's last page (cost-benefit age). */
  readonly #stamp: Float64Array;
  readonly #free: Int32Array;
  #freeCount = 0;
  readonly #open: Int32Array;
  readonly #openPtr: Int32Array;
  // Full blocks bucketed by valid count (doubly linked), so greedy finds its victim in
  // O(pages per block).
  readonly #head: Int32Array;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  #seq = 0;

  constructor(shape: FtlShape) {
    const { blocks, pagesPerBlock: ppb, userPages } = shape;
    this.streams = shape.streams ?? 1;
    this.#reserve = Math.max(2, shape.reserveBlocks ?? 2);
    if (!Number.isInteger(blocks) || !Number.isInteger(ppb) || blocks < 1 || ppb < 1) {
      throw new RangeError(`FTL shape ${blocks} blocks × ${ppb} pages is not positive integers`);
    }
    // Every stream needs an open block, GC needs the reserve, and some block must hold an
    // invalid page whenever GC runs.
    const limit = (blocks - this.#reserve - this.streams) * ppb;
    if (!Number.isInteger(userPages) || userPages < 1 || userPages > limit) {
      throw new RangeError(
        `FTL of ${blocks} blocks × ${ppb} pages holds at most ${Math.max(0, limit)} user pages, not ${userPages}`,
      );
    }
    this.blocks = blocks;
    this.pagesPerBlock = ppb;
    this.userPages = userPages;
    this.gc = shape.gc;
    this.#l2p = new Int32Array(userPages).fill(-1);
    this.#p2l = new Int32Array(blocks * ppb).fill(-1);
    this.#valid = new Int32Array(blocks);
    this.#state = new Uint8Array(blocks);
    this.#stream = new Uint16Array(blocks);
    this.#stamp = new Float64Array(blocks);
    this.erases = new Uint32Array(blocks);
    this.#free = new Int32Array(blocks);
    for (let b = blocks - 1; b >= 0; b--) this.#free[this.#freeCount++] = b;
    this.#open = new Int32Array(this.streams).fill(-1);
    this.#openPtr = new Int32Array(this.streams);
    this.#head = new Int32Array(ppb + 1).fill(-1);
    this.#next = new Int32Array(blocks).fill(-1);
    this.#prev = new Int32Array(blocks).fill(-1);
    this.hostPagesByStream = new Float64Array(this.streams);
    this.mediaPagesByStream = new Float64Array(this.streams);
  }

  /** Write amplification so far: media programs / host programs (1 before any write). */
  get waf(): number {
    return this.hostPages === 0 ? 1 : this.mediaPages / this.hostPages;
  }
  get freeBlocks(): number {
    return this.#freeCount;
  }
  /** Spare blocks: those beyond what the user pages need. */
  get spareBlocks(): number {
    return this.blocks - Math.ceil(this.userPages / this.pagesPerBlock);
  }
  get wearLimit(): number {
    return this.#wearLimit;
  }
  set wearLimit(n: number) {
    this.#wearLimit = n;
    let worn = 0;
    for (const e of this.erases) if (e >= n) worn++;
    this.worn = worn;
  }

  /** Whether logical page `lpn` holds data (a read of it touches the media). */
  mapped(lpn: number): boolean {
    return this.#l2p[lpn]! >= 0;
  }

  /** The host writes logical page `lpn` through `stream`. */
  write(lpn: number, stream = 0): FtlWork {
    this.#resetWork();
    this.#check(lpn);
    const s = stream < this.streams ? stream : 0;
    this.#invalidate(lpn);
    this.hostPages++;
    this.hostPagesByStream[s]!++;
    this.#place(lpn, s);
    while (this.#freeCount < this.#reserve) {
      if (!this.#collect()) break;
    }
    return this.work;
  }

  /** Deallocate: the page's data is no longer needed (GC will not copy it). */
  trim(lpn: number): FtlWork {
    this.#resetWork();
    this.#check(lpn);
    this.#invalidate(lpn);
    return this.work;
  }

  /** Forgets every mapping (Format NVM); erase counts stay, they are the media's. */
  clear(): void {
    for (let lpn = 0; lpn < this.userPages; lpn++) this.#invalidate(lpn);
  }

  #resetWork(): void {
    this.work.reads = 0;
    this.work.programs = 0;
    this.work.erases = 0;
  }

  #check(lpn: number): void {
    if (!(lpn >= 0 && lpn < this.userPages)) {
      throw new RangeError(`logical page ${lpn} is outside 0..${this.userPages - 1}`);
    }
  }

  #invalidate(lpn: number): void {
    const ppn = this.#l2p[lpn]!;
    if (ppn < 0) return;
    this.#l2p[lpn] = -1;
    this.#p2l[ppn] = -1;
    const b = (ppn / this.pagesPerBlock) | 0;
    const v = this.#valid[b]!;
    if (this.#state[b] === FULL) {
      this.#unlink(b, v);
      this.#link(b, v - 1);
    }
    this.#valid[b] = v - 1;
  }

  /** Programs `lpn` at the frontier of stream `s`. */
  #place(lpn: number, s: number): void {
    let b = this.#open[s]!;
    if (b < 0 || this.#openPtr[s] === this.pagesPerBlock) {
      if (b >= 0) {
        this.#state[b] = FULL;
        this.#link(b, this.#valid[b]!);
      }
      if (this.#freeCount === 0) throw new Error('FTL: no free block (reserve exhausted)');
      b = this.#free[--this.#freeCount]!;
      this.#state[b] = OPEN;
      this.#stream[b] = s;
      this.#open[s] = b;
      this.#openPtr[s] = 0;
    }
    const ppn = b * this.pagesPerBlock + this.#openPtr[s]!++;
    this.#p2l[ppn] = lpn;
    this.#l2p[lpn] = ppn;
    this.#valid[b]!++;
    this.#stamp[b] = ++this.#seq;
    this.mediaPages++;
    this.mediaPagesByStream[s]!++;
    this.work.programs++;
  }

  /** One GC step: relocates a victim's valid pages and erases it. False when none helps. */
  #collect(): boolean {
    const victim = this.gc === 'greedy' ? this.#greedyVictim() : this.#costBenefitVictim();
    if (victim < 0 || this.#valid[victim] === this.pagesPerBlock) return false;
    this.gcRuns++;
    this.#unlink(victim, this.#valid[victim]!);
    this.#state[victim] = OPEN; // off the lists while it is emptied
    const s = this.#stream[victim]!;
    const base = victim * this.pagesPerBlock;
    for (let i = 0; i < this.pagesPerBlock && this.#valid[victim]! > 0; i++) {
      const lpn = this.#p2l[base + i]!;
      if (lpn < 0) continue;
      this.#p2l[base + i] = -1;
      this.#l2p[lpn] = -1;
      this.#valid[victim]!--;
      this.work.reads++;
      this.#place(lpn, s);
    }
    this.#state[victim] = FREE;
    const e = ++this.erases[victim]!;
    if (e > this.maxErases) this.maxErases = e;
    if (e === this.#wearLimit) this.worn++;
    this.totalErases++;
    this.work.erases++;
    this.#free[this.#freeCount++] = victim;
    return true;
  }

  #greedyVictim(): number {
    for (let v = 0; v < this.pagesPerBlock; v++) {
      const b = this.#head[v]!;
      if (b >= 0) return b;
    }
    return -1;
  }

  #costBenefitVictim(): number {
    let best = -1;
    let score = -1;
    const ppb = this.pagesPerBlock;
    for (let b = 0; b < this.blocks; b++) {
      if (this.#state[b] !== FULL) continue;
      const v = this.#valid[b]!;
      if (v === 0) return b;
      if (v === ppb) continue;
      const u = v / ppb;
      const sc = ((1 - u) * (this.#seq - this.#stamp[b]! + 1)) / (2 * u);
      if (sc > score) {
        score = sc;
        best = b;
      }
    }
    return best;
  }

  #link(b: number, v: number): void {
    const h = this.#head[v]!;
    this.#next[b] = h;
    this.#prev[b] = -1;
    if (h >= 0) this.#prev[h] = b;
    this.#head[v] = b;
  }

  #unlink(b: number, v: number): void {
    const p = this.#prev[b]!;
    const n = this.#next[b]!;
    if (p >= 0) this.#next[p] = n;
    else this.#head[v] = n;
    if (n >= 0) this.#prev[n] = p;
    this.#next[b] = -1;
    this.#prev[b] = -1;
  }
}
