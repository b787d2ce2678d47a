// LBA formats and namespace geometry as QEMU 7.2 builds them (reference qemu-nvme.md §5.1, §3.8).
//
// - Eight built-in formats (512 B and 4 KiB data with 0/8/16/64 metadata bytes). The format
//   matching (`logical_block_size`, `ms`) is selected; when none matches, a ninth format with those
//   values is appended at index 8. NLBAF (0's based) is therefore 7 or 8.
// - The image holds all data blocks first, then all metadata: NSZE = floor(image / (lbads + ms)),
//   metadata of LBA n at NSZE * lbads + n * ms. Extended LBAs (FLBAS bit 4) only change the host
//   transfer layout (§9.1), never the image layout.

import { isPowerOfTwo, log2Exact, toSafeNumber } from '../../util/u64.js';

export interface LbaFormat {
  /** Metadata bytes per block (MS). */
  readonly ms: number;
  /** log2 of the data size (LBADS). */
  readonly ds: number;
}

/** QEMU 7.2's built-in table (Identify NS LBAF0..7; RP 0). */
export const BUILTIN_LBA_FORMATS: readonly LbaFormat[] = Object.freeze([
  { ds: 9, ms: 0 },
  { ds: 9, ms: 8 },
  { ds: 9, ms: 16 },
  { ds: 9, ms: 64 },
  { ds: 12, ms: 0 },
  { ds: 12, ms: 8 },
  { ds: 12, ms: 16 },
  { ds: 12, ms: 64 },
]);

/** Identify NS has room for 64 LBAF entries; QEMU exposes at most 16 (FLBAS bits 3:0). */
export const MAX_LBA_FORMATS = 16;

/** The namespace's table and the index the configuration selects. */
export interface LbaFormatTable {
  readonly formats: readonly LbaFormat[];
  /** Index selected by (logical_block_size, ms) at realize time. */
  readonly initialIndex: number;
}

/** Builds the table for a namespace with `lbaSize`-byte blocks and `ms` metadata bytes. */
export function buildLbaFormats(lbaSize: number, ms: number): LbaFormatTable {
  const ds = log2Exact(lbaSize);
  const i = BUILTIN_LBA_FORMATS.findIndex((f) => f.ds === ds && f.ms === ms);
  if (i >= 0) return { formats: BUILTIN_LBA_FORMATS, initialIndex: i };
  return {
    formats: Object.freeze([...BUILTIN_LBA_FORMATS, { ds, ms }]),
    initialIndex: BUILTIN_LBA_FORMATS.length,
  };
}

/** QEMU's "minimum discard granularity": deallocation works in units of at least 4 KiB. */
export const MIN_DISCARD_GRANULARITY = 4096;

/**
 * BDRV_REQUEST_MAX_BYTES: QEMU's largest single block request (INT_MAX rounded down to 512).
 * DSM ranges longer than this in blocks are skipped and DMRSL reports it (§2.6 CNS 06h).
 */
export const BDRV_REQUEST_MAX_BYTES = 0x7fff_fe00;

/** Everything derived from the active LBA format and the image size. */
export interface Geometry {
  /** Active format index (FLBAS bits 3:0). */
  readonly lbafIndex: number;
  /** Data bytes per block. */
  readonly lbaSize: number;
  /** Metadata bytes per block. */
  readonly ms: number;
  /** Extended LBA (FLBAS bit 4): metadata interleaved with data in host buffers. */
  readonly extended: boolean;
  /** Namespace size in blocks (NSZE = NCAP = NUSE). */
  readonly nsze: number;
  /** Byte offset of the metadata area in the image (NSZE * lbaSize). */
  readonly metaOffset: number;
  /** NPDG = NPDA (0's based; u16 wrap-around exactly as QEMU computes it). */
  readonly npdg: number;
  /** Dataset Management Range Size Limit in blocks. */
  readonly dmrsl: number;
}

/**
 * Computes the geometry for `format` over an image of `imageSize` bytes. `discardGranularity`
 * is the resolved block property (`discard_granularity`, default max(lbs, 4 KiB) of the
 * configured logical block size; QEMU keeps that value across Format NVM).
 */
export function computeGeometry(
  format: LbaFormat,
  lbafIndex: number,
  extended: boolean,
  imageSize: bigint,
  discardGranularity: number,
): Geometry {
  const lbaSize = 2 ** format.ds;
  const nsze = toSafeNumber(imageSize / BigInt(lbaSize + format.ms), 'NSZE');
  // NPDG is 0's based; a granularity smaller than the block size gives 0 - 1, which QEMU stores
  // into a u16 as 0xffff.
  const npdgBlocks = Math.floor(discardGranularity / lbaSize);
  return {
    lbafIndex,
    lbaSize,
    ms: format.ms,
    extended,
    nsze,
    metaOffset: nsze * lbaSize,
    npdg: (npdgBlocks - 1) & 0xffff,
    dmrsl: Math.floor(BDRV_REQUEST_MAX_BYTES / lbaSize),
  };
}

/** Default discard granularity for a logical block size (QEMU: -1 means auto). */
export function defaultDiscardGranularity(lbaSize: number): number {
  return Math.max(lbaSize, MIN_DISCARD_GRANULARITY);
}

/** True for a valid data size exponent (512 B .. 2 MiB, QEMU's block size property range). */
export function isSupportedLbaSize(n: number): boolean {
  return isPowerOfTwo(n) && n >= 512 && n <= 2 * 1024 * 1024;
}
