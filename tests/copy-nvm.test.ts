// Simple Copy (0x19; reference qemu-nvme.md §7) on regular and zoned namespaces: source range
// formats 0 and 1, the MSRC/MSSRL/MCL limits, per-range statuses with the failing range's
// index in DW0, data and metadata copied, zone write rules for the destination and zone read
// rules for the sources.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import {
  ctxOf,
  fakeCtrl,
  pattern,
  rw,
  tempNamespace,
  type TempNs,
} from '../src/nvme/ns/fixtures.js';
import type { NvmeNsConfig } from '../src/nvme/ns/config.js';
import type { ControllerView } from '../src/nvme/spec/namespace-api.js';
import { encodeCopyRanges, type CopyRange } from '../src/cli/nvme/copy.js';
import { parseRanges } from '../src/nvme/ns/copy.js';
import { ZoneState } from '../src/nvme/ns/zoned/state.js';
import { LBA, tempZoned, writeAt, ZONE_BLOCKS, zonedCtrl } from '../src/nvme/ns/zoned/fixtures.js';

const D = withDnr;
const Z = ZONE_BLOCKS;
const NSZE = 2048;

/** [slba, nlb (1's based)] pairs as format-0/1 entries. */
function ranges(list: readonly (readonly [number, number])[], format: 0 | 1 = 0): Uint8Array {
  const r: CopyRange[] = list.map(([slba, nlb]) => ({
    slba: BigInt(slba),
    nlb: nlb - 1,
    eilbrt: 0n,
    elbat: 0,
    elbatm: 0,
  }));
  return encodeCopyRanges(r, format);
}

async function copy(
  t: TempNs,
  sdlba: number,
  list: readonly (readonly [number, number])[],
  o: { format?: 0 | 1; nr?: number; ctrl?: ControllerView; data?: Uint8Array } = {},
): Promise<{ status: number; dw0?: number }> {
  const format = o.format ?? 0;
  const nr = o.nr ?? list.length - 1;
  return t.ns.execute(
    ctxOf(
      { opcode: IoOpc.COPY, cdw10: sdlba, cdw11: 0, cdw12: nr | (format << 8) },
      o.data ?? ranges(list, format),
      undefined,
      o.ctrl ?? fakeCtrl(),
    ),
  );
}

