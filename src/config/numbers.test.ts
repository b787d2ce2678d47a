import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NumberError, parseBool, parseInt32, parseSint, parseUint } from './numbers.js';

describe('parseUint reads base-0 integers like qemu_strtou64', () => {
  const valid: [string, 8 | 16 | 32 | 64, bigint, string][] = [
    ['0', 64, 0n, 'lower limit zero'],
    ['42', 64, 42n, 'decimal'],
    ['0x2a', 64, 42n, 'hex'],
    ['0X2A', 64, 42n, 'hex, upper case'],
    ['052', 64, 42n, 'leading zero means octal'],
    ['010', 64, 8n, 'octal 10 is eight'],
    ['00', 64, 0n, 'octal zero'],
    ['255', 8, 255n, 'uint8 upper limit'],
    ['65535', 16, 65535n, 'uint16 upper limit'],
    ['4294967295', 32, 4294967295n, 'uint32 upper limit'],
    ['0xffffffff', 32, 4294967295n, 'uint32 upper limit in hex'],
    ['9007199254740991', 64, 9007199254740991n, '2^53-1 exact'],
    ['9007199254740992', 64, 9007199254740992n, '2^53 exact'],
    ['9007199254740993', 64, 9007199254740993n, '2^53+1 exact (a double would round it)'],
    ['18446744073709551615', 64, 18446744073709551615n, 'uint64 upper limit 2^64-1'],
    ['01777777777777777777777', 64, 18446744073709551615n, '2^64-1 in octal'],
  ];
  for (const [text, bits, value, why] of valid) {
    it(`reads ${JSON.stringify(text)} as uint${bits} ${value}: ${why}`, () => {
      assert.equal(parseUint(text, bits), value);
    });
  }

  const invalid: [string, 8 | 16 | 32 | 64, 'syntax' | 'range', string][] = [
    ['', 64, 'syntax', 'empty string'],
    ['08', 64, 'syntax', '8 is not an octal digit'],
    ['3.14', 64, 'syntax', 'trailing fraction'],
    ['0x', 64, 'syntax', 'hex prefix without digits'],
    ['1k', 64, 'syntax', 'size suffixes are not integers'],
    [' 1', 64, 'syntax', 'leading whitespace (strtoull would skip it; we do not)'],
    ['+1', 64, 'syntax', 'plus sign'],
    ['1e3', 64, 'syntax', 'exponent'],
    ['-1', 64, 'range', 'negative values are rejected, QEMU would wrap to 2^64-1'],
    ['-18446744073709551616', 64, 'range', 'below the lower limit'],
    ['-x', 64, 'syntax', 'a minus sign before garbage is garbage'],
    ['256', 8, 'range', 'uint8 limit + 1'],
    ['65536', 16, 'range', 'uint16 limit + 1'],
    ['4294967296', 32, 'range', 'uint32 limit + 1'],
    ['18446744073709551616', 64, 'range', '2^64'],
    ['0x10000000000000000', 64, 'range', '2^64 in hex'],
  ];
  for (const [text, bits, reason, why] of invalid) {
    it(`rejects ${JSON.stringify(text)} as uint${bits} (${reason}): ${why}`, () => {
      assert.throws(
        () => parseUint(text, bits),
        (e: unknown) =>
          e instanceof NumberError && e.reason === reason && e.code === 'EMU_ERR_CONFIG',
      );
    });
  }
});

describe('parseSint and parseInt32 read signed integers', () => {
  it('reads the int32 limits and negative octal and hex', () => {
    assert.equal(parseInt32('2147483647'), 2147483647);
    assert.equal(parseInt32('-2147483648'), -2147483648);
    assert.equal(parseInt32('-1'), -1);
    assert.equal(parseInt32('-010'), -8);
    assert.equal(parseInt32('-0x10'), -16);
  });

  it('returns undefined for int32 syntax and range errors', () => {
    assert.equal(parseInt32('2147483648'), undefined);
    assert.equal(parseInt32('-2147483649'), undefined);
    assert.equal(parseInt32('abc'), undefined);
    assert.equal(parseInt32('--1'), undefined);
  });

  it('distinguishes syntax from range for int64 and keeps 64-bit values exact', () => {
    assert.equal(parseSint('-9223372036854775808', 64), -(1n << 63n));
    assert.equal(parseSint('9007199254740993', 64), 9007199254740993n);
    assert.throws(
      () => parseSint('9223372036854775808', 64),
      (e: unknown) => e instanceof NumberError && e.reason === 'range',
    );
    assert.throws(
      () => parseSint('12abc', 64),
      (e: unknown) => e instanceof NumberError && e.reason === 'syntax',
    );
  });
});

describe('parseBool accepts exactly the spellings of qapi_bool_parse', () => {
  const cases: [string, boolean | undefined][] = [
    ['on', true],
    ['yes', true],
    ['true', true],
    ['y', true],
    ['off', false],
    ['no', false],
    ['false', false],
    ['n', false],
    ['On', undefined], // case-sensitive
    ['TRUE', undefined],
    ['1', undefined], // numbers are not booleans
    ['0', undefined],
    ['', undefined],
    ['offer', undefined], // prefix of nothing, suffix of nothing
  ];
  for (const [text, value] of cases) {
    it(`reads ${JSON.stringify(text)} as ${String(value)}`, () => {
      assert.equal(parseBool(text), value);
    });
  }
});
