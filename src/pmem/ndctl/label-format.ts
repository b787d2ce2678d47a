// Namespace label area on-media format (UEFI 2.7 label protocol v1.1 / v1.2; reference
// qemu-pmem-ndctl.md §7.1–§7.6): geometry, index block and label layouts, validation, and the
// interleave-set cookies of a QEMU nvdimm.

import { fletcher64 } from '../../util/crc.js';
import { defineLayout } from '../../util/layout.js';
import { readU64le, writeU32le, writeU64le, writeU16le, writeU8 } from '../../util/bytes.js';
import { alignUp } from '../../util/u64.js';

export type LabelVersion = '1.1' | '1.2';

export const INDEX_HEADER = 72;
export const INDEX_SIG = 'NAMESPACE_INDEX';
export const NSINDEX_ALIGN = 256;
/** Smallest label area QEMU accepts (§3.1). */
export const MIN_LABEL_AREA = 128 * 1024;

export const LABEL_FLAG_ROLABEL = 1;
export const LABEL_FLAG_LOCAL = 2;
export const LABEL_FLAG_BTT = 4;
export const LABEL_FLAG_UPDATING = 8;

export function labelSizeOf(v: LabelVersion): 128 | 256 {
  return v === '1.1' ? 128 : 256;
}

export interface LabelGeometry {
  readonly version: LabelVersion;
  /** Label area size C. */
  readonly areaSize: number;
  /** Label size S. */
  readonly labelSize: 128 | 256;
  /** Index block size I (header + bitmap, 256-aligned). */
  readonly indexSize: number;
  readonly nslot: number;
  /** Offset of slot 0 = 2·I. */
  readonly labelOff: number;
}

/** §7.1: I = ALIGN(72 + ceil((C/S)/8), 256), nslot = (C − 2I)/S, labeloff = 2I. */
export function labelGeometry(areaSize: number, version: LabelVersion): LabelGeometry {
  const labelSize = labelSizeOf(version);
  const indexSize = alignUp(INDEX_HEADER + Math.ceil(Math.floor(areaSize / labelSize) / 8), 256);
  const nslot = Math.max(0, Math.floor((areaSize - 2 * indexSize) / labelSize));
  return { version, areaSize, labelSize, indexSize, nslot, labelOff: 2 * indexSize };
}

/** §7.2 index block header (the free bitmap follows at offset 72). */
export const IndexHeader = defineLayout('namespace index', INDEX_HEADER, [
  { name: 'sig', offset: 0, type: { ascii: 16, pad: 0 } },
  { name: 'flags', offset: 16, type: { bytes: 3 } },
  { name: 'labelsize', offset: 19, type: 'u8' },
  { name: 'seq', offset: 20, type: 'u32le' },
  { name: 'myoff', offset: 24, type: 'u64le' },
  { name: 'mysize', offset: 32, type: 'u64le' },
  { name: 'otheroff', offset: 40, type: 'u64le' },
  { name: 'labeloff', offset: 48, type: 'u64le' },
  { name: 'nslot', offset: 56, type: 'u32le' },
  { name: 'major', offset: 60, type: 'u16le' },
  { name: 'minor', offset: 62, type: 'u16le' },
  { name: 'checksum', offset: 64, type: 'u64le' },
] as const);

/** §7.5 namespace label; v1.1 labels are the first 128 bytes (no checksum, no GUIDs). */
export const LabelLayout = defineLayout('namespace label', 256, [
  { name: 'uuid', offset: 0, type: { bytes: 16 } },
  { name: 'name', offset: 16, type: { ascii: 64, pad: 0 } },
  { name: 'flags', offset: 80, type: 'u32le' },
  { name: 'nlabel', offset: 84, type: 'u16le' },
  { name: 'position', offset: 86, type: 'u16le' },
  { name: 'isetcookie', offset: 88, type: 'u64le' },
  { name: 'lbasize', offset: 96, type: 'u64le' },
  { name: 'dpa', offset: 104, type: 'u64le' },
  { name: 'rawsize', offset: 112, type: 'u64le' },
  { name: 'slot', offset: 120, type: 'u32le' },
  { name: 'align', offset: 124, type: 'u8' },
  { name: 'typeGuid', offset: 128, type: { bytes: 16 } },
  { name: 'abstractionGuid', offset: 144, type: { bytes: 16 } },
  { name: 'checksum', offset: 248, type: 'u64le' },
] as const);

