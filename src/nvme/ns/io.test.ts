import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr, statusName } from '../spec/status.js';
import type { CmdInit } from '../spec/command.js';
import type { ControllerView } from '../spec/namespace-api.js';
import { writeU32le, writeU64le } from '../../util/bytes.js';
import type { NvmeNsConfig } from './config.js';
import type { NamespaceOptions } from './namespace.js';
import { ERR_REC_DULBE } from './namespace.js';
import { ctxOf, fakeCtrl, MIB, pattern, rw, tempNamespace, type TempNs } from './fixtures.js';

/** 1 MiB image of 512 B blocks: NSZE 2048. */
const NSZE = 2048;
const FUA = 1 << 30;
const DEAC = 1 << 25;

async function withNs(
  fn: (t: TempNs) => Promise<void>,
  over: Partial<NvmeNsConfig> = {},
  opts: NamespaceOptions = {},
  size = MIB,
): Promise<void> {
  const t = await tempNamespace(size, over, opts);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

async function run(
  t: TempNs,
  init: CmdInit,
  data?: Uint8Array,
  meta?: Uint8Array,
  ctrl?: ControllerView,
): Promise<number> {
  return (await t.ns.execute(ctxOf(init, data, meta, ctrl))).status;
}

const write = (t: TempNs, slba: number, data: Uint8Array, flags = 0, meta?: Uint8Array) =>
  run(t, { opcode: IoOpc.WRITE, ...rw(slba, data.length / t.ns.lbaSize, flags) }, data, meta);

async function readBack(t: TempNs, slba: number, nlb: number): Promise<Uint8Array> {
  const buf = new Uint8Array(nlb * t.ns.lbaSize);
  const s = await run(t, { opcode: IoOpc.READ, ...rw(slba, nlb) }, buf);
  assert.equal(statusName(s), 'SUCCESS');
  return buf;
}

function dsmRanges(ranges: readonly [slba: number, nlb: number][]): Uint8Array {
  const b = new Uint8Array(ranges.length * 16);
  ranges.forEach(([slba, nlb], i) => {
    writeU32le(b, i * 16 + 4, nlb);
    writeU64le(b, i * 16 + 8, BigInt(slba));
  });
  return b;
}

interface StatusCase {
  readonly name: string;
  readonly init: CmdInit;
  /** Data buffer length in bytes (default: nlb * 512 for R/W-family commands). */
  readonly dataLen?: number;
  readonly expect: number;
  readonly over?: Partial<NvmeNsConfig>;
  readonly opts?: NamespaceOptions;
  readonly ctrl?: Partial<ControllerView>;
}

const R = IoOpc.READ;
const W = IoOpc.WRITE;

const STATUS_CASES: readonly StatusCase[] = [
  { name: 'a read inside the namespace succeeds', init: { opcode: R, ...rw(0, 8) }, expect: 0 },
  { name: 'a read of the last block succeeds', init: { opcode: R, ...rw(NSZE - 1, 1) }, expect: 0 },
  {
    name: 'a read crossing NSZE is LBA Out of Range + DNR',
    init: { opcode: R, ...rw(NSZE - 1, 2) },
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'a read whose SLBA + NLB overflows 64 bits is LBA Out of Range + DNR',
    init: { opcode: R, cdw10: 0xffffffff, cdw11: 0xffffffff, cdw12: 1 },
    dataLen: 1024,
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'a read of 1025 blocks exceeds MDTS 7 with Invalid Field + DNR (before the range check)',
    init: { opcode: R, ...rw(NSZE, 1025) },
    expect: withDnr(Status.INVALID_FIELD),
  },
  { name: 'a read of 1024 blocks fits MDTS 7', init: { opcode: R, ...rw(0, 1024) }, expect: 0 },
  {
    name: 'mdts 0 means no transfer limit',
    init: { opcode: R, ...rw(0, 2048) },
    ctrl: { mdtsBytes: 0 },
    expect: 0,
  },
  {
    name: 'MDTS counts interleaved metadata of extended LBAs (1009 x 520 B)',
    init: { opcode: R, ...rw(0, 1009) },
    dataLen: 1009 * 520,
    over: { ms: 8, mset: 1 },
    expect: withDnr(Status.INVALID_FIELD),
  },
  {
    name: 'MDTS ignores separate metadata (1009 x 512 B)',
    init: { opcode: R, ...rw(0, 1009) },
    over: { ms: 8, mset: 0 },
    expect: 0,
  },
  {
    name: 'a write crossing NSZE is LBA Out of Range + DNR',
    init: { opcode: W, ...rw(NSZE - 4, 8) },
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'a read into a too small host buffer is a data transfer error + DNR',
    init: { opcode: R, ...rw(0, 8) },
    dataLen: 512,
    expect: withDnr(Status.DATA_TRANSFER_ERROR),
  },
  {
    name: 'a write from a too small host buffer is a data transfer error + DNR',
    init: { opcode: W, ...rw(0, 8) },
    dataLen: 512,
    expect: withDnr(Status.DATA_TRANSFER_ERROR),
  },
  {
    name: 'fused commands are Invalid Field without DNR',
    init: { opcode: R, fuse: 1, ...rw(0, 1) },
    expect: Status.INVALID_FIELD,
  },
  {
    name: 'an unknown opcode is Invalid Opcode + DNR',
    init: { opcode: 0x7f },
    expect: withDnr(Status.INVALID_OPCODE),
  },
  {
    name: 'Write Uncorrectable is accepted (nvmemu goes beyond QEMU 7.2 here)',
    init: { opcode: IoOpc.WRITE_UNCOR, ...rw(0, 1) },
    expect: Status.SUCCESS,
  },
  {
    name: 'Copy with more source ranges than MSRC + 1 is Command Size Limit + DNR',
    init: { opcode: IoOpc.COPY, cdw12: 0xff },
    expect: withDnr(Status.CMD_SIZE_LIMIT),
  },
  {
    name: 'zone commands are Invalid Opcode + DNR on an NVM namespace',
    init: { opcode: IoOpc.ZONE_APPEND, ...rw(0, 1) },
    expect: withDnr(Status.INVALID_OPCODE),
  },
  {
    // Beyond QEMU 7.2 (Invalid Opcode there): reservations are implemented (ns/resv).
    name: 'Reservation Report asking 128-bit host IDs of a 64-bit host is Inconsistent + DNR',
    init: { opcode: IoOpc.RESV_REPORT, cdw11: 1 },
    expect: withDnr(Status.HOST_ID_INCONSISTENT),
  },
  { name: 'Flush succeeds', init: { opcode: IoOpc.FLUSH }, expect: 0 },
  {
    name: 'Write Zeroes of 65536 blocks has no MDTS limit',
    init: { opcode: IoOpc.WRITE_ZEROES, ...rw(0, 65536) },
    dataLen: 0,
    over: { lbaSize: 512 },
    ctrl: { mdtsBytes: 4096 },
    expect: withDnr(Status.LBA_RANGE), // 1 MiB image: only the range check applies
  },
  {
    name: 'Write Zeroes crossing NSZE is LBA Out of Range + DNR',
    init: { opcode: IoOpc.WRITE_ZEROES, ...rw(NSZE - 1, 2) },
    dataLen: 0,
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'Verify over VSL is Invalid Field + DNR',
    init: { opcode: IoOpc.VERIFY, ...rw(0, 1025) },
    dataLen: 0,
    expect: withDnr(Status.INVALID_FIELD),
  },
  {
    name: 'Verify crossing NSZE is LBA Out of Range + DNR',
    init: { opcode: IoOpc.VERIFY, ...rw(NSZE - 1, 2) },
    dataLen: 0,
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'Verify inside the namespace succeeds without a data buffer',
    init: { opcode: IoOpc.VERIFY, ...rw(0, 1024) },
    dataLen: 0,
    expect: 0,
  },
  {
    name: 'Compare crossing NSZE is LBA Out of Range + DNR',
    init: { opcode: IoOpc.COMPARE, ...rw(NSZE - 1, 2) },
    expect: withDnr(Status.LBA_RANGE),
  },
  {
    name: 'Dataset Management without AD is a successful no-op',
    init: { opcode: IoOpc.DSM, cdw10: 0, cdw11: 0 },
    dataLen: 0,
    expect: 0,
  },
];

describe('NVM I/O command statuses', () => {
  for (const c of STATUS_CASES) {
    it(c.name, async () => {
      await withNs(
        async (t) => {
          const nlb = (c.init.cdw12 ?? 0) & 0xffff;
          const buf = new Uint8Array(c.dataLen ?? (nlb + 1) * 512);
          const s = await run(t, c.init, buf, undefined, fakeCtrl(c.ctrl));
          assert.equal(statusName(s), statusName(c.expect));
        },
        c.over,
        c.opts,
      );
    });
  }
});

describe('NVM I/O command behaviour', () => {
  it('reads back what was written and leaves neighbouring blocks untouched', async () => {
    await withNs(async (t) => {
      const data = pattern(4 * 512, 1);
      assert.equal(await write(t, 10, data), 0);
      assert.deepEqual(await readBack(t, 10, 4), data);
      assert.ok((await readBack(t, 9, 1)).every((b) => b === 0));
      assert.ok((await readBack(t, 14, 1)).every((b) => b === 0));
    });
  });

  it('rejects a range past the namespace naming the LBA as the field to blame', async () => {
    await withNs(async (t) => {
      const ctx = ctxOf({ opcode: R, cid: 7, ...rw(NSZE, 1) }, new Uint8Array(512));
      assert.deepEqual(await t.ns.execute(ctx), {
        status: withDnr(Status.LBA_RANGE),
        field: 'slba',
      });
    });
  });

  it('flushes the drive for FUA writes and when the write cache is off', async () => {
    await withNs(async (t) => {
      let flushes = 0;
      t.drive.flush = () => {
        flushes++;
        return Promise.resolve();
      };
      await write(t, 0, pattern(512, 2));
      assert.equal(flushes, 0);
      await write(t, 0, pattern(512, 2), FUA);
      assert.equal(flushes, 1);
      await t.ns.setWriteCache(false);
      assert.equal(flushes, 2, 'disabling the cache flushes');
      await write(t, 0, pattern(512, 2));
      assert.equal(flushes, 3);
      assert.equal(t.ns.writeCache, false);
    });
  });

  it('maps backend failures to Unrecovered Read Error and Write Fault without DNR', async () => {
    await withNs(async (t) => {
      t.drive.read = () => Promise.reject(new Error('EIO'));
      t.drive.write = () => Promise.reject(new Error('EIO'));
      t.drive.flush = () => Promise.reject(new Error('EIO'));
      const buf = new Uint8Array(512);
      assert.equal(await run(t, { opcode: R, ...rw(0, 1) }, buf), Status.UNRECOVERED_READ);
      assert.equal(await run(t, { opcode: W, ...rw(0, 1) }, buf), Status.WRITE_FAULT);
      assert.equal(await run(t, { opcode: IoOpc.FLUSH }), Status.WRITE_FAULT);
      assert.equal(await run(t, { opcode: IoOpc.VERIFY, ...rw(0, 1) }), Status.UNRECOVERED_READ);
      assert.equal(await run(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(0, 1) }), Status.WRITE_FAULT);
    });
  });

  it('fails writes to a read-only drive with Write Fault', async () => {
    await withNs(
      async (t) => {
        assert.equal(await write(t, 0, pattern(512, 3)), Status.WRITE_FAULT);
      },
      { drive: { id: 'd', file: '', readOnly: true, size: BigInt(MIB) } },
    );
  });

  it('compares equal data as success and different data as Compare Failure without DNR', async () => {
    await withNs(async (t) => {
      const data = pattern(2 * 512, 4);
      await write(t, 5, data);
      const cmp = (buf: Uint8Array) => run(t, { opcode: IoOpc.COMPARE, ...rw(5, 2) }, buf);
      assert.equal(await cmp(data.slice()), 0);
      const other = data.slice();
      other[700] = other[700]! ^ 1;
      assert.equal(await cmp(other), Status.CMP_FAILURE);
    });
  });

  it('zeroes data with Write Zeroes; DEAC deallocates; DULBE then fails reads with 0x287+DNR', async () => {
    await withNs(async (t) => {
      await write(t, 0, pattern(8 * 512, 5));
      assert.equal(await run(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(2, 2) }), 0);
      const back = await readBack(t, 0, 8);
      assert.ok(back.subarray(1024, 2048).every((b) => b === 0));
      assert.deepEqual(back.subarray(0, 1024), pattern(8 * 512, 5).subarray(0, 1024));
      assert.deepEqual(t.ns.deallocatedRanges(), []);
      assert.equal(await run(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(4, 2, DEAC) }), 0);
      assert.deepEqual(t.ns.deallocatedRanges(), [{ start: 4, end: 6 }]);
      t.ns.errorRecovery = ERR_REC_DULBE;
      const buf = new Uint8Array(512 * 3);
      assert.equal(await run(t, { opcode: R, ...rw(3, 3) }, buf), withDnr(Status.DULB));
      assert.equal(await run(t, { opcode: R, ...rw(0, 4) }, new Uint8Array(2048)), 0);
    });
  });

  it('deallocates DSM ranges (reading zeros), silently skipping out-of-range and over-DMRSL ones', async () => {
    await withNs(async (t) => {
      const data = pattern(16 * 512, 6);
      await write(t, 0, data);
      const ranges = dsmRanges([
        [2, 2],
        [NSZE - 1, 2], // out of range: skipped
        [8, 0x400000], // longer than DMRSL 0x3fffff: skipped
        [10, 1],
      ]);
      const s = await run(t, { opcode: IoOpc.DSM, cdw10: 3, cdw11: 1 << 2 }, ranges);
      assert.equal(s, 0);
      assert.deepEqual(t.ns.deallocatedRanges(), [
        { start: 2, end: 4 },
        { start: 10, end: 11 },
      ]);
      const back = await readBack(t, 0, 16);
      const expect = data.slice();
      expect.fill(0, 2 * 512, 4 * 512);
      expect.fill(0, 10 * 512, 11 * 512);
      assert.deepEqual(back, expect);
      t.ns.errorRecovery = ERR_REC_DULBE;
      assert.equal(await run(t, { opcode: IoOpc.VERIFY, ...rw(0, 16) }), withDnr(Status.DULB));
      assert.equal(
        await run(t, { opcode: IoOpc.COMPARE, ...rw(3, 1) }, new Uint8Array(512)),
        withDnr(Status.DULB),
      );
      await write(t, 2, pattern(512, 7));
      assert.deepEqual(t.ns.deallocatedRanges(), [
        { start: 3, end: 4 },
        { start: 10, end: 11 },
      ]);
    });
  });

  it('fails reads of Write Uncorrectable blocks with 0x281 until they are rewritten', async () => {
    await withNs(
      async (t) => {
        const s = await run(t, { opcode: IoOpc.WRITE_UNCOR, ...rw(4, 2) });
        assert.equal(s, 0);
        const buf = new Uint8Array(8 * 512);
        assert.equal(await run(t, { opcode: R, ...rw(0, 8) }, buf), Status.UNRECOVERED_READ);
        assert.equal(await run(t, { opcode: IoOpc.VERIFY, ...rw(5, 1) }), Status.UNRECOVERED_READ);
        assert.equal(await run(t, { opcode: R, ...rw(0, 4) }, buf.subarray(0, 2048)), 0);
        await write(t, 4, pattern(512, 8));
        assert.deepEqual(t.ns.uncorrectableRanges(), [{ start: 5, end: 6 }]);
        assert.equal(await run(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(5, 1) }), 0);
        assert.equal(await run(t, { opcode: R, ...rw(0, 8) }, buf), 0);
        assert.equal(
          await run(t, { opcode: IoOpc.WRITE_UNCOR, ...rw(NSZE, 1) }),
          withDnr(Status.LBA_RANGE),
        );
        assert.deepEqual(
          t.ns.supportedOpcodes(),
          [0, 1, 2, 4, 5, 8, 9, 12, 0x0d, 0x0e, 0x11, 0x12, 0x15, 0x19, 0x1d],
        );
      },
      {},
      { writeUncorrectable: true },
    );
  });

  it('counts successful reads and writes for SMART, not rejected ones or Write Zeroes', async () => {
    await withNs(async (t) => {
      await write(t, 0, pattern(4 * 512, 9));
      await readBack(t, 0, 2);
      await run(t, { opcode: R, ...rw(NSZE, 1) }, new Uint8Array(512));
      await run(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(0, 1) });
      assert.deepEqual(t.ns.smart(), {
        bytesRead: 1024n,
        bytesWritten: 2048n,
        readCommands: 1n,
        writeCommands: 1n,
      });
    });
  });
});

