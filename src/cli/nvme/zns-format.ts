// Decoding and nvme-cli formatting of the zoned structures for `nvmemu nvme zns`: the ZNS
// Identify Namespace (JSON names as nvme-cli 2.x prints them) and Report Zones descriptors
// (`zone_list` entries and the normal-output line), formatted straight from the report bytes.

import { readU16le, readU32le, readU64le, readU8 } from '../../util/bytes.js';
import { jsonEntries, JSON_ENTRY, JSON_LAST, StateTypeSegments, textLines } from './zone-lines.js';

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

const NAMES = new StateTypeSegments(zoneStateName, zoneTypeName);

/**
 * The descriptors of one or more Report Zones answers, kept as the bytes the target sent and
 * formatted straight from them into ASCII bytes (zone-lines.ts), a chunk at a time, each chunk
 * handed to the output as it is (a fresh buffer each, so the output may keep it): 100,000
 * zones used to become 100,000 objects with bigints and a JSON object each, then a handful of
 * strings per line.
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
  writeText(total: number, out: (bytes: Uint8Array) => void): void {
    let b = Buffer.allocUnsafe(CHUNK);
    let p = b.write(`nr_zones: ${total}\n`, 0, 'latin1');
    for (const { d, n } of this.#chunks) {
      for (let i = 0; i < n;) {
        const r = textLines(b, p, d, this.#entry, i, n);
        i = r.next;
        p = r.pos;
        if (i < n) {
          out(b.subarray(0, p));
          b = Buffer.allocUnsafe(CHUNK);
          p = 0;
        }
      }
    }
    out(b.subarray(0, p));
  }

  /**
   * nvme-cli's JSON, `{nr_zones, zone_list: [{slba, wp, cap, state, type, attrs[, ext_data]}]}`,
   * laid out byte for byte as toJsonU64 (JSON.stringify, 2-space indent) would print it.
   */
  writeJson(total: number, out: (bytes: Uint8Array) => void): void {
    const head = `{\n  "nr_zones": ${total},\n  "zone_list": [`;
    if (this.count === 0) {
      out(Buffer.from(`${head}]\n}\n`, 'latin1'));
      return;
    }
    const ext = this.#extSize;
    const size = Math.max(CHUNK, 2 * (JSON_ENTRY + 2 * ext));
    let b = Buffer.allocUnsafe(size);
    let p = b.write(head, 0, 'latin1');
    let first = true;
    for (const { d, n } of this.#chunks) {
      for (let i = 0; i < n;) {
        const r = jsonEntries(b, p, d, this.#entry, ext, NAMES, i, n, first);
        first &&= r.next === i;
        i = r.next;
        p = r.pos;
        if (i < n) {
          out(b.subarray(0, p));
          b = Buffer.allocUnsafe(size);
          p = 0;
        }
      }
    }
    const tail = '\n  ]\n}\n';
    if (p + JSON_LAST.length + tail.length > b.length) {
      out(b.subarray(0, p));
      b = Buffer.allocUnsafe(size);
      p = 0;
    }
    b.set(JSON_LAST, p);
    p += JSON_LAST.length;
    p += b.write(tail, p, 'latin1');
    out(b.subarray(0, p));
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
