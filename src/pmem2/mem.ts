// Persist, flush, drain and the mem functions per granularity (pmdk.md §1.3, §2.3, §11 items 7–8).
//
//   PAGE        flush == persist == msync(MS_SYNC) of the page-rounded range, restricted to
//               registered maps; drain is a no-op; msync failure is fatal (PMDK aborts).
//   CACHE_LINE  flush = write back each 64-byte line (CLWB/CLFLUSHOPT/CLFLUSH), drain = SFENCE.
//   BYTE        flush does nothing, drain = SFENCE.
// (PMDK's drains; ours issue the SFENCE only when it orders something, see below.)
//
// Copy kind (temporal "MOV" vs non-temporal "MOVNT") follows PMDK's decision order; temporal
// copies go through TypedArray.set/copyWithin/fill (libc-memmove speed), non-temporal ones through
// the cpu.ts kernels. Without kernels (non-x86-64) NT copies become temporal copies + flush.
//
// Which of those instructions a drain really needs, and so which calls cross the FFI, is decided
// in order.ts (x86-TSO reasoning): at BYTE granularity a persist after ordinary stores issues
// nothing; CACHE_LINE persist is one call (flush + SFENCE); a draining non-temporal copy is one
// call (stores + SFENCE).

import assert from 'node:assert/strict';
import { msync, PAGE_SIZE } from '../memory/libc.js';
import type { Granularity } from './config.js';
import { envFlag, movntThreshold } from './env.js';
import type { CpuOrder } from './order.js';
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

const NT = 1;
const FLUSH = 2;
const DRAIN = 4;

/**
 * memPlan as bits (NT | FLUSH | DRAIN), precomputed per granularity and indexed by
 * `(flags & 0x3f) | (len >= THRESHOLD ? 64 : 0)`: the hot path reads one byte instead of building
 * a plan object. Bits above 0x3f never change memPlan's answer (it tests single bits).
 */
function planTable(g: Granularity): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < 128; i++) {
    const p = memPlan(g, (i & 64) !== 0 ? THRESHOLD : THRESHOLD - 1, i & 63);
    t[i] = (p.nt ? NT : 0) | (p.flush ? FLUSH : 0) | (p.drain ? DRAIN : 0);
  }
  return t;
}
const PLANS = [planTable(0), planTable(1), planTable(2)] as const;
const planIndex = (flags: number, len: number): number =>
  (flags & 0x3f) | (len >= THRESHOLD ? 64 : 0);

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

/**
 * `bytes.set(src, off)` as `u8set.call(bytes, src, off)`: TurboFan (Node 20) leaves the `set`
 * lookup on these typed arrays as a LoadIC call, ~10 ns of a 64-byte memcpy; a constant
 * function called through .call() is a direct call to the builtin.
 */
// eslint-disable-next-line @typescript-eslint/unbound-method -- always invoked with .call(bytes)
const u8set = Uint8Array.prototype.set;

/** Mem functions over one mapping (`bytes` views `base`), using the map's persist functions. */
export class MemOps {
  readonly #g: Granularity;
  readonly #base: number;
  readonly #bytes: Uint8Array;
  readonly #o: CpuOrder | null;
  readonly #plans: Uint8Array;

  constructor(g: Granularity, base: number, bytes: Uint8Array, o: CpuOrder | null) {
    this.#g = g;
    this.#base = base;
    this.#bytes = bytes;
    this.#o = o;
    this.#plans = PLANS[g];
  }

  /**
   * persist_fn (§2.3) on an address. PAGE: msync. CACHE_LINE: flush + SFENCE in one call. BYTE
   * (eADR): a drain, which issues nothing unless our kernels left weakly ordered stores behind
   * (order.ts). A method rather than a per-granularity closure so that a call site serving maps
   * of several granularities stays monomorphic.
   */
  persist(addr: number, len: number): void {
    const o = this.#o;
    switch (this.#g) {
      case 2:
        pagePersist(addr, len);
        return;
      case 1:
        if (o === null) fallbackLines(addr, len);
        else o.persist(addr, len);
        return;
      case 0:
        if (o !== null) o.drain();
        return;
    }
  }

