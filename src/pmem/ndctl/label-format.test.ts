import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHexBytes } from '../../util/u64.js';
import { readU64le } from '../../util/bytes.js';
import { formatGuid, guidBytes, parseUuid, PMEM_TYPE_GUID, ABSTRACTION_GUIDS } from './guid.js';
import {
  bestSeq,
  cookieFor,
  decodeLabel,
  encodeIndex,
  encodeLabel,
  IndexHeader,
  labelGeometry,
  LabelLayout,
  nextSeq,
  qemuCookies,
  validateIndex,
  type Label,
} from './label-format.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('label area geometry (§7.1 worked values)', () => {
  const rows: [number, '1.1' | '1.2', number, number, number][] = [
    [128 * KiB, '1.2', 256, 510, 512],
    [128 * KiB, '1.1', 256, 1020, 512],
    [256 * KiB, '1.2', 256, 1022, 512],
    [1 * MiB, '1.2', 768, 4090, 1536],
    [4 * MiB, '1.2', 2304, 16366, 4608],
  ];
  for (const [c, v, i, nslot, labeloff] of rows) {
    it(`${c} bytes with v${v} labels gives I=${i}, nslot=${nslot}, labeloff=${labeloff}`, () => {
      const g = labelGeometry(c, v);
      assert.deepEqual([g.indexSize, g.nslot, g.labelOff], [i, nslot, labeloff]);
    });
  }
  it('pins the structure sizes: index header 72, label 256', () => {
    assert.equal(IndexHeader.size, 72);
    assert.equal(LabelLayout.size, 256);
  });
});

describe('sequence numbers (§7.3)', () => {
  it('cycles 1→2→3→1 and keeps 0 at 0', () => {
    assert.deepEqual([0, 1, 2, 3].map(nextSeq), [0, 2, 3, 1]);
  });
  const rows: [number, number, 0 | 1][] = [
    [3, 2, 0],
    [2, 3, 1],
    [3, 1, 1],
    [1, 3, 0],
    [1, 2, 1],
    [2, 2, 1],
    [0, 1, 1],
    [1, 0, 0],
  ];
  for (const [a, b, want] of rows) {
    it(`index ${want} is current when the seqs are ${a} and ${b}`, () => {
      assert.equal(bestSeq(a, b), want);
    });
  }
});

describe('interleave-set cookies of QEMU slots (§7.6)', () => {
  it('slot 0 has cookie1 0x002468ac00123456 and cookie2 0x00ba90120012b4dc', () => {
    assert.deepEqual(qemuCookies(0), {
      cookie1: 0x002468ac00123456n,
      cookie2: 0x00ba90120012b4dcn,
    });
  });
  it('slot 1 has cookie1 0x002468ae00123457 and cookie2 0x00ba901c0012b4dd', () => {
    assert.deepEqual(qemuCookies(1), {
      cookie1: 0x002468ae00123457n,
      cookie2: 0x00ba901c0012b4ddn,
    });
    assert.equal(cookieFor(1, '1.2'), 52512795602891997n);
  });
});

describe('GUID byte orders (§7.5)', () => {
  it('stores the PMEM type GUID mixed-endian, starting 79 d3 f0 66', () => {
    assert.deepEqual(guidBytes(PMEM_TYPE_GUID), parseHexBytes('79d3f066f3b47440ac430d3318b78cdb'));
    assert.equal(formatGuid(guidBytes(PMEM_TYPE_GUID)), PMEM_TYPE_GUID);
  });
  it('stores the abstraction GUIDs as the reference lists them', () => {
    assert.deepEqual(
      guidBytes(ABSTRACTION_GUIDS.btt2),
      parseHexBytes('fc3b6318351717428ac917239282d3f8'),
    );
    assert.deepEqual(
      guidBytes(ABSTRACTION_GUIDS.dax),
      parseHexBytes('9c6da897dd3cda4e986f5068b4f80088'),
    );
  });
});

function hexBlock(parts: [number, string][], size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (const [off, hex] of parts) b.set(parseHexBytes(hex), off);
  return b;
}

