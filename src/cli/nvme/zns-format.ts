// Decoding and nvme-cli formatting of the zoned structures for `nvmemu nvme zns`: the ZNS
// Identify Namespace (JSON names as nvme-cli 2.x prints them) and Report Zones descriptors
// (`zone_list` entries and the normal-output line).

import { readU16le, readU32le, readU64le, readU8 } from '../../util/bytes.js';

const STATE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x1, 'EMPTY'],
  [0x2, 'IMP_OPENED'],
  [0x3, 'EXP_OPENED'],
  [0x4, 'CLOSED'],
  [0xd, 'READONLY'],
  [0xe, 'FULL'],
  [0xf, 'OFFLINE'],
]);

/** nvme_zone_state_to_string. */
export function zoneStateName(zs: number): string {
  return STATE_NAMES.get(zs) ?? 'Unknown State';
}

/** nvme_zone_type_to_string. */
export function zoneTypeName(zt: number): string {
  return zt === 0x2 ? 'SEQWRITE_REQ' : 'Unknown';
}

export interface IdNsZonedJson {
  readonly zoc: number;
  readonly ozcs: number;
  readonly mar: number;
  readonly mor: number;
  readonly rrl: number;
  readonly frl: number;
  readonly rrl1: number;
  readonly rrl2: number;
  readonly rrl3: number;
  readonly frl1: number;
  readonly frl2: number;
  readonly frl3: number;
  readonly numzrwa: number;
  readonly zrwafg: number;
  readonly zrwasz: number;
  readonly zrwacap: number;
  readonly lbafe: { zsze: bigint; zdes: number }[];
}

/** CNS 05h CSI 02h with `nlbaf` (0's based) LBA format extensions. */
export function decodeIdNsZoned(d: Uint8Array, nlbaf: number): IdNsZonedJson {
  const u32 = (o: number): number => readU32le(d, o);
  const lbafe = [];
  for (let i = 0; i <= nlbaf; i++) {
    lbafe.push({ zsze: readU64le(d, 2816 + 16 * i), zdes: readU8(d, 2816 + 16 * i + 8) });
  }
  return {
    zoc: readU16le(d, 0),
    ozcs: readU16le(d, 2),
    mar: u32(4),
    mor: u32(8),
    rrl: u32(12),
    frl: u32(16),
    rrl1: u32(20),
    rrl2: u32(24),
    rrl3: u32(28),
    frl1: u32(32),
    frl2: u32(36),
    frl3: u32(40),
    numzrwa: u32(44),
    zrwafg: readU16le(d, 48),
    zrwasz: readU16le(d, 50),
    zrwacap: readU8(d, 52),
    lbafe,
  };
}

export interface ZoneEntry {
  readonly slba: bigint;
  readonly wp: bigint;
  readonly cap: bigint;
  readonly state: number;
  readonly type: number;
  readonly attrs: number;
  readonly attrsInfo: number;
  readonly ext: Uint8Array | undefined;
  /** The `zone_list` object nvme-cli 2.3 prints (no attrs_info in its JSON). */
  readonly json: Record<string, unknown>;
}

/** Up to `max` descriptors of a report (header NRZONES bounds the count). */
export function decodeReport(d: Uint8Array, extSize: number, max: number): ZoneEntry[] {
  const nr = Math.min(Number(readU64le(d, 0)), max);
  const entry = 64 + extSize;
  const out: ZoneEntry[] = [];
  for (let i = 0; i < nr && 64 + (i + 1) * entry <= d.length; i++) {
    const at = 64 + i * entry;
    const zs = readU8(d, at + 1) >> 4;
    const za = readU8(d, at + 2);
    const ext = extSize > 0 && (za & 0x80) !== 0 ? d.slice(at + 64, at + 64 + extSize) : undefined;
    const e = {
      slba: readU64le(d, at + 16),
      wp: readU64le(d, at + 24),
      cap: readU64le(d, at + 8),
      state: zs,
      type: readU8(d, at),
      attrs: za,
      attrsInfo: readU8(d, at + 3),
      ext,
    };
    const json: Record<string, unknown> = {
      slba: e.slba,
      wp: e.wp,
      cap: e.cap,
      state: zoneStateName(zs),
      type: zoneTypeName(e.type),
      attrs: za,
    };
    if (extSize > 0)
      json.ext_data = ext !== undefined ? Buffer.from(ext).toString('hex') : 'Not valid';
    out.push({ ...e, json });
  }
  return out;
}

/** printf("%#-10x"): 0x-prefixed hex left-justified in 10 columns ("0" without prefix). */
function hexCol(n: bigint | number, width: number): string {
  const s = n === 0 || n === 0n ? '0' : `0x${n.toString(16)}`;
  return s.padEnd(width);
}

/**
 * nvme-cli 2.3's normal report-zones line (measured in the Linux guest): the raw ZS byte
 * (state in bits 7:4) and ZT in hex, e.g. `State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   `.
 */
export function zoneLine(z: ZoneEntry): string {
  return (
    `SLBA: ${hexCol(z.slba, 10)} WP: ${hexCol(z.wp, 10)} Cap: ${hexCol(z.cap, 10)} ` +
    `State: ${hexCol(z.state << 4, 4)} Type: ${hexCol(z.type, 4)} ` +
    `Attrs: ${hexCol(z.attrs, 4)} AttrsInfo: ${hexCol(z.attrsInfo, 4)}\n`
  );
}

/**
 * JSON as nvme-cli prints it: 64-bit values as plain numbers, even above 2^53 (a Full zone's
 * WP is 18446744073709551615), which JSON.stringify cannot do for a bigint.
 */
export function toJsonU64(value: unknown): string {
  const MARK = '\u0000u64:';
  const s = JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === 'bigint' ? `${MARK}${v.toString()}` : v),
    2,
  );
  return s.replace(/"\\u0000u64:(\d+)"/g, '$1') + '\n';
}
