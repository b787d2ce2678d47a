import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ByteReader,
  ByteWriter,
  DecodeError,
  LeStore,
  asciiField,
  readU16be,
  readU16le,
  readU32be,
  readU32le,
  readU64be,
  readU64le,
  readU8,
  viewOf,
  writeAscii,
  writeU16be,
  writeU16le,
  writeU32be,
  writeU32le,
  writeU64be,
  writeU53le,
  writeU64le,
  writeU8,
} from './bytes.js';
import { EmuError } from './errors.js';

const SAMPLE = Uint8Array.of(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xff);

type NumRead = (b: Uint8Array, o: number) => number;
type BigRead = (b: Uint8Array, o: number) => bigint;

describe('random-access reads', () => {
  const cases: [string, NumRead | BigRead, number, number | bigint][] = [
    ['readU8', readU8, 8, 0xff],
    ['readU16le', readU16le, 0, 0x2301],
    ['readU16be', readU16be, 0, 0x0123],
    ['readU32le', readU32le, 0, 0x67452301],
    ['readU32be', readU32be, 4, 0x89abcdef],
    ['readU32le', readU32le, 5, 0xffefcdab],
    ['readU64le', readU64le, 0, 0xefcdab8967452301n],
    ['readU64be', readU64be, 1, 0x23456789abcdefffn],
  ];
  for (const [name, fn, off, want] of cases) {
    it(`${name} at offset ${off} decodes ${want.toString(16)}`, () => {
      assert.equal(fn(SAMPLE, off), want);
    });
  }

  it('returns unsigned values for the top bit set', () => {
    assert.equal(readU32be(Uint8Array.of(0x80, 0, 0, 0), 0), 0x8000_0000);
    assert.equal(readU64le(new Uint8Array(8).fill(0xff), 0), 0xffff_ffff_ffff_ffffn);
  });

  it('honours the byteOffset of a subarray', () => {
    const sub = SAMPLE.subarray(4);
    assert.equal(readU16le(sub, 0), 0xab89);
    assert.equal(viewOf(sub).getUint8(0), 0x89);
    assert.equal(viewOf(sub).byteLength, 5);
  });
});

describe('out-of-range access raises DecodeError', () => {
  const cases: [string, () => unknown, number, number, number][] = [
    ['u16le read one byte short', () => readU16le(SAMPLE, 8), 8, 2, 1],
    ['u64be read past the end', () => readU64be(SAMPLE, 2), 2, 8, 7],
    ['read at an offset beyond the end', () => readU8(SAMPLE, 20), 20, 1, 0],
    ['negative offset', () => readU32le(SAMPLE, -1), -1, 4, 0],
    ['fractional offset', () => readU8(SAMPLE, 0.5), 0.5, 1, 0],
    ['u32 write past the end', () => writeU32le(new Uint8Array(3), 0, 1), 0, 4, 3],
    ['reader bytes() beyond remaining', () => new ByteReader(SAMPLE, 6).bytes(4), 6, 4, 3],
    ['writer overflow', () => new ByteWriter(2).u32be(0), 0, 4, 2],
  ];
  for (const [name, fn, offset, need, have] of cases) {
    it(`${name}: offset ${offset}, need ${need}, have ${have}`, () => {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof DecodeError);
        assert.ok(e instanceof EmuError);
        assert.equal(e.code, 'EMU_ERR_DECODE');
        assert.equal(e.name, 'DecodeError');
        assert.deepEqual([e.offset, e.need, e.have], [offset, need, have]);
        assert.equal(e.message, `need ${need} byte(s) at offset ${offset}, have ${have}`);
        return true;
      });
    });
  }
});

