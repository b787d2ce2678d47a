// Counting wrappers around the real cpu.ts kernels, installed through order.ts's withKernels()
// seam: the instructions still run and the bytes still land, and each FFI crossing is recorded
// as "name(args)" with addresses relative to the map under test.

import { closeSync, openSync } from 'node:fs';
import { Pmem2Config } from '../../src/pmem2/config.js';
import { cpu, type CpuKernels } from '../../src/pmem2/cpu.js';
import { Pmem2Map } from '../../src/pmem2/map.js';
import { withKernels } from '../../src/pmem2/order.js';
import { Pmem2Source } from '../../src/pmem2/source.js';

/** PMDK's tunables the expected call sequences depend on (read once at load, like PMDK). */
const tunables = ['PMEM_NO_MOVNT', 'PMEM_MOVNT_THRESHOLD'].filter(
  (k) => process.env[k] !== undefined,
);

/** Why the kernel tests cannot run here, or false. */
export const noKernels: string | false =
  cpu === null
    ? 'no x86-64 flush kernels on this machine'
    : tunables.length > 0
      ? `${tunables.join(', ')} set: the expected calls assume PMDK's default copy policy`
      : false;

/** Kernel calls that end in SFENCE (a persist point on the real path). */
export const FENCING = /^(persist\(|fence$|nt\w+\(.*,1\)$)/;

export function spyKernels(base: () => number): { kernels: CpuKernels; calls: string[] } {
  const k = cpu!;
  const calls: string[] = [];
  const rel = (p: number): number => p - base();
  const log = (s: string): void => void calls.push(s);
  return {
    calls,
    kernels: {
      insn: k.insn,
      avx: k.avx,
      flush: (p, n) => (log(`flush(${rel(p)},${n})`), k.flush(p, n)),
      persist: (p, n) => (log(`persist(${rel(p)},${n})`), k.persist(p, n)),
      fence: () => (log('fence'), k.fence()),
      ntcopy: (d, s, n, f) => (log(`ntcopy(${rel(d)},${rel(s)},${n},${f})`), k.ntcopy(d, s, n, f)),
      ntcopyBuf: (d, s, n, f) => {
        const done = k.ntcopyBuf(d, s, n, f);
        log(`ntcopyBuf(${rel(d)},${n},${f})${done ? '' : ' overlap'}`);
        return done;
      },
      ntset: (d, c, n, f) => (log(`ntset(${rel(d)},${c},${n},${f})`), k.ntset(d, c, n, f)),
    },
  };
}

export type ForcedGranularity = 'BYTE' | 'CACHE_LINE' | 'PAGE';

/**
 * Maps `file` at a forced granularity (BYTE and CACHE_LINE as on DAX, PAGE as on a page-cache
 * file) with counting kernels, runs `fn`, deletes the map. Maps `fn` creates share the same
 * ordering state (one thread).
 */
export function withSpiedMap(
  file: string,
  g: ForcedGranularity,
  fn: (m: Pmem2Map, calls: string[]) => void,
  simulate = false,
): void {
  const fd = openSync(file, 'r+');
  let map: Pmem2Map | null = null;
  const s = spyKernels(() => map!.address);
  process.env.PMEM2_FORCE_GRANULARITY = g;
  try {
    withKernels(s.kernels, () => {
      const cfg = new Pmem2Config().setRequiredStoreGranularity(2).setPowerFailSimulation(simulate);
      map = Pmem2Map.create(cfg, Pmem2Source.fromFd(fd));
      try {
        fn(map, s.calls);
      } finally {
        map.delete();
      }
    });
  } finally {
    delete process.env.PMEM2_FORCE_GRANULARITY;
    closeSync(fd);
  }
}