async function withNs(
  over: Partial<NvmeNsConfig>,
  fn: (t: TempNs) => Promise<void>,
): Promise<void> {
  const t = await tempNamespace(NSZE * LBA, over);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

async function write(t: TempNs, slba: number, nlb: number, seed: number): Promise<void> {
  const c = await t.ns.execute(
    ctxOf({ opcode: IoOpc.WRITE, ...rw(slba, nlb) }, pattern(nlb * LBA, seed)),
  );
  assert.equal(c.status, 0);
}

async function read(t: TempNs, slba: number, nlb: number): Promise<Uint8Array> {
  const buf = new Uint8Array(nlb * LBA);
  const c = await t.ns.execute(ctxOf({ opcode: IoOpc.READ, ...rw(slba, nlb) }, buf));
  assert.equal(c.status, 0);
  return buf;
}

describe('Simple Copy on an NVM namespace', () => {
  it('copies the ranges back to back to SDLBA and accounts a read and a write', () =>
    withNs({}, async (t) => {
      await write(t, 10, 3, 1);
      await write(t, 100, 2, 2);
      const before = t.ns.smart();
      assert.deepEqual(
        await copy(t, 500, [
          [10, 3],
          [100, 2],
        ]),
        { status: 0 },
      );
      const after = t.ns.smart();
      const out = await read(t, 500, 5);
      assert.deepEqual(out.subarray(0, 3 * LBA), pattern(3 * LBA, 1));
      assert.deepEqual(out.subarray(3 * LBA), pattern(2 * LBA, 2));
      assert.equal(after.readCommands - before.readCommands, 1n);
      assert.equal(after.writeCommands - before.writeCommands, 1n);
      assert.equal(after.bytesWritten - before.bytesWritten, BigInt(5 * LBA));
    }));

  it('copies metadata along with the data (separate metadata)', () =>
    withNs({ ms: 8 }, async (t) => {
      const meta = pattern(2 * 8, 5);
      const c = await t.ns.execute(
        ctxOf({ opcode: IoOpc.WRITE, ...rw(4, 2) }, pattern(2 * LBA, 3), meta),
      );
      assert.equal(c.status, 0);
      assert.equal((await copy(t, 40, [[4, 2]])).status, 0);
      const back = new Uint8Array(16);
      await t.ns.execute(
        ctxOf({ opcode: IoOpc.READ, ...rw(40, 2) }, new Uint8Array(2 * LBA), back),
      );
      assert.deepEqual(back, meta);
    }));

  it('handles a destination overlapping its source', () =>
    withNs({}, async (t) => {
      await write(t, 0, 8, 4);
      assert.equal((await copy(t, 2, [[0, 8]])).status, 0);
      assert.deepEqual(await read(t, 2, 8), pattern(8 * LBA, 4));
    }));

  it('accepts descriptor format 1 on a namespace with the 64-bit guard format (pif=2)', () =>
    withNs({ pif: 2 }, async (t) => {
      await write(t, 1, 1, 6);
      assert.equal((await copy(t, 50, [[1, 1]], { format: 1 })).status, 0);
      assert.deepEqual(await read(t, 50, 1), pattern(LBA, 6));
    }));

  const cases: {
    name: string;
    over?: Partial<NvmeNsConfig>;
    run: (t: TempNs) => Promise<{ status: number; dw0?: number }>;
    status: number;
    dw0?: number;
  }[] = [
    {
      name: 'more ranges than MSRC + 1 is Command Size Limit Exceeded + DNR',
      over: { msrc: 1 },
      run: (t) =>
        copy(t, 0, [
          [0, 1],
          [1, 1],
          [2, 1],
        ]),
      status: D(Status.CMD_SIZE_LIMIT),
    },
    {
      name: 'a range longer than MSSRL is Command Size Limit Exceeded + DNR, nothing copied',
      over: { mssrl: 4 },
      run: (t) =>
        copy(t, 100, [
          [0, 4],
          [10, 5],
        ]),
      status: D(Status.CMD_SIZE_LIMIT),
    },
    {
      name: 'a total above MCL is Command Size Limit Exceeded + DNR',
      over: { mcl: 6 },
      run: (t) =>
        copy(t, 100, [
          [0, 4],
          [10, 3],
        ]),
      status: D(Status.CMD_SIZE_LIMIT),
    },
    {
      name: 'format 1 on a 16-bit guard namespace is Invalid Format + DNR',
      run: (t) => copy(t, 100, [[0, 1]], { format: 1 }),
      status: D(Status.INVALID_FORMAT),
    },
    {
      name: 'format 4 (not in OCFS) is Invalid Field + DNR',
      run: async (t) =>
        t.ns.execute(ctxOf({ opcode: IoOpc.COPY, cdw12: 4 << 8 }, new Uint8Array(64))),
      status: D(Status.INVALID_FIELD),
    },
    {
      name: 'format 2 naming SNSID 0 is Invalid Namespace or Format + DNR',
      run: async (t) =>
        t.ns.execute(ctxOf({ opcode: IoOpc.COPY, cdw12: 2 << 8 }, new Uint8Array(64))),
      status: D(Status.INVALID_NSID),
    },
    {
      name: 'a source range past NSZE is LBA Out of Range + DNR with its index in DW0',
      run: (t) =>
        copy(t, 100, [
          [0, 1],
          [NSZE - 1, 2],
        ]),
      status: D(Status.LBA_RANGE),
      dw0: 1,
    },
    {
      name: 'a destination past NSZE is LBA Out of Range + DNR',
      run: (t) =>
        copy(t, NSZE - 2, [
          [0, 2],
          [4, 2],
        ]),
      status: D(Status.LBA_RANGE),
      dw0: 1,
    },
    {
      name: 'a descriptor list the host does not provide is a data transfer error',
      run: (t) => copy(t, 0, [[0, 1]], { data: new Uint8Array(8) }),
      status: Status.DATA_TRANSFER_ERROR,
    },
    {
      name: 'DULBE applies to source ranges',
      run: async (t) => {
        t.ns.errorRecovery = 1 << 16;
        await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE_ZEROES, ...rw(20, 4, 1 << 25) }));
        return copy(t, 100, [
          [0, 2],
          [21, 1],
        ]);
      },
      status: D(Status.DULB),
      dw0: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      withNs(c.over ?? {}, async (t) => {
        const r = await c.run(t);
        assert.equal(r.status, c.status);
        if (c.dw0 !== undefined) assert.equal(r.dw0, c.dw0);
      }),
    );
  }

  it('ranges before a failing one stay copied', () =>
    withNs({}, async (t) => {
      await write(t, 0, 2, 8);
      const r = await copy(t, 300, [
        [0, 2],
        [NSZE, 1],
      ]);
      assert.deepEqual(r, { status: D(Status.LBA_RANGE), dw0: 1 });
      assert.deepEqual(await read(t, 300, 2), pattern(2 * LBA, 8));
    }));

  it('decodes SLBA, NLB and the expected tags of both entry formats', () => {
    const list = [{ slba: 0x1_0000_0002n, nlb: 7, eilbrt: 0x1234n, elbat: 0xab, elbatm: 0xff }];
    for (const f of [0, 1] as const) {
      assert.deepEqual(parseRanges(encodeCopyRanges(list, f), f, 1), [
        {
          snsid: undefined,
          slba: 0x1_0000_0002n,
          nlb: 8,
          reftag: 0x1234n,
          apptag: 0xab,
          appmask: 0xff,
        },
      ]);
    }
    // Format 0 entry bytes: SLBA at 8, NLB at 16, EILBRT at 24, ELBAT 28, ELBATM 30.
    assert.equal(
      Buffer.from(encodeCopyRanges(list, 0)).toString('hex'),
      '0000000000000000' +
        '0200000001000000' +
        '0700' +
        '000000000000' +
        '34120000' +
        'ab00' +
        'ff00',
    );
  });
});