describe('random-access writes', () => {
  it('write every width in both byte orders to golden bytes', () => {
    const b = new Uint8Array(30);
    writeU8(b, 0, 0xa5);
    writeU16le(b, 1, 0x1234);
    writeU16be(b, 3, 0x1234);
    writeU32le(b, 5, 0xdeadbeef);
    writeU32be(b, 9, 0xdeadbeef);
    writeU64le(b, 13, 0x0102030405060708n);
    writeU64be(b, 21, 0x0102030405060708n);
    assert.deepEqual(
      Buffer.from(b).toString('hex'),
      'a5' +
        '3412' +
        '1234' +
        'efbeadde' +
        'deadbeef' +
        '0807060504030201' +
        '0102030405060708' +
        '00',
    );
  });

  it('LeStore writes the bytes of the checked writers (property); out of range is a RangeError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.maxSafeNat(),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat(6),
        (a, b, c, d, off) => {
          const fast = new LeStore(new Uint8Array(30).subarray(1, 29));
          const slow = new Uint8Array(28);
          fast.u16(off, a);
          fast.u32(off + 2, b);
          fast.u53(off + 6, c);
          fast.u64(off + 14, d);
          writeU16le(slow, off, a);
          writeU32le(slow, off + 2, b);
          writeU53le(slow, off + 6, c);
          writeU64le(slow, off + 14, d);
          assert.deepEqual(new Uint8Array(fast.u8), slow);
        },
      ),
    );
    const s = new LeStore(new Uint8Array(8));
    assert.throws(() => s.u32(6, 1), RangeError);
    assert.throws(() => s.u53(0, 2 ** 53), {
      message: 'value 9007199254740992 is not a non-negative safe integer (u64 from a number)',
    });
  });

  it('writeU53le writes the bytes of writeU64le for every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const a = new Uint8Array(8);
        const b = new Uint8Array(8);
        writeU53le(a, 0, v);
        writeU64le(b, 0, BigInt(v));
        assert.deepEqual(a, b);
      }),
    );
    const b = new Uint8Array(8);
    writeU53le(b, 0, 2 ** 53 - 1);
    assert.equal(Buffer.from(b).toString('hex'), 'ffffffffffff1f00');
  });

  const bad: [string, () => void, string][] = [
    [
      'u53 2^53',
      () => writeU53le(new Uint8Array(8), 0, 2 ** 53),
      'value 9007199254740992 is not a non-negative safe integer (u64 from a number)',
    ],
    [
      'u53 -1',
      () => writeU53le(new Uint8Array(8), 0, -1),
      'value -1 is not a non-negative safe integer (u64 from a number)',
    ],
    ['u8 256', () => writeU8(new Uint8Array(1), 0, 256), 'value 256 out of range for u8 (0..255)'],
    [
      'u16 -1',
      () => writeU16le(new Uint8Array(2), 0, -1),
      'value -1 out of range for u16 (0..65535)',
    ],
    [
      'u32 2^32',
      () => writeU32be(new Uint8Array(4), 0, 2 ** 32),
      'value 4294967296 out of range for u32 (0..4294967295)',
    ],
    [
      'u32 1.5',
      () => writeU32le(new Uint8Array(4), 0, 1.5),
      'value 1.5 out of range for u32 (0..4294967295)',
    ],
    [
      'u64 2^64',
      () => writeU64le(new Uint8Array(8), 0, 1n << 64n),
      'value 18446744073709551616 out of range for u64 (0..18446744073709551615)',
    ],
    [
      'u64 -1',
      () => writeU64be(new Uint8Array(8), 0, -1n),
      'value -1 out of range for u64 (0..18446744073709551615)',
    ],
  ];
  for (const [name, fn, message] of bad) {
    it(`rejects ${name} with a RangeError`, () => {
      assert.throws(fn, { name: 'RangeError', message });
    });
  }

  it('leaves the buffer untouched when a write is rejected', () => {
    const b = new Uint8Array(4);
    assert.throws(() => writeU32le(b, 1, 7), DecodeError);
    assert.deepEqual([...b], [0, 0, 0, 0]);
  });

  it('round-trips arbitrary u32 and u64 values in both byte orders', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (a, b) => {
          const buf = new Uint8Array(24);
          writeU32le(buf, 0, a);
          writeU32be(buf, 4, a);
          writeU64le(buf, 8, b);
          writeU64be(buf, 16, b);
          assert.equal(readU32le(buf, 0), a);
          assert.equal(readU32be(buf, 4), a);
          assert.equal(viewOf(buf).getUint32(0, true), a);
          assert.equal(readU64le(buf, 8), b);
          assert.equal(readU64be(buf, 16), b);
          assert.equal(viewOf(buf).getBigUint64(16, false), b);
        },
      ),
    );
  });
});

