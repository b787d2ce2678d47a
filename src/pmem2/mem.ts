// Persist, flush, drain and the mem functions per granularity (pmdk.md §1.3, §2.3, §11 items 7–8).
//
//   PAGE        flush == persist == msync(MS_SYNC) of the page-rounded range, restricted to
//               registered maps; drain is a no-op; msync failure is fatal (PMDK aborts).
//   CACHE_LINE  flush = write back each 64-byte line (CLWB/CLFLUSHOPT/CLFLUSH), drain = SFENCE.
//   BYTE        flush does nothing, drain = SFENCE.
//
// Copy kind (temporal "MOV" vs non-temporal "MOVNT") follows PMDK's decision order; temporal
// copies go through TypedArray.set/copyWithin/fill (libc-memmove speed), non-temporal ones through
// the cpu.ts kernels. Without kernels (non-x86-64) NT copies become temporal copies + flush.

import assert from 'node:assert/strict';
import { msync, PAGE_SIZE } from '../memory/libc.js';
import type { Granularity } from './config.js';
import { cpu } from './cpu.js';
import { envFlag, movntThreshold } from './env.js';
import { overlapping } from './registry.js';

/** memcpy/memset flag: skip the final drain. */
export const PMEM2_F_MEM_NODRAIN = 1 << 0;
/** memcpy/memset flag: non-temporal stores. */
export const PMEM2_F_MEM_NONTEMPORAL = 1 << 1;
/** memcpy/memset flag: temporal stores. */
export const PMEM2_F_MEM_TEMPORAL = 1 << 2;
/** memcpy/memset flag: write-combining (non-temporal) stores. */
export const PMEM2_F_MEM_WC = 1 << 3;
/** memcpy/memset flag: write-back (temporal) stores. */
export const PMEM2_F_MEM_WB = 1 << 4;
/** memcpy/memset flag: no flush at all (the caller persists). */
export const PMEM2_F_MEM_NOFLUSH = 1 << 5;
/** Every valid PMEM2_F_MEM_* bit. */
export const PMEM2_F_MEM_VALID_FLAGS = 0x3f;

const MOVNT = PMEM2_F_MEM_WC | PMEM2_F_MEM_NONTEMPORAL;
const MOV = PMEM2_F_MEM_WB | PMEM2_F_MEM_TEMPORAL;

/** Read once, like PMDK's library constructor. */
const NO_MOVNT = envFlag(process.env, 'PMEM_NO_MOVNT');
const THRESHOLD = movntThreshold(process.env);

/** How a mem function stores and what it does after (shared by the real and simulated paths). */
export interface MemPlan {
  readonly nt: boolean;
  readonly flush: boolean;
  readonly drain: boolean;
}

/** PMDK's per-granularity decision (§1.3); `len` > 0. */
export function memPlan(g: Granularity, len: number, flags: number): MemPlan {
  const noflush = (flags & PMEM2_F_MEM_NOFLUSH) !== 0;
  const drain = !noflush && (flags & PMEM2_F_MEM_NODRAIN) === 0;
  if (g === 0) {
    // BYTE: only the NONTEMPORAL bit matters (WC is ignored), and nothing is flushed.
    const nt = !noflush && !NO_MOVNT && (flags & PMEM2_F_MEM_NONTEMPORAL) !== 0;
    return { nt, flush: false, drain };
  }
  if (noflush) return { nt: false, flush: false, drain: false };
  let nt: boolean;
  if (NO_MOVNT) nt = false;
  else if ((flags & MOVNT) !== 0) nt = true;
  else if ((flags & MOV) !== 0) nt = false;
  else nt = len >= THRESHOLD;
  // PAGE maps msync after the copy whatever NODRAIN says (§1.3); CL flushes unless NT.
  return { nt, flush: true, drain: g === 2 ? true : drain };
}

