// Zoned structures, each declared once as a layout table (house rule 3):
// - Zone Descriptor, ZNS Command Set 1.1 §3.4.2.2.3 Figure 37 (64 bytes);
// - Report Zones header, Figure 36 (64 bytes: Number of Zones, then reserved);
// - I/O Command Set specific Identify Namespace for the Zoned command set (CNS 05h, CSI 02h),
//   Figure 49 (4096 bytes), with the LBA Format Extension entries of Figure 50 (16 bytes).
// QEMU 7.2's values (reference §6.1).

import { defineLayout } from '../../../util/layout.js';
import { checkRange, writeU32le, writeU64le, writeU8 } from '../../../util/bytes.js';
import { ZoneState, type Zone, type ZoneStateValue } from './state.js';

export const ZONE_DESCRIPTOR_SIZE = 64;
export const REPORT_HEADER_SIZE = 64;
export const ID_NS_ZONED_SIZE = 4096;

/** Zone Type 2: sequential write required (the only type ZNS defines). */
export const ZONE_TYPE_SEQWRITE_REQ = 0x2;
export const ZoneDescriptorLayout = defineLayout('zone-descriptor', ZONE_DESCRIPTOR_SIZE, [
  { name: 'zt', offset: 0, type: 'u8' },
  /** Zone State in bits 7:4. */
  { name: 'zs', offset: 1, type: 'u8' },
  { name: 'za', offset: 2, type: 'u8' },
  { name: 'zai', offset: 3, type: 'u8' },
  { name: 'zcap', offset: 8, type: 'u64le' },
  { name: 'zslba', offset: 16, type: 'u64le' },
  { name: 'wp', offset: 24, type: 'u64le' },
]);

export const ReportHeaderLayout = defineLayout('report-zones-header', REPORT_HEADER_SIZE, [
  { name: 'nrZones', offset: 0, type: 'u64le' },
]);

const LBAFE_OFFSET = 2816;
const LBAFE_SIZE = 16;
const LBAFE_ENTRIES = 64;

export const IdNsZonedLayout = defineLayout('identify-ns-zoned', ID_NS_ZONED_SIZE, [
  { name: 'zoc', offset: 0, type: 'u16le' },
  { name: 'ozcs', offset: 2, type: 'u16le' },
  { name: 'mar', offset: 4, type: 'u32le' },
  { name: 'mor', offset: 8, type: 'u32le' },
  { name: 'rrl', offset: 12, type: 'u32le' },
  { name: 'frl', offset: 16, type: 'u32le' },
  { name: 'rrl1', offset: 20, type: 'u32le' },
  { name: 'rrl2', offset: 24, type: 'u32le' },
  { name: 'rrl3', offset: 28, type: 'u32le' },
  { name: 'frl1', offset: 32, type: 'u32le' },
  { name: 'frl2', offset: 36, type: 'u32le' },
  { name: 'frl3', offset: 40, type: 'u32le' },
  { name: 'numzrwa', offset: 44, type: 'u32le' },
  { name: 'zrwafg', offset: 48, type: 'u16le' },
  { name: 'zrwas', offset: 50, type: 'u16le' },
  { name: 'zrwacap', offset: 52, type: 'u8' },
  { name: 'lbafe', offset: LBAFE_OFFSET, type: { bytes: LBAFE_ENTRIES * LBAFE_SIZE } },
]);

/** OZCS bit 0: Read Across Zone Boundaries; bit 1: ZRWA supported. */
export const OZCS_RAZB = 0x1;
export const OZCS_ZRWASUP = 0x2;
/** ZRWACAP bit 0: explicit ZRWA flush supported. */
const ZRWACAP_EXPFLUSHSUP = 0x1;

export interface IdNsZonedFields {
  readonly crossRead: boolean;
  readonly maxActive: number;
  readonly maxOpen: number;
  /** The numzrwa property as given. */
  readonly numZrwa: number;
  /** ZRWA size and flush granularity in blocks; zrwas 0 = no ZRWA support. */
  readonly zrwasBlocks: number;
  readonly zrwafgBlocks: number;
  /** Zone size in blocks, reported for every LBA format (QEMU fills each entry). */
  readonly zsze: number;
  /** Descriptor extension size in 64-byte units. */
  readonly zdes: number;
  /** Number of LBA formats (NLBAF + 1). */
  readonly nlbaf: number;
}