describe('ByteReader', () => {
  it('reads a sequence and tracks offset and remaining', () => {
    const r = new ByteReader(SAMPLE, 1);
    assert.equal(r.remaining, 8);
    assert.equal(r.u8(), 0x23);
    assert.equal(r.u16be(), 0x4567);
    assert.equal(r.u16le(), 0xab89);
    r.skip(1);
    assert.equal(r.offset, 7);
    assert.equal(r.u8(), 0xef);
    assert.equal(r.remaining, 1);
    assert.deepEqual([...r.bytes(1)], [0xff]);
    assert.equal(r.remaining, 0);
    assert.deepEqual(r.bytes(0).length, 0);
  });

  it('reads 32- and 64-bit fields in both orders', () => {
    const r = new ByteReader(SAMPLE);
    assert.equal(r.u32le(), 0x67452301);
    assert.equal(r.u32be(), 0x89abcdef);
    const r2 = new ByteReader(SAMPLE);
    assert.equal(r2.u64le(), 0xefcdab8967452301n);
    const r3 = new ByteReader(SAMPLE, 1);
    assert.equal(r3.u64be(), 0x23456789abcdefffn);
    assert.equal(r3.offset, 9);
  });

  it('bytes() returns a view that shares memory with the buffer', () => {
    const buf = Uint8Array.of(1, 2, 3, 4);
    const view = new ByteReader(buf, 1).bytes(2);
    buf[1] = 9;
    assert.deepEqual([...view], [9, 3]);
  });

  it('does not advance when a read fails', () => {
    const r = new ByteReader(SAMPLE, 7);
    assert.throws(() => r.u32le(), DecodeError);
    assert.equal(r.offset, 7);
  });

  it('rejects negative counts in bytes() and skip()', () => {
    const r = new ByteReader(SAMPLE);
    assert.throws(() => r.bytes(-1), {
      name: 'RangeError',
      message: 'ByteReader.bytes: byte count must be a non-negative integer, got -1',
    });
    assert.throws(() => r.skip(-2), {
      name: 'RangeError',
      message: 'ByteReader.skip: byte count must be a non-negative integer, got -2',
    });
  });
});

describe('ByteWriter', () => {
  it('writes a structure into a fresh zeroed buffer', () => {
    const w = new ByteWriter(24);
    w.u8(1);
    w.u16le(0x0203);
    w.u16be(0x0405);
    w.u32le(0x06070809);
    w.u32be(0x0a0b0c0d);
    w.zeros(2);
    w.u64le(1n);
    assert.equal(w.offset, 23);
    assert.equal(
      Buffer.from(w.buf).toString('hex'),
      '01' + '0302' + '0405' + '09080706' + '0a0b0c0d' + '0000' + '0100000000000000' + '00',
    );
  });

  it('writes into an existing buffer at an offset', () => {
    const buf = new Uint8Array(12).fill(0xee);
    const w = new ByteWriter(buf, 2);
    w.u64be(0x1122334455667788n);
    w.bytes(Uint8Array.of(0xaa, 0xbb));
    assert.equal(w.buf, buf);
    assert.equal(Buffer.from(buf).toString('hex'), 'eeee1122334455667788aabb');
  });

  it('pads ascii fields with spaces by default and with the given byte otherwise', () => {
    const w = new ByteWriter(12);
    w.ascii('QEMU', 6);
    w.ascii('nq', 6, 0);
    assert.equal(Buffer.from(w.buf).toString('hex'), '51454d552020' + '6e7100000000');
  });

  it('rejects ascii that is too long or not ASCII', () => {
    const w = new ByteWriter(8);
    assert.throws(() => w.ascii('toolong', 4), {
      name: 'RangeError',
      message: 'string of 7 characters does not fit in 4 bytes',
    });
    assert.throws(() => w.ascii('né', 4), {
      name: 'RangeError',
      message: 'non-ASCII character at index 1 in "né"',
    });
    assert.equal(w.offset, 0);
  });
});

describe('asciiField', () => {
  const cases: [string, number[], string][] = [
    ['trailing spaces', [0x41, 0x42, 0x20, 0x20], 'AB'],
    ['trailing NULs', [0x41, 0x00, 0x00, 0x00], 'A'],
    ['mixed padding', [0x41, 0x20, 0x00, 0x20], 'A'],
    ['inner and leading spaces kept', [0x20, 0x41, 0x20, 0x42], ' A B'],
    ['all padding', [0x20, 0x00, 0x20, 0x00], ''],
  ];
  for (const [name, bytes, want] of cases) {
    it(`trims ${name} → ${JSON.stringify(want)}`, () => {
      assert.equal(asciiField(Uint8Array.from(bytes), 0, bytes.length), want);
    });
  }

  it('reads a field in the middle of a buffer and is bounds-checked', () => {
    const buf = new Uint8Array(10);
    writeAscii(buf, 2, 'xy', 4);
    assert.equal(asciiField(buf, 2, 4), 'xy');
    assert.throws(() => asciiField(buf, 8, 4), DecodeError);
  });
});
