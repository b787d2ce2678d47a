import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatSizeHuman, parseSize, SizeError } from './size.js';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const GiB = 1n << 30n;

describe('parseSize accepts QEMU sizes', () => {
  const valid: [string, bigint, 'B' | 'M', string][] = [
    ['0', 0n, 'B', 'lower limit zero'],
    ['4096', 4096n, 'B', 'plain bytes'],
    ['0004k', 4n * KiB, 'B', 'leading zeros are decimal, suffix case-insensitive'],
    ['010', 10n, 'B', 'leading zero is not octal for sizes'],
    ['12B', 12n, 'B', 'explicit bytes suffix'],
    ['12b', 12n, 'B', 'lower-case bytes suffix'],
    ['4G', 4n * GiB, 'B', 'gibibytes'],
    ['64M', 64n * MiB, 'B', 'mebibytes'],
    ['1T', 1n << 40n, 'B', 'tebibytes'],
    ['1P', 1n << 50n, 'B', 'pebibytes'],
    ['1e', 1n << 60n, 'B', "'e' is the exbibyte suffix, not an exponent"],
    ['15E', 15n << 60n, 'B', 'largest whole exbibyte count below 2^64'],
    ['1.5G', 3n * (GiB / 2n), 'B', 'fraction with a suffix'],
    ['0.5K', 512n, 'B', 'half a kibibyte'],
    ['1.5K', 1536n, 'B', 'one and a half kibibytes'],
    ['1.K', KiB, 'B', 'a dot without fraction digits is allowed'],
    ['0.1K', 102n, 'B', '102.4 bytes truncate toward zero'],
    ['0.9999K', 1023n, 'B', '1023.8976 bytes truncate toward zero'],
    ['0x1000', 4096n, 'B', 'hex without suffix'],
    ['0X1f', 31n, 'B', 'hex prefix and digits are case-insensitive'],
    ['9007199254740991', 9007199254740991n, 'B', '2^53-1 exact'],
    ['9007199254740992', 9007199254740992n, 'B', '2^53 exact'],
    ['9007199254740993', 9007199254740993n, 'B', '2^53+1 exact (a double would round it)'],
    ['18446744073709551615', (1n << 64n) - 1n, 'B', 'upper limit 2^64-1'],
    ['0xffffffffffffffff', (1n << 64n) - 1n, 'B', 'upper limit in hex'],
    ['15.9999999999999999999E', 18446744073709551615n, 'B', 'fraction just below 2^64'],
    ['4096', 4096n * MiB, 'M', '-m: a bare number is MiB'],
    ['4G', 4n * GiB, 'M', '-m: a suffix overrides the default unit'],
    ['512B', 512n, 'M', '-m: explicit bytes'],
    ['1.5', 3n * (MiB / 2n), 'M', '-m: a bare fraction is a fraction of a MiB'],
    ['0x100', 256n * MiB, 'M', '-m: hex is scaled by the default unit too'],
  ];
  for (const [text, bytes, unit, why] of valid) {
    it(`reads ${JSON.stringify(text)} (default ${unit}) as ${bytes}: ${why}`, () => {
      assert.equal(parseSize(text, unit), bytes);
    });
  }
});

describe('parseSize rejects what QEMU rejects', () => {
  const invalid: [string, 'syntax' | 'range', 'B' | 'M', string][] = [
    ['', 'syntax', 'B', 'empty string'],
    ['1.5', 'syntax', 'B', 'a fraction of a byte'],
    ['1.5B', 'syntax', 'B', 'a fraction with the bytes suffix'],
    ['1.0', 'syntax', 'B', 'even a zero fraction needs a scale'],
    ['1.5B', 'syntax', 'M', 'explicit bytes suffix still forbids a fraction with -m'],
    ['.5K', 'syntax', 'B', 'no digits before the dot'],
    ['-1', 'syntax', 'B', 'negative'],
    ['+1', 'syntax', 'B', 'explicit plus sign'],
    [' 1', 'syntax', 'B', 'leading whitespace'],
    ['1 G', 'syntax', 'B', 'whitespace before the suffix'],
    ['1G ', 'syntax', 'B', 'trailing whitespace'],
    ['1KB', 'syntax', 'B', 'two suffixes'],
    ['1KiB', 'syntax', 'B', 'IEC spelling is not a QEMU suffix'],
    ['1k2', 'syntax', 'B', 'digits after the suffix'],
    ['1e3', 'syntax', 'B', 'exponent notation'],
    ['1Z', 'syntax', 'B', 'unknown suffix'],
    ['0x', 'syntax', 'B', 'hex prefix without digits'],
    ['0x10K', 'syntax', 'B', 'hex with a suffix'],
    ['0x1.8', 'syntax', 'B', 'hex with a fraction'],
    ['00x10', 'syntax', 'B', 'hex prefix after extra zeros'],
    ['inf', 'syntax', 'B', 'not a number'],
    ['16E', 'range', 'B', 'exactly 2^64'],
    ['18446744073709551616', 'range', 'B', '2^64 in decimal'],
    ['0x10000000000000000', 'range', 'B', '2^64 in hex'],
    ['99999999999999999999999', 'range', 'B', 'huge integer part'],
    ['17592186044416', 'range', 'M', '-m: 2^44 MiB is 2^64 bytes'],
  ];
  for (const [text, reason, unit, why] of invalid) {
    it(`rejects ${JSON.stringify(text)} (default ${unit}) as ${reason}: ${why}`, () => {
      assert.throws(
        () => parseSize(text, unit),
        (e: unknown) =>
          e instanceof SizeError && e.reason === reason && e.code === 'EMU_ERR_CONFIG',
      );
    });
  }
});

describe('formatSizeHuman prints like QEMU size_to_str', () => {
  const cases: [bigint, string, string][] = [
    [0n, '0 B', 'zero'],
    [512n, '512 B', 'bytes stay bytes'],
    [999n, '999 B', 'below 1000 stays in the smaller unit'],
    [1000n, '0.977 KiB', 'from 1000 on the next unit is used'],
    [1536n, '1.5 KiB', 'trailing zeros are dropped'],
    [128n * KiB, '128 KiB', 'whole kibibytes'],
    [4n * GiB, '4 GiB', 'whole gibibytes'],
    [3n * (GiB / 2n), '1.5 GiB', 'one and a half gibibytes'],
    [1152n * MiB, '1.12 GiB', '1.125 rounds half to even like glibc printf'],
    [1176n * MiB, '1.15 GiB', '1.1484375 rounds to nearest'],
    [999n * MiB, '999 MiB', 'just below the switch'],
    [1000n * MiB, '0.977 GiB', 'at the switch'],
    [1023488n * KiB, '1e+03 MiB', '999.5 MiB rounds (half to even) to 1000: %g goes exponential'],
    [(1n << 64n) - 1n, '16 EiB', 'largest value'],
  ];
  for (const [bytes, text, why] of cases) {
    it(`prints ${bytes} as ${JSON.stringify(text)}: ${why}`, () => {
      assert.equal(formatSizeHuman(bytes), text);
    });
  }

  it('rejects a negative size as a programming error', () => {
    assert.throws(() => formatSizeHuman(-1n), RangeError);
  });
});
