// QEMU's size syntax (util/cutils.c qemu_strtosz family; reference qemu-pmem-ndctl.md §1.4),
// used by every `size`-typed property (`size=`, `align=`, `label-size=`, `zoned.zone_size=`),
// by `-m maxmem=` and, with MiB as the default unit, by the bare `-m` value.
//
//   size     = decimal [ suffix ]            e.g. 4096, 4G, 0004k (leading zeros are decimal)
//            | decimal '.' { digit } big     e.g. 1.5G, 0.5K, 1.K   (fraction needs a scale > 1)
//            | '0' ('x'|'X') hexdigit+       e.g. 0x1000            (no fraction, no suffix)
//   decimal  = digit+
//   suffix   = 'B' | big                     (case-insensitive)
//   big      = 'K' | 'M' | 'G' | 'T' | 'P' | 'E'     powers of 1024
//
// No sign, exponent or whitespace anywhere; nothing may follow the suffix. The result must be
// < 2^64. Without a suffix the value is scaled by the default unit (bytes, or MiB for `-m`);
// that applies to hex too (`-m 0x100` is 256 MiB) and lets `-m 1.5` mean 1.5 MiB.
//
// Rounding: a fractional value is computed exactly (bigint rational arithmetic) and the
// sub-byte remainder is truncated toward zero, as QEMU 7.2 does (`1.5K` = 1536, `0.1K` = 102).
// QEMU 7.2 multiplies the fraction as a double, so for very long fractions its last byte can
// differ from our exact result; QEMU >= 8.1 rounds a remainder of half a byte or more up.

import { EmuError } from '../util/errors.js';

export type SizeErrorReason = 'syntax' | 'range';

/** A size that QEMU would reject; the caller words the message ("Parameter 'x' expects size"). */
export class SizeError extends EmuError {
  readonly reason: SizeErrorReason;

  constructor(text: string, reason: SizeErrorReason) {
    super(
      'EMU_ERR_CONFIG',
      reason === 'range'
        ? `size '${text}' is not below 2^64 bytes`
        : `'${text}' is not a size (number with optional B/K/M/G/T/P/E suffix)`,
    );
    this.reason = reason;
  }
}

const U64_LIMIT = 1n << 64n;

/** Scale per suffix letter (upper case); exported for help text and tests. */
export const SIZE_SUFFIXES: ReadonlyMap<string, bigint> = new Map([
  ['B', 1n],
  ['K', 1n << 10n],
  ['M', 1n << 20n],
  ['G', 1n << 30n],
  ['T', 1n << 40n],
  ['P', 1n << 50n],
  ['E', 1n << 60n],
]);

const HEX_RE = /^0[xX]([0-9a-fA-F]+)$/;
const DEC_RE = /^([0-9]+)(?:\.([0-9]*))?([BKMGTPEbkmgtpe])?$/;

/**
 * Parses a QEMU size into bytes. `defaultUnit` scales a value without suffix: 'B' for
 * properties, 'M' for the bare `-m` value. Throws SizeError (reason 'syntax' or 'range').
 */
export function parseSize(text: string, defaultUnit: 'B' | 'M' = 'B'): bigint {
  const unitDefault = defaultUnit === 'M' ? 1n << 20n : 1n;
  const hex = HEX_RE.exec(text);
  if (hex !== null) {
    return checkRange(text, BigInt(`0x${hex[1] ?? ''}`) * unitDefault);
  }
  const m = DEC_RE.exec(text);
  if (m === null) throw new SizeError(text, 'syntax');
  const [, intDigits = '', fracDigits, suffix] = m;
  const unit = suffix === undefined ? unitDefault : SIZE_SUFFIXES.get(suffix.toUpperCase());
  if (unit === undefined) throw new SizeError(text, 'syntax'); // unreachable: regex admits only known letters
  if (fracDigits === undefined) return checkRange(text, BigInt(intDigits) * unit);
  // A fraction of a byte is meaningless: QEMU insists on a scale larger than bytes.
  if (unit === 1n) throw new SizeError(text, 'syntax');
  const den = 10n ** BigInt(fracDigits.length);
  const num = fracDigits === '' ? 0n : BigInt(fracDigits);
  return checkRange(text, BigInt(intDigits) * unit + (num * unit) / den);
}

function checkRange(text: string, bytes: bigint): bigint {
  if (bytes >= U64_LIMIT) throw new SizeError(text, 'range');
  return bytes;
}

const HUMAN_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * Formats bytes the way QEMU's size_to_str() does for help and HMP output: three significant
 * digits (C's "%0.3g", round-half-even on the exact value), then a binary unit. The unit
 * switches up once the number would reach 1000, so 1000 MiB prints "0.977 GiB".
 */
export function formatSizeHuman(bytes: bigint): string {
  if (bytes < 0n) throw new RangeError(`formatSizeHuman: negative size ${bytes}`);
  // Largest i with bytes >= 1000 * 1024^(i-1); equivalent to QEMU's frexp(bytes * 1.024).
  let i = 0;
  while (i < HUMAN_UNITS.length - 1 && bytes * 1024n >= 1000n << BigInt(10 * (i + 1))) i++;
  return `${formatG3(bytes, 1n << BigInt(10 * i))} ${HUMAN_UNITS[i] ?? 'B'}`;
}

/** printf("%0.3g", num / den) for num/den in [0, 1000] using exact integer arithmetic. */
function formatG3(num: bigint, den: bigint): string {
  if (num === 0n) return '0';
  // Decimal exponent of num/den: the x with 10^x <= num/den < 10^(x+1).
  let exp = -1;
  while (exp < 3 && num >= den * 10n ** BigInt(exp + 1)) exp++;
  let digits = roundHalfEven(num * 10n ** BigInt(2 - exp), den);
  if (digits === 1000n) {
    digits = 100n;
    exp++;
  }
  if (exp >= 3) return `${trimZeros(digits, 2)}e+${String(exp).padStart(2, '0')}`;
  return trimZeros(digits, 2 - exp);
}

/** Renders `digits` (a 3-digit integer) with `decimals` digits after the point, %g-trimmed. */
function trimZeros(digits: bigint, decimals: number): string {
  const s = digits.toString().padStart(decimals + 1, '0');
  const int = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  return frac === '' ? int : `${int}.${frac}`;
}

function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twiceRem = 2n * (num % den);
  if (twiceRem > den || (twiceRem === den && q % 2n === 1n)) return q + 1n;
  return q;
}