describe('metadata transfer and image layout (reference §9.1, §5.1)', () => {
  it('stores separate metadata after the data area and returns it through MPTR', async () => {
    await withNs(
      async (t) => {
        const nsze = Math.floor(MIB / 520); // 2016
        assert.equal(t.ns.geometry.nsze, nsze);
        const data = pattern(2 * 512, 10);
        const meta = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        assert.equal(await write(t, 3, data, 0, meta), 0);
        await t.drive.flush();
        const img = readFileSync(t.drive.path);
        assert.deepEqual(img.subarray(3 * 512, 5 * 512), Buffer.from(data));
        assert.deepEqual(img.subarray(nsze * 512 + 3 * 8, nsze * 512 + 5 * 8), Buffer.from(meta));
        const d = new Uint8Array(1024);
        const m = new Uint8Array(16);
        assert.equal(await run(t, { opcode: R, ...rw(3, 2) }, d, m), 0);
        assert.deepEqual(d, data);
        assert.deepEqual(m, meta);
        // Without MPTR the stored metadata is neither read nor written.
        assert.equal(await write(t, 3, pattern(1024, 11)), 0);
        const m2 = new Uint8Array(16);
        assert.equal(await run(t, { opcode: R, ...rw(3, 2) }, d, m2), 0);
        assert.deepEqual(m2, meta);
        // A metadata mismatch is a Compare Failure.
        const other = meta.slice();
        other[0] = 0xff;
        const s = await run(t, { opcode: IoOpc.COMPARE, ...rw(3, 2) }, d.slice(), other);
        assert.equal(s, Status.CMP_FAILURE);
      },
      { ms: 8 },
    );
  });

  it('interleaves metadata after each block for extended LBAs and stores it separately', async () => {
    await withNs(
      async (t) => {
        const nsze = Math.floor(MIB / 520);
        const host = pattern(2 * 520, 12);
        assert.equal(await run(t, { opcode: W, ...rw(0, 2) }, host), 0);
        const img = readFileSync(t.drive.path);
        assert.deepEqual(img.subarray(0, 512), Buffer.from(host.subarray(0, 512)));
        assert.deepEqual(img.subarray(512, 1024), Buffer.from(host.subarray(520, 1032)));
        assert.deepEqual(
          img.subarray(nsze * 512, nsze * 512 + 8),
          Buffer.from(host.subarray(512, 520)),
        );
        const back = new Uint8Array(2 * 520);
        assert.equal(await run(t, { opcode: R, ...rw(0, 2) }, back), 0);
        assert.deepEqual(back, host);
        assert.equal(await run(t, { opcode: IoOpc.COMPARE, ...rw(0, 2) }, host.slice()), 0);
      },
      { ms: 8, mset: 1 },
    );
  });

  it('reads deallocated metadata as zeros and keeps it zero after a data-only write', async () => {
    await withNs(
      async (t) => {
        const meta = new Uint8Array(8).fill(0xaa);
        await write(t, 0, pattern(512, 13), 0, meta);
        const dsm = dsmRanges([[0, 1]]);
        assert.equal(await run(t, { opcode: IoOpc.DSM, cdw10: 0, cdw11: 4 }, dsm), 0);
        const m = new Uint8Array(8).fill(1);
        assert.equal(await run(t, { opcode: R, ...rw(0, 1) }, new Uint8Array(512), m), 0);
        assert.deepEqual(m, new Uint8Array(8));
        await write(t, 0, pattern(512, 14));
        assert.equal(await run(t, { opcode: R, ...rw(0, 1) }, new Uint8Array(512), m), 0);
        assert.deepEqual(m, new Uint8Array(8));
      },
      { ms: 8 },
    );
  });
});