export const LABEL_CHECKSUM_OFF = 248;

/** The seq cycle 1→2→3→1 (§7.3); 0 stays 0. */
export function nextSeq(seq: number): number {
  return [0, 2, 3, 1][seq & 3]!;
}

/** §7.3: given the seqs of index 0 and index 1, both valid, which one is current. */
export function bestSeq(a: number, b: number): 0 | 1 {
  const x = a & 3;
  const y = b & 3;
  if (x === 0 || x === y) return 1;
  if (y === 0) return 0;
  return nextSeq(x) === y ? 1 : 0;
}

/** Decoded index block with its bitmap (bit set = free) truncated to nslot bits. */
export interface IndexBlock {
  readonly seq: number;
  readonly nslot: number;
  readonly major: number;
  readonly minor: number;
  readonly labelsizeField: number;
  readonly mysize: number;
  readonly checksum: bigint;
  readonly free: boolean[];
}

/** Checksum of a block whose checksum field lives at `at`, computed with the field zeroed. */
export function checksumWithHole(block: Uint8Array, at: number): bigint {
  const tmp = block.slice();
  writeU64le(tmp, at, 0n);
  return fletcher64(tmp);
}

/**
 * §7.2 validation of index `i` read as `block` (I bytes) under geometry `g`; returns the reason
 * it is invalid, or the decoded block.
 */
export function validateIndex(
  block: Uint8Array,
  i: 0 | 1,
  g: LabelGeometry,
): IndexBlock | { invalid: string } {
  const h = IndexHeader.decode(block);
  if (h.sig !== INDEX_SIG || block[15] !== 0) return { invalid: 'signature' };
  const version = h.major * 100 + h.minor;
  const implied = version >= 102 ? 2 ** (7 + h.labelsize) : 128;
  if (implied !== g.labelSize) return { invalid: 'label size' };
  if (checksumWithHole(block, 64) !== h.checksum) return { invalid: 'checksum' };
  if ((h.seq & 3) === 0) return { invalid: 'sequence number' };
  const I = BigInt(g.indexSize);
  if (h.myoff !== BigInt(i) * I) return { invalid: 'myoff' };
  if (h.otheroff !== BigInt(1 - i) * I) return { invalid: 'otheroff' };
  if (h.labeloff !== 2n * I) return { invalid: 'labeloff' };
  if (h.mysize < BigInt(INDEX_HEADER) || h.mysize > I) return { invalid: 'mysize' };
  if (h.nslot * g.labelSize + 2 * g.indexSize > g.areaSize) return { invalid: 'nslot' };
  const bits = Math.min(h.nslot, (g.indexSize - INDEX_HEADER) * 8);
  const free: boolean[] = [];
  for (let s = 0; s < bits; s++)
    free.push(((block[INDEX_HEADER + (s >> 3)]! >> (s & 7)) & 1) === 1);
  return {
    seq: h.seq,
    nslot: h.nslot,
    major: h.major,
    minor: h.minor,
    labelsizeField: h.labelsize,
    mysize: Number(h.mysize),
    checksum: h.checksum,
    free,
  };
}

/** Encodes index `i` (I bytes, checksum filled in); `free[s]` true = slot s free. */
export function encodeIndex(
  g: LabelGeometry,
  i: 0 | 1,
  seq: number,
  free: readonly boolean[],
  nslot = g.nslot,
): Uint8Array {
  const block = new Uint8Array(g.indexSize);
  const I = BigInt(g.indexSize);
  IndexHeader.encode(
    {
      sig: INDEX_SIG,
      labelsize: g.version === '1.2' ? 1 : 0,
      seq,
      myoff: BigInt(i) * I,
      mysize: I,
      otheroff: BigInt(1 - i) * I,
      labeloff: 2n * I,
      nslot,
      major: 1,
      minor: g.version === '1.2' ? 2 : 1,
    },
    block,
  );
  for (let s = 0; s < nslot; s++) {
    if (free[s] === true) block[INDEX_HEADER + (s >> 3)]! |= 1 << (s & 7);
  }
  writeU64le(block, 64, fletcher64(block));
  return block;
}

