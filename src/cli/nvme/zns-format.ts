// Decoding and nvme-cli formatting of the zoned structures for `nvmemu nvme zns`: the ZNS
// Identify Namespace (JSON names as nvme-cli 2.x prints them) and Report Zones descriptors
// (`zone_list` entries and the normal-output line), formatted straight from the report bytes.

import { readU16le, readU32le, readU64le, readU8 } from '../../util/bytes.js';
import { AsciiOut, ascii } from './ascii-out.js';

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

/** Bytes per string handed to the output (one write each). */
const CHUNK = 1 << 19;

const TEXT = {
  slba: ascii('SLBA: '),
  wp: ascii(' WP: '),
  cap: ascii(' Cap: '),
  state: ascii(' State: '),
  type: ascii(' Type: '),
  attrs: ascii(' Attrs: '),
  info: ascii(' AttrsInfo: '),
  nl: ascii('\n'),
};
/** The longest text line: three 18-column u64 fields, four 4-column bytes and the labels. */
const TEXT_LINE = 128;

const JSON_PARTS = {
  first: ascii('\n    {\n      "slba": '),
  next: ascii(',\n    {\n      "slba": '),
  wp: ascii(',\n      "wp": '),
  cap: ascii(',\n      "cap": '),
  state: ascii(',\n      "state": "'),
  type: ascii('",\n      "type": "'),
  attrs: ascii('",\n      "attrs": '),
  ext: ascii(',\n      "ext_data": "'),
  notValid: ascii('Not valid'),
  quote: ascii('"'),
  end: ascii('\n    }'),
};
/** A JSON entry without its extension: labels, three 20-digit numbers, the names. */
const JSON_ENTRY = 320;
const STATE_BYTES = Array.from({ length: 16 }, (_, zs) => ascii(zoneStateName(zs)));
const TYPE_BYTES = Array.from({ length: 256 }, (_, zt) => ascii(zoneTypeName(zt)));

/**
 * The descriptors of one or more Report Zones answers, kept as the bytes the target sent and
 * formatted straight from them into ASCII bytes (ascii-out.ts): 100,000 zones used to become
 * 100,000 objects with bigints and a JSON object each, then a handful of strings per line.
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

  /**
   * nvme-cli 2.3's normal output: `nr_zones: N`, then per zone the line it prints (measured in
   * the Linux guest): the raw ZS byte (state in bits 7:4) and ZT in hex, e.g.
   * `State: 0x10 Type: 0x2  Attrs: 0    AttrsInfo: 0   `.
   */
  writeText(total: number, out: (text: string) => void): void {
    const w = new AsciiOut(out, CHUNK, TEXT_LINE);
    w.text(`nr_zones: ${total}\n`);
    const u64 = (d: Uint8Array, at: number): void =>
      w.hexCol(readU32le(d, at), readU32le(d, at + 4), 10);
    for (const { d, n } of this.#chunks) {
      for (let i = 0, at = 64; i < n; i++, at += this.#entry) {
        w.unit();
        w.bytes(TEXT.slba);
        u64(d, at + 16);
        w.bytes(TEXT.wp);
        u64(d, at + 24);
        w.bytes(TEXT.cap);
        u64(d, at + 8);
        w.bytes(TEXT.state);
        w.hexCol(d[at + 1]! & 0xf0, 0, 4);
        w.bytes(TEXT.type);
        w.hexCol(d[at]!, 0, 4);
        w.bytes(TEXT.attrs);
        w.hexCol(d[at + 2]!, 0, 4);
        w.bytes(TEXT.info);
        w.hexCol(d[at + 3]!, 0, 4);
        w.bytes(TEXT.nl);
      }
    }
    w.flush();
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
    const ext = this.#extSize;
    const w = new AsciiOut(out, CHUNK, JSON_ENTRY + 2 * ext);
    w.text(head);
    // The u64 at `at` in decimal, exact above 2^53 (a Full zone's WP is 18446744073709551615).
    const u64 = (d: Uint8Array, at: number): void => {
      const hi = readU32le(d, at + 4);
      if (hi < 0x20_0000) w.dec(hi * 2 ** 32 + readU32le(d, at));
      else w.text(readU64le(d, at).toString());
    };
    let sep = JSON_PARTS.first;
    for (const { d, n } of this.#chunks) {
      for (let i = 0, at = 64; i < n; i++, at += this.#entry) {
        const za = d[at + 2]!;
        w.unit();
        w.bytes(sep);
        sep = JSON_PARTS.next;
        u64(d, at + 16);
        w.bytes(JSON_PARTS.wp);
        u64(d, at + 24);
        w.bytes(JSON_PARTS.cap);
        u64(d, at + 8);
        w.bytes(JSON_PARTS.state);
        w.bytes(STATE_BYTES[d[at + 1]! >> 4]!);
        w.bytes(JSON_PARTS.type);
        w.bytes(TYPE_BYTES[d[at]!]!);
        w.bytes(JSON_PARTS.attrs);
        w.dec(za);
        if (ext > 0) {
          w.bytes(JSON_PARTS.ext);
          if ((za & 0x80) !== 0) w.hexBytes(d, at + 64, ext);
          else w.bytes(JSON_PARTS.notValid);
          w.bytes(JSON_PARTS.quote);
        }
        w.bytes(JSON_PARTS.end);
      }
    }
    w.unit();
    w.text('\n  ]\n}\n');
    w.flush();
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