/** msync of the page-rounded range, clipped to registered maps; fatal on failure (§2.3). */
export function pagePersist(addr: number, len: number): void {
  if (len === 0) return;
  const start = addr - (addr % PAGE_SIZE);
  const end = addr + len;
  for (const m of overlapping(start, end - start)) {
    const s = Math.max(start, m.addr);
    const e = Math.min(end, m.addr + m.len);
    const ps = s - (s % PAGE_SIZE);
    try {
      msync(BigInt(ps), e - ps);
    } catch (err) {
      // PMDK calls abort() here: a failed msync means the data may be lost.
      assert.fail(`pmem2 PAGE persist: ${(err as Error).message}`);
    }
  }
}

/** Cache-line persist without kernels: the kernel's msync writes DAX lines back. */
function fallbackLines(addr: number, len: number): void {
  const start = addr - (addr % PAGE_SIZE);
  try {
    msync(BigInt(start), addr + len - start);
  } catch {
    /* foreign memory: nothing registered to write back */
  }
}

export interface PersistFns {
  readonly persist: (addr: number, len: number) => void;
  readonly flush: (addr: number, len: number) => void;
  readonly drain: () => void;
}

const noop = (): void => {};

export function persistFns(g: Granularity): PersistFns {
  switch (g) {
    case 2:
      return { persist: pagePersist, flush: pagePersist, drain: noop };
    case 1:
      if (cpu === null) return { persist: fallbackLines, flush: fallbackLines, drain: noop };
      return { persist: cpu.persist, flush: cpu.flush, drain: cpu.fence };
    case 0:
      return {
        persist: cpu === null ? noop : () => cpu!.fence(),
        flush: noop,
        drain: cpu === null ? noop : cpu.fence,
      };
  }
}

/** Mem functions over one mapping (`bytes` views `base`), using the map's persist functions. */
export class MemOps {
  readonly #g: Granularity;
  readonly #base: number;
  readonly #bytes: Uint8Array;
  readonly #p: PersistFns;

  constructor(g: Granularity, base: number, bytes: Uint8Array) {
    this.#g = g;
    this.#base = base;
    this.#bytes = bytes;
    this.#p = persistFns(g);
  }

  #after(plan: MemPlan, off: number, len: number): void {
    if (this.#g === 2) {
      if (plan.flush) pagePersist(this.#base + off, len);
      return;
    }
    if (plan.flush && !plan.nt) this.#p.flush(this.#base + off, len);
    if (plan.drain) this.#p.drain();
  }

  /** memcpy/memmove from a JS buffer into the map at `off`. */
  copy(off: number, src: Uint8Array, flags: number): void {
    const len = src.length;
    if (len === 0) return;
    const plan = memPlan(this.#g, len, flags);
    if (plan.nt && cpu !== null && src.buffer !== this.#bytes.buffer) {
      cpu.ntcopyBuf(this.#base + off, src, len);
    } else {
      this.#bytes.set(src, off);
      if (plan.nt && this.#g === 1) this.#p.flush(this.#base + off, len);
    }
    this.#after(plan, off, len);
  }

  /** memmove within the map; overlapping ranges behave like memmove. */
  move(dst: number, src: number, len: number, flags: number): void {
    if (len === 0 || dst === src) return;
    const plan = memPlan(this.#g, len, flags);
    const forwardSafe = dst < src || dst >= src + len;
    if (plan.nt && cpu !== null && forwardSafe) {
      cpu.ntcopy(this.#base + dst, this.#base + src, len);
    } else {
      this.#bytes.copyWithin(dst, src, src + len);
      if (plan.nt && this.#g === 1) this.#p.flush(this.#base + dst, len);
    }
    this.#after(plan, dst, len);
  }

  /** memset of `len` bytes at `off` with the low byte of `c`. */
  set(off: number, c: number, len: number, flags: number): void {
    if (len === 0) return;
    const plan = memPlan(this.#g, len, flags);
    if (plan.nt && cpu !== null) {
      cpu.ntset(this.#base + off, c & 0xff, len);
    } else {
      this.#bytes.fill(c & 0xff, off, off + len);
      if (plan.nt && this.#g === 1) this.#p.flush(this.#base + off, len);
    }
    this.#after(plan, off, len);
  }
}