describe('index block golden bytes (§7.2)', () => {
  it('encodes index 0 of a fresh 128 KiB v1.2 area byte for byte', () => {
    const g = labelGeometry(128 * KiB, '1.2');
    const got = encodeIndex(g, 0, 3, new Array<boolean>(510).fill(true));
    const want = hexBlock(
      [
        [0, '4e414d4553504143455f494e44455800'], // "NAMESPACE_INDEX\0"
        [16, '000000' + '01'], // flags, labelsize 1 = 256-byte labels
        [20, '03000000'], // seq 3
        [24, '0000000000000000' + '0001000000000000'], // myoff 0, mysize 256
        [40, '0001000000000000' + '0002000000000000'], // otheroff 256, labeloff 512
        [56, 'fe010000' + '0100' + '0200'], // nslot 510, v1.2
        [64, '1c3c3218ede393e7'], // fletcher64 0xe793e3ed18323c1c
        [72, 'ff'.repeat(63) + '3f'], // 510 free bits, LSB first
      ],
      256,
    );
    assert.deepEqual(got, want);
  });
  it('encodes index 1 (seq 2) with otheroff 0 and its own checksum', () => {
    const g = labelGeometry(128 * KiB, '1.2');
    const got = encodeIndex(g, 1, 2, new Array<boolean>(510).fill(true));
    assert.equal(readU64le(got, 24), 256n);
    assert.equal(readU64le(got, 40), 0n);
    assert.equal(readU64le(got, 64), 0xe793e7b218323c1bn);
  });
  it('encodes a v1.1 index with labelsize byte 0, minor 1 and 1020 slots', () => {
    const g = labelGeometry(128 * KiB, '1.1');
    const got = encodeIndex(g, 0, 3, new Array<boolean>(1020).fill(true));
    assert.deepEqual([got[19], got[62]], [0, 1]);
    assert.equal(readU64le(got, 64), 0xdb634621e7313e0an);
    assert.equal(got[72 + 127], 0x0f);
  });
});

describe('index block validation (§7.2)', () => {
  const g = labelGeometry(128 * KiB, '1.2');
  const good = (): Uint8Array => encodeIndex(g, 0, 3, new Array<boolean>(510).fill(true));
  it('accepts a freshly encoded index and decodes its bitmap', () => {
    const v = validateIndex(good(), 0, g);
    assert.ok(!('invalid' in v));
    assert.equal(v.free.filter((x) => x).length, 510);
  });
  const breakers: [string, (b: Uint8Array) => void, number][] = [
    ['signature', (b) => (b[0] = 0x41), 0],
    ['checksum', (b) => (b[100] = 0), 0],
    ['myoff', () => undefined, 1],
    ['label size', () => undefined, -1],
  ];
  for (const [reason, mutate, asIndex] of breakers) {
    it(`rejects an index with a bad ${reason}`, () => {
      const b = good();
      mutate(b);
      const geo = asIndex === -1 ? labelGeometry(128 * KiB, '1.1') : g;
      assert.deepEqual(validateIndex(b, asIndex === 1 ? 1 : 0, geo), { invalid: reason });
    });
  }
  it('rejects seq 0 even with a matching checksum', () => {
    assert.deepEqual(validateIndex(encodeIndex(g, 0, 0, []), 0, g), { invalid: 'sequence number' });
  });
});

describe('namespace label golden bytes (§7.5)', () => {
  const label: Label = {
    uuid: parseUuid('01234567-89ab-cdef-0123-456789abcdef'),
    name: 'pmem-test',
    flags: 0,
    nlabel: 1,
    position: 0,
    isetcookie: 0x00ba90120012b4dcn,
    lbasize: 0n,
    dpa: 0n,
    rawsize: 1n << 30n,
    slot: 0,
    typeGuid: guidBytes(PMEM_TYPE_GUID),
    abstractionGuid: guidBytes(ABSTRACTION_GUIDS.pfn),
  };
  it('encodes a v1.2 fsdax label byte for byte with its fletcher64', () => {
    const want = hexBlock(
      [
        [0, '0123456789abcdef0123456789abcdef'],
        [16, Buffer.from('pmem-test').toString('hex')],
        [80, '00000000' + '0100' + '0000'], // flags, nlabel 1, position 0
        [88, 'dcb412001290ba00'], // cookie2 of slot 0
        [112, '0000004000000000'], // rawsize 1 GiB
        [128, '79d3f066f3b47440ac430d3318b78cdb'],
        [144, 'ba0064269ffb7746bcb0968f11d0d225'],
        [248, '6ac402a8317ef7c7'], // 0xc7f77e31a802c46a
      ],
      256,
    );
    assert.deepEqual(encodeLabel(label, '1.2'), want);
  });
  it('decodes what it encodes (v1.2 and v1.1)', () => {
    assert.deepEqual(decodeLabel(encodeLabel(label, '1.2'), 0, '1.2'), label);
    const v11 = decodeLabel(encodeLabel(label, '1.1'), 0, '1.1');
    assert.equal(encodeLabel(label, '1.1').length, 128);
    assert.deepEqual(v11?.typeGuid, new Uint8Array(16));
    assert.equal(v11?.rawsize, 1n << 30n);
  });
  it('ignores a label stored in the wrong slot, with a bad checksum or a non-4K dpa', () => {
    assert.equal(decodeLabel(encodeLabel(label, '1.2'), 1, '1.2'), undefined);
    const bad = encodeLabel(label, '1.2');
    bad[20] = 0x41;
    assert.equal(decodeLabel(bad, 0, '1.2'), undefined);
    assert.equal(decodeLabel(encodeLabel({ ...label, dpa: 512n }, '1.1'), 0, '1.1'), undefined);
  });
});
