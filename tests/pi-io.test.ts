// Protection information on a namespace's I/O commands (reference qemu-nvme.md §9): PRACT
// insert/strip round trips in both metadata layouts and guard sizes, corruption detection,
// every command-level status with its DNR, Write Zeroes, unwritten blocks and Format NVM.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, readSync, writeSync } from 'node:fs';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr, statusName } from '../src/nvme/spec/status.js';
import { ctxOf, pattern, rw, tempNamespace, MIB } from '../src/nvme/ns/fixtures.js';
import type { NvmeNsConfig } from '../src/nvme/ns/config.js';
import type { TempNs } from '../src/nvme/ns/fixtures.js';
import { crc16T10Dif } from '../src/util/crc.js';
import { IdNsLayout } from '../src/nvme/ns/identify.js';

const PRACT = 0x8 << 26;
const GUARD = 0x4 << 26;
const APP = 0x2 << 26;
const REF = 0x1 << 26;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

async function withNs(
  over: Partial<NvmeNsConfig>,
  fn: (t: TempNs) => Promise<void>,
): Promise<void> {
  const t = await tempNamespace(MIB, { ms: 8, pi: 1, ...over });
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

/** Executes and returns the status name (with +DNR). */
async function st(t: TempNs, ...args: Parameters<typeof ctxOf>): Promise<string> {
  return statusName((await t.ns.execute(ctxOf(...args))).status);
}

const name = (s: number): string => statusName(s);

/** Flips one bit of the image at byte `off` (as media corruption would). */
function flipImageBit(path: string, off: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = new Uint8Array(1);
    readSync(fd, b, 0, 1, off);
    b[0]! ^= 0x04;
    writeSync(fd, b, 0, 1, off);
  } finally {
    closeSync(fd);
  }
}

describe('PRACT round trip (reference §9.1, §9.4)', () => {
  it('separate metadata, type 1: data written with PRACT=1 reads back with its tuples and strips with PRACT=1', async () => {
    await withNs({ mset: 0 }, async (t) => {
      const data = pattern(512 * 3, 4);
      const w = await st(
        t,
        { opcode: IoOpc.WRITE, ...rw(10, 3, PRACT | GUARD | REF), cdw14: 10, cdw15: 0xbeef },
        data,
      );
      assert.equal(w, 'SUCCESS');
      const back = new Uint8Array(512 * 3);
      const meta = new Uint8Array(24);
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.READ, ...rw(10, 3, GUARD | APP | REF), cdw14: 10, cdw15: 0xffff_beef },
          back,
          meta,
        ),
        'SUCCESS',
      );
      assert.deepEqual(back, data);
      for (let i = 0; i < 3; i++) {
        const guard = crc16T10Dif(data.subarray(512 * i, 512 * (i + 1)));
        const expect =
          guard.toString(16).padStart(4, '0').toUpperCase() +
          'BEEF' +
          (10 + i).toString(16).padStart(8, '0').toUpperCase();
        assert.equal(hex(meta.subarray(8 * i, 8 * i + 8)), expect, `block ${i}`);
      }
      // PRACT=1 on read: checked, then stripped: the metadata buffer stays untouched.
      const stripped = new Uint8Array(512 * 3);
      const untouched = new Uint8Array(24);
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.READ, ...rw(10, 3, PRACT | GUARD | REF), cdw14: 10 },
          stripped,
          untouched,
        ),
        'SUCCESS',
      );
      assert.deepEqual(stripped, data);
      assert.ok(untouched.every((b) => b === 0));
    });
  });

  it('extended LBA, type 2: the host moves 512-byte blocks with PRACT=1 and 520-byte blocks without', async () => {
    await withNs({ mset: 1, pi: 2 }, async (t) => {
      const data = pattern(1024, 9);
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE, ...rw(0, 2, PRACT), cdw14: 0x5000, cdw15: 7 }, data),
        'SUCCESS',
      );
      const ext = new Uint8Array(1040);
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.READ, ...rw(0, 2, GUARD | APP | REF), cdw14: 0x5000, cdw15: 0xffff_0007 },
          ext,
        ),
        'SUCCESS',
      );
      assert.deepEqual(ext.subarray(0, 512), data.subarray(0, 512));
      assert.equal(hex(ext.subarray(512 + 2, 520)), '000700005000');
      assert.equal(hex(ext.subarray(1032 + 2, 1040)), '000700005001');
      const plain = new Uint8Array(1024);
      assert.equal(
        await st(t, { opcode: IoOpc.READ, ...rw(0, 2, PRACT | GUARD | REF), cdw14: 0x5000 }, plain),
        'SUCCESS',
      );
      assert.deepEqual(plain, data);
    });
  });

  it('64-bit guard, 4 KiB blocks, type 2: the 48-bit reference tag takes cdw3 as its upper bits', async () => {
    await withNs({ lbaSize: 4096, ms: 16, pif: 2, pi: 2 }, async (t) => {
      const data = pattern(4096, 1);
      const w = { opcode: IoOpc.WRITE, ...rw(2, 1, PRACT | REF), cdw3: 1, cdw14: 2, cdw15: 0x77 };
      assert.equal(await st(t, w, data), 'SUCCESS');
      const meta = new Uint8Array(16);
      const r = { opcode: IoOpc.READ, ...rw(2, 1, GUARD | REF), cdw3: 1, cdw14: 2 };
      assert.equal(await st(t, r, new Uint8Array(4096), meta), 'SUCCESS');
      assert.equal(hex(meta.subarray(8)), '0077000100000002');
      // Another upper part is another reference tag: a per-block reference tag error.
      const wrong = { ...r, cdw3: 2 };
      assert.equal(await st(t, wrong, new Uint8Array(4096), meta), name(Status.E2E_REF_ERROR));
    });
  });

  it('metadata larger than the tuple: PRACT=1 still moves the metadata, the tuple (last) guards the bytes before it', async () => {
    await withNs({ ms: 16, mset: 0 }, async (t) => {
      const data = pattern(512, 2);
      const meta = Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? 0xa0 + i : 0));
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE, ...rw(3, 1, PRACT), cdw14: 3, cdw15: 1 }, data, meta),
        'SUCCESS',
      );
      const back = new Uint8Array(16);
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.READ, ...rw(3, 1, GUARD | APP | REF), cdw14: 3, cdw15: 0xffff_0001 },
          new Uint8Array(512),
          back,
        ),
        'SUCCESS',
      );
      assert.deepEqual(back.subarray(0, 8), meta.subarray(0, 8));
      const guard = crc16T10Dif(meta.subarray(0, 8), crc16T10Dif(data));
      assert.equal(
        hex(back.subarray(8)),
        guard.toString(16).padStart(4, '0').toUpperCase() + '000100000003',
      );
    });
  });
});

