import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr, statusName } from '../spec/status.js';
import type { NvmeNsConfig } from './config.js';
import { IdNsLayout } from './identify.js';
import { ctxOf, MIB, pattern, rw, tempNamespace, type TempNs } from './fixtures.js';

async function withNs(
  fn: (t: TempNs) => Promise<void>,
  over: Partial<NvmeNsConfig> = {},
): Promise<void> {
  const t = await tempNamespace(MIB, over);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

const REJECTS: readonly {
  name: string;
  args: [number, number, number, number, number];
  expect: number;
}[] = [
  {
    name: 'an LBAF index beyond NLBAF is Invalid Format + DNR',
    args: [8, 0, 0, 0, 0],
    expect: withDnr(Status.INVALID_FORMAT),
  },
  {
    name: 'PI on a format without metadata is Invalid Format + DNR',
    args: [0, 0, 1, 0, 0],
    expect: withDnr(Status.INVALID_FORMAT),
  },
  {
    name: 'PI type 5 with enough metadata is Invalid Field + DNR',
    args: [1, 0, 5, 0, 0],
    expect: withDnr(Status.INVALID_FIELD),
  },
];

describe('Format NVM (reference §3.8)', () => {
  for (const c of REJECTS) {
    it(`${c.name} and changes nothing`, async () => {
      await withNs(async (t) => {
        await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(0, 1) }, pattern(512, 1)));
        const before = t.ns.identify(false);
        const c2 = await t.ns.format(...c.args);
        assert.equal(statusName(c2.status), statusName(c.expect));
        assert.deepEqual(t.ns.identify(false), before);
        assert.notEqual(readFileSync(t.drive.path)[0], 0);
      });
    });
  }

  it('switches to 4 KiB blocks, zeroes the image and recomputes NSZE/NCAP/NUSE', async () => {
    await withNs(async (t) => {
      await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(100, 4) }, pattern(2048, 2)));
      await t.ns.execute(ctxOf({ opcode: IoOpc.DSM, cdw11: 4 }, new Uint8Array(16)));
      assert.equal((await t.ns.format(4, 0, 0, 0, 0)).status, Status.SUCCESS);
      const v = IdNsLayout.decode(t.ns.identify(false));
      assert.equal(v.flbas, 4);
      assert.equal(v.nsze, 256n);
      assert.equal(v.ncap, 256n);
      assert.equal(v.nuse, 256n);
      assert.equal(v.npdg, 0);
      assert.equal(t.ns.lbaSize, 4096);
      assert.equal(t.ns.sizeBlocks, 256n);
      assert.ok(readFileSync(t.drive.path).every((b) => b === 0));
      assert.deepEqual(t.ns.deallocatedRanges(), []);
    });
  });

  it('sets FLBAS bit 4 for mset=1 and transfers extended LBAs afterwards', async () => {
    await withNs(async (t) => {
      assert.equal((await t.ns.format(1, 0, 0, 1, 1)).status, Status.SUCCESS);
      const v = IdNsLayout.decode(t.ns.identify(false));
      assert.equal(v.flbas, 0x11);
      assert.equal(v.dps, 0x08, 'DPS = PIL << 3 | PI');
      assert.equal(v.nsze, BigInt(Math.floor(MIB / 520)));
      assert.equal(t.ns.geometry.extended, true);
      const host = pattern(520, 3);
      const w = await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(0, 1) }, host));
      assert.equal(w.status, 0);
      const back = new Uint8Array(520);
      await t.ns.execute(ctxOf({ opcode: IoOpc.READ, ...rw(0, 1) }, back));
      assert.deepEqual(back, host);
    });
  });

  it('answers I/O with Format In Progress while the image is being zeroed', async () => {
    await withNs(async (t) => {
      const formatting = t.ns.format(0, 0, 0, 0, 0);
      assert.equal(t.ns.formatInProgress, true);
      const r = await t.ns.execute(ctxOf({ opcode: IoOpc.READ, ...rw(0, 1) }, new Uint8Array(512)));
      assert.equal(r.status, Status.FORMAT_IN_PROGRESS);
      const f = await t.ns.execute(ctxOf({ opcode: IoOpc.FLUSH }));
      assert.equal(f.status, Status.FORMAT_IN_PROGRESS);
      assert.equal((await t.ns.format(0, 0, 0, 0, 0)).status, Status.FORMAT_IN_PROGRESS);
      assert.equal((await formatting).status, Status.SUCCESS);
      assert.equal(t.ns.formatInProgress, false);
    });
  });

  it('lets commands accepted before the format finish before zeroing the image', async () => {
    await withNs(async (t) => {
      const writing = t.ns.execute(
        ctxOf({ opcode: IoOpc.WRITE, ...rw(0, 256) }, pattern(256 * 512, 4)),
      );
      const formatting = t.ns.format(0, 0, 0, 0, 0);
      assert.equal((await writing).status, Status.SUCCESS);
      assert.equal((await formatting).status, Status.SUCCESS);
      assert.ok(readFileSync(t.drive.path).every((b) => b === 0));
    });
  });

  it('reports a backend failure while zeroing as Internal Device Error', async () => {
    await withNs(async (t) => {
      t.drive.read = () => Promise.reject(new Error('EIO'));
      assert.equal((await t.ns.format(4, 0, 0, 0, 0)).status, Status.INTERNAL_DEVICE_ERROR);
      assert.equal(t.ns.formatInProgress, false);
      assert.equal(t.ns.lbaSize, 512, 'the old format stays active');
    });
  });
});
