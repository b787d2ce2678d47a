// PFN / DAX info block for fsdax and devdax namespaces (reference qemu-pmem-ndctl.md §9):
// layout, the kernel's nd_pfn_init geometry, and probe validation.

import { fletcher64 } from '../../util/crc.js';
import { defineLayout } from '../../util/layout.js';
import { writeU64le } from '../../util/bytes.js';
import { alignDown, alignUp } from '../../util/u64.js';
import { checksumWithHole } from './label-format.js';
import { sameBytes } from './guid.js';

export const PFN_SIG = 'NVDIMM_PFN_INFO';
export const DAX_SIG = 'NVDIMM_DAX_INFO';
export const PFN_INFO_OFF = 4096;
export const PFN_INFO_SIZE = 4096;
export const PFN_CHECKSUM_OFF = 4088;
export const PAGE_SIZE = 4096;
export const STRUCT_PAGE_SIZE = 64;
/** memremap_compat_align() on x86-64. */
export const COMPAT_ALIGN = 2 * 1024 * 1024;
/** nd_pfn_supported_alignments on x86-64 with THP and PUD THP (§9.4). */
export const PFN_ALIGNS = [4096, 2 * 1024 * 1024, 1024 * 1024 * 1024] as const;

export type PfnKind = 'fsdax' | 'devdax';
export type PfnMap = 'mem' | 'dev';

/** §9.2 `struct nd_pfn_sb`. */
export const PfnInfo = defineLayout('PFN info block', PFN_INFO_SIZE, [
  { name: 'signature', offset: 0, type: { ascii: 16, pad: 0 } },
  { name: 'uuid', offset: 16, type: { bytes: 16 } },
  { name: 'parentUuid', offset: 32, type: { bytes: 16 } },
  { name: 'flags', offset: 48, type: 'u32le' },
  { name: 'versionMajor', offset: 52, type: 'u16le' },
  { name: 'versionMinor', offset: 54, type: 'u16le' },
  { name: 'dataoff', offset: 56, type: 'u64le' },
  { name: 'npfns', offset: 64, type: 'u64le' },
  { name: 'mode', offset: 72, type: 'u32le' },
  { name: 'startPad', offset: 76, type: 'u32le' },
  { name: 'endTrunc', offset: 80, type: 'u32le' },
  { name: 'align', offset: 84, type: 'u32le' },
  { name: 'pageSize', offset: 88, type: 'u32le' },
  { name: 'pageStructSize', offset: 92, type: 'u16le' },
  { name: 'checksum', offset: PFN_CHECKSUM_OFF, type: 'u64le' },
] as const);

export type PfnInfoValue = ReturnType<typeof PfnInfo.decode>;

export interface PfnGeometry {
  readonly dataoff: number;
  readonly npfns: number;
  readonly endTrunc: number;
  /** The align field (the requested alignment, not the max with compat). */
  readonly align: number;
  readonly mode: 1 | 2;
}

/**
 * §9.3 nd_pfn_init: `start` = physical start of the namespace, `size` its size. Returns the
 * kernel's message text when it refuses.
 */
export function pfnGeometry(
  start: number,
  size: number,
  map: PfnMap,
  requestedAlign: number,
): PfnGeometry | { error: string } {
  const npfns0 = Math.floor((size - 8192) / PAGE_SIZE);
  const align = Math.max(requestedAlign, COMPAT_ALIGN);
  if (start % COMPAT_ALIGN !== 0) {
    return { error: `start 0x${start.toString(16)} misaligned to 0x${COMPAT_ALIGN.toString(16)}` };
  }
  const end = start + size;
  const endTrunc = end - alignDown(end, align);
  const dataoff =
    map === 'dev'
      ? alignUp(start + 8192 + STRUCT_PAGE_SIZE * npfns0, align) - start
      : alignUp(start + 8192, align) - start;
  if (dataoff >= size) return { error: 'unable to satisfy requested alignment' };
  const npfns = Math.floor((size - dataoff - endTrunc) / PAGE_SIZE);
  return { dataoff, npfns, endTrunc, align: requestedAlign, mode: map === 'dev' ? 2 : 1 };
}

export function encodePfnInfo(
  kind: PfnKind,
  g: PfnGeometry,
  uuid: Uint8Array,
  parentUuid: Uint8Array,
): Uint8Array {
  const b = PfnInfo.encode({
    signature: kind === 'fsdax' ? PFN_SIG : DAX_SIG,
    uuid,
    parentUuid,
    flags: 0,
    versionMajor: 1,
    versionMinor: 4,
    dataoff: BigInt(g.dataoff),
    npfns: BigInt(g.npfns),
    mode: g.mode,
    startPad: 0,
    endTrunc: g.endTrunc,
    align: g.align,
    pageSize: PAGE_SIZE,
    pageStructSize: STRUCT_PAGE_SIZE,
  });
  writeU64le(b, PFN_CHECKSUM_OFF, fletcher64(b));
  return b;
}

/** A validated info block with the minor-version defaults applied (§9.4). */
export interface PfnProbe {
  readonly kind: PfnKind;
  readonly info: PfnInfoValue;
  readonly map: PfnMap;
  readonly dataoff: number;
  readonly endTrunc: number;
  readonly align: number;
}

/** Largest power of two dividing `n` (align of a minor < 2 block). */
function lowBit(n: number): number {
  let a = 1;
  while (a < 2 ** 40 && n % (a * 2) === 0) a *= 2;
  return a;
}

/**
 * nd_pfn_validate for the block read at namespace offset 4096 (§9.4): signature of `kind`,
 * checksum, parent uuid equal to the namespace uuid, mode 1 or 2, dataoff inside the namespace.
 */
export function validatePfnInfo(
  block: Uint8Array,
  kind: PfnKind,
  parentUuid: Uint8Array,
  nsSize: number,
): PfnProbe | { invalid: string } {
  const d = PfnInfo.decode(block);
  if (d.signature !== (kind === 'fsdax' ? PFN_SIG : DAX_SIG) || block[15] !== 0) {
    return { invalid: 'signature' };
  }
  if (checksumWithHole(block, PFN_CHECKSUM_OFF) !== d.checksum) return { invalid: 'checksum' };
  if (!sameBytes(d.parentUuid, parentUuid)) return { invalid: 'parent uuid' };
  if (d.mode !== 1 && d.mode !== 2) return { invalid: `mode ${d.mode}` };
  const minor = d.versionMinor;
  const dataoff = Number(d.dataoff);
  const endTrunc = minor < 1 ? 0 : d.endTrunc;
  const align = minor < 2 || d.align === 0 ? lowBit(dataoff) : d.align;
  if (dataoff >= nsSize || dataoff % PAGE_SIZE !== 0) {
    return { invalid: `bad offset: 0x${dataoff.toString(16)}` };
  }
  if (minor >= 4 && d.mode === 2 && d.pageSize > PAGE_SIZE) {
    return { invalid: `page size mismatch ${d.pageSize}` };
  }
  return { kind, info: d, map: d.mode === 2 ? 'dev' : 'mem', dataoff, endTrunc, align };
}