describe('corruption is reported, never returned as good data', () => {
  it('a flipped data bit in the image is a guard error on Read and Verify; the block is not transferred', async () => {
    await withNs({}, async (t) => {
      const data = pattern(512 * 4, 5);
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE, ...rw(0, 4, PRACT), cdw14: 0 }, data),
        'SUCCESS',
      );
      flipImageBit(t.drive.path, 2 * 512 + 77);
      const back = new Uint8Array(512 * 4);
      assert.equal(
        await st(t, { opcode: IoOpc.READ, ...rw(0, 4, PRACT | GUARD), cdw14: 0 }, back),
        name(Status.E2E_GUARD_ERROR),
      );
      assert.ok(
        back.every((b) => b === 0),
        'nothing of the failing piece reached the host',
      );
      assert.equal(
        await st(t, { opcode: IoOpc.VERIFY, ...rw(0, 4, GUARD) }),
        name(Status.E2E_GUARD_ERROR),
      );
      assert.equal(await st(t, { opcode: IoOpc.VERIFY, ...rw(0, 2, GUARD) }), 'SUCCESS');
      // Without PRCHK guard the (corrupt) data is returned: the host asked for no check.
      assert.equal(await st(t, { opcode: IoOpc.READ, ...rw(0, 4, PRACT) }, back), 'SUCCESS');
    });
  });

  it('a flipped bit in a stored tuple is an application tag error when that is what changed', async () => {
    await withNs({}, async (t) => {
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.WRITE, ...rw(1, 1, PRACT), cdw14: 1, cdw15: 0x10 },
          pattern(512, 1),
        ),
        'SUCCESS',
      );
      // Metadata area starts at NSZE * 512; the apptag is bytes 2..3 of the tuple.
      flipImageBit(t.drive.path, t.ns.geometry.metaOffset + 8 + 3);
      assert.equal(
        await st(
          t,
          {
            opcode: IoOpc.READ,
            ...rw(1, 1, PRACT | GUARD | APP | REF),
            cdw14: 1,
            cdw15: 0xffff_0010,
          },
          new Uint8Array(512),
        ),
        name(Status.E2E_APP_ERROR),
      );
    });
  });

  it('a write with PRACT=0 and a bad host tuple fails its check and writes nothing', async () => {
    await withNs({}, async (t) => {
      const meta = Uint8Array.from([0x12, 0x34, 0, 0, 0, 0, 0, 5]);
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE, ...rw(5, 1, GUARD), cdw14: 5 }, pattern(512, 3), meta),
        name(Status.E2E_GUARD_ERROR),
      );
      const back = new Uint8Array(512);
      const m = new Uint8Array(8);
      assert.equal(await st(t, { opcode: IoOpc.READ, ...rw(5, 1) }, back, m), 'SUCCESS');
      assert.ok(back.every((b) => b === 0));
      assert.equal(hex(m), 'FFFFFFFFFFFFFFFF', 'still never written');
    });
  });
});

