// What callers see of a zone table's rows (state.ts): a Zone is a live view of one row, made on
// demand, and `table.zones` an array whose elements are made when they are read. A million zones
// would otherwise be a million objects (~100 MiB) before the first command; the rows are about
// 30 bytes per zone.

import type { Zone, ZoneStateValue } from './zone.js';

/** The table's columns, one entry per zone (what a ZoneView reads). */
export interface Rows {
  readonly zsze: number;
  readonly zcap: number;
  readonly state: Uint8Array;
  readonly za: Uint8Array;
  /** LBAs are below 2^53 (checked at construction), so doubles hold them exactly. */
  readonly wp: Float64Array;
  readonly wptr: Float64Array;
  readonly generation: Uint32Array;
  /** Descriptor extensions of the zones that have one. */
  readonly ext: Map<number, Uint8Array>;
}

/** A live view of row `index`: cheap to make (two fields), so views are made on demand. */
export class ZoneView implements Zone {
  readonly index: number;
  readonly #rows: Rows;
  constructor(rows: Rows, index: number) {
    this.#rows = rows;
    this.index = index;
  }
  get zslba(): number {
    return this.index * this.#rows.zsze;
  }
  get zcap(): number {
    return this.#rows.zcap;
  }
  get state(): ZoneStateValue {
    return this.#rows.state[this.index] as ZoneStateValue;
  }
  get wp(): number {
    return this.#rows.wp[this.index]!;
  }
  get wptr(): number {
    return this.#rows.wptr[this.index]!;
  }
  get za(): number {
    return this.#rows.za[this.index]!;
  }
  get ext(): Uint8Array | undefined {
    return this.#rows.ext.get(this.index);
  }
  get generation(): number {
    return this.#rows.generation[this.index]!;
  }
}

/**
 * `table.zones` as a read-only array: `zones[i]`, `length`, iteration and the array methods,
 * with each element a ZoneView made when it is read.
 */
export function zoneArray(n: number, view: (i: number) => Zone): readonly Zone[] {
  // An empty target: its length is reported by the trap (a target of length n would allocate
  // n holes).
  const target: Zone[] = [];
  const indexOf = (p: string | symbol): number => {
    if (typeof p !== 'string') return -1;
    const i = Number(p);
    return Number.isInteger(i) && i >= 0 && i < n && String(i) === p ? i : -1;
  };
  return new Proxy(target, {
    get(t, p, receiver) {
      if (p === 'length') return n;
      const i = indexOf(p);
      return i >= 0 ? view(i) : (Reflect.get(t, p, receiver) as unknown);
    },
    has(t, p) {
      return indexOf(p) >= 0 || Reflect.has(t, p);
    },
    set() {
      return false;
    },
    getOwnPropertyDescriptor(t, p) {
      if (p === 'length')
        return { value: n, writable: true, enumerable: false, configurable: false };
      const i = indexOf(p);
      if (i < 0) return Reflect.getOwnPropertyDescriptor(t, p);
      return { value: view(i), writable: false, enumerable: true, configurable: true };
    },
    ownKeys(t) {
      return [...Array.from({ length: n }, (_, i) => String(i)), ...Reflect.ownKeys(t)];
    },
  });
}
