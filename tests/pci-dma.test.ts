// PRP and SGL mapping (src/nvme/pci/dma.ts) against QEMU 7.2's nvme_map_prp/nvme_map_sgl rules
// (reference qemu-nvme.md §2.5, §11): segment lists and exact statuses, table driven over a
// small address space (RAM below 1 MiB, a CMB window at 0x8000_0000, BAR0 at 0xF000_0000).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeU32le, writeU64le } from '../src/util/bytes.js';
import { GuestMemory } from '../src/nvme/pci/guest-memory.js';
import {
  mapDptr,
  mapMptr,
  mapPrp,
  mapSgl,
  type DmaSpace,
  type Segment,
} from '../src/nvme/pci/dma.js';

const RAM = new GuestMemory(1n << 20n);
const CMB = 0x8000_0000n;
const space: DmaSpace = {
  pageSize: 4096,
  isCmb: (a) => a >= CMB && a < CMB + 0x10_0000n,
  isIomem: (a) => a >= 0xf000_0000n && a < 0xf000_4000n,
  readAddr: (a, l) => RAM.read(a, l),
};

function list(at: bigint, entries: readonly bigint[]): void {
  const b = new Uint8Array(8 * entries.length);
  entries.forEach((e, i) => writeU64le(b, 8 * i, e));
  RAM.write(at, b);
}

function desc(addr: bigint, len: number, type: number): Uint8Array {
  const b = new Uint8Array(16);
  writeU64le(b, 0, addr);
  writeU32le(b, 8, len);
  b[15] = type << 4;
  return b;
}

const segs = (r: ReturnType<typeof mapPrp>): readonly Segment[] | number =>
  typeof r === 'number' ? r : r.segs;
const ram = (addr: bigint, len: number): Segment => ({ cmb: false, addr, len });

describe('PRP mapping (nvme_map_prp)', () => {
  list(0x1_0000n, [0x2_0000n, 0x3_0000n, 0x4_0000n]);
  list(0x5_0ff8n, [0x5_2000n]); // one entry before the page end: it chains
  list(0x5_2000n, [0x6_0000n, 0x6_1000n]);
  list(0x7_0000n, [0x2_0003n, 0x3_0000n]);
  const cases: [string, bigint, bigint, number, readonly Segment[] | number][] = [
    ['one page with an offset', 0x1000n + 0x200n, 0n, 512, [ram(0x1200n, 512)]],
    [
      'PRP1 to the page end, PRP2 second page',
      0x1800n,
      0x9000n,
      4096,
      [ram(0x1800n, 2048), ram(0x9000n, 2048)],
    ],
    ['PRP2 misaligned as a data page', 0x1000n, 0x9010n, 8192, 0x4013],
    [
      'PRP2 unused when PRP1 covers everything (garbage ignored)',
      0x1000n,
      0x123n,
      4096,
      [ram(0x1000n, 4096)],
    ],
    [
      'a PRP list of three pages',
      0x1000n,
      0x1_0000n,
      4 * 4096,
      [ram(0x1000n, 4096), ram(0x2_0000n, 4096), ram(0x3_0000n, 4096), ram(0x4_0000n, 4096)],
    ],
    [
      'a list pointer with an offset whose only entry chains to the next list',
      0x1000n,
      0x5_0ff8n,
      3 * 4096,
      [ram(0x1000n, 4096), ram(0x6_0000n, 4096), ram(0x6_1000n, 4096)],
    ],
    ['a misaligned list entry', 0x1000n, 0x7_0000n, 3 * 4096, 0x4013],
    ['an unreadable list', 0x1000n, 0x7fff_0000_0000n, 3 * 4096, 0x004],
    ['data in BAR0 registers', 0xf000_0000n, 0n, 64, 0x004],
    ['PRP1 in the CMB, PRP2 in host memory', CMB, 0x2000n, 8192, 0x4012],
    ['PRP1 in host memory, PRP2 in the CMB', 0x1000n, CMB, 8192, 0x4012],
    [
      'both in the CMB',
      CMB + 0x1000n,
      CMB + 0x2000n,
      8192,
      [
        { cmb: true, addr: CMB + 0x1000n, len: 4096 },
        { cmb: true, addr: CMB + 0x2000n, len: 4096 },
      ],
    ],
    [
      'PRP2 just past the CMB is host memory: mixing',
      CMB + 0xf_f000n,
      CMB + 0x10_0000n,
      8192,
      0x4012,
    ],
  ];
  for (const [name, p1, p2, len, want] of cases) {
    it(name, () => assert.deepEqual(segs(mapPrp(space, p1, p2, len)), want));
  }

  it('chains to the next list through the last entry of a full page', () => {
    // 600 pages: the first list page holds 511 entries plus a chain pointer.
    const first = Array.from({ length: 511 }, (_, i) => BigInt(0x10_0000 + i * 4096) & 0xf_ffffn);
    list(0x8_0000n, [...first, 0x9_0000n]);
    const rest = Array.from({ length: 88 }, () => 0x3000n);
    list(0x9_0000n, rest);
    const r = mapPrp(space, 0x1000n, 0x8_0000n, 600 * 4096);
    assert.ok(typeof r !== 'number');
    assert.equal(r.segs.length, 600);
    assert.deepEqual(r.segs[599], ram(0x3000n, 4096));
    list(0x8_0000n + 511n * 8n, [0x9_0008n]);
    assert.equal(mapPrp(space, 0x1000n, 0x8_0000n, 600 * 4096), 0x4013);
  });

  it('more than 1024 segments is Internal Device Error with DNR', () => {
    const many = Array.from({ length: 511 }, () => 0x2000n);
    list(0xa_0000n, [...many, 0xb_0000n]);
    list(0xb_0000n, [...many, 0xc_0000n]);
    list(0xc_0000n, many);
    assert.equal(mapPrp(space, 0x1000n, 0xa_0000n, 1100 * 4096), 0x4006);
  });
});