describe('command statuses on a PI namespace (reference §9.4)', () => {
  const W = IoOpc.WRITE;
  const R = IoOpc.READ;
  const cases: {
    name: string;
    pi?: 1 | 2 | 3;
    op: number;
    flags: number;
    cdw14?: number;
    slba?: number;
    expect: number;
  }[] = [
    {
      name: 'Read type 1 with PRCHK reftag and ILBRT != SLBA is 0x181+DNR',
      op: R,
      flags: REF,
      cdw14: 1,
      slba: 2,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Write type 1 with PRCHK reftag and ILBRT != SLBA is 0x181+DNR',
      op: W,
      flags: PRACT | REF,
      cdw14: 1,
      slba: 2,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Read type 3 with PRCHK reftag is 0x181 without DNR',
      pi: 3,
      op: R,
      flags: REF,
      expect: Status.INVALID_PROT_INFO,
    },
    {
      name: 'Read type 2 with any ILBRT succeeds',
      pi: 2,
      op: R,
      flags: REF,
      cdw14: 77,
      slba: 2,
      expect: 0,
    },
    {
      name: 'Compare with PRACT is 0x181+DNR',
      op: IoOpc.COMPARE,
      flags: PRACT,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Verify with PRACT is 0x181+DNR',
      op: IoOpc.VERIFY,
      flags: PRACT,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Write Zeroes with PRCHK guard is 0x181+DNR',
      op: IoOpc.WRITE_ZEROES,
      flags: GUARD,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Write Zeroes with PRCHK apptag is 0x181+DNR',
      op: IoOpc.WRITE_ZEROES,
      flags: PRACT | APP,
      expect: withDnr(Status.INVALID_PROT_INFO),
    },
    {
      name: 'Write Zeroes with PRACT alone succeeds',
      op: IoOpc.WRITE_ZEROES,
      flags: PRACT,
      expect: 0,
    },
    {
      name: 'an out-of-range Read is 0x080+DNR before any PI check',
      op: R,
      flags: REF,
      cdw14: 9,
      slba: 1 << 20,
      expect: withDnr(Status.LBA_RANGE),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await withNs({ pi: c.pi ?? 1 }, async (t) => {
        const slba = c.slba ?? 0;
        const got = await st(
          t,
          { opcode: c.op, ...rw(slba, 1, c.flags), cdw14: c.cdw14 ?? slba },
          new Uint8Array(512),
          new Uint8Array(8),
        );
        assert.equal(got, name(c.expect));
      });
    });
  }

  it('Compare checks the stored tuples, then compares data and the metadata outside the tuple', async () => {
    await withNs({ ms: 16 }, async (t) => {
      const data = pattern(512, 8);
      const meta = Uint8Array.from({ length: 16 }, (_, i) => (i < 8 ? i + 1 : 0));
      assert.equal(await st(t, { opcode: W, ...rw(4, 1, PRACT), cdw14: 4 }, data, meta), 'SUCCESS');
      assert.equal(
        await st(t, { opcode: IoOpc.COMPARE, ...rw(4, 1, GUARD | REF), cdw14: 4 }, data, meta),
        'SUCCESS',
      );
      const other = meta.slice();
      other[0] = 0x55;
      assert.equal(
        await st(t, { opcode: IoOpc.COMPARE, ...rw(4, 1, GUARD) }, data, other),
        name(Status.CMP_FAILURE),
      );
      const d2 = data.slice();
      d2[1]! ^= 1;
      assert.equal(
        await st(t, { opcode: IoOpc.COMPARE, ...rw(4, 1) }, d2, meta),
        name(Status.CMP_FAILURE),
      );
      flipImageBit(t.drive.path, 4 * 512);
      assert.equal(
        await st(t, { opcode: IoOpc.COMPARE, ...rw(4, 1, GUARD) }, data, meta),
        name(Status.E2E_GUARD_ERROR),
      );
    });
  });

  it('Write Zeroes with PRACT writes tuples (guard of zeros, LBAT, incrementing reftag); without PRACT blocks read as never written', async () => {
    await withNs({}, async (t) => {
      assert.equal(
        await st(t, { opcode: W, ...rw(0, 4, PRACT), cdw14: 0 }, pattern(2048, 1)),
        'SUCCESS',
      );
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(0, 2, PRACT), cdw14: 0, cdw15: 0x42 }),
        'SUCCESS',
      );
      assert.equal(await st(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(2, 2) }), 'SUCCESS');
      const back = new Uint8Array(2048);
      const meta = new Uint8Array(32);
      assert.equal(
        await st(
          t,
          { opcode: R, ...rw(0, 4, GUARD | APP | REF), cdw14: 0, cdw15: 0xffff_0042 },
          back,
          meta,
        ),
        'SUCCESS',
      );
      assert.ok(back.every((b) => b === 0));
      assert.equal(hex(meta), '0000004200000000' + '0000004200000001' + 'FF'.repeat(16));
    });
  });

  it('never-written and deallocated blocks read with all-ones tuples and pass every check', async () => {
    await withNs({}, async (t) => {
      assert.equal(
        await st(t, { opcode: W, ...rw(0, 1, PRACT), cdw14: 0 }, pattern(512, 1)),
        'SUCCESS',
      );
      const range = new Uint8Array(16);
      range[4] = 1; // NLB 1 at SLBA 0
      assert.equal(await st(t, { opcode: IoOpc.DSM, cdw11: 4 }, range), 'SUCCESS');
      const meta = new Uint8Array(16);
      assert.equal(
        await st(
          t,
          { opcode: R, ...rw(0, 2, GUARD | APP | REF), cdw14: 0, cdw15: 0xffff_1234 },
          new Uint8Array(1024),
          meta,
        ),
        'SUCCESS',
      );
      assert.equal(hex(meta), 'FF'.repeat(16));
    });
  });

  it('a PI write without a metadata buffer (PRACT=0, separate metadata) is a Data Transfer Error + DNR', async () => {
    await withNs({ mset: 0 }, async (t) => {
      assert.equal(
        await st(t, { opcode: W, ...rw(0, 1) }, pattern(512, 1)),
        name(withDnr(Status.DATA_TRANSFER_ERROR)),
      );
    });
  });

  it('MDTS counts data only when PRACT strips the tuple of an extended LBA', async () => {
    await withNs({ mset: 1 }, async (t) => {
      // 1024 blocks of 512 = 512 KiB = MDTS exactly; with 8 bytes each interleaved it exceeds it.
      const big = new Uint8Array(1024 * 520);
      assert.equal(await st(t, { opcode: W, ...rw(0, 1024, PRACT), cdw14: 0 }, big), 'SUCCESS');
      assert.equal(
        await st(t, { opcode: W, ...rw(0, 1024), cdw14: 0 }, big),
        name(withDnr(Status.INVALID_FIELD)),
      );
    });
  });
});

