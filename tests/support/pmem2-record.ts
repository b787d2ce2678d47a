// The flag-and-record programs the store-explorer tests and the pmreorder comparison share
// (tests/pmreorder/*.c do the same stores): a 64-byte record at offset 64, made valid by the
// 8-byte flag at 0. checkRecord is the consistency check of a crash image.

import { Pmem2Config } from '../../src/pmem2/config.js';
import { Pmem2Map } from '../../src/pmem2/map.js';
import { Pmem2Source } from '../../src/pmem2/source.js';
import type { CrashView } from '../../src/pmem2/explore-stores.js';
import { readU64le, writeU64le } from '../../src/util/bytes.js';

/** `v` as 8 little-endian bytes (a flag value). */
export const u64 = (v: number): Uint8Array => {
  const b = new Uint8Array(8);
  writeU64le(b, 0, BigInt(v));
  return b;
};

/** The record's content. */
export const DATA = Uint8Array.from({ length: 64 }, (_, i) => 0xa0 + (i % 16));

/** An anonymous 4 KiB map with power-failure simulation (BYTE granularity, eADR). */
export function simMap(): Pmem2Map {
  const cfg = new Pmem2Config().setRequiredStoreGranularity(0).setPowerFailSimulation(true);
  return Pmem2Map.create(cfg, Pmem2Source.fromAnon(4096));
}

/** The data record at 64 must be whole once the flag at 0 says so. */
export function checkRecord(v: CrashView): string | undefined {
  if (readU64le(v.pmem, 0) !== 1n) return undefined;
  return v.pmem.subarray(64, 128).every((b, i) => b === DATA[i])
    ? undefined
    : 'flag set, record not durable';
}

/** Same, with an 8-byte record at 8 in the flag's own cache line. */
export function checkSameLine(v: CrashView): string | undefined {
  if (readU64le(v.pmem, 0) !== 1n) return undefined;
  return v.pmem.subarray(8, 16).every((b, i) => b === DATA[i])
    ? undefined
    : 'flag set, record not durable';
}

/** A program of stores and persists on a map, and the check of its crash images. */
export interface StoreProgram {
  readonly run: (m: Pmem2Map) => void;
  readonly check: (v: CrashView) => string | undefined;
}

/** The four programs (docs/pmem2.md "Store explorer"), store for store as tests/pmreorder/*.c. */
export const STORE_PROGRAMS = {
  correct: {
    run: (m) => {
      m.store(64, DATA);
      m.persist(64, 64);
      m.store(0, u64(1));
      m.persist(0, 8);
    },
    check: checkRecord,
  },
  'missing persist': {
    run: (m) => {
      m.store(64, DATA);
      m.store(0, u64(1));
      m.persist(0, 8);
    },
    check: checkRecord,
  },
  'early flag': {
    run: (m) => {
      m.store(0, u64(1)); // too early…
      m.store(0, u64(0)); // …and back before any persist: the line may be evicted between
      m.store(64, DATA);
      m.persist(64, 64);
      m.store(0, u64(1));
      m.persist(0, 8);
    },
    check: checkRecord,
  },
  'same line': {
    run: (m) => {
      m.store(8, DATA.subarray(0, 8));
      m.store(0, u64(1));
      m.persist(0, 16);
    },
    check: checkSameLine,
  },
} as const satisfies Record<string, StoreProgram>;
