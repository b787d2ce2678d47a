import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc16T10Dif, crc32, crc32c, crc64Nvme, fletcher64 } from './crc.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const fill = (n: number, f: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);

const CHECK = ascii('123456789');
const KIB4 = 4096;

// Bit-at-a-time definitions straight from the CRC parameters, used as an independent oracle for
// the table-driven implementations.
function crc16Bitwise(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x8bb7) & 0xffff : crc << 1;
  }
  return crc;
}

function crc64Bitwise(data: Uint8Array): bigint {
  let crc = 0xffff_ffff_ffff_ffffn;
  for (const b of data) {
    crc ^= BigInt(b);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ 0x9a6c9329ac4bc9b5n : crc >> 1n;
  }
  return crc ^ 0xffff_ffff_ffff_ffffn;
}

describe('crc16T10Dif', () => {
  // Check value from the CRC catalogue (CRC-16/T10-DIF); 32-byte codewords from SBC-3 (T10
  // 03-290r0 §4.5.6), which the NVM Command Set Spec §5.2.1.1 adopts as its 16b guard test cases;
  // the 512-byte pattern was measured on QEMU 7.2 (reference qemu-nvme.md §9.3).
  const cases: [string, Uint8Array, number][] = [
    ['"123456789"', CHECK, 0xd0db],
    ['32 bytes of 00h', new Uint8Array(32), 0x0000],
    ['32 bytes of FFh', new Uint8Array(32).fill(0xff), 0xa293],
    ['32 bytes incrementing 00h..1Fh', fill(32, (i) => i), 0x0224],
    ['2 bytes FFh then 30 bytes 00h', fill(32, (i) => (i < 2 ? 0xff : 0)), 0x21b8],
    ['32 bytes decrementing FFh..E0h', fill(32, (i) => 0xff - i), 0xa0b7],
    ['4 KiB of 00h', new Uint8Array(KIB4), 0x0000],
    ['512 bytes of (i*13+1) (QEMU measured)', fill(512, (i) => i * 13 + 1), 0xa2a6],
    ['empty input', new Uint8Array(0), 0x0000],
  ];
  for (const [what, data, want] of cases) {
    it(`${what} → 0x${want.toString(16).padStart(4, '0')}`, () => {
      assert.equal(crc16T10Dif(data), want);
    });
  }

  it('4 KiB of FFh → 0x8b5d, agreeing with the bitwise definition (no published vector)', () => {
    const data = new Uint8Array(KIB4).fill(0xff);
    assert.equal(crc16T10Dif(data), 0x8b5d);
    assert.equal(crc16Bitwise(data), 0x8b5d);
  });

  it('continues from a seed: crc(b, crc(a)) equals crc(a ++ b)', () => {
    assert.equal(crc16T10Dif(ascii('56789'), crc16T10Dif(ascii('1234'))), 0xd0db);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const whole = new Uint8Array([...a, ...b]);
        assert.equal(crc16T10Dif(b, crc16T10Dif(a)), crc16T10Dif(whole));
        assert.equal(crc16T10Dif(whole), crc16Bitwise(whole));
      }),
    );
  });

  it('rejects a seed wider than 16 bits', () => {
    assert.throws(() => crc16T10Dif(CHECK, 0x10000), {
      name: 'RangeError',
      message: 'crc16T10Dif: seed 65536 is not a 16-bit value',
    });
  });
});

describe('crc64Nvme', () => {
  // Check value from the CRC catalogue (CRC-64/NVME); 4 KiB cases from NVM Command Set Spec 1.0
  // §5.2.1.3.5 "64b CRC Test Cases" (also reference qemu-nvme.md §9.3/§9.4).
  const cases: [string, Uint8Array, bigint][] = [
    ['"123456789"', CHECK, 0xae8b14860a799888n],
    ['4 KiB of 00h', new Uint8Array(KIB4), 0x6482d367eb22b64en],
    ['4 KiB of FFh', new Uint8Array(KIB4).fill(0xff), 0xc0ddba7302eca3acn],
    ['4 KiB incrementing 00h..FFh', fill(KIB4, (i) => i), 0x3e729f5f6750449cn],
    ['4 KiB decrementing FFh..00h', fill(KIB4, (i) => 0xff - i), 0x9a2df64b8e9e517en],
    ['empty input', new Uint8Array(0), 0n],
  ];
  for (const [what, data, want] of cases) {
    it(`${what} → 0x${want.toString(16).padStart(16, '0')}`, () => {
      assert.equal(crc64Nvme(data), want);
    });
  }

  it('continues from a seed: crc(b, crc(a)) equals crc(a ++ b)', () => {
    const data = fill(KIB4, (i) => i);
    const first = crc64Nvme(data.subarray(0, 1000));
    assert.equal(crc64Nvme(data.subarray(1000), first), 0x3e729f5f6750449cn);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
        const whole = new Uint8Array([...a, ...b]);
        assert.equal(crc64Nvme(b, crc64Nvme(a)), crc64Nvme(whole));
        assert.equal(crc64Nvme(whole), crc64Bitwise(whole));
      }),
      { numRuns: 50 },
    );
  });

  it('rejects a seed outside 64 bits', () => {
    assert.throws(() => crc64Nvme(CHECK, -1n), {
      name: 'RangeError',
      message: 'crc64Nvme: seed -1 is not a 64-bit value',
    });
  });
});

