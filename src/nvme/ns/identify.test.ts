import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseHexBytes } from '../../util/u64.js';
import { Status, withDnr } from '../spec/status.js';
import { IdNsLayout, IdNsNvmLayout, IDENTIFY_SIZE } from './identify.js';
import { MIB, tempNamespace, type TempNs } from './fixtures.js';

/** Identify NS of `-device nvme-ns,drive=d` over a 64 MiB image (QEMU 7.2, reference §5.1). */
const GOLDEN_DEFAULT_HEAD = parseHexBytes(
  [
    '0000020000000000', // NSZE 131072
    '0000020000000000', // NCAP
    '0000020000000000', // NUSE
    '14 07 00 03 1f 00 00 00', // NSFEAT 0x14, NLBAF 7, FLBAS 0, MC 3, DPC 0x1f, DPS, NMIC, RESCAP
    '00 01 0000 0000 0000 0000 0000 0000 0000', // FPI, DLFEAT 1, NAWUN..NOIOB
    '00000000000000000000000000000000', // NVMCAP
    '0000 0000 0700 0700 0000 8000 80000000', // NPWG, NPWA, NPDG 7, NPDA 7, NOWS, MSSRL, MCL
    '7f 00 00 00 00000000 00000000 00000000', // MSRC 127, NULBAF, rsvd, ANAGRPID at 92
    '000000 00 0000 0000', // rsvd, NSATTR, NVMSETID, ENDGID 0 [7.2]
    '00000000000000000000000000000000', // NGUID (absent)
    '0000000000000000', // EUI64 (absent)
    '00000900 08000900 10000900 40000900', // LBAF0..3: 512 + 0/8/16/64
    '00000c00 08000c00 10000c00 40000c00', // LBAF4..7: 4096 + 0/8/16/64
  ].join(''),
);

describe('Identify Namespace', () => {
  let t: TempNs;
  before(async () => {
    t = await tempNamespace(64 * MIB);
  });
  after(async () => {
    await t.cleanup();
  });

  it('pins the structure sizes at 4096 bytes', () => {
    assert.equal(IdNsLayout.size, IDENTIFY_SIZE);
    assert.equal(IdNsNvmLayout.size, IDENTIFY_SIZE);
  });

  it('returns QEMU 7.2 bytes for the default 64 MiB, 512 B namespace (with RESCAP)', () => {
    const id = t.ns.identify(false);
    assert.equal(GOLDEN_DEFAULT_HEAD.length, 160);
    assert.equal(id.length, 4096);
    // Documented difference: RESCAP (byte 31) 0xff, every reservation type and PTPL (QEMU
    // 7.2: 0, no reservations).
    const want = GOLDEN_DEFAULT_HEAD.slice();
    want[31] = 0xff;
    assert.deepEqual(id.subarray(0, 160), want);
    assert.ok(
      id.subarray(160).every((b) => b === 0),
      'bytes past LBAF7 are zero',
    );
  });

  it('sets NMIC bit 0 only for a shared namespace of an explicit subsystem', async () => {
    const shared = await tempNamespace(MIB, { shared: true, inSubsystem: true });
    try {
      assert.equal(shared.ns.identify(true)[30], 1);
      assert.equal(shared.ns.identify(false)[30], 0);
      assert.equal(t.ns.identify(true)[30], 0);
    } finally {
      await shared.cleanup();
    }
  });

  it('reports ms/mset/eui64/nguid and a non-standard format at index 8', async () => {
    const nguid = parseHexBytes('00112233445566778899aabbccddeeff');
    const n = await tempNamespace(MIB, {
      lbaSize: 1024,
      ms: 8,
      mset: 1,
      eui64: 0x5254000000000001n,
      nguid,
    });
    try {
      const v = IdNsLayout.decode(n.ns.identify(false));
      assert.equal(v.nlbaf, 8);
      assert.equal(v.flbas, 0x18); // index 8 | extended
      assert.equal(v.nsze, BigInt(Math.floor(MIB / 1032)));
      assert.deepEqual(v.lbaf.subarray(32, 36), Uint8Array.of(8, 0, 10, 0));
      assert.deepEqual(v.nguid, nguid);
      assert.deepEqual(
        n.ns.identify(false).subarray(120, 128),
        parseHexBytes('52 54 00 00 00 00 00 01'),
      );
      assert.equal(v.npdg, 3); // 4096 / 1024 - 1
    } finally {
      await n.cleanup();
    }
  });
});

describe('Namespace Identification Descriptor list (CNS 03h)', () => {
  it('holds only the CSI descriptor by default', async () => {
    const t = await tempNamespace(MIB);
    try {
      const d = t.ns.descriptors();
      assert.equal(d.length, 4096);
      assert.deepEqual(d.subarray(0, 5), Uint8Array.of(4, 1, 0, 0, 0));
      assert.ok(d.subarray(5).every((b) => b === 0));
    } finally {
      await t.cleanup();
    }
  });

  it('lists UUID, NGUID, EUI-64 and CSI in that order', async () => {
    const uuid = parseHexBytes('6f1c2f8e-3c0b-4a55-9a0e-0123456789ab');
    const nguid = parseHexBytes('ffeeddccbbaa99887766554433221100');
    const t = await tempNamespace(MIB, { uuid, nguid, eui64: 0x0102030405060708n });
    try {
      const d = t.ns.descriptors();
      const expected = parseHexBytes(
        '03100000 6f1c2f8e3c0b4a559a0e0123456789ab' +
          '02100000 ffeeddccbbaa99887766554433221100' +
          '01080000 0102030405060708' +
          '04010000 00',
      );
      assert.deepEqual(d.subarray(0, expected.length), expected);
      assert.ok(d.subarray(expected.length).every((b) => b === 0));
    } finally {
      await t.cleanup();
    }
  });
});

describe('I/O command set specific Identify Namespace (CNS 05h)', () => {
  it('returns zeros for CSI 0 with pif 0 and PIF in ELBAF of the configured format', async () => {
    const plain = await tempNamespace(MIB);
    const pif2 = await tempNamespace(MIB, { lbaSize: 4096, ms: 16, pif: 2 });
    try {
      const a = plain.ns.identifyIoCs(0);
      assert.ok(a instanceof Uint8Array && a.every((b) => b === 0));
      const b = pif2.ns.identifyIoCs(0);
      assert.ok(b instanceof Uint8Array);
      // ELBAF[6] (4096+16) = pif << 7 = 0x100, at 12 + 6 * 4.
      assert.deepEqual(b.subarray(36, 40), Uint8Array.of(0x00, 0x01, 0, 0));
      assert.equal(b.filter((x) => x !== 0).length, 1);
    } finally {
      await plain.cleanup();
      await pif2.cleanup();
    }
  });

  it('rejects the zoned and unknown command sets with Invalid Field + DNR', async () => {
    const t = await tempNamespace(MIB);
    try {
      assert.equal(t.ns.identifyIoCs(2), withDnr(Status.INVALID_FIELD));
      assert.equal(t.ns.identifyIoCs(1), withDnr(Status.INVALID_FIELD));
    } finally {
      await t.cleanup();
    }
  });
});