/** A namespace label as the program sees it (v1.1 ignores the GUIDs and align). */
export interface Label {
  readonly uuid: Uint8Array;
  readonly name: string;
  readonly flags: number;
  readonly nlabel: number;
  readonly position: number;
  readonly isetcookie: bigint;
  readonly lbasize: bigint;
  readonly dpa: bigint;
  readonly rawsize: bigint;
  readonly slot: number;
  readonly typeGuid: Uint8Array;
  readonly abstractionGuid: Uint8Array;
}

/** Encodes `l` into S bytes (v1.2: checksum over 256 bytes). */
export function encodeLabel(l: Label, version: LabelVersion): Uint8Array {
  const full = LabelLayout.encode({
    uuid: l.uuid,
    name: l.name,
    flags: l.flags,
    nlabel: l.nlabel,
    position: l.position,
    isetcookie: l.isetcookie,
    lbasize: l.lbasize,
    dpa: l.dpa,
    rawsize: l.rawsize,
    slot: l.slot,
    align: 0,
    ...(version === '1.2' ? { typeGuid: l.typeGuid, abstractionGuid: l.abstractionGuid } : {}),
  });
  if (version === '1.1') return full.slice(0, 128);
  writeU64le(full, LABEL_CHECKSUM_OFF, fletcher64(full));
  return full;
}

/**
 * Decodes the label in `slot` (S bytes); undefined when the kernel would ignore it (§7.5 scan
 * rules: slot field mismatch, v1.2 checksum, dpa/rawsize not 4 KiB multiples).
 */
export function decodeLabel(
  raw: Uint8Array,
  slot: number,
  version: LabelVersion,
): Label | undefined {
  const full = new Uint8Array(256);
  full.set(raw.subarray(0, labelSizeOf(version)));
  const d = LabelLayout.decode(full);
  if (d.slot !== slot) return undefined;
  if (version === '1.2' && checksumWithHole(full, LABEL_CHECKSUM_OFF) !== d.checksum)
    return undefined;
  if (((d.dpa | d.rawsize) & 0xfffn) !== 0n) return undefined;
  const name = decodeName(full.subarray(16, 80));
  return {
    uuid: d.uuid,
    name,
    flags: d.flags,
    nlabel: d.nlabel,
    position: d.position,
    isetcookie: d.isetcookie,
    lbasize: d.lbasize,
    dpa: d.dpa,
    rawsize: d.rawsize,
    slot: d.slot,
    typeGuid: version === '1.2' ? d.typeGuid : new Uint8Array(16),
    abstractionGuid: version === '1.2' ? d.abstractionGuid : new Uint8Array(16),
  };
}

/** The NUL-terminated name field as UTF-8. */
function decodeName(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/** Whether `name` fits the 64-byte NUL-terminated field (ASCII only, at most 63 characters). */
export function nameFits(name: string): boolean {
  return name.length < 64 && [...name].every((c) => c.charCodeAt(0) < 0x80);
}

/**
 * Interleave-set cookies of a 1-DIMM QEMU set (§7.6): cookie1 over {u64 region_offset, u32
 * serial, u32 0}, cookie2 over the 48-byte record with vendor, date and location. QEMU's DCR
 * serial is 0x123456 + slot, vendor 0x8086, date and location 0 (§3.4).
 */
export function qemuCookies(slot: number): { cookie1: bigint; cookie2: bigint } {
  const serial = 0x123456 + slot;
  const c1 = new Uint8Array(16);
  writeU32le(c1, 8, serial);
  const c2 = new Uint8Array(48);
  writeU32le(c2, 8, serial);
  writeU16le(c2, 12, 0x8086);
  writeU16le(c2, 14, 0);
  writeU8(c2, 16, 0);
  return { cookie1: fletcher64(c1), cookie2: fletcher64(c2) };
}

/** The cookie a label of `version` must carry. */
export function cookieFor(slot: number, version: LabelVersion): bigint {
  const c = qemuCookies(slot);
  return version === '1.1' ? c.cookie1 : c.cookie2;
}

/** Re-reads a stored checksum (tests). */
export function storedChecksum(block: Uint8Array, at: number): bigint {
  return readU64le(block, at);
}
