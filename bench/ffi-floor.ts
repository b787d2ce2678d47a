// The FFI cost floor of the pmem2 bench (issue 20): what one koffi call costs when the native
// side does nothing at all. A CACHE_LINE persist or non-temporal copy cannot avoid one crossing
// (JS cannot issue CLWB, SFENCE or MOVNT), so C time / (C time + floor) is the best ratio any
// TypeScript implementation can reach for such a case; the bench prints it beside the targets.
//
// The empty routine is a single RET (0xC3) in a page of its own, called through koffi exactly as
// src/pmem2/cpu.ts calls its kernels: without arguments (the kernels read theirs from an argument
// block) and with one TypedArray argument (the ntcopyBuf shape, where koffi pins a JS buffer).

import koffi from 'koffi';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  mmap,
  mprotect,
  munmap,
  view,
} from '../src/memory/libc.js';

export interface FfiFloor {
  /** Thread CPU ns of one `void f(void)` koffi call to a bare RET. */
  readonly emptyNs: number;
  /** Same, `void f(const void *)` with a 64-byte Uint8Array argument. */
  readonly bufferNs: number;
}

const PAGE = 4096;

/**
 * Median over `rounds` of the thread CPU time per call, each round `calls` calls; `cpuNow` is
 * the bench's CLOCK_THREAD_CPUTIME_ID reader (ns).
 */
export function measureFfiFloor(cpuNow: () => number, rounds = 7, calls = 200_000): FfiFloor {
  const page = mmap(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  try {
    new Uint8Array(view(page, 1))[0] = 0xc3; // RET
    if (mprotect(page, PAGE, PROT_READ | PROT_EXEC) !== 0)
      throw new Error('mprotect(PROT_EXEC) refused');
    const empty = koffi.decode(page, koffi.proto('void ffi_floor_empty(void)')) as () => void;
    const withBuf = koffi.decode(page, koffi.proto('void ffi_floor_buf(const void *p)')) as (
      p: Uint8Array,
    ) => void;
    const buf = new Uint8Array(64);
    const per = (fn: () => void): number => {
      const xs: number[] = [];
      for (let r = 0; r <= rounds; r++) {
        const c0 = cpuNow();
        fn();
        const ns = (cpuNow() - c0) / calls;
        if (r > 0) xs.push(ns); // round 0 warms the JIT up
      }
      xs.sort((a, b) => a - b);
      return xs[xs.length >> 1]!;
    };
    return {
      emptyNs: per(() => {
        for (let i = 0; i < calls; i++) empty();
      }),
      bufferNs: per(() => {
        for (let i = 0; i < calls; i++) withBuf(buf);
      }),
    };
  } finally {
    munmap(page, PAGE);
  }
}
