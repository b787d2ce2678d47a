// BTT on-media format (reference qemu-pmem-ndctl.md §8.1–§8.5): the 4 KiB arena info block, the
// kernel's arena geometry, map entry and flog entry encodings.

import { fletcher64 } from '../../util/crc.js';
import { defineLayout } from '../../util/layout.js';
import { writeU64le } from '../../util/bytes.js';
import { alignDown, alignUp } from '../../util/u64.js';
import { checksumWithHole } from './label-format.js';
import { isNullUuid, sameBytes } from './guid.js';

export const BTT_SIG = 'BTT_ARENA_INFO';
export const BTT_INFO_SIZE = 4096;
export const BTT_NFREE = 256;
export const BTT_LOG_SIZE = 16384; // roundup(256 lanes × 64 bytes, 4096)
export const ARENA_MIN = 16 * 1024 * 1024;
export const ARENA_MAX = 512 * 1024 * 1024 * 1024;
export const BTT_INFO_CHECKSUM_OFF = 4088;
export const IB_FLAG_ERROR = 1;

/** The sector sizes ndctl accepts for sector mode (§10.2). */
export const BTT_SECTOR_SIZES = [512, 520, 528, 4096, 4104, 4160, 4224] as const;

export type BttVersion = '1.1' | '2.0';

/** Namespace offset of the first info block: 4 KiB for v1.1, 0 for v2.0 (§8.1). */
export function initialOffset(v: BttVersion): number {
  return v === '1.1' ? 4096 : 0;
}

/** §8.2 `struct btt_sb`. */
export const BttInfo = defineLayout('BTT info block', BTT_INFO_SIZE, [
  { name: 'signature', offset: 0, type: { ascii: 16, pad: 0 } },
  { name: 'uuid', offset: 16, type: { bytes: 16 } },
  { name: 'parentUuid', offset: 32, type: { bytes: 16 } },
  { name: 'flags', offset: 48, type: 'u32le' },
  { name: 'versionMajor', offset: 52, type: 'u16le' },
  { name: 'versionMinor', offset: 54, type: 'u16le' },
  { name: 'externalLbasize', offset: 56, type: 'u32le' },
  { name: 'externalNlba', offset: 60, type: 'u32le' },
  { name: 'internalLbasize', offset: 64, type: 'u32le' },
  { name: 'internalNlba', offset: 68, type: 'u32le' },
  { name: 'nfree', offset: 72, type: 'u32le' },
  { name: 'infosize', offset: 76, type: 'u32le' },
  { name: 'nextoff', offset: 80, type: 'u64le' },
  { name: 'dataoff', offset: 88, type: 'u64le' },
  { name: 'mapoff', offset: 96, type: 'u64le' },
  { name: 'logoff', offset: 104, type: 'u64le' },
  { name: 'info2off', offset: 112, type: 'u64le' },
  { name: 'checksum', offset: BTT_INFO_CHECKSUM_OFF, type: 'u64le' },
] as const);

export type BttInfoValue = ReturnType<typeof BttInfo.decode>;

/** One arena's geometry; offsets relative to the arena's info block. */
export interface ArenaGeometry {
  /** Offset of the arena (its info block) in the namespace. */
  readonly base: number;
  readonly size: number;
  readonly externalLbasize: number;
  readonly internalLbasize: number;
  readonly internalNlba: number;
  readonly externalNlba: number;
  readonly nextoff: number;
  readonly dataoff: number;
  readonly mapoff: number;
  readonly logoff: number;
  readonly info2off: number;
}

/** §8.3 per-arena sizing for an arena of `size` bytes. */
export function arenaGeometry(
  base: number,
  size: number,
  externalLbasize: number,
  nextoff: number,
): ArenaGeometry {
  const available = alignDown(size, 4096) - 2 * BTT_INFO_SIZE - BTT_LOG_SIZE;
  const internalLbasize = alignUp(externalLbasize, 64);
  const internalNlba = Math.floor((available - BTT_INFO_SIZE) / (internalLbasize + 4));
  const externalNlba = internalNlba - BTT_NFREE;
  const mapsize = alignUp(externalNlba * 4, 4096);
  const datasize = available - mapsize;
  const mapoff = BTT_INFO_SIZE + datasize;
  const logoff = mapoff + mapsize;
  return {
    base,
    size,
    externalLbasize,
    internalLbasize,
    internalNlba,
    externalNlba,
    nextoff,
    dataoff: BTT_INFO_SIZE,
    mapoff,
    logoff,
    info2off: logoff + BTT_LOG_SIZE,
  };
}

