import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecodeError } from './bytes.js';
import { defineLayout, fieldWidth } from './layout.js';

// A completion-queue-entry shaped layout (NVMe Base Spec 2.0 §4.6): 16 bytes, little endian.
const Cqe = defineLayout('test-cqe', 16, [
  { name: 'dw0', offset: 0, type: 'u32le' },
  { name: 'dw1', offset: 4, type: 'u32le' },
  { name: 'sqhd', offset: 8, type: 'u16le' },
  { name: 'sqid', offset: 10, type: 'u16le' },
  { name: 'cid', offset: 12, type: 'u16le' },
  { name: 'status', offset: 14, type: 'u16le' },
]);

// Mixed widths, byte orders, a gap (reserved bytes 1..3) and both variable-size kinds.
const Mixed = defineLayout('test-mixed', 40, [
  { name: 'ver', offset: 0, type: 'u8' },
  { name: 'len', offset: 4, type: 'u16be' },
  { name: 'tag', offset: 6, type: 'u32be' },
  { name: 'lba', offset: 10, type: 'u64le' },
  { name: 'ref', offset: 18, type: 'u64be' },
  { name: 'uuid', offset: 26, type: { bytes: 4 } },
  { name: 'model', offset: 30, type: { ascii: 6 } },
  { name: 'nqn', offset: 36, type: { ascii: 4, pad: 0 } },
]);

describe('defineLayout decode/encode', () => {
  it('encodes a CQE to golden bytes and decodes it back', () => {
    const value = { dw0: 0x11223344, dw1: 0, sqhd: 5, sqid: 1, cid: 0xabcd, status: 0x4003 };
    const bytes = Cqe.encode(value);
    assert.equal(Buffer.from(bytes).toString('hex'), '44332211000000000500010' + '0cdab0340');
    assert.deepEqual(Cqe.decode(bytes), value);
  });

  it('encodes missing fields and gaps as zero, even into a dirty buffer', () => {
    const buf = new Uint8Array(44).fill(0xee);
    const out = Mixed.encode({ ver: 1, lba: 0x0102n, model: 'QE', nqn: 'n' }, buf, 2);
    assert.equal(out, buf);
    assert.equal(
      Buffer.from(buf).toString('hex'),
      'eeee' +
        '01000000' + // ver + reserved gap
        '0000' + // len
        '00000000' + // tag
        '0201000000000000' + // lba (LE)
        '0000000000000000' + // ref
        '00000000' + // uuid
        '514520202020' + // model, space padded
        '6e000000' + // nqn, NUL padded
        'eeee',
    );
  });

  it('round-trips every field kind with the inferred value types', () => {
    const value = {
      ver: 2,
      len: 0x1234,
      tag: 0xdeadbeef,
      lba: 0xfedcba9876543210n,
      ref: 0x0123456789abcdefn,
      uuid: Uint8Array.of(9, 8, 7, 6),
      model: 'QEMU',
      nqn: 'nqn.',
    };
    const bytes = Mixed.encode(value);
    assert.equal(bytes.length, 40);
    assert.equal(Buffer.from(bytes.subarray(4, 10)).toString('hex'), '1234deadbeef');
    assert.equal(Buffer.from(bytes.subarray(18, 26)).toString('hex'), '0123456789abcdef');
    const back = Mixed.decode(bytes);
    assert.deepEqual(back, value);
    // Compile-time: numbers for <=32-bit, bigint for 64-bit, Uint8Array for bytes, string for ascii.
    const typed: { ver: number; lba: bigint; uuid: Uint8Array; model: string } = back;
    assert.equal(typed.lba, 0xfedcba9876543210n);
    // @ts-expect-error - a 64-bit field is a bigint, never a number
    const wrong: number = back.ref;
    assert.equal(typeof wrong, 'bigint');
  });

  it('decodes bytes fields as copies that outlive the buffer', () => {
    const bytes = Mixed.encode({ uuid: Uint8Array.of(1, 2, 3, 4) });
    const v = Mixed.decode(bytes);
    bytes.fill(0);
    assert.deepEqual([...v.uuid], [1, 2, 3, 4]);
  });

  it('decodes at an offset and raises DecodeError when the structure is truncated', () => {
    const buf = new Uint8Array(20);
    buf[4] = 7;
    assert.equal(Cqe.decode(buf, 4).dw0, 7);
    assert.throws(
      () => Cqe.decode(buf, 5),
      (e: unknown) => e instanceof DecodeError && e.offset === 5 && e.need === 16 && e.have === 15,
    );
  });

  it('reports offsets of named fields', () => {
    assert.equal(Cqe.offsetOf('status'), 14);
    assert.equal(Mixed.offsetOf('model'), 30);
    assert.equal(Cqe.size, 16);
    assert.deepEqual(
      Mixed.fields.map((f) => fieldWidth(f.type)),
      [1, 2, 4, 8, 8, 4, 6, 4],
    );
  });
});

