// Integer and boolean property values as QEMU's string visitors read them.
//
// Integers: QEMU converts with qemu_strtou64()/qemu_strtoi64() in base 0 (C strtoull rules),
// for both the keyval visitor (-object, -machine) and the string input visitor (-device):
//
//   uint     = '0' ('x'|'X') hexdigit+       hex          0x2a = 42
//            | '0' octdigit*                 octal        052 = 42, 0 = 0, 08 is an error
//            | nonzerodigit digit*           decimal
//   int      = [ '-' ] uint
//
// Deliberate deviations, stricter than strtoull: no leading whitespace, no '+', and no
// negative values for unsigned types (QEMU wraps "-1" to 2^64-1 for uint64 properties,
// which no one means on purpose). Everything is bigint: 2^53+1 and 2^64-1 stay exact.
//
// Booleans: qapi_bool_parse() accepts exactly on/yes/true/y and off/no/false/n,
// case-sensitive ("On" is an error: "Parameter 'x' expects 'on' or 'off'").

import { EmuError } from '../util/errors.js';

export type NumberErrorReason = 'syntax' | 'range';

/**
 * An integer QEMU would reject. 'syntax': not a number ("Parameter 'x' expects integer");
 * 'range': a number outside the type ("Parameter 'x' expects uint32_t"). The caller words it.
 */
export class NumberError extends EmuError {
  readonly reason: NumberErrorReason;

  constructor(text: string, reason: NumberErrorReason, what: string) {
    super(
      'EMU_ERR_CONFIG',
      reason === 'range' ? `'${text}' is out of range for ${what}` : `'${text}' is not an integer`,
    );
    this.reason = reason;
  }
}

const UINT_RE = /^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;

function magnitude(digits: string): bigint {
  // BigInt() reads 0x.. itself; octal needs the 0o prefix, and "0" alone is zero.
  if (/^0[0-7]+$/.test(digits)) return BigInt(`0o${digits.slice(1)}`);
  return BigInt(digits);
}

/** Parses an unsigned integer of `bits` width; throws NumberError. */
export function parseUint(text: string, bits: 8 | 16 | 32 | 64): bigint {
  const what = `uint${bits}`;
  if (text.startsWith('-') && UINT_RE.test(text.slice(1))) {
    throw new NumberError(text, 'range', what);
  }
  if (!UINT_RE.test(text)) throw new NumberError(text, 'syntax', what);
  const v = magnitude(text);
  if (v >= 1n << BigInt(bits)) throw new NumberError(text, 'range', what);
  return v;
}

/** Parses a signed two's-complement integer of `bits` width; throws NumberError. */
export function parseSint(text: string, bits: 8 | 16 | 32 | 64): bigint {
  const what = `int${bits}`;
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  if (!UINT_RE.test(body)) throw new NumberError(text, 'syntax', what);
  const v = negative ? -magnitude(body) : magnitude(body);
  const half = 1n << BigInt(bits - 1);
  if (v < -half || v >= half) throw new NumberError(text, 'range', what);
  return v;
}

/** An int32 property value, or undefined when it is not a number or out of int32 range. */
export function parseInt32(text: string): number | undefined {
  try {
    return Number(parseSint(text, 32));
  } catch (e) {
    if (e instanceof NumberError) return undefined;
    throw e;
  }
}

/** qapi_bool_parse(): true/false for the eight accepted spellings, undefined otherwise. */
export function parseBool(text: string): boolean | undefined {
  switch (text) {
    case 'on':
    case 'yes':
    case 'true':
    case 'y':
      return true;
    case 'off':
    case 'no':
    case 'false':
    case 'n':
      return false;
    default:
      return undefined;
  }
}
