import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EmuError } from './errors.js';
import {
  U64_MAX,
  alignDown,
  alignDownBig,
  alignUp,
  alignUpBig,
  isPowerOfTwo,
  log2Exact,
  parseHexBytes,
  toSafeNumber,
} from './u64.js';

describe('toSafeNumber', () => {
  it('converts 0, small values and 2^53-1 exactly', () => {
    assert.equal(toSafeNumber(0n, 'x'), 0);
    assert.equal(toSafeNumber(4096n, 'x'), 4096);
    assert.equal(toSafeNumber(2n ** 53n - 1n, 'x'), Number.MAX_SAFE_INTEGER);
  });

  const bad: [bigint, string][] = [
    [2n ** 53n, 'slba: 9007199254740992 is outside the safe integer range 0..2^53-1'],
    [U64_MAX, 'slba: 18446744073709551615 is outside the safe integer range 0..2^53-1'],
    [-1n, 'slba: -1 is outside the safe integer range 0..2^53-1'],
  ];
  for (const [v, message] of bad) {
    it(`rejects ${v} with a RangeError naming the field`, () => {
      assert.throws(() => toSafeNumber(v, 'slba'), { name: 'RangeError', message });
    });
  }
});

describe('alignUp / alignDown', () => {
  const cases: [number, number, number, number][] = [
    // n, align, up, down
    [0, 4096, 0, 0],
    [1, 4096, 4096, 0],
    [4096, 4096, 4096, 4096],
    [4097, 4096, 8192, 4096],
    [10, 3, 12, 9], // non-power-of-two alignments are allowed
    [4263510016, 2 * 1024 * 1024, 4263510016, 4263510016],
  ];
  for (const [n, a, up, down] of cases) {
    it(`aligns ${n} to ${a}: up ${up}, down ${down} (number and bigint agree)`, () => {
      assert.equal(alignUp(n, a), up);
      assert.equal(alignDown(n, a), down);
      assert.equal(alignUpBig(BigInt(n), BigInt(a)), BigInt(up));
      assert.equal(alignDownBig(BigInt(n), BigInt(a)), BigInt(down));
    });
  }

  it('aligns bigints beyond 2^53', () => {
    assert.equal(alignUpBig((1n << 60n) + 1n, 1n << 21n), (1n << 60n) + (1n << 21n));
    assert.equal(alignDownBig(U64_MAX, 4096n), U64_MAX - 4095n);
  });

  const bad: [() => unknown, string][] = [
    [() => alignUp(-1, 8), 'alignUp: value -1 must be a non-negative safe integer'],
    [() => alignUp(1.5, 8), 'alignUp: value 1.5 must be a non-negative safe integer'],
    [() => alignDown(8, 0), 'alignDown: alignment 0 must be a positive safe integer'],
    [
      () => alignUp(Number.MAX_SAFE_INTEGER, 4096),
      'alignUp: 9007199254740991 aligned up to 4096 exceeds 2^53-1',
    ],
    [() => alignUpBig(-5n, 8n), 'alignUpBig: value -5 must be non-negative'],
    [() => alignDownBig(5n, 0n), 'alignDownBig: alignment 0 must be positive'],
  ];
  for (const [fn, message] of bad) {
    it(`rejects bad input: ${message}`, () => {
      assert.throws(fn, { name: 'RangeError', message });
    });
  }

  it('always lands on a multiple within one alignment of the input', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 20 }), (n, a) => {
        const up = alignUp(n, a);
        const down = alignDown(n, a);
        assert.equal(up % a, 0);
        assert.equal(down % a, 0);
        assert.ok(down <= n && n <= up && up - down <= a);
        assert.ok(up - n < a && n - down < a);
      }),
    );
  });
});

describe('isPowerOfTwo / log2Exact', () => {
  const cases: [number | bigint, boolean][] = [
    [1, true],
    [2, true],
    [4096, true],
    [2 ** 52, true],
    [1n << 63n, true],
    [0, false],
    [-2, false],
    [3, false],
    [0.5, false],
    [6n, false],
    [0n, false],
    [-4n, false],
  ];
  for (const [n, want] of cases) {
    it(`isPowerOfTwo(${n}${typeof n === 'bigint' ? 'n' : ''}) is ${want}`, () => {
      assert.equal(isPowerOfTwo(n), want);
    });
  }

  it('log2Exact returns the exponent for numbers and bigints', () => {
    assert.equal(log2Exact(1), 0);
    assert.equal(log2Exact(512), 9);
    assert.equal(log2Exact(2 ** 52), 52);
    assert.equal(log2Exact(1n << 63n), 63);
  });

  it('log2Exact rejects non powers of two', () => {
    assert.throws(() => log2Exact(520), {
      name: 'RangeError',
      message: 'log2Exact: 520 is not a power of two',
    });
    assert.throws(() => log2Exact(0n), {
      name: 'RangeError',
      message: 'log2Exact: 0 is not a power of two',
    });
  });
});

describe('parseHexBytes', () => {
  const cases: [string, number[]][] = [
    ['deadbeef', [0xde, 0xad, 0xbe, 0xef]],
    ['DE:AD:be:EF', [0xde, 0xad, 0xbe, 0xef]],
    ['de ad\tbe\nef', [0xde, 0xad, 0xbe, 0xef]],
    ['0011-2233', [0x00, 0x11, 0x22, 0x33]],
    ['', []],
  ];
  for (const [s, want] of cases) {
    it(`parses ${JSON.stringify(s)}`, () => {
      assert.deepEqual([...parseHexBytes(s)], want);
    });
  }

  const bad: [string, string][] = [
    ['abc', 'invalid hex bytes "abc": odd number of hex digits (3)'],
    ['0xab', 'invalid hex bytes "0xab": unexpected character "x"'],
    ['zz', 'invalid hex bytes "zz": unexpected character "z"'],
  ];
  for (const [s, message] of bad) {
    it(`rejects ${JSON.stringify(s)} with EMU_ERR_DECODE`, () => {
      assert.throws(
        () => parseHexBytes(s),
        (e: unknown) =>
          e instanceof EmuError && e.code === 'EMU_ERR_DECODE' && e.message === message,
      );
    });
  }
});
