// The zone lists of a zone table: for each listed state, the zones in it in the order they
// entered it (QEMU walks its lists in that order: the oldest implicitly open zone is the one
// auto-transition closes; Select All acts in list order). Threaded through two Int32Arrays of
// zone indices, allocated when the first zone is listed: adding, removing and finding the
// oldest are O(1) with no allocation, and a million listed zones cost 8 MB, not a Set entry each.

const NONE = -1;

export class ZoneLists {
  readonly #zones: number;
  /** How many lists (one per listed state, numbered by the caller). */
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  #next: Int32Array | undefined;
  #prev: Int32Array | undefined;

  constructor(zones: number, lists: number) {
    this.#zones = zones;
    this.#head = new Int32Array(lists).fill(NONE);
    this.#tail = new Int32Array(lists).fill(NONE);
  }

  #links(): { next: Int32Array; prev: Int32Array } {
    if (this.#next === undefined || this.#prev === undefined) {
      this.#next = new Int32Array(this.#zones).fill(NONE);
      this.#prev = new Int32Array(this.#zones).fill(NONE);
    }
    return { next: this.#next, prev: this.#prev };
  }

  /** Appends zone `i` (in no list) to list `l`. */
  add(l: number, i: number): void {
    const { next, prev } = this.#links();
    const t = this.#tail[l]!;
    prev[i] = t;
    next[i] = NONE;
    if (t === NONE) this.#head[l] = i;
    else next[t] = i;
    this.#tail[l] = i;
  }

  /** Unlinks zone `i` from list `l` (which holds it). */
  remove(l: number, i: number): void {
    const { next, prev } = this.#links();
    const p = prev[i]!;
    const n = next[i]!;
    if (p === NONE) this.#head[l] = n;
    else next[p] = n;
    if (n === NONE) this.#tail[l] = p;
    else prev[n] = p;
    next[i] = prev[i] = NONE;
  }

  /** The oldest zone of list `l`, or undefined. */
  first(l: number): number | undefined {
    const h = this.#head[l]!;
    return h === NONE ? undefined : h;
  }

  /** The zones of list `l`, oldest first. */
  toArray(l: number): number[] {
    const out: number[] = [];
    const next = this.#next;
    if (next === undefined) return out;
    for (let i = this.#head[l]!; i !== NONE; i = next[i]!) out.push(i);
    return out;
  }
}