describe('SGL mapping (nvme_map_sgl)', () => {
  RAM.write(0xd_0000n, Uint8Array.from([...desc(0x1000n, 512, 0), ...desc(0x2000n, 512, 0)]));
  RAM.write(0xd_1000n, Uint8Array.from([...desc(0x1000n, 512, 0), ...desc(0xd_2000n, 16, 3)]));
  RAM.write(0xd_2000n, desc(0x3000n, 512, 0));
  RAM.write(0xd_3000n, Uint8Array.from([...desc(0xd_2000n, 16, 2), ...desc(0x1000n, 512, 0)]));
  RAM.write(
    0xd_4000n,
    Uint8Array.from([...desc(0x1000n, 512, 0), ...desc(0x2000n, 0, 0), ...desc(0x5000n, 8, 0)]),
  );
  RAM.write(0xd_5000n, desc(0xd_2000n, 16, 3));
  RAM.write(0xd_6000n, Uint8Array.from([...desc(0x1000n, 512, 1), ...desc(0x1000n, 512, 0)]));
  const cases: [string, Uint8Array, number, readonly Segment[] | number][] = [
    ['a single data block', desc(0x1000n, 1024, 0), 1024, [ram(0x1000n, 1024)]],
    ['a data block longer than the transfer', desc(0x1000n, 4096, 0), 1024, [ram(0x1000n, 1024)]],
    ['a data block shorter than the transfer', desc(0x1000n, 512, 0), 1024, 0x400f],
    ['a bit bucket as SGL1', desc(0x1000n, 512, 1), 512, 0x400d],
    ['a keyed data block as SGL1', desc(0x1000n, 512, 4), 512, 0x400d],
    [
      'a last segment of two data blocks',
      desc(0xd_0000n, 32, 3),
      1024,
      [ram(0x1000n, 512), ram(0x2000n, 512)],
    ],
    [
      'a segment chaining to a last segment',
      desc(0xd_1000n, 32, 2),
      1024,
      [ram(0x1000n, 512), ram(0x3000n, 512)],
    ],
    ['a last segment that chains on', desc(0xd_1000n, 32, 3), 1024, 0x400d],
    ['a segment descriptor before the end of a segment', desc(0xd_3000n, 32, 3), 512, 0x400e],
    ['a segment length of 0', desc(0xd_0000n, 0, 2), 512, 0x400d],
    ['a segment length not a multiple of 16', desc(0xd_0000n, 24, 3), 512, 0x400d],
    [
      'zero-length data blocks are skipped; excess data is an error',
      desc(0xd_4000n, 48, 3),
      512,
      0x400f,
    ],
    ['a bit bucket inside a segment', desc(0xd_6000n, 32, 3), 512, 0x4011],
    ['a data block running past the CMB end', desc(CMB + 0xf_ff00n, 512, 0), 512, 0x004],
    ['an unreadable segment', desc(0x7fff_0000_0000n, 16, 3), 512, 0x004],
    ['a data block in BAR0', desc(0xf000_0000n, 512, 0), 512, 0x004],
  ];
  for (const [name, sgl1, len, want] of cases) {
    it(name, () => assert.deepEqual(segs(mapSgl(space, sgl1, len)), want));
  }
  it('PSDT 3 is Invalid Field without DNR; PSDT 0 maps PRPs', () => {
    const dptr = new Uint8Array(16);
    writeU64le(dptr, 0, 0x1000n);
    assert.equal(mapDptr(space, 3, dptr, 512), 0x002);
    assert.deepEqual(segs(mapDptr(space, 0, dptr, 512)), [ram(0x1000n, 512)]);
  });
  it('metadata: MPTR contiguous, or an SGL whose length errors become 0x010', () => {
    assert.deepEqual(segs(mapMptr(space, 0, 0x4000n, 64)), [ram(0x4000n, 64)]);
    RAM.write(0xe_0000n, desc(0x4000n, 32, 0));
    assert.equal(mapMptr(space, 2, 0xe_0000n, 64), 0x4010);
    assert.equal(mapMptr(space, 2, 0x7fff_0000_0000n, 64), 0x004);
  });
});
