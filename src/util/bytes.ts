// The only module that touches multi-byte fields (DESIGN.md house rule 3). Every access names its
// byte order and is bounds-checked: reading past the end of a buffer raises DecodeError, which the
// protocol layers turn into a status; it never silently yields `undefined` or zero.
// 64-bit fields are bigint (house rule 9); convert with u64.ts toSafeNumber when a number is needed.

import { EmuError, ErrorCode } from './errors.js';

/** A DataView over exactly the bytes of `u8` (never the whole underlying ArrayBuffer). */
export function viewOf(u8: Uint8Array): DataView {
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

/**
 * An access needed `need` bytes at `offset` but only `have` bytes were available there
 * (`have` is the count from `offset` to the end of the buffer, 0 when `offset` is past it).
 */
export class DecodeError extends EmuError {
  declare readonly code: 'EMU_ERR_DECODE';
  readonly offset: number;
  readonly need: number;
  readonly have: number;

  constructor(offset: number, need: number, have: number, message?: string) {
    super(
      ErrorCode.EMU_ERR_DECODE,
      message ?? `need ${need} byte(s) at offset ${offset}, have ${have}`,
    );
    this.offset = offset;
    this.need = need;
    this.have = have;
  }
}

/** Throw DecodeError unless `need` bytes are available at integer offset `off` of `buf`. */
export function checkRange(buf: Uint8Array, off: number, need: number): void {
  if (Number.isInteger(off) && off >= 0 && off + need <= buf.length) return;
  const have = Number.isInteger(off) && off >= 0 ? Math.max(0, buf.length - off) : 0;
  throw new DecodeError(off, need, have);
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what}: byte count must be a non-negative integer, got ${n}`);
  }
}

function checkUint(value: number, bits: 8 | 16 | 32): void {
  const max = bits === 32 ? 0xffff_ffff : (1 << bits) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`value ${value} out of range for u${bits} (0..${max})`);
  }
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function checkU64(value: bigint): void {
  if (value < 0n || value > U64_MAX) {
    throw new RangeError(`value ${value} out of range for u64 (0..${U64_MAX})`);
  }
}

// After checkRange() every index below is in range, so the non-null assertions are sound.

export function readU8(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 1);
  return buf[off]!;
}

export function readU16le(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 2);
  return buf[off]! | (buf[off + 1]! << 8);
}

export function readU16be(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 2);
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function readU32le(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 4);
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

export function readU32be(buf: Uint8Array, off: number): number {
  checkRange(buf, off, 4);
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function readU64le(buf: Uint8Array, off: number): bigint {
  checkRange(buf, off, 8);
  const lo = readU32le(buf, off);
  const hi = readU32le(buf, off + 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function readU64be(buf: Uint8Array, off: number): bigint {
  checkRange(buf, off, 8);
  const hi = readU32be(buf, off);
  const lo = readU32be(buf, off + 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeU8(buf: Uint8Array, off: number, value: number): void {
  checkUint(value, 8);
  checkRange(buf, off, 1);
  buf[off] = value;
}

export function writeU16le(buf: Uint8Array, off: number, value: number): void {
  checkUint(value, 16);
  checkRange(buf, off, 2);
  buf[off] = value & 0xff;
  buf[off + 1] = value >>> 8;
}

export function writeU16be(buf: Uint8Array, off: number, value: number): void {
  checkUint(value, 16);
  checkRange(buf, off, 2);
  buf[off] = value >>> 8;
  buf[off + 1] = value & 0xff;
}

export function writeU32le(buf: Uint8Array, off: number, value: number): void {
  checkUint(value, 32);
  checkRange(buf, off, 4);
  buf[off] = value & 0xff;
  buf[off + 1] = (value >>> 8) & 0xff;
  buf[off + 2] = (value >>> 16) & 0xff;
  buf[off + 3] = value >>> 24;
}

export function writeU32be(buf: Uint8Array, off: number, value: number): void {
  checkUint(value, 32);
  checkRange(buf, off, 4);
  buf[off] = value >>> 24;
  buf[off + 1] = (value >>> 16) & 0xff;
  buf[off + 2] = (value >>> 8) & 0xff;
  buf[off + 3] = value & 0xff;
}

export function writeU64le(buf: Uint8Array, off: number, value: bigint): void {
  checkU64(value);
  checkRange(buf, off, 8);
  writeU32le(buf, off, Number(value & 0xffff_ffffn));
  writeU32le(buf, off + 4, Number(value >> 32n));
}

/**
 * A u64 field from a non-negative safe integer (a counter kept as a number on a hot path, where
 * a bigint per field would be an allocation): the same bytes as writeU64le(BigInt(value)).
 */
export function writeU53le(buf: Uint8Array, off: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`value ${value} is not a non-negative safe integer (u64 from a number)`);
  }
  checkRange(buf, off, 8);
  const lo = value % 0x1_0000_0000;
  writeU32le(buf, off, lo);
  writeU32le(buf, off + 4, (value - lo) / 0x1_0000_0000);
}

export function writeU64be(buf: Uint8Array, off: number, value: bigint): void {
  checkU64(value);
  checkRange(buf, off, 8);
  writeU32be(buf, off, Number(value >> 32n));
  writeU32be(buf, off + 4, Number(value & 0xffff_ffffn));
}

/**
 * Decode a fixed-width ASCII field (Identify strings, ndctl names): trailing spaces and NULs are
 * padding and are removed; leading and inner characters are kept as-is (bytes >= 0x80 map to
 * U+0080..U+00FF rather than being rejected, so a malformed field still prints).
 */
export function asciiField(buf: Uint8Array, off: number, len: number): string {
  checkCount(len, 'asciiField');
  checkRange(buf, off, len);
  let end = off + len;
  while (end > off && (buf[end - 1] === 0x20 || buf[end - 1] === 0x00)) end--;
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * Write `s` as ASCII into `len` bytes at `off`, filling the rest with `pad` (NVMe Identify strings
 * are space padded, NVMe Spec 2.0 §1.5; NQNs are NUL padded). Rejects non-ASCII and overlong text
 * because silently truncating an identifier would make two devices look alike.
 */
export function writeAscii(buf: Uint8Array, off: number, s: string, len: number, pad = 0x20): void {
  checkCount(len, 'writeAscii');
  checkUint(pad, 8);
  if (s.length > len) {
    throw new RangeError(`string of ${s.length} characters does not fit in ${len} bytes`);
  }
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      throw new RangeError(`non-ASCII character at index ${i} in ${JSON.stringify(s)}`);
    }
  }
  checkRange(buf, off, len);
  for (let i = 0; i < s.length; i++) buf[off + i] = s.charCodeAt(i);
  buf.fill(pad, off + s.length, off + len);
}

/**
 * Little-endian stores into one buffer through a DataView, for an encoder on a per-command path
 * (the recorder writes ~30 fields a command): the DataView's own bounds check (RangeError) is
 * the only check, which makes a field store several times cheaper than the checked writers
 * above. Values must already be in range: u16/u32 keep the low bits of what they are given, as
 * DataView does (callers mask, e.g. `>>> 0`); u53 refuses what is not a non-negative safe
 * integer, since its low/high split would silently go wrong.
 */
export class LeStore {
  readonly u8: Uint8Array;
  readonly #view: DataView;

  constructor(u8: Uint8Array) {
    this.u8 = u8;
    this.#view = viewOf(u8);
  }

  u16(off: number, v: number): void {
    this.#view.setUint16(off, v, true);
  }

  u32(off: number, v: number): void {
    this.#view.setUint32(off, v, true);
  }

  /** A u64 field from a safe integer (see writeU53le). */
  u53(off: number, v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`value ${v} is not a non-negative safe integer (u64 from a number)`);
    }
    const lo = v % 0x1_0000_0000;
    this.#view.setUint32(off, lo, true);
    this.#view.setUint32(off + 4, (v - lo) / 0x1_0000_0000, true);
  }

  u64(off: number, v: bigint): void {
    this.#view.setBigUint64(off, v, true);
  }
}

/** Sequential little/big-endian reader over a buffer; every read advances `offset`. */
export class ByteReader {
  readonly buf: Uint8Array;
  offset: number;

  constructor(buf: Uint8Array, offset = 0) {
    this.buf = buf;
    this.offset = offset;
  }

  get remaining(): number {
    return Math.max(0, this.buf.length - this.offset);
  }

  u8(): number {
    const v = readU8(this.buf, this.offset);
    this.offset += 1;
    return v;
  }

  u16le(): number {
    const v = readU16le(this.buf, this.offset);
    this.offset += 2;
    return v;
  }

  u16be(): number {
    const v = readU16be(this.buf, this.offset);
    this.offset += 2;
    return v;
  }

  u32le(): number {
    const v = readU32le(this.buf, this.offset);
    this.offset += 4;
    return v;
  }

  u32be(): number {
    const v = readU32be(this.buf, this.offset);
    this.offset += 4;
    return v;
  }

  u64le(): bigint {
    const v = readU64le(this.buf, this.offset);
    this.offset += 8;
    return v;
  }

  u64be(): bigint {
    const v = readU64be(this.buf, this.offset);
    this.offset += 8;
    return v;
  }

  /** The next `n` bytes as a subarray (shares memory with `buf`; copy it if you keep it). */
  bytes(n: number): Uint8Array {
    checkCount(n, 'ByteReader.bytes');
    checkRange(this.buf, this.offset, n);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** An ASCII field of `len` bytes, trailing spaces/NULs trimmed (see asciiField). */
  ascii(len: number): string {
    const s = asciiField(this.buf, this.offset, len);
    this.offset += len;
    return s;
  }

  skip(n: number): void {
    checkCount(n, 'ByteReader.skip');
    checkRange(this.buf, this.offset, n);
    this.offset += n;
  }
}

/** Sequential writer into a fixed buffer (allocated zeroed when given a size). */
export class ByteWriter {
  readonly #buf: Uint8Array;
  offset: number;

  constructor(sizeOrBuf: number | Uint8Array, offset = 0) {
    if (typeof sizeOrBuf === 'number') {
      checkCount(sizeOrBuf, 'ByteWriter');
      this.#buf = new Uint8Array(sizeOrBuf);
    } else {
      this.#buf = sizeOrBuf;
    }
    this.offset = offset;
  }

  /** The whole underlying buffer (not just the bytes written so far). */
  get buf(): Uint8Array {
    return this.#buf;
  }

  u8(v: number): void {
    writeU8(this.#buf, this.offset, v);
    this.offset += 1;
  }

  u16le(v: number): void {
    writeU16le(this.#buf, this.offset, v);
    this.offset += 2;
  }

  u16be(v: number): void {
    writeU16be(this.#buf, this.offset, v);
    this.offset += 2;
  }

  u32le(v: number): void {
    writeU32le(this.#buf, this.offset, v);
    this.offset += 4;
  }

  u32be(v: number): void {
    writeU32be(this.#buf, this.offset, v);
    this.offset += 4;
  }

  u64le(v: bigint): void {
    writeU64le(this.#buf, this.offset, v);
    this.offset += 8;
  }

  u64be(v: bigint): void {
    writeU64be(this.#buf, this.offset, v);
    this.offset += 8;
  }

  bytes(src: Uint8Array): void {
    checkRange(this.#buf, this.offset, src.length);
    this.#buf.set(src, this.offset);
    this.offset += src.length;
  }

  zeros(n: number): void {
    checkCount(n, 'ByteWriter.zeros');
    checkRange(this.#buf, this.offset, n);
    this.#buf.fill(0, this.offset, this.offset + n);
    this.offset += n;
  }

  /** `s` as ASCII in a `len`-byte field padded with `pad` (default space; see writeAscii). */
  ascii(s: string, len: number, pad = 0x20): void {
    writeAscii(this.#buf, this.offset, s, len, pad);
    this.offset += len;
  }
}
