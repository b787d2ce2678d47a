import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildLbaFormats, computeGeometry, defaultDiscardGranularity } from './lbaf.js';

const MIB = 1024n * 1024n;

describe('LBA format selection (reference §5.1)', () => {
  const cases = [
    { lbs: 512, ms: 0, index: 0, count: 8 },
    { lbs: 512, ms: 8, index: 1, count: 8 },
    { lbs: 512, ms: 64, index: 3, count: 8 },
    { lbs: 4096, ms: 0, index: 4, count: 8 },
    { lbs: 4096, ms: 16, index: 6, count: 8 },
    { lbs: 512, ms: 4, index: 8, count: 9 },
    { lbs: 1024, ms: 0, index: 8, count: 9 },
  ];
  for (const c of cases) {
    it(`selects index ${c.index} for ${c.lbs}+${c.ms} (${c.count} formats)`, () => {
      const t = buildLbaFormats(c.lbs, c.ms);
      assert.equal(t.initialIndex, c.index);
      assert.equal(t.formats.length, c.count);
      assert.deepEqual(t.formats[c.index], { ds: Math.log2(c.lbs), ms: c.ms });
    });
  }
});

describe('namespace geometry', () => {
  const cases = [
    // 64 MiB, 512 B: 131072 blocks, NPDG = 4096/512 - 1, DMRSL = 0x7ffffe00 / 512.
    { name: '64 MiB of 512 B blocks', ds: 9, ms: 0, nsze: 131072, npdg: 7, dmrsl: 0x3fffff },
    // Measured by the reference: 64 MiB with 520 B per block -> 129055.
    { name: '64 MiB of 512+8 B blocks', ds: 9, ms: 8, nsze: 129055, npdg: 7, dmrsl: 0x3fffff },
    { name: '64 MiB of 4 KiB blocks', ds: 12, ms: 0, nsze: 16384, npdg: 0, dmrsl: 0x7ffff },
  ];
  for (const c of cases) {
    it(`computes NSZE ${c.nsze}, NPDG ${c.npdg} for ${c.name}`, () => {
      const lbs = 2 ** c.ds;
      const g = computeGeometry(
        { ds: c.ds, ms: c.ms },
        0,
        false,
        64n * MIB,
        defaultDiscardGranularity(lbs),
      );
      assert.equal(g.nsze, c.nsze);
      assert.equal(g.metaOffset, c.nsze * lbs);
      assert.equal(g.npdg, c.npdg);
      assert.equal(g.dmrsl, c.dmrsl);
    });
  }

  it('wraps NPDG to 0xffff when the discard granularity is below the block size', () => {
    const g = computeGeometry({ ds: 12, ms: 0 }, 4, false, 64n * MIB, 0);
    assert.equal(g.npdg, 0xffff);
  });

  it('keeps the configured granularity after a format to 4 KiB blocks', () => {
    // logical_block_size=512 -> granularity 4096 -> 4 KiB blocks give NPDG 0.
    const g = computeGeometry(
      { ds: 12, ms: 0 },
      4,
      false,
      64n * MIB,
      defaultDiscardGranularity(512),
    );
    assert.equal(g.npdg, 0);
    assert.equal(g.nsze, 16384);
  });
});
