// What a persistence barrier needs on x86-64, and therefore what has to cross the FFI (issue 20).
//
// libpmem2's contract: a drain "makes sure that the flushes before this operation won't be
// reordered after it" (pmem2_get_drain_fn(3)); persist = flush + drain (pmem2_get_persist_fn(3)).
// PMDK implements drain as SFENCE on every x86 map, CACHE_LINE and BYTE alike (pmdk.md §2.3).
// What that SFENCE adds depends on what the thread issued since its last fence:
//
// 1. Ordinary write-back stores: JS typed-array stores, and V8's TypedArray set / copyWithin /
//    fill, which end in libc memmove / memset. Intel SDM vol. 3A §8.2.2: writes are not reordered
//    with other writes, the exceptions being CLFLUSH/CLFLUSHOPT/CLWB, non-temporal stores and the
//    stores inside one fast-string instruction (§8.2.4: a string operation as a whole is not
//    reordered with other stores). So WB stores become globally visible in program order with or
//    without SFENCE; formal x86-TSO models treat SFENCE as a no-op for them (as Raad, Maranget,
//    Vafeiadis note in "Extending Intel-x86 consistency and persistency", POPL 2022, which adds
//    the non-temporal stores and flushes that SFENCE does order).
//    libc does use non-temporal stores for large copies and fills, but fences them before it
//    returns (glibc 2.36 on this machine: every MOVNTDQ loop in libc.so.6 is followed by SFENCE;
//    it must be, since C11's release store is a plain MOV on x86-64).
// 2. BYTE granularity means eADR: the caches are inside the power-fail protected domain, "cache
//    flush instructions are no longer needed ... barriers might still be required for ordering"
//    (libpmem2(7), GRANULARITY). A WB store is persistent once it is globally visible, so
//    persistence order is visibility order is program order (1.). A BYTE persist after ordinary
//    stores therefore needs no instruction at all, and does not cross the FFI.
// 3. CLWB / CLFLUSHOPT / CLFLUSH and non-temporal stores are weakly ordered (§8.2.2's
//    exceptions; vol. 2A CLWB: "ordered only by store-fencing operations"; vol. 3A §11.3.1: a
//    partly filled write-combining buffer waits for a fence, a serializing or locked instruction,
//    or an interrupt). They need SFENCE before the next persist point. In a JS program their only
//    source is the cpu.ts kernels, so CpuOrder below remembers whether any were issued since the
//    last SFENCE: drain fences only then. persist, and every mem function that drains, fence in
//    the same FFI call that flushed or stored (the persist kernel; ntcopy/ntset with fence = 1),
//    so the SFENCE never costs a call of its own unless the program splits flush() and drain().
// 4. JS Atomics. On an Int32Array over a SharedArrayBuffer, Atomics.store runs V8's AtomicsStore
//    builtin, an XCHG with a memory operand, and Atomics.add/sub/and/or/xor/compareExchange are
//    LOCK CMPXCHG loops (Node 20, V8 11.3: disassemble Builtins_AtomicsStore / _AtomicsAdd in
//    the node binary, docs/pmem2.md has the command; TurboFan calls these builtins rather than
//    inlining them). Atomics.load
//    is a plain MOV and orders nothing. Intel's SDM names XCHG and LOCK-prefixed instructions as
//    store fences that order CLWB (vol. 2A) and drain WC buffers (§11.3.1), so on Intel an
//    Atomics.store would be a valid drain for case 3 without the FFI. AMD's APM names only "a
//    store-ordering instruction such as SFENCE" for CLWB, and this code runs on both, so we do
//    not rely on it: where case 3 needs a fence it is SFENCE. For cases 1 and 2 no instruction is
//    needed, so neither SFENCE nor an Atomics operation is issued.
// 5. PAGE granularity persists with msync(2) (mem.ts); no CPU barrier is involved.
//
// The state is per thread: every worker has its own module instance, its own OS thread and so its
// own store buffer and WC buffers, and a thread moved to another core passes through the kernel's
// context switch, which drains both (interrupt, locked instructions). As in C, weakly ordered
// instructions issued by other native code are that code's to fence; only our own kernels are
// tracked, and a drain of any map orders the flushes of every map (pmem2_get_drain_fn(3): maps
// sharing a drain function may be drained once).

import { cpu, type CpuKernels } from './cpu.js';

/** The cpu.ts kernels plus "weakly ordered instructions issued since the last SFENCE". */
export class CpuOrder {
  readonly kernels: CpuKernels;
  /** CLWB/CLFLUSHOPT/CLFLUSH or non-temporal stores issued and not yet fenced. */
  unfenced = false;

  constructor(kernels: CpuKernels) {
    this.kernels = kernels;
  }

  /** Write back the lines of [p, p+n); ordered by the next drain (case 3). */
  flush(p: number, n: number): void {
    this.kernels.flush(p, n);
    this.unfenced = true;
  }

  /** Write back and SFENCE in one call: orders these lines and everything issued before. */
  persist(p: number, n: number): void {
    this.kernels.persist(p, n);
    this.unfenced = false;
  }

  /** SFENCE when something weakly ordered is outstanding; otherwise nothing (cases 1–2). */
  drain(): void {
    if (!this.unfenced) return;
    this.kernels.fence();
    this.unfenced = false;
  }

  /**
   * Non-temporal copy from JS memory; `fence`: SFENCE in the same call. False when `src` overlaps
   * the destination from below and nothing was copied (the caller copies temporally).
   */
  ntcopyBuf(dst: number, src: Uint8Array, n: number, fence: boolean): boolean {
    if (!this.kernels.ntcopyBuf(dst, src, n, fence ? 1 : 0)) return false;
    this.unfenced = !fence;
    return true;
  }

  ntcopy(dst: number, src: number, n: number, fence: boolean): void {
    this.kernels.ntcopy(dst, src, n, fence ? 1 : 0);
    this.unfenced = !fence;
  }

  ntset(dst: number, c: number, n: number, fence: boolean): void {
    this.kernels.ntset(dst, c, n, fence ? 1 : 0);
    this.unfenced = !fence;
  }
}

const real = cpu === null ? null : new CpuOrder(cpu);
let active: CpuOrder | null = real;

/** The ordering state maps created now will use (null: no kernels, msync fallbacks). */
export function cpuOrder(): CpuOrder | null {
  return active;
}

/**
 * Test seam: maps created while `fn` runs use `kernels` (typically counting wrappers around the
 * real ones) with a fresh ordering state. Restores the real kernels afterwards.
 */
export function withKernels<T>(kernels: CpuKernels | null, fn: () => T): T {
  active = kernels === null ? null : new CpuOrder(kernels);
  try {
    return fn();
  } finally {
    active = real;
  }
}
