import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseHexBytes } from '../../util/u64.js';
import { parseUuid } from './guid.js';
import { encodePfnInfo, PfnInfo, pfnGeometry, validatePfnInfo, type PfnGeometry } from './pfn.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const UUID = new Uint8Array(16).fill(0xaa);
const PARENT = parseUuid('01234567-89ab-cdef-0123-456789abcdef');

describe('PFN geometry (§9.3 nd_pfn_init)', () => {
  const start = 4 * GiB;
  it('1 GiB, map=dev, align 2 MiB: dataoff 0x1200000, npfns 257536, size 1054867456', () => {
    const g = pfnGeometry(start, GiB, 'dev', 2 * MiB) as PfnGeometry;
    assert.deepEqual(g, {
      dataoff: 0x1200000,
      npfns: 257536,
      endTrunc: 0,
      align: 2 * MiB,
      mode: 2,
    });
    assert.equal(GiB - g.dataoff - g.endTrunc, 1054867456);
  });
  it('1 GiB, map=mem: dataoff 0x200000, npfns 261632', () => {
    assert.deepEqual(pfnGeometry(start, GiB, 'mem', 2 * MiB), {
      dataoff: 0x200000,
      npfns: 261632,
      endTrunc: 0,
      align: 2 * MiB,
      mode: 1,
    });
  });
  it('align 1 GiB at a 16 MiB offset truncates the end to the next GiB boundary', () => {
    const g = pfnGeometry(start + 16 * MiB, 2 * GiB, 'dev', GiB) as PfnGeometry;
    assert.deepEqual([g.dataoff, g.endTrunc, g.align], [GiB - 16 * MiB, 16 * MiB, GiB]);
    assert.equal(g.npfns, (2 * GiB - g.dataoff - g.endTrunc) / 4096);
  });
  it('a 4 KiB request still aligns the data to 2 MiB but records 4096', () => {
    const g = pfnGeometry(start, GiB, 'dev', 4096) as PfnGeometry;
    assert.deepEqual([g.dataoff, g.align], [0x1200000, 4096]);
  });
  it('refuses a start that is not 2 MiB aligned, with the kernel message', () => {
    assert.deepEqual(pfnGeometry(start + 4096, GiB, 'dev', 2 * MiB), {
      error: 'start 0x100001000 misaligned to 0x200000',
    });
  });
  it('refuses a namespace too small for the alignment', () => {
    assert.deepEqual(pfnGeometry(start, 16 * MiB, 'dev', GiB), {
      error: 'unable to satisfy requested alignment',
    });
  });
});

describe('PFN info block golden bytes and validation (§9.2, §9.4)', () => {
  const g = pfnGeometry(4 * GiB, GiB, 'dev', 2 * MiB) as PfnGeometry;
  it('encodes the fsdax info block byte for byte', () => {
    const want = new Uint8Array(4096);
    want.set(
      parseHexBytes(
        '4e5644494d4d5f50464e5f494e464f00aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0123456789abcdef0123456789abcdef' +
          '00000000010004000000200100000000' +
          '00ee0300000000000200000000000000000000000000200000100000' +
          '40000000',
      ),
    );
    want.set(parseHexBytes('2e7e6a3dea2d8009'), 4088);
    assert.equal(PfnInfo.size, 4096);
    assert.deepEqual(encodePfnInfo('fsdax', g, UUID, PARENT), want);
  });
  it('devdax differs only in the signature and checksum', () => {
    const dax = encodePfnInfo('devdax', g, UUID, PARENT);
    assert.equal(Buffer.from(dax.subarray(0, 16)).toString('latin1'), 'NVDIMM_DAX_INFO\0');
  });
  it('validates the parent uuid, the signature kind and the checksum', () => {
    const b = encodePfnInfo('fsdax', g, UUID, PARENT);
    const ok = validatePfnInfo(b, 'fsdax', PARENT, GiB);
    assert.ok(!('invalid' in ok));
    assert.deepEqual([ok.map, ok.dataoff, ok.align], ['dev', 0x1200000, 2 * MiB]);
    assert.deepEqual(validatePfnInfo(b, 'devdax', PARENT, GiB), { invalid: 'signature' });
    assert.deepEqual(validatePfnInfo(b, 'fsdax', UUID, GiB), { invalid: 'parent uuid' });
    b[200] = 1;
    assert.deepEqual(validatePfnInfo(b, 'fsdax', PARENT, GiB), { invalid: 'checksum' });
  });
});
