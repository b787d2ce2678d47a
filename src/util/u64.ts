// bigint/number helpers. 64-bit fields stay bigint in codecs (DESIGN.md house rule 9); the one way
// back to `number` is toSafeNumber, which refuses values a double cannot hold exactly instead of
// silently rounding an LBA or an offset.

import { EmuError, ErrorCode } from './errors.js';

export const U64_MAX = 0xffff_ffff_ffff_ffffn;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** `v` as a number; RangeError naming `what` when negative or above 2^53-1. */
export function toSafeNumber(v: bigint, what: string): number {
  if (v < 0n || v > MAX_SAFE) {
    throw new RangeError(`${what}: ${v} is outside the safe integer range 0..2^53-1`);
  }
  return Number(v);
}

function checkNumArgs(fn: string, n: number, align: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${fn}: value ${n} must be a non-negative safe integer`);
  }
  if (!Number.isSafeInteger(align) || align <= 0) {
    throw new RangeError(`${fn}: alignment ${align} must be a positive safe integer`);
  }
}

function checkBigArgs(fn: string, n: bigint, align: bigint): void {
  if (n < 0n) throw new RangeError(`${fn}: value ${n} must be non-negative`);
  if (align <= 0n) throw new RangeError(`${fn}: alignment ${align} must be positive`);
}

/** Smallest multiple of `align` that is >= `n` (any positive alignment, not only powers of 2). */
export function alignUp(n: number, align: number): number {
  checkNumArgs('alignUp', n, align);
  const r = n % align;
  if (r === 0) return n;
  const up = n + (align - r);
  if (!Number.isSafeInteger(up)) {
    throw new RangeError(`alignUp: ${n} aligned up to ${align} exceeds 2^53-1`);
  }
  return up;
}

/** Largest multiple of `align` that is <= `n`. */
export function alignDown(n: number, align: number): number {
  checkNumArgs('alignDown', n, align);
  return n - (n % align);
}

export function alignUpBig(n: bigint, align: bigint): bigint {
  checkBigArgs('alignUpBig', n, align);
  const r = n % align;
  return r === 0n ? n : n + (align - r);
}

export function alignDownBig(n: bigint, align: bigint): bigint {
  checkBigArgs('alignDownBig', n, align);
  return n - (n % align);
}

/** True for 1, 2, 4, …; false for 0, negatives, fractions and unsafe numbers. */
export function isPowerOfTwo(n: number | bigint): boolean {
  if (typeof n === 'number') {
    if (!Number.isSafeInteger(n) || n <= 0) return false;
    return isPowerOfTwo(BigInt(n));
  }
  return n > 0n && (n & (n - 1n)) === 0n;
}

/** k such that 2^k === n; RangeError when `n` is not a power of two. */
export function log2Exact(n: number | bigint): number {
  if (!isPowerOfTwo(n)) throw new RangeError(`log2Exact: ${n} is not a power of two`);
  return BigInt(n).toString(2).length - 1;
}

/**
 * Parse hex text into bytes, first digit pair = first byte: "deadbeef", "de:ad:be:ef",
 * "de ad be ef" and UUID-style "0011-2233" are all accepted (whitespace, ':' and '-' are ignored).
 * A user typo is an EmuError with code EMU_ERR_DECODE so front ends can report it as input error.
 */
export function parseHexBytes(s: string): Uint8Array {
  const digits = s.replace(/[\s:-]/g, '');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) {
    throw new EmuError(
      ErrorCode.EMU_ERR_DECODE,
      `invalid hex bytes ${JSON.stringify(s)}: unexpected character ${JSON.stringify(bad[0])}`,
    );
  }
  if (digits.length % 2 !== 0) {
    throw new EmuError(
      ErrorCode.EMU_ERR_DECODE,
      `invalid hex bytes ${JSON.stringify(s)}: odd number of hex digits (${digits.length})`,
    );
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}
