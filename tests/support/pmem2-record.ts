// The flag-and-record program the store-explorer tests share: a 64-byte record at offset 64,
// made valid by the 8-byte flag at 0. checkRecord is the consistency check of a crash image.

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
