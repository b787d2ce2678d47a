// Decoding and nvme-cli formatting of the zoned structures for `nvmemu nvme zns`: the ZNS
// Identify Namespace (JSON names as nvme-cli 2.x prints them) and Report Zones descriptors
// (`zone_list` entries and the normal-output line), formatted straight from the report bytes.

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

/** printf("%#-10x"): 0x-prefixed hex left-justified in `width` columns ("0" without prefix). */
function hexCol(n: number, width: number): string {
  return (n === 0 ? '0' : `0x${n.toString(16)}`).padEnd(width);
}

/** The same for the u64 at `at`, read as two halves (no bigint per field). */
function hexCol64(d: Uint8Array, at: number, width: number): string {
  const lo = readU32le(d, at);
  const hi = readU32le(d, at + 4);
  if (hi === 0) return hexCol(lo, width);
  return `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`.padEnd(width);
}

/** The u64 at `at` in decimal, exact above 2^53 (a Full zone's WP is 18446744073709551615). */
function dec64(d: Uint8Array, at: number): string {
  const hi = readU32le(d, at + 4);
  if (hi < 0x20_0000) return String(hi * 2 ** 32 + readU32le(d, at));
  return readU64le(d, at).toString();
}

/** Zones formatted per output chunk: large enough to amortise a write, small enough to stream. */
const ZONES_PER_WRITE = 4096;

/**
 * The descriptors of one or more Report Zones answers, kept as the bytes the target sent and
 * formatted straight from them: 100,000 zones used to become 100,000 objects with bigints and a
 * JSON object each, and the garbage collector took most of the 3 s the command ran.
 */
export class ZoneReport {
  readonly #extSize: number;
  readonly #entry: number;
  readonly #chunks: { readonly d: Uint8Array; readonly n: number }[] = [];
  /** Descriptors held. */
  count = 0;

  constructor(extSize: number) {
    this.#extSize = extSize;
    this.#entry = 64 + extSize;
  }

  /** Takes up to `max` descriptors of a report (header NRZONES bounds the count); how many. */
  add(d: Uint8Array, max: number): number {
    const nr = Math.min(Number(readU64le(d, 0)), max);
    const n = Math.max(0, Math.min(nr, Math.floor((d.length - 64) / this.#entry)));
    if (n > 0) this.#chunks.push({ d, n });
    this.count += n;
    return n;
  }

  /** ZSLBA of the last descriptor held (a report continues after it). */
  get lastSlba(): bigint {
    const last = this.#chunks[this.#chunks.length - 1];
    if (last === undefined) throw new RangeError('empty zone report');
    return readU64le(last.d, 64 + (last.n - 1) * this.#entry + 16);
  }

  *#descriptors(): Generator<{ d: Uint8Array; at: number }> {
    for (const { d, n } of this.#chunks) {
      for (let i = 0; i < n; i++) yield { d, at: 64 + i * this.#entry };
    }
  }

  /**
   * nvme-cli 2.3's normal output: `nr_zones: N`, then per zone the line it prints (measured in
   * the Linux guest): the raw ZS byte (state in bits 7:4) and ZT in hex, e.g.
   * `State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   `.
   */
  writeText(total: number, out: (text: string) => void): void {
    let lines: string[] = [`nr_zones: ${total}\n`];
    for (const { d, at } of this.#descriptors()) {
      lines.push(
        `SLBA: ${hexCol64(d, at + 16, 10)} WP: ${hexCol64(d, at + 24, 10)} ` +
          `Cap: ${hexCol64(d, at + 8, 10)} State: ${hexCol(readU8(d, at + 1) & 0xf0, 4)} ` +
          `Type: ${hexCol(readU8(d, at), 4)} Attrs: ${hexCol(readU8(d, at + 2), 4)} ` +
          `AttrsInfo: ${hexCol(readU8(d, at + 3), 4)}\n`,
      );
      if (lines.length >= ZONES_PER_WRITE) {
        out(lines.join(''));
        lines = [];
      }
    }
    if (lines.length > 0) out(lines.join(''));
  }

  /**
   * nvme-cli's JSON, `{nr_zones, zone_list: [{slba, wp, cap, state, type, attrs[, ext_data]}]}`,
   * laid out byte for byte as toJsonU64 (JSON.stringify, 2-space indent) would print it.
   */
  writeJson(total: number, out: (text: string) => void): void {
    const head = `{\n  "nr_zones": ${total},\n  "zone_list": [`;
    if (this.count === 0) {
      out(`${head}]\n}\n`);
      return;
    }
    let parts: string[] = [head];
    let sep = '\n';
    for (const { d, at } of this.#descriptors()) {
      const za = readU8(d, at + 2);
      let ext = '';
      if (this.#extSize > 0) {
        const valid = (za & 0x80) !== 0;
        const hex = valid
          ? Buffer.from(d.buffer, d.byteOffset + at + 64, this.#extSize).toString('hex')
          : 'Not valid';
        ext = `,\n      "ext_data": "${hex}"`;
      }
      parts.push(
        `${sep}    {\n      "slba": ${dec64(d, at + 16)},\n      "wp": ${dec64(d, at + 24)},\n` +
          `      "cap": ${dec64(d, at + 8)},\n` +
          `      "state": "${zoneStateName(readU8(d, at + 1) >> 4)}",\n` +
          `      "type": "${zoneTypeName(readU8(d, at))}",\n      "attrs": ${za}${ext}\n    }`,
      );
      sep = ',\n';
      if (parts.length >= ZONES_PER_WRITE) {
        out(parts.join(''));
        parts = [];
      }
    }
    parts.push('\n  ]\n}\n');
    out(parts.join(''));
  }
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
