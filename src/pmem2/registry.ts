// The global registry of libpmem2 mappings (pmdk.md §11 item 9): PAGE-granularity persist msyncs
// only the parts of a range that lie inside registered maps, and map_from_existing refuses ranges
// that overlap a registered one. Kept as an address-sorted array: the number of live maps in a
// process is small, and lookups are a binary search.

export interface Registered {
  readonly addr: number;
  readonly len: number;
}

const entries: Registered[] = [];

function firstEndingAfter(addr: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid]!;
    if (e.addr + e.len <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Registered entries overlapping [addr, addr+len), in address order. */
export function overlapping(addr: number, len: number): Registered[] {
  const out: Registered[] = [];
  for (let i = firstEndingAfter(addr); i < entries.length; i++) {
    const e = entries[i]!;
    if (e.addr >= addr + len) break;
    out.push(e);
  }
  return out;
}

/** Insert; false when the range overlaps an existing entry. */
export function register(e: Registered): boolean {
  if (overlapping(e.addr, Math.max(e.len, 1)).length > 0) return false;
  entries.splice(firstEndingAfter(e.addr), 0, e);
  return true;
}

/** Remove exactly this entry; false when it is not registered. */
export function unregister(e: Registered): boolean {
  const i = entries.indexOf(e);
  if (i < 0) return false;
  entries.splice(i, 1);
  return true;
}