  /** flush_fn: PAGE msync (== persist), CACHE_LINE line write-back, BYTE nothing. */
  flush(addr: number, len: number): void {
    const o = this.#o;
    switch (this.#g) {
      case 2:
        pagePersist(addr, len);
        return;
      case 1:
        if (o === null) fallbackLines(addr, len);
        else o.flush(addr, len);
        return;
      case 0:
        return;
    }
  }

  /** drain_fn: nothing at PAGE; elsewhere SFENCE only when something weak is outstanding. */
  drain(): void {
    if (this.#g !== 2 && this.#o !== null) this.#o.drain();
  }

  /** After a temporal store (or an NT store done temporally): flush and drain per the plan. */
  #after(plan: number, off: number, len: number): void {
    const addr = this.#base + off;
    switch (this.#g) {
      case 2:
        // PAGE: msync whatever NODRAIN says (§1.3)
        if ((plan & FLUSH) !== 0) pagePersist(addr, len);
        return;
      case 1:
        // NOFLUSH implies NODRAIN; a draining flush is one persist call
        if ((plan & FLUSH) === 0) return;
        if ((plan & DRAIN) !== 0) this.persist(addr, len);
        else this.flush(addr, len);
        return;
      case 0:
        if ((plan & DRAIN) !== 0) this.drain();
        return;
    }
  }

  /** memcpy/memmove from a JS buffer into the map at `off`. */
  copy(off: number, src: Uint8Array, flags: number): void {
    const len = src.length;
    if (len === 0) return;
    const plan = this.#plans[planIndex(flags, len)]!;
    const o = this.#o;
    if (
      (plan & NT) !== 0 &&
      o !== null &&
      o.ntcopyBuf(this.#base + off, src, len, this.#ntFence(plan))
    ) {
      this.#ntAfter(plan, off, len);
      return;
    }
    u8set.call(this.#bytes, src, off);
    this.#after(plan, off, len);
  }

  /** memmove within the map; overlapping ranges behave like memmove. */
  move(dst: number, src: number, len: number, flags: number): void {
    if (len === 0 || dst === src) return;
    const plan = this.#plans[planIndex(flags, len)]!;
    const o = this.#o;
    const forwardSafe = dst < src || dst >= src + len;
    if ((plan & NT) !== 0 && o !== null && forwardSafe) {
      o.ntcopy(this.#base + dst, this.#base + src, len, this.#ntFence(plan));
      this.#ntAfter(plan, dst, len);
      return;
    }
    this.#bytes.copyWithin(dst, src, src + len);
    this.#after(plan, dst, len);
  }

  /** memset of `len` bytes at `off` with the low byte of `c`. */
  set(off: number, c: number, len: number, flags: number): void {
    if (len === 0) return;
    const plan = this.#plans[planIndex(flags, len)]!;
    const o = this.#o;
    if ((plan & NT) !== 0 && o !== null) {
      o.ntset(this.#base + off, c & 0xff, len, this.#ntFence(plan));
      this.#ntAfter(plan, off, len);
      return;
    }
    this.#bytes.fill(c & 0xff, off, off + len);
    this.#after(plan, off, len);
  }

  /**
   * Non-temporal stores through the kernels. CACHE_LINE/BYTE: a drain is the kernel's own
   * trailing SFENCE (one FFI call in all). PAGE: no fence, as in PMDK; msync afterwards.
   */
  #ntFence(plan: number): boolean {
    return this.#g !== 2 && (plan & DRAIN) !== 0;
  }
  #ntAfter(plan: number, off: number, len: number): void {
    if (this.#g === 2 && (plan & FLUSH) !== 0) pagePersist(this.#base + off, len);
  }
}
