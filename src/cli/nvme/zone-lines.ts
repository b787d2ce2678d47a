// Report Zones descriptors formatted straight into ASCII bytes, for `nvmemu nvme zns report-zones`
// of a hundred thousand zones and more (issue 20: the whole command in 0.5 s, Node's start
// included). A CLI runs this code once, cold, so it is written for V8's tiers: one loop per
// chunk that calls only small module functions on (buffer, position) and returns the new
// position; no objects, no strings and no TypedArray.set per field (a builtin call costs more
// than copying a 6-byte label by hand). zns-format.ts decides what goes where; the layouts are
// nvme-cli's (see there).

import { readU32le } from '../../util/bytes.js';

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const SPACE = 0x20;

/** ASCII `s` as bytes. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Copies the short `src` to `b` at `p`; returns the position after it. */
export function put(b: Uint8Array, p: number, src: Uint8Array): number {
  const n = src.length;
  if (n > 12) b.set(src, p);
  else for (let i = 0; i < n; i++) b[p + i] = src[i]!;
  return p + n;
}

/** `n` (u32) as lowercase hex, no prefix, at least `min` digits (zero-padded). */
export function putHex(b: Uint8Array, p: number, n: number, min: number): number {
  let k = n === 0 ? 1 : (35 - Math.clz32(n)) >> 2;
  if (k < min) k = min;
  for (let i = p + k - 1; i >= p; i--) {
    b[i] = HEX[n & 0xf]!;
    n >>>= 4;
  }
  return p + k;
}

/** printf("%#-Nx") of the u64 `hi`:`lo`: "0" or 0x-prefixed hex, space-padded to `width`. */
export function putHexCol(b: Uint8Array, p: number, lo: number, hi: number, width: number): number {
  const start = p;
  if (lo === 0 && hi === 0) b[p++] = 0x30;
  else {
    b[p++] = 0x30;
    b[p++] = 0x78;
    p = hi === 0 ? putHex(b, p, lo, 1) : putHex(b, putHex(b, p, hi, 1), lo, 8);
  }
  while (p - start < width) b[p++] = SPACE;
  return p;
}

/** A non-negative integer below 2^53 in decimal. */
export function putDec(b: Uint8Array, p: number, n: number): number {
  if (n < 0x8000_0000) return putDec31(b, p, n);
  let k = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) k++;
  for (let i = p + k - 1; i >= p; i--) {
    const q = Math.floor(n / 10);
    b[i] = 0x30 + (n - q * 10);
    n = q;
  }
  return p + k;
}

/** putDec below 2^31, in small-integer arithmetic (most LBAs of a report). */
function putDec31(b: Uint8Array, p: number, n: number): number {
  let k = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) k++;
  for (let i = p + k - 1; i >= p; i--) {
    const q = (n / 10) | 0;
    b[i] = 0x30 + n - q * 10;
    n = q;
  }
  return p + k;
}

/** `len` bytes of `d` from `at` as lowercase hex pairs (Buffer's 'hex'). */
export function putHexBytes(
  b: Uint8Array,
  p: number,
  d: Uint8Array,
  at: number,
  len: number,
): number {
  for (let i = 0; i < len; i++) {
    const v = d[at + i]!;
    b[p++] = HEX[v >> 4]!;
    b[p++] = HEX[v & 0xf]!;
  }
  return p;
}

const T_SLBA = ascii('SLBA: ');
const T_WP = ascii(' WP: ');
const T_CAP = ascii(' Cap: ');
const T_STATE = ascii(' State: ');
const T_TYPE = ascii(' Type: ');
const T_ATTRS = ascii(' Attrs: ');
const T_INFO = ascii(' AttrsInfo: ');
/** The longest text line: three 18-column u64 fields, four 4-column bytes and the labels. */
export const TEXT_LINE = 128;

/** u64 field `at` of `d` as a %#-10llx column. */
const hexCol64 = (b: Uint8Array, p: number, d: Uint8Array, at: number): number =>
  putHexCol(b, p, readU32le(d, at), readU32le(d, at + 4), 10);

/**
 * A line whose three u64 fields fit in 32 bits (all but a Full zone's WP and LBAs past 2^32):
 * every field fits its column, so the line is this template with digits written over the
 * blanks at FIELD offsets — one copy and the digits, instead of a label and padding per field.
 */
const TEMPLATE = ascii(
  'SLBA:            WP:            Cap:            State:      Type:      Attrs:      AttrsInfo:     \n',
);
const F_SLBA = 6;
const F_WP = 21;
const F_CAP = 37;
const F_STATE = 55;
const F_TYPE = 66;
const F_ATTRS = 78;
const F_INFO = 94;

/** %#x of a u32 (no padding: the template's blanks are the padding). */
function hexField(b: Uint8Array, p: number, n: number): void {
  if (n === 0) b[p] = 0x30;
  else {
    b[p] = 0x30;
    b[p + 1] = 0x78;
    putHex(b, p + 2, n, 1);
  }
}

/**
 * nvme-cli 2.3's report-zones line for each descriptor of `d` (`entry` bytes apart from byte
 * 64) from `from` while there are fewer than `n` and room for a line in `b`: returns the next
 * descriptor and the position after the last line.
 */
