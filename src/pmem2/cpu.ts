// CPU cache-flush and non-temporal kernels (pmdk.md §2.3–2.4) for x86-64.
//
// JavaScript cannot issue CLWB/CLFLUSHOPT/SFENCE or non-temporal stores, and CACHE_LINE
// granularity is only honest with them: on a MAP_SYNC (DAX) mapping the data is persistent once
// its lines have been written back and fenced. So we assemble six tiny routines (x86.ts) into an
// executable page at load time and call them through koffi (one FFI call per operation, ~21 ns;
// their numeric arguments travel through an argument block, see x86.ts, because koffi charges
// ~10 ns per argument):
//
//   flush(p, n)              write back every 64-byte line overlapping [p, p+n)   (no fence)
//   persist(p, n)            flush + SFENCE, in one call
//   fence()                  SFENCE
//   ntcopy(d, s, n, fence)   forward copy, non-temporal 16-byte stores for the 64-byte aligned
//                            middle, 8-byte stores for the 8-aligned edges, bytes otherwise; the
//                            two partially written edge lines are flushed; SFENCE at the end
//                            when `fence` is non-zero (a draining mem function: one FFI call)
//   ntset(d, c, n, fence)    same shape for memset
//
// ntcopy/ntset use 32-byte VMOVNTDQ when the CPU has AVX (PMDK's AVX variant; PMEM_AVX=0 turns
// it off as in PMDK), else 16-byte MOVNTDQ. AVX-512 is not used.
//
// Which of these a persist really needs, and when no call is needed at all, is order.ts's
// business (x86-TSO reasoning with citations there).
//
// Instruction choice follows PMDK's preference CLWB > CLFLUSHOPT > CLFLUSH, read from
// /proc/cpuinfo flags, with PMEM_NO_CLWB=1 / PMEM_NO_CLFLUSHOPT=1 honoured (read once, like
// PMDK's library constructor). Edge stores are 8-byte stores whenever dst and len are 8-aligned,
// which keeps PMDK's 8-byte store guarantee (§1.2).
//
// Where the kernels are unavailable (not x86-64, or the executable page is refused) `cpu` is null
// and callers fall back to msync of the page-rounded range, which the kernel implements on DAX by
// writing the dirty lines back; slower, still correct.

import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  mmap,
  view,
  PROT_EXEC,
  mprotect,
} from '../memory/libc.js';
import { envFlag } from './env.js';
import {
  OVERLAP_SLOT,
  RET,
  SFENCE,
  argPrologue,
  flushLoop,
  ntLoop,
  ntcopyBufEntry,
  type ArgReg,
  type FlushInsn,
} from './x86.js';

export type { FlushInsn } from './x86.js';

export interface CpuKernels {
  readonly insn: FlushInsn;
  /** ntcopy/ntset store 32 bytes at a time (AVX) rather than 16 (SSE2). */
  readonly avx: boolean;
  readonly flush: (p: number, n: number) => void;
  readonly persist: (p: number, n: number) => void;
  readonly fence: () => void;
  /** `fence` non-zero: SFENCE after the stores (and the edge-line flushes). */
  readonly ntcopy: (dst: number, src: number, n: number, fence: number) => void;
  /**
   * ntcopy with the source in JS memory (koffi passes the TypedArray's storage). Returns false,
   * having copied nothing, when `src` views memory overlapping [dst, dst+n) from below.
   */
  readonly ntcopyBuf: (dst: number, src: Uint8Array, n: number, fence: number) => boolean;
  readonly ntset: (dst: number, c: number, n: number, fence: number) => void;
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** The flush instruction PMDK would pick (pmdk.md §2.4), or null without CLFLUSH. */
export function pickFlushInsn(flags: Set<string>, env: NodeJS.ProcessEnv): FlushInsn | null {
  if (flags.has('clwb') && !envFlag(env, 'PMEM_NO_CLWB')) return 'clwb';
  if (flags.has('clflushopt') && !envFlag(env, 'PMEM_NO_CLFLUSHOPT')) return 'clflushopt';
  return flags.has('clflush') ? 'clflush' : null;
}

const PAGE = 4096;
const TWO: [ArgReg, number][] = [
  ['rdi', 0],
  ['rsi', 1],
];
const FOUR: [ArgReg, number][] = [...TWO, ['rdx', 2], ['rcx', 3]];

/** The routines of one code page; `block` is the argument block's address (x86.ts). */
export function kernelCode(insn: FlushInsn, avx: boolean, block: bigint): number[][] {
  return [
    [...argPrologue(block, TWO), ...flushLoop(insn, false)],
    [...argPrologue(block, TWO), ...flushLoop(insn, true)],
    [...SFENCE, ...RET],
    [...argPrologue(block, FOUR), ...ntLoop(insn, false, avx)],
    [...ntcopyBufEntry(block), ...ntLoop(insn, false, avx)],
    [...argPrologue(block, FOUR), ...ntLoop(insn, true, avx)],
  ];
}

function build(): CpuKernels | null {
  if (process.arch !== 'x64') return null;
  const flags = cpuFlags();
  const insn = pickFlushInsn(flags, process.env);
  if (insn === null || !flags.has('sse2')) return null;
  const avx = flags.has('avx') && process.env.PMEM_AVX !== '0';
  try {
    // Page 0: code (made read+execute); page 1: the argument block (read+write).
    const page = mmap(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const block = page + BigInt(PAGE);
    const mem = new Uint8Array(view(page, PAGE));
    const offs: number[] = [];
    let at = 0;
    for (const p of kernelCode(insn, avx, block)) {
      if (at + p.length > PAGE) return null;
      offs.push(at);
      mem.set(p, at);
      at += (p.length + 15) & ~15;
    }
    if (mprotect(page, PAGE, PROT_READ | PROT_EXEC) !== 0) return null;
    const a = new Float64Array(view(block, 64));
    const k0 = koffi.proto('void pmem2_ts_kernel(void)');
    const kBuf = koffi.proto('void pmem2_ts_kernel_buf(const void *s)');
    const fn = (i: number, proto: typeof k0): unknown =>
      koffi.decode(page + BigInt(offs[i]!), proto);
    const flush = fn(0, k0) as () => void;
    const persist = fn(1, k0) as () => void;
    const fence = fn(2, k0) as () => void;
    const ntcopy = fn(3, k0) as () => void;
    const ntcopyBuf = fn(4, kBuf) as (s: Uint8Array) => void;
    const ntset = fn(5, k0) as () => void;
    return {
      insn,
      avx,
      flush: (p, n) => {
        a[0] = p;
        a[1] = n;
        flush();
      },
      persist: (p, n) => {
        a[0] = p;
        a[1] = n;
        persist();
      },
      fence,
      ntcopy: (d, s, n, f) => {
        a[0] = d;
        a[1] = s;
        a[2] = n;
        a[3] = f;
        ntcopy();
      },
      ntcopyBuf: (d, s, n, f) => {
        a[0] = d;
        a[2] = n;
        a[3] = f;
        a[OVERLAP_SLOT] = 0;
        ntcopyBuf(s);
        return a[OVERLAP_SLOT] === 0;
      },
      ntset: (d, c, n, f) => {
        a[0] = d;
        a[1] = c;
        a[2] = n;
        a[3] = f;
        ntset();
      },
    };
  } catch {
    return null;
  }
}

/** The kernels, built once at load (PMDK reads the PMEM_NO_* variables in its constructor). */
export const cpu: CpuKernels | null = build();