/** CNS 05h CSI 02h. MAR/MOR are 0's based; 0xFFFFFFFF means no limit. */
export function encodeIdNsZoned(f: IdNsZonedFields): Uint8Array {
  const lbafe = new Uint8Array(LBAFE_ENTRIES * LBAFE_SIZE);
  for (let i = 0; i < f.nlbaf; i++) {
    writeU64le(lbafe, i * LBAFE_SIZE, BigInt(f.zsze));
    writeU8(lbafe, i * LBAFE_SIZE + 8, f.zdes);
  }
  const zrwa = f.zrwasBlocks !== 0;
  return IdNsZonedLayout.encode({
    zoc: 0,
    ozcs: (f.crossRead ? OZCS_RAZB : 0) | (zrwa ? OZCS_ZRWASUP : 0),
    mar: (f.maxActive - 1) >>> 0,
    mor: (f.maxOpen - 1) >>> 0,
    numzrwa: zrwa ? f.numZrwa : 0,
    zrwafg: zrwa ? f.zrwafgBlocks : 0,
    zrwas: zrwa ? f.zrwasBlocks : 0,
    zrwacap: zrwa ? ZRWACAP_EXPFLUSHSUP : 0,
    lbafe,
  });
}

const ZD = {
  zt: ZoneDescriptorLayout.offsetOf('zt'),
  zs: ZoneDescriptorLayout.offsetOf('zs'),
  za: ZoneDescriptorLayout.offsetOf('za'),
  zcap: ZoneDescriptorLayout.offsetOf('zcap'),
  zslba: ZoneDescriptorLayout.offsetOf('zslba'),
  wp: ZoneDescriptorLayout.offsetOf('wp'),
};

/** A u64 field from a number below 2^53, as two u32 halves (no bigint per descriptor). */
function putU64(buf: Uint8Array, off: number, v: number): void {
  writeU32le(buf, off, v % 2 ** 32);
  writeU32le(buf, off + 4, Math.floor(v / 2 ** 32));
}

/**
 * One zone descriptor (the layout above; reserved bytes zero); WP is all ones when the zone has
 * no write pointer. Field by field rather than through ZoneDescriptorLayout.encode: Report
 * Zones encodes one per zone, 100,000 and more in one command.
 */
export function encodeZoneDescriptor(z: Zone, buf: Uint8Array, off: number): void {
  checkRange(buf, off, ZONE_DESCRIPTOR_SIZE);
  buf.fill(0, off, off + ZONE_DESCRIPTOR_SIZE);
  putZoneDescriptor(buf, off, z.state, z.za, z.zcap, z.zslba, z.wp);
}

/**
 * The fields of a zone descriptor into `buf` at `off`, which must hold 64 zeroed bytes (Report
 * Zones fills a fresh buffer straight from the zone table's rows, without a view per zone).
 */
export function putZoneDescriptor(
  buf: Uint8Array,
  off: number,
  state: ZoneStateValue,
  za: number,
  zcap: number,
  zslba: number,
  wp: number,
): void {
  const noWp =
    state === ZoneState.FULL || state === ZoneState.READ_ONLY || state === ZoneState.OFFLINE;
  writeU8(buf, off + ZD.zt, ZONE_TYPE_SEQWRITE_REQ);
  writeU8(buf, off + ZD.zs, state << 4);
  writeU8(buf, off + ZD.za, za);
  putU64(buf, off + ZD.zcap, zcap);
  putU64(buf, off + ZD.zslba, zslba);
  if (noWp) {
    writeU32le(buf, off + ZD.wp, 0xffff_ffff);
    writeU32le(buf, off + ZD.wp + 4, 0xffff_ffff);
  } else {
    putU64(buf, off + ZD.wp, wp);
  }
}
