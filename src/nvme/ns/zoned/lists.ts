// The zone lists of a zone table: for each listed state, the zones in it in the order they
// entered it (QEMU walks its lists in that order: the oldest implicitly open zone is the one
// auto-transition closes; Select All acts in list order). Threaded through two Int32Arrays that
// hold zone index + 1 (0: none), so they start as the operating system's zeroed pages and cost
// memory only where zones were listed: adding, removing and finding the oldest are O(1) with no
// allocation, and a million listed zones cost 8 MB, not a Set entry each.

/** Links hold index + 1; 0 ends a list. */
const NONE = 0;

export class ZoneLists {
  /** How many lists (one per listed state, numbered by the caller). */
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;

  constructor(zones: number, lists: number) {
    this.#head = new Int32Array(lists);
    this.#tail = new Int32Array(lists);
    this.#next = new Int32Array(zones);
    this.#prev = new Int32Array(zones);
  }

  /** Appends zone `i` (in no list) to list `l`. */
  add(l: number, i: number): void {
    const t = this.#tail[l]!;
    this.#prev[i] = t;
    this.#next[i] = NONE;
    if (t === NONE) this.#head[l] = i + 1;
    else this.#next[t - 1] = i + 1;
    this.#tail[l] = i + 1;
  }

  /** Unlinks zone `i` from list `l` (which holds it). */
  remove(l: number, i: number): void {
    const p = this.#prev[i]!;
    const n = this.#next[i]!;
    if (p === NONE) this.#head[l] = n;
    else this.#next[p - 1] = n;
    if (n === NONE) this.#tail[l] = p;
    else this.#prev[n - 1] = p;
    this.#next[i] = this.#prev[i] = NONE;
  }

  /** The oldest zone of list `l`, or undefined. */
  first(l: number): number | undefined {
    const h = this.#head[l]!;
    return h === NONE ? undefined : h - 1;
  }

  /** The zones of list `l`, oldest first. */
  toArray(l: number): number[] {
    const out: number[] = [];
    for (let i = this.#head[l]!; i !== NONE; i = this.#next[i - 1]!) out.push(i - 1);
    return out;
  }
}