describe('Format NVM with protection information (reference §3.8)', () => {
  it('formats a metadata namespace to PI type 1 (PIL first): DPS 0x09 and protected I/O afterwards', async () => {
    const t = await tempNamespace(MIB, { ms: 8 });
    try {
      assert.equal(
        await st(t, { opcode: IoOpc.WRITE, ...rw(0, 1) }, pattern(512, 1), new Uint8Array(8)),
        'SUCCESS',
      );
      assert.equal((await t.ns.format(1, 0, 1, 1, 0)).status, Status.SUCCESS);
      assert.equal(IdNsLayout.decode(t.ns.identify(false)).dps, 0x09);
      assert.equal(
        await st(t, { opcode: IoOpc.READ, ...rw(0, 1, REF), cdw14: 5 }, new Uint8Array(512)),
        name(withDnr(Status.INVALID_PROT_INFO)),
      );
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.WRITE, ...rw(0, 1, PRACT | GUARD | REF), cdw14: 0 },
          pattern(512, 2),
        ),
        'SUCCESS',
      );
      const meta = new Uint8Array(8);
      assert.equal(
        await st(
          t,
          { opcode: IoOpc.READ, ...rw(0, 1, GUARD | REF), cdw14: 0 },
          new Uint8Array(512),
          meta,
        ),
        'SUCCESS',
      );
      assert.equal(hex(meta.subarray(2)), '000000000000');
      // Back to no protection: the same command is no longer checked.
      assert.equal((await t.ns.format(1, 0, 0, 0, 0)).status, Status.SUCCESS);
      assert.equal(
        await st(t, { opcode: IoOpc.READ, ...rw(0, 1, REF), cdw14: 5 }, new Uint8Array(512)),
        'SUCCESS',
      );
    } finally {
      await t.cleanup();
    }
  });

  it('refuses PI type 1 with 16-byte tuples (pif 2) on an 8-byte metadata format: 0x10a+DNR', async () => {
    const t = await tempNamespace(MIB, { ms: 16, pif: 2 });
    try {
      assert.equal(statusName((await t.ns.format(1, 0, 1, 0, 0)).status), 'INVALID_FORMAT+DNR');
      assert.equal((await t.ns.format(2, 0, 1, 0, 0)).status, Status.SUCCESS);
    } finally {
      await t.cleanup();
    }
  });
});