describe('Simple Copy into and out of a zoned namespace', () => {
  const zcopy = (t: TempNs, sdlba: number, list: (readonly [number, number])[]) =>
    copy(t, sdlba, list, { ctrl: zonedCtrl() });

  it('writes at the destination zone WP and advances it per range', async () => {
    const t = await tempZoned();
    try {
      await writeAt(t, 0, 10, undefined, 3);
      assert.deepEqual(
        await zcopy(t, Z, [
          [0, 4],
          [6, 4],
        ]),
        { status: 0 },
      );
      const z = t.ns.zoned!.table.zones[1]!;
      assert.deepEqual([z.state, z.wp], [ZoneState.IMPLICITLY_OPEN, Z + 8]);
    } finally {
      await t.cleanup();
    }
  });

  it('a destination not at the WP is Zone Invalid Write + DNR for range 0', async () => {
    const t = await tempZoned();
    try {
      await writeAt(t, 0, 4);
      assert.deepEqual(await zcopy(t, Z + 1, [[0, 4]]), {
        status: D(Status.ZONE_INVALID_WRITE),
        dw0: 0,
      });
    } finally {
      await t.cleanup();
    }
  });

  it('a copy that does not fit the destination zone is Zone Boundary Error at the range that crosses', async () => {
    const t = await tempZoned();
    try {
      await writeAt(t, 0, 10);
      await writeAt(t, Z, Z - 6);
      assert.deepEqual(
        await zcopy(t, 2 * Z - 6, [
          [0, 4],
          [4, 4],
        ]),
        {
          status: D(Status.ZONE_BOUNDARY_ERROR),
          dw0: 1,
        },
      );
      assert.equal(t.ns.zoned!.table.zones[1]!.wp, 2 * Z - 2);
    } finally {
      await t.cleanup();
    }
  });

  it('a source range crossing a zone boundary follows the read rules', async () => {
    const t = await tempZoned();
    try {
      assert.deepEqual(await zcopy(t, 3 * Z, [[Z - 2, 4]]), {
        status: D(Status.ZONE_BOUNDARY_ERROR),
        dw0: 0,
      });
      t.ns.zoned!.injectState(1, 'offline');
      assert.deepEqual(await zcopy(t, 3 * Z, [[Z, 1]]), {
        status: D(Status.ZONE_OFFLINE),
        dw0: 0,
      });
    } finally {
      await t.cleanup();
    }
  });
});