/** §8.3 create_arenas: 512 GiB arenas, a tail below 16 MiB unused. */
export function bttLayout(
  namespaceSize: number,
  version: BttVersion,
  externalLbasize: number,
): ArenaGeometry[] {
  const arenas: ArenaGeometry[] = [];
  let remaining = namespaceSize - initialOffset(version);
  let off = initialOffset(version);
  while (remaining > 0) {
    const size = Math.min(ARENA_MAX, remaining);
    remaining -= size;
    if (size < ARENA_MIN) break;
    const nextoff = remaining < ARENA_MIN ? 0 : size;
    arenas.push(arenaGeometry(off, size, externalLbasize, nextoff));
    off += size;
  }
  return arenas;
}

export function encodeBttInfo(
  a: ArenaGeometry,
  version: BttVersion,
  uuid: Uint8Array,
  parentUuid: Uint8Array,
  flags = 0,
): Uint8Array {
  const b = BttInfo.encode({
    signature: BTT_SIG,
    uuid,
    parentUuid,
    flags,
    versionMajor: version === '1.1' ? 1 : 2,
    versionMinor: version === '1.1' ? 1 : 0,
    externalLbasize: a.externalLbasize,
    externalNlba: a.externalNlba,
    internalLbasize: a.internalLbasize,
    internalNlba: a.internalNlba,
    nfree: BTT_NFREE,
    infosize: BTT_INFO_SIZE,
    nextoff: BigInt(a.nextoff),
    dataoff: BigInt(a.dataoff),
    mapoff: BigInt(a.mapoff),
    logoff: BigInt(a.logoff),
    info2off: BigInt(a.info2off),
  });
  writeU64le(b, BTT_INFO_CHECKSUM_OFF, fletcher64(b));
  return b;
}

/**
 * Kernel nd_btt_arena_is_valid (§8.2): signature, parent uuid (when the stored one is not null),
 * checksum. Returns the decoded block or why it is invalid.
 */
export function validateBttInfo(
  block: Uint8Array,
  parentUuid: Uint8Array | undefined,
): BttInfoValue | { invalid: string } {
  const d = BttInfo.decode(block);
  if (d.signature !== BTT_SIG || block[15] !== 0) return { invalid: 'signature' };
  if (
    parentUuid !== undefined &&
    !isNullUuid(d.parentUuid) &&
    !sameBytes(d.parentUuid, parentUuid)
  ) {
    return { invalid: 'parent uuid' };
  }
  if (checksumWithHole(block, BTT_INFO_CHECKSUM_OFF) !== d.checksum) return { invalid: 'checksum' };
  return d;
}

/** The version string of a decoded info block ("1.1", "2.0", or what it holds). */
export function infoVersion(d: BttInfoValue): string {
  return `${d.versionMajor}.${d.versionMinor}`;
}

// Map entries (§8.4): bits 0–29 block, bit 30 E, bit 31 Z; 00 = identity, 11 = normal.
export const MAP_Z = 0x8000_0000;
export const MAP_E = 0x4000_0000;
export const MAP_BLOCK_MASK = 0x3fff_ffff;

export type MapState = 'initial' | 'normal' | 'error' | 'trim';

export function decodeMapEntry(raw: number, lba: number): { block: number; state: MapState } {
  const z = (raw & MAP_Z) !== 0;
  const e = (raw & MAP_E) !== 0;
  const state: MapState = z && e ? 'normal' : z ? 'trim' : e ? 'error' : 'initial';
  return { block: state === 'initial' ? lba : raw & MAP_BLOCK_MASK, state };
}

/** Flog entry (§8.5). */
export interface LogEntry {
  readonly lba: number;
  readonly oldMap: number;
  readonly newMap: number;
  readonly seq: number;
}