describe('encode rejects bad values naming the layout and field', () => {
  const cases: [string, () => unknown, string, string][] = [
    [
      'u16 too large',
      () => Cqe.encode({ cid: 0x10000 }),
      'RangeError',
      'layout test-cqe: field cid (u16le): value 65536 out of range for u16 (0..65535)',
    ],
    [
      'bytes too long',
      () => Mixed.encode({ uuid: new Uint8Array(5) }),
      'RangeError',
      'layout test-mixed: field uuid (bytes 4): 5 bytes do not fit in 4',
    ],
    [
      'ascii too long',
      () => Mixed.encode({ model: 'QEMU NVMe' }),
      'RangeError',
      'layout test-mixed: field model (ascii 6): string of 9 characters does not fit in 6 bytes',
    ],
    [
      'number given for a bigint field',
      () => Mixed.encode({ lba: 1 as unknown as bigint }),
      'TypeError',
      'layout test-mixed: field lba (u64le): expected bigint, got number',
    ],
  ];
  for (const [what, fn, name, message] of cases) {
    it(`${what}: ${message}`, () => {
      assert.throws(fn, { name, message });
    });
  }

  it('leaves the target buffer untouched when a field is rejected', () => {
    const buf = new Uint8Array(16).fill(0xaa);
    assert.throws(() => Cqe.encode({ dw0: 1, status: -1 }, buf), RangeError);
    assert.ok(buf.every((b) => b === 0xaa));
  });
});

describe('defineLayout rejects malformed tables at definition time', () => {
  const cases: [string, () => unknown, string][] = [
    [
      'overlapping fields',
      () =>
        defineLayout('bad-overlap', 8, [
          { name: 'a', offset: 0, type: 'u32le' },
          { name: 'b', offset: 2, type: 'u16le' },
        ]),
      'layout bad-overlap: field b (offset 2) overlaps field a (offset 0, 4 bytes)',
    ],
    [
      'overlap declared out of order',
      () =>
        defineLayout('bad-order', 16, [
          { name: 'late', offset: 8, type: 'u64le' },
          { name: 'early', offset: 4, type: { bytes: 6 } },
        ]),
      'layout bad-order: field late (offset 8) overlaps field early (offset 4, 6 bytes)',
    ],
    [
      'field past the end',
      () =>
        defineLayout('bad-size', 8, [
          { name: 'ok', offset: 0, type: 'u32le' },
          { name: 'tail', offset: 4, type: 'u64le' },
        ]),
      'layout bad-size: field tail (offset 4, 8 bytes) ends at 12, past size 8',
    ],
    [
      'duplicate names',
      () =>
        defineLayout('bad-dup', 8, [
          { name: 'x', offset: 0, type: 'u8' },
          { name: 'x', offset: 1, type: 'u8' },
        ]),
      'layout bad-dup: duplicate field x',
    ],
    [
      'zero-width bytes field',
      () => defineLayout('bad-width', 8, [{ name: 'z', offset: 0, type: { bytes: 0 } }]),
      'layout bad-width: field z has invalid width 0',
    ],
  ];
  for (const [what, fn, message] of cases) {
    it(`${what}: ${message}`, () => {
      assert.throws(fn, { name: 'Error', message });
    });
  }

  it('offsetOf rejects an unknown field name at run time', () => {
    assert.throws(() => Cqe.offsetOf('nope' as 'cid'), {
      message: 'layout test-cqe: no field nope',
    });
  });
});