describe('crc32c', () => {
  // Check value from the CRC catalogue (CRC-32/ISCSI); 4 KiB cases from the NVM Command Set Spec
  // 1.0 32b CRC test cases.
  const cases: [string, Uint8Array, number][] = [
    ['"123456789"', CHECK, 0xe3069283],
    ['4 KiB of 00h', new Uint8Array(KIB4), 0x98f94189],
    ['4 KiB of FFh', new Uint8Array(KIB4).fill(0xff), 0x25c1fe13],
    ['4 KiB incrementing 00h..FFh', fill(KIB4, (i) => i), 0x9c71fe32],
    ['4 KiB decrementing FFh..00h', fill(KIB4, (i) => 0xff - i), 0x214941a8],
  ];
  for (const [what, data, want] of cases) {
    it(`${what} → 0x${want.toString(16).padStart(8, '0')}`, () => {
      assert.equal(crc32c(data), want);
    });
  }

  it('continues from a seed and accepts subarrays', () => {
    const buf = ascii('xx123456789yy').subarray(2, 11);
    assert.equal(crc32c(buf.subarray(5), crc32c(buf.subarray(0, 5))), 0xe3069283);
  });
});

describe('fletcher64', () => {
  // Hand-computed from the definition (reference qemu-pmem-ndctl.md §7.4).
  const cases: [string, Uint8Array, bigint][] = [
    ['empty input', new Uint8Array(0), 0n],
    ['4 zero bytes (PMDK SDS "no device id")', new Uint8Array(4), 0n],
    [
      'words 1, 2, 3: lo 6, hi 1+3+6',
      Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0),
      0xa_0000_0006n,
    ],
    ['"abcd" (one word)', ascii('abcd'), 0x64636261_64636261n],
    ['"abcdefgh" (hi wraps)', ascii('abcdefgh'), 0x312e2b27_cccac8c6n],
    [
      'words FFFFFFFF, FFFFFFFF, 2 (lo wraps to 0)',
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0),
      0xfffffffd_00000000n,
    ],
    // n words of FFFFFFFF: lo = -n, hi = -n(n+1)/2 (mod 2^32); n = 1024.
    ['4 KiB of FFh', new Uint8Array(KIB4).fill(0xff), 0xfff7fe00_fffffc00n],
  ];
  for (const [what, data, want] of cases) {
    it(`${what} → 0x${want.toString(16)}`, () => {
      assert.equal(fletcher64(data), want);
    });
  }

  it('reads little-endian words from a subarray at any byte offset', () => {
    const buf = new Uint8Array(9);
    buf.set(ascii('abcdefgh'), 1);
    assert.equal(fletcher64(buf.subarray(1)), 0x312e2b27_cccac8c6n);
  });

  it('rejects a length that is not a multiple of 4', () => {
    assert.throws(() => fletcher64(new Uint8Array(6)), {
      name: 'RangeError',
      message: 'fletcher64: length 6 is not a multiple of 4',
    });
  });
});

describe('crc32', () => {
  it('matches the CRC-32/ISO-HDLC check value and chains with a seed', () => {
    // Catalogue of parametrised CRC algorithms, CRC-32/ISO-HDLC: check = 0xCBF43926.
    const buf = new TextEncoder().encode('123456789');
    assert.equal(crc32(buf), 0xcbf43926);
    assert.equal(crc32(buf.subarray(4), crc32(buf.subarray(0, 4))), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });
});
