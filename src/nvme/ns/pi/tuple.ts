// Protection information tuples (NVM Command Set Spec 1.0 §5.2; reference qemu-nvme.md §9.2,
// §9.3): where the tuple sits in a block's metadata, its big-endian encodings for the 16-bit
// and 64-bit guard formats, and the guard computation.
//
// - pif 0 (16b guard): guard u16, application tag u16, reference tag u32 (8 bytes).
// - pif 2 (64b guard): guard u64, application tag u16, storage + reference tag 6 bytes; with a
//   storage tag size of 0 (STS 0, the only size nvmemu reports) all 48 bits are reference tag.
// - The tuple is the last 8/16 bytes of the metadata unless DPS bit 3 (PIL, `pil=1`) puts it
//   first. When it is last, the guard also covers the metadata bytes before it.

import { crc16T10Dif, crc64Nvme } from '../../../util/crc.js';
import {
  readU16be,
  readU32be,
  readU64be,
  writeU16be,
  writeU32be,
  writeU64be,
} from '../../../util/bytes.js';

/** Protection Information Format (Identify NS NVM ELBAF bits 8:7): 16-bit or 64-bit guard. */
export type Pif = 0 | 2;

/** The protection configuration of a namespace's active format. */
export interface PiFormat {
  /** DPS bits 2:0: protection information type 1, 2 or 3. */
  readonly type: 1 | 2 | 3;
  readonly pif: Pif;
  /** DPS bit 3: the tuple is the first bytes of the metadata. */
  readonly first: boolean;
  /** Metadata bytes per block (>= tuple size). */
  readonly ms: number;
  readonly lbaSize: number;
}

export interface Tuple {
  /** 16 or 64 bits. */
  readonly guard: bigint;
  readonly apptag: number;
  /** 32 or 48 bits. */
  readonly reftag: bigint;
}

export function tupleSize(pif: Pif): 8 | 16 {
  return pif === 2 ? 16 : 8;
}

/** Offset of the tuple inside one block's metadata. */
export function tupleOffset(f: PiFormat): number {
  return f.first ? 0 : f.ms - tupleSize(f.pif);
}

/** Reference tag width mask: 32 bits (16b guard) or 48 bits (64b guard, STS 0). */
export function reftagMask(pif: Pif): bigint {
  return pif === 2 ? 0xffff_ffff_ffffn : 0xffff_ffffn;
}

/** PRACT strips/inserts the tuple only when it is the whole metadata (reference §9.1). */
export function tupleOnly(f: PiFormat): boolean {
  return f.ms === tupleSize(f.pif);
}

/** Reads the tuple at `off` of `meta`. */
export function readTuple(meta: Uint8Array, off: number, pif: Pif): Tuple {
  if (pif === 2) {
    const hi = BigInt(readU16be(meta, off + 10));
    return {
      guard: readU64be(meta, off),
      apptag: readU16be(meta, off + 8),
      reftag: (hi << 32n) | BigInt(readU32be(meta, off + 12)),
    };
  }
  return {
    guard: BigInt(readU16be(meta, off)),
    apptag: readU16be(meta, off + 2),
    reftag: BigInt(readU32be(meta, off + 4)),
  };
}

export function writeTuple(meta: Uint8Array, off: number, pif: Pif, t: Tuple): void {
  if (pif === 2) {
    writeU64be(meta, off, t.guard);
    writeU16be(meta, off + 8, t.apptag);
    writeU16be(meta, off + 10, Number((t.reftag >> 32n) & 0xffffn));
    writeU32be(meta, off + 12, Number(t.reftag & 0xffff_ffffn));
    return;
  }
  writeU16be(meta, off, Number(t.guard & 0xffffn));
  writeU16be(meta, off + 2, t.apptag);
  writeU32be(meta, off + 4, Number(t.reftag & 0xffff_ffffn));
}

/**
 * The guard of one block: CRC over its data, continued over the metadata bytes that precede
 * the tuple (none when the tuple is first). `meta` is that block's `ms` metadata bytes.
 */
export function guardOf(f: PiFormat, data: Uint8Array, meta: Uint8Array): bigint {
  const pre = meta.subarray(0, tupleOffset(f));
  if (f.pif === 2) return crc64Nvme(pre, crc64Nvme(data));
  return BigInt(crc16T10Dif(pre, crc16T10Dif(data)));
}