export function textLines(
  b: Uint8Array,
  p: number,
  d: Uint8Array,
  entry: number,
  from: number,
  n: number,
): { next: number; pos: number } {
  const limit = b.length - TEXT_LINE;
  let i = from;
  for (let at = 64 + i * entry; i < n && p <= limit; i++, at += entry) {
    if ((readU32le(d, at + 12) | readU32le(d, at + 20) | readU32le(d, at + 28)) === 0) {
      b.set(TEMPLATE, p);
      hexField(b, p + F_SLBA, readU32le(d, at + 16));
      hexField(b, p + F_WP, readU32le(d, at + 24));
      hexField(b, p + F_CAP, readU32le(d, at + 8));
      hexField(b, p + F_STATE, d[at + 1]! & 0xf0);
      hexField(b, p + F_TYPE, d[at]!);
      hexField(b, p + F_ATTRS, d[at + 2]!);
      hexField(b, p + F_INFO, d[at + 3]!);
      p += TEMPLATE.length;
      continue;
    }
    p = put(b, p, T_SLBA);
    p = hexCol64(b, p, d, at + 16);
    p = put(b, p, T_WP);
    p = hexCol64(b, p, d, at + 24);
    p = put(b, p, T_CAP);
    p = hexCol64(b, p, d, at + 8);
    p = put(b, p, T_STATE);
    p = putHexCol(b, p, d[at + 1]! & 0xf0, 0, 4);
    p = put(b, p, T_TYPE);
    p = putHexCol(b, p, d[at]!, 0, 4);
    p = put(b, p, T_ATTRS);
    p = putHexCol(b, p, d[at + 2]!, 0, 4);
    p = put(b, p, T_INFO);
    p = putHexCol(b, p, d[at + 3]!, 0, 4);
    b[p++] = 0x0a;
  }
  return { next: i, pos: p };
}

const J_FIRST = ascii('\n    {\n      "slba": ');
/** The end of an entry and the start of the next, in one copy. */
const J_NEXT = ascii('\n    },\n    {\n      "slba": ');
const J_WP = ascii(',\n      "wp": ');
const J_CAP = ascii(',\n      "cap": ');
const J_EXT = ascii(',\n      "ext_data": "');
const J_NOT_VALID = ascii('Not valid');
const J_END = ascii('\n    }');
/** A JSON entry without its extension: labels, three 20-digit numbers, the names. */
export const JSON_ENTRY = 320;

/**
 * `,"state": "<name>", "type": "<name>", "attrs": ` (with the JSON's line breaks and indent) for
 * each state and type byte met, made once: one copy per entry for the two names and three labels.
 */
export class StateTypeSegments {
  readonly #state: (zs: number) => string;
  readonly #type: (zt: number) => string;
  readonly #made: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(16 * 256);

  constructor(state: (zs: number) => string, type: (zt: number) => string) {
    this.#state = state;
    this.#type = type;
  }

  /** For the descriptor's ZS byte (state in bits 7:4) and ZT byte. */
  of(zsByte: number, zt: number): Uint8Array {
    const key = ((zsByte >> 4) << 8) | zt;
    let seg = this.#made[key];
    if (seg === undefined) {
      seg = ascii(
        `,\n      "state": "${this.#state(zsByte >> 4)}",\n      "type": "${this.#type(zt)}",\n      "attrs": `,
      );
      this.#made[key] = seg;
    }
    return seg;
  }
}

/** The u64 at `at` in decimal, exact above 2^53 (a Full zone's WP is 18446744073709551615). */
function dec64(b: Uint8Array, p: number, d: Uint8Array, at: number): number {
  const hi = readU32le(d, at + 4);
  const lo = readU32le(d, at);
  if (hi < 0x20_0000) return putDec(b, p, hi * 2 ** 32 + lo);
  // Above 2^53 (rare): through a bigint.
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  return put(b, p, ascii(v.toString()));
}

/**
 * nvme-cli's JSON `zone_list` entries for the descriptors of `d` from `from` while there are fewer
 * than `n` and room for an entry (with `ext` extension bytes) in `b`, each but the last closed
 * (`first`: the very first entry of the list comes next; the caller closes the last with
 * JSON_LAST). Returns the next descriptor and the position.
 */
export function jsonEntries(
  b: Uint8Array,
  p: number,
  d: Uint8Array,
  entry: number,
  ext: number,
  names: StateTypeSegments,
  from: number,
  n: number,
  first: boolean,
): { next: number; pos: number } {
  const limit = b.length - JSON_ENTRY - 2 * ext;
  let i = from;
  for (let at = 64 + i * entry; i < n && p <= limit; i++, at += entry) {
    const za = d[at + 2]!;
    p = put(b, p, first && i === from ? J_FIRST : J_NEXT);
    p = dec64(b, p, d, at + 16);
    p = put(b, p, J_WP);
    p = dec64(b, p, d, at + 24);
    p = put(b, p, J_CAP);
    p = dec64(b, p, d, at + 8);
    p = put(b, p, names.of(d[at + 1]!, d[at]!));
    p = putDec(b, p, za);
    if (ext > 0) {
      p = put(b, p, J_EXT);
      p = (za & 0x80) !== 0 ? putHexBytes(b, p, d, at + 64, ext) : put(b, p, J_NOT_VALID);
      b[p++] = 0x22;
    }
  }
  return { next: i, pos: p };
}

/** Closes the last entry of the list. */
export const JSON_LAST = J_END;
