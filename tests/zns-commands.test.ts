// Zoned namespace commands through Namespace.execute (reference qemu-nvme.md §6): write
// pointer and boundary rules, cross read, Zone Append results, Zone Management Send (every
// action, Select All, errors), Zone Management Receive (filters, partial, extended), ZRWA,
// CC.CSS handling, Identify CNS 05h CSI 2 bytes, Format refusal and shutdown.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import { fakeCtrl, pattern, rw } from '../src/nvme/ns/fixtures.js';
import type { TempNs } from '../src/nvme/ns/fixtures.js';
import { readU64le } from '../src/util/bytes.js';
import { ZoneState } from '../src/nvme/ns/zoned/state.js';
import { Zsa } from '../src/nvme/ns/zoned/commands.js';
import {
  appendTo,
  exec,
  LBA,
  readAt,
  slbaDw,
  stateOf,
  tempZoned,
  writeAt,
  ZONE_BLOCKS,
  zms,
  zonedCtrl,
} from '../src/nvme/ns/zoned/fixtures.js';

const D = withDnr;
const Z = ZONE_BLOCKS;
const S = ZoneState;

async function withZoned(
  over: Parameters<typeof tempZoned>[0],
  fn: (t: TempNs) => Promise<void> | void,
  opts?: Parameters<typeof tempZoned>[1],
): Promise<void> {
  const t = await tempZoned(over, opts);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

/** Zone Management Receive into a `len`-byte buffer. */
async function report(
  t: TempNs,
  o: { slba?: number; zra?: number; zrasf?: number; partial?: boolean; len?: number } = {},
): Promise<{ status: number; buf: Uint8Array }> {
  const len = o.len ?? 4096;
  const buf = new Uint8Array(len);
  const c = await exec(
    t,
    {
      opcode: IoOpc.ZONE_MGMT_RECV,
      ...slbaDw(o.slba ?? 0),
      cdw12: len / 4 - 1,
      cdw13: (o.zra ?? 0) | ((o.zrasf ?? 0) << 8) | (o.partial === true ? 1 << 16 : 0),
    },
    buf,
  );
  return { status: c.status, buf };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('zoned writes: write pointer, boundary, state statuses', () => {
  const cases: {
    name: string;
    setup?: (t: TempNs) => Promise<unknown>;
    slba: number;
    nlb: number;
    expect: number;
  }[] = [
    { name: 'a write at the WP of an Empty zone succeeds', slba: Z, nlb: 4, expect: 0 },
    {
      name: 'a write below the WP is Zone Invalid Write + DNR',
      setup: (t) => writeAt(t, 0, 8),
      slba: 4,
      nlb: 1,
      expect: D(Status.ZONE_INVALID_WRITE),
    },
    {
      name: 'a write above the WP is Zone Invalid Write + DNR',
      slba: 3,
      nlb: 1,
      expect: D(Status.ZONE_INVALID_WRITE),
    },
    {
      name: 'a write crossing the zone capacity is Zone Boundary Error + DNR',
      setup: (t) => writeAt(t, 0, Z - 2),
      slba: Z - 2,
      nlb: 4,
      expect: D(Status.ZONE_BOUNDARY_ERROR),
    },
    {
      name: 'a write to a Full zone is Zone Is Full + DNR',
      setup: (t) => zms(t, Zsa.FINISH, 0),
      slba: 0,
      nlb: 1,
      expect: D(Status.ZONE_FULL),
    },
    {
      name: 'a write to a Read Only zone is Zone Is Read Only + DNR',
      setup: (t) => Promise.resolve(t.ns.zoned!.injectState(0, 'read-only')),
      slba: 0,
      nlb: 1,
      expect: D(Status.ZONE_READ_ONLY),
    },
    {
      name: 'a write to an Offline zone is Zone Is Offline + DNR',
      setup: (t) => Promise.resolve(t.ns.zoned!.injectState(0, 'offline')),
      slba: 0,
      nlb: 1,
      expect: D(Status.ZONE_OFFLINE),
    },
    {
      name: 'a write past NSZE is LBA Out of Range + DNR (before any zone check)',
      slba: 8 * Z - 1,
      nlb: 2,
      expect: D(Status.LBA_RANGE),
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      withZoned({}, async (t) => {
        await c.setup?.(t);
        assert.equal((await writeAt(t, c.slba, c.nlb)).status, c.expect);
      }),
    );
  }

  it('advances the WP on completion and turns the zone Full at its capacity', () =>
    withZoned({ zoneCapacity: BigInt(100 * LBA) }, async (t) => {
      assert.equal((await writeAt(t, 0, 60)).status, 0);
      const z = t.ns.zoned!.table.zones[0]!;
      assert.deepEqual([z.state, z.wp], [S.IMPLICITLY_OPEN, 60]);
      assert.equal((await writeAt(t, 60, 40)).status, 0);
      assert.equal(z.state, S.FULL);
      // Reads between ZCAP and the zone end are allowed (zeros).
      const buf = new Uint8Array(28 * LBA).fill(1);
      assert.equal((await readAt(t, 100, 28, buf)).status, 0);
      assert.ok(buf.every((b) => b === 0));
    }));

  it('Write Zeroes follows the same write pointer rules', () =>
    withZoned({}, async (t) => {
      const wz = (slba: number) => exec(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(slba, 4) });
      assert.equal((await wz(1)).status, D(Status.ZONE_INVALID_WRITE));
      assert.equal((await wz(0)).status, 0);
      assert.equal(t.ns.zoned!.table.zones[0]!.wp, 4);
    }));

  it('with auto-transition off, a write needing an open resource is Too Many Open + DNR', () =>
    withZoned({ maxOpen: 1 }, async (t) => {
      const ctrl = zonedCtrl({ zonedAutoTransition: false });
      assert.equal((await writeAt(t, 0, 1, ctrl)).status, 0);
      assert.equal((await writeAt(t, Z, 1, ctrl)).status, D(Status.ZONE_TOO_MANY_OPEN));
      assert.equal((await writeAt(t, Z, 1)).status, 0, 'auto-transition closes zone 0');
      assert.equal(stateOf(t, 0), S.CLOSED);
    }));
});

describe('zoned reads: offline zones and zone boundaries', () => {
  it('a read crossing into the next zone is Zone Boundary Error + DNR without cross_read', () =>
    withZoned({}, async (t) => {
      assert.equal((await readAt(t, Z - 1, 2)).status, D(Status.ZONE_BOUNDARY_ERROR));
      assert.equal((await readAt(t, Z - 2, 2)).status, 0);
    }));

  it('cross_read allows it unless a touched zone is Offline', () =>
    withZoned({ crossRead: true }, async (t) => {
      assert.equal((await readAt(t, Z - 1, 2)).status, 0);
      t.ns.zoned!.injectState(1, 'offline');
      assert.equal((await readAt(t, Z - 1, 2)).status, D(Status.ZONE_OFFLINE));
      assert.equal((await readAt(t, Z, 1)).status, D(Status.ZONE_OFFLINE));
    }));

  it('a Read Only zone can be read', () =>
    withZoned({}, async (t) => {
      t.ns.zoned!.injectState(0, 'read-only');
      assert.equal((await readAt(t, 0, 4)).status, 0);
    }));
});

describe('Zone Append', () => {
  it('writes at the WP and returns the LBA in DW0/DW1', () =>
    withZoned({}, async (t) => {
      const a = await appendTo(t, 2 * Z, 3, undefined, 5);
      const b = await appendTo(t, 2 * Z, 2, undefined, 6);
      assert.deepEqual(a, { status: 0, dw0: 2 * Z, dw1: 0 });
      assert.deepEqual(b, { status: 0, dw0: 2 * Z + 3, dw1: 0 });
      const buf = new Uint8Array(2 * LBA);
      await readAt(t, 2 * Z + 3, 2, buf);
      assert.deepEqual(buf, pattern(2 * LBA, 6));
    }));

  it('returns the upper 32 bits of the assigned LBA in DW1', () =>
    withZoned(
      { zoneSize: BigInt(2 ** 20 * LBA), zoneCapacity: BigInt(2 ** 20 * LBA) },
      async (t) => {
        const zslba = 2 ** 32;
        const c = await appendTo(t, zslba, 1);
        assert.deepEqual(c, { status: 0, dw0: 0, dw1: 1 });
      },
      // A sparse 2^33-block image: 8192 zones of 2^20 blocks (only touched blocks use space).
      { imageBytes: 2 ** 33 * LBA },
    ));

  const cases: { name: string; run: (t: TempNs) => Promise<{ status: number }>; s: number }[] = [
    {
      name: 'an SLBA that is not a zone start is Invalid Field + DNR',
      run: (t) => appendTo(t, 1, 1),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'data above ZASL is Invalid Field + DNR',
      run: (t) => appendTo(t, 0, 16, zonedCtrl({ zaslBytes: 4096 })),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'data above MDTS is Invalid Field + DNR',
      run: (t) => appendTo(t, 0, 16, zonedCtrl({ mdtsBytes: 4096, zaslBytes: 4096 })),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'an append that does not fit the zone is Zone Boundary Error + DNR',
      run: async (t) => {
        await writeAt(t, 0, Z - 1);
        return appendTo(t, 0, 2);
      },
      s: D(Status.ZONE_BOUNDARY_ERROR),
    },
    {
      name: 'an append to a Full zone is Zone Is Full + DNR',
      run: async (t) => {
        await zms(t, Zsa.FINISH, 0);
        return appendTo(t, 0, 1);
      },
      s: D(Status.ZONE_FULL),
    },
    {
      name: 'append is an Invalid Opcode + DNR when CC.CSS selected the NVM set only',
      run: (t) => appendTo(t, 0, 1, zonedCtrl({ css: 0 })),
      s: D(Status.INVALID_OPCODE),
    },
  ];
  for (const c of cases) {
    it(c.name, () => withZoned({}, async (t) => assert.equal((await c.run(t)).status, c.s)));
  }
});

describe('CC.CSS and opcode sets (reference §2.3)', () => {
  it('CSS 0: NVM opcodes work on a zoned namespace and zone write rules still apply', () =>
    withZoned({}, async (t) => {
      const nvm = fakeCtrl({ css: 0 });
      assert.equal((await writeAt(t, 1, 1, nvm)).status, D(Status.ZONE_INVALID_WRITE));
      assert.equal((await writeAt(t, 0, 1, nvm)).status, 0);
      assert.equal((await zms(t, Zsa.OPEN, Z, { ctrl: nvm })).status, D(Status.INVALID_OPCODE));
    }));

  it('CSS 7 (admin only): every I/O opcode is Invalid Opcode + DNR', () =>
    withZoned({}, async (t) => {
      assert.equal((await writeAt(t, 0, 1, fakeCtrl({ css: 7 }))).status, D(Status.INVALID_OPCODE));
    }));

  it('lists the zone commands among the supported opcodes', () =>
    withZoned({}, (t) => {
      assert.deepEqual(
        t.ns.supportedOpcodes().filter((o) => o >= 0x79),
        [0x79, 0x7a, 0x7d],
      );
      assert.equal(t.ns.csi, 2);
    }));
});

describe('Zone Management Send', () => {
  const errors: { name: string; run: (t: TempNs) => Promise<{ status: number }>; s: number }[] = [
    {
      name: 'an SLBA at or past NSZE is LBA Out of Range + DNR',
      run: (t) => zms(t, Zsa.OPEN, 8 * Z),
      s: D(Status.LBA_RANGE),
    },
    {
      name: 'an SLBA that is not a zone start is Invalid Field + DNR',
      run: (t) => zms(t, Zsa.OPEN, 5),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'an unknown action is Invalid Field + DNR',
      run: (t) => zms(t, 0x06, 0),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'closing an Empty zone is Invalid Zone State Transition + DNR',
      run: (t) => zms(t, Zsa.CLOSE, 0),
      s: D(Status.ZONE_INVAL_TRANSITION),
    },
    {
      name: 'offlining a zone that is not Read Only is Invalid Zone State Transition + DNR',
      run: (t) => zms(t, Zsa.OFFLINE, 0),
      s: D(Status.ZONE_INVAL_TRANSITION),
    },
    {
      name: 'Set Zone Descriptor Extension without an extension size is Invalid Field + DNR',
      run: (t) => zms(t, Zsa.SET_ZDE, 0, { data: new Uint8Array(64) }),
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'Open with ZRWA allocation on a namespace without ZRWA is Invalid Zone Op + DNR',
      run: (t) => zms(t, Zsa.OPEN, 0, { zrwaa: true }),
      s: D(Status.ZONE_INVALID_OP),
    },
    {
      name: 'ZRWA Flush on a namespace without ZRWA is Invalid Zone Operation + DNR',
      run: (t) => zms(t, Zsa.ZRWA_FLUSH, 0),
      s: D(Status.ZONE_INVALID_OP),
    },
  ];
  for (const c of errors) {
    it(c.name, () => withZoned({}, async (t) => assert.equal((await c.run(t)).status, c.s)));
  }

  it('Open, Close, Finish, Reset act on one zone', () =>
    withZoned({}, async (t) => {
      assert.equal((await zms(t, Zsa.OPEN, Z)).status, 0);
      assert.equal(stateOf(t, 1), S.EXPLICITLY_OPEN);
      assert.equal((await zms(t, Zsa.CLOSE, Z)).status, 0);
      assert.equal(stateOf(t, 1), S.CLOSED);
      assert.equal((await zms(t, Zsa.FINISH, Z)).status, 0);
      assert.equal(stateOf(t, 1), S.FULL);
      assert.equal((await zms(t, Zsa.RESET, Z)).status, 0);
      assert.equal(stateOf(t, 1), S.EMPTY);
    }));

  it('Reset zeroes the written data of the zone', () =>
    withZoned({}, async (t) => {
      await writeAt(t, Z, 8, undefined, 9);
      await zms(t, Zsa.RESET, Z);
      const buf = new Uint8Array(8 * LBA).fill(0xaa);
      await readAt(t, Z, 8, buf);
      assert.ok(buf.every((b) => b === 0));
      // Fresh writes start at ZSLBA again.
      assert.equal((await writeAt(t, Z, 1)).status, 0);
    }));

  it('Select All: Open opens the Closed zones only, oldest closed first', () =>
    withZoned({ maxOpen: 2, maxActive: 3 }, async (t) => {
      for (const i of [2, 0, 1]) {
        await writeAt(t, i * Z, 1);
        await zms(t, Zsa.CLOSE, i * Z);
      }
      // Three closed zones, two open resources: the first two by closing order, then 0x1be.
      const c = await zms(t, Zsa.OPEN, 0, { all: true });
      assert.equal(c.status, D(Status.ZONE_TOO_MANY_OPEN));
      assert.deepEqual(
        [0, 1, 2].map((i) => stateOf(t, i)),
        [S.EXPLICITLY_OPEN, S.CLOSED, S.EXPLICITLY_OPEN],
      );
    }));

  it('Select All: Close, Finish, Reset and Offline pick their source states', () =>
    withZoned({}, async (t) => {
      await writeAt(t, 0, 1);
      await zms(t, Zsa.OPEN, Z);
      await writeAt(t, 2 * Z, 1);
      await zms(t, Zsa.CLOSE, 2 * Z);
      t.ns.zoned!.injectState(3, 'read-only');
      assert.equal((await zms(t, Zsa.CLOSE, 0, { all: true })).status, 0);
      assert.deepEqual(
        [0, 1, 2].map((i) => stateOf(t, i)),
        [S.CLOSED, S.CLOSED, S.CLOSED],
      );
      assert.equal((await zms(t, Zsa.FINISH, 0, { all: true })).status, 0);
      assert.deepEqual(
        [0, 1, 2, 4].map((i) => stateOf(t, i)),
        [S.FULL, S.FULL, S.FULL, S.EMPTY],
      );
      assert.equal((await zms(t, Zsa.OFFLINE, 0, { all: true })).status, 0);
      assert.equal(stateOf(t, 3), S.OFFLINE);
      assert.equal((await zms(t, Zsa.RESET, 0, { all: true })).status, 0);
      assert.deepEqual(
        [0, 1, 2, 3].map((i) => stateOf(t, i)),
        [S.EMPTY, S.EMPTY, S.EMPTY, S.OFFLINE],
      );
    }));

  it('Select All ignores the SLBA (even one past NSZE)', () =>
    withZoned({}, async (t) => {
      assert.equal((await zms(t, Zsa.CLOSE, 99 * Z + 3, { all: true })).status, 0);
    }));

  it('Set Zone Descriptor Extension: Empty -> Closed with ZDEV and the data; with Select All Invalid Field', () =>
    withZoned({ descrExtSize: 64 }, async (t) => {
      const ext = pattern(64, 3);
      assert.equal((await zms(t, Zsa.SET_ZDE, Z, { data: ext })).status, 0);
      const z = t.ns.zoned!.table.zones[1]!;
      assert.deepEqual([z.state, z.za, z.ext], [S.CLOSED, 0x80, ext]);
      assert.equal(
        (await zms(t, Zsa.SET_ZDE, Z, { data: ext })).status,
        D(Status.ZONE_INVAL_TRANSITION),
      );
      assert.equal(
        (await zms(t, Zsa.SET_ZDE, 0, { all: true, data: ext })).status,
        D(Status.INVALID_FIELD),
      );
      assert.equal(
        (await zms(t, Zsa.SET_ZDE, 2 * Z)).status,
        D(Status.DATA_TRANSFER_ERROR),
        'no data buffer',
      );
    }));
});

describe('Zone Management Receive', () => {
  it('reports every zone with the golden descriptor layout', () =>
    withZoned({ zoneCapacity: BigInt(100 * LBA) }, async (t) => {
      await writeAt(t, Z, 3);
      await zms(t, Zsa.FINISH, 2 * Z);
      const { status, buf } = await report(t, { len: 64 + 3 * 64 });
      assert.equal(status, 0);
      assert.equal(readU64le(buf, 0), 8n, 'NRZONES counts all matching zones');
      // Zone 1: type 2, IOpen (0x20), ZCAP 100, ZSLBA 128, WP 131.
      assert.equal(
        hex(buf.subarray(128, 160)),
        '0220000000000000' + '6400000000000000' + '8000000000000000' + '8300000000000000',
      );
      // Zone 2 is Full: WP all ones.
      assert.equal(hex(buf.subarray(192 + 24, 192 + 32)), 'ffffffffffffffff');
      assert.equal(buf[192 + 1], 0xe0);
    }));

  it('filters by state and starts at the zone holding SLBA', () =>
    withZoned({}, async (t) => {
      await writeAt(t, 0, 1);
      await writeAt(t, 3 * Z, 1);
      await zms(t, Zsa.OPEN, 5 * Z);
      const imp = await report(t, { zrasf: 2 });
      assert.equal(readU64le(imp.buf, 0), 2n);
      assert.deepEqual([readU64le(imp.buf, 64 + 16), readU64le(imp.buf, 128 + 16)], [0n, 384n]);
      const from = await report(t, { zrasf: 2, slba: Z + 7 });
      assert.equal(readU64le(from.buf, 0), 1n);
      const exp = await report(t, { zrasf: 3 });
      assert.equal(readU64le(exp.buf, 0), 1n);
      const empty = await report(t, { zrasf: 1 });
      assert.equal(readU64le(empty.buf, 0), 5n);
    }));

  it('partial: NRZONES counts only the descriptors that fit', () =>
    withZoned({}, async (t) => {
      const full = await report(t, { len: 64 + 2 * 64 });
      const part = await report(t, { len: 64 + 2 * 64, partial: true });
      assert.deepEqual([readU64le(full.buf, 0), readU64le(part.buf, 0)], [8n, 2n]);
    }));

  it('extended report: 64 + extension bytes per zone, extension only when ZDEV', () =>
    withZoned({ descrExtSize: 128 }, async (t) => {
      await zms(t, Zsa.SET_ZDE, Z, { data: pattern(128, 4) });
      const { status, buf } = await report(t, { zra: 1, len: 64 + 2 * 192 });
      assert.equal(status, 0);
      assert.ok(
        buf.subarray(64 + 64, 64 + 192).every((b) => b === 0),
        'zone 0: no extension',
      );
      assert.equal(readU64le(buf, 64 + 192 + 16), BigInt(Z));
      assert.deepEqual(buf.subarray(64 + 192 + 64, 64 + 2 * 192), pattern(128, 4));
    }));

  const errors: { name: string; o: Parameters<typeof report>[1]; s: number }[] = [
    { name: 'an unknown ZRA is Invalid Field + DNR', o: { zra: 2 }, s: D(Status.INVALID_FIELD) },
    {
      name: 'an extended report without extensions is Invalid Field + DNR',
      o: { zra: 1 },
      s: D(Status.INVALID_FIELD),
    },
    { name: 'ZRASF above 7 is Invalid Field + DNR', o: { zrasf: 8 }, s: D(Status.INVALID_FIELD) },
    {
      name: 'a buffer under 64 bytes is Invalid Field + DNR',
      o: { len: 32 },
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'a buffer above MDTS is Invalid Field + DNR',
      o: { len: (4096 << 7) + 4 },
      s: D(Status.INVALID_FIELD),
    },
    {
      name: 'an SLBA past NSZE is LBA Out of Range + DNR',
      o: { slba: 8 * Z },
      s: D(Status.LBA_RANGE),
    },
  ];
  for (const c of errors) {
    it(c.name, () => withZoned({}, async (t) => assert.equal((await report(t, c.o)).status, c.s)));
  }
});

describe('Zone Random Write Area', () => {
  // ZRWAS 8 blocks, flush granularity 2 blocks.
  const zrwa = { zrwas: BigInt(8 * LBA), zrwafg: BigInt(2 * LBA), numZrwa: 2, maxActive: 4 };

  it('allows writes anywhere in [WP, WP + 2 * ZRWAS) and commits past WP + ZRWAS - 1', () =>
    withZoned(zrwa, async (t) => {
      assert.equal((await zms(t, Zsa.OPEN, 0, { zrwaa: true })).status, 0);
      const z = t.ns.zoned!.table.zones[0]!;
      assert.equal(z.za & 0x08, 0x08, 'ZRWAV');
      assert.equal((await writeAt(t, 5, 2)).status, 0);
      assert.equal((await writeAt(t, 0, 1)).status, 0);
      assert.equal(z.wp, 0, 'inside the ZRWA nothing is committed');
      // Blocks 9..10 end past WP + 7: commit ceil(3 / 2) * 2 = 4 blocks.
      assert.equal((await writeAt(t, 9, 2)).status, 0);
      assert.equal(z.wp, 4);
      assert.equal((await writeAt(t, 4 + 16, 1)).status, D(Status.ZONE_INVALID_WRITE));
      assert.equal((await writeAt(t, 3, 1)).status, D(Status.ZONE_INVALID_WRITE));
    }));

  it('explicit ZRWA flush commits up to ELBA in granularity units', () =>
    withZoned(zrwa, async (t) => {
      await zms(t, Zsa.OPEN, 0, { zrwaa: true });
      await writeAt(t, 0, 6);
      assert.equal((await zms(t, Zsa.ZRWA_FLUSH, 2)).status, D(Status.INVALID_FIELD));
      assert.equal((await zms(t, Zsa.ZRWA_FLUSH, 3)).status, 0);
      assert.equal(t.ns.zoned!.table.zones[0]!.wp, 4);
      assert.equal((await zms(t, Zsa.ZRWA_FLUSH, 2)).status, D(Status.ZONE_BOUNDARY_ERROR));
      assert.equal((await zms(t, Zsa.ZRWA_FLUSH, 4 + 9)).status, D(Status.ZONE_BOUNDARY_ERROR));
      assert.equal((await zms(t, Zsa.ZRWA_FLUSH, Z + 1)).status, D(Status.INVALID_FIELD));
    }));

  it('Zone Append to a zone with a ZRWA is Invalid Zone Operation + DNR', () =>
    withZoned(zrwa, async (t) => {
      await zms(t, Zsa.OPEN, 0, { zrwaa: true });
      assert.equal((await appendTo(t, 0, 1)).status, D(Status.ZONE_INVALID_OP));
    }));

  it('ZRWA allocation needs a WP on the flush granularity and free resources', () =>
    withZoned(zrwa, async (t) => {
      await writeAt(t, Z, 1);
      assert.equal((await zms(t, Zsa.OPEN, Z, { zrwaa: true })).status, D(Status.ZONE_NO_ZRWA));
      await zms(t, Zsa.OPEN, 2 * Z, { zrwaa: true });
      await zms(t, Zsa.OPEN, 3 * Z, { zrwaa: true });
      assert.equal((await zms(t, Zsa.OPEN, 4 * Z, { zrwaa: true })).status, D(Status.ZONE_NO_ZRWA));
      assert.equal(
        (await zms(t, Zsa.OPEN, 0, { zrwaa: true, all: true })).status,
        D(Status.INVALID_FIELD),
      );
    }));
});

describe('zoned Identify, Format and shutdown', () => {
  it('CNS 05h CSI 2: OZCS, MAR/MOR 0s based, ZRWA fields, LBAFE for every format', () =>
    withZoned(
      {
        crossRead: true,
        maxActive: 6,
        maxOpen: 4,
        descrExtSize: 128,
        zrwas: BigInt(8 * LBA),
        zrwafg: BigInt(2 * LBA),
        numZrwa: 3,
      },
      (t) => {
        const id = t.ns.identifyIoCs(2);
        assert.ok(id instanceof Uint8Array);
        assert.equal(hex(id.subarray(0, 12)), '0000' + '0300' + '05000000' + '03000000');
        assert.equal(hex(id.subarray(44, 53)), '03000000' + '0200' + '0800' + '01');
        for (let i = 0; i < 8; i++) {
          assert.equal(
            hex(id.subarray(2816 + 16 * i, 2832 + 16 * i)),
            '8000000000000000' + '02' + '00'.repeat(7),
          );
        }
        assert.ok(id.subarray(2816 + 16 * 8).every((b) => b === 0));
        // Identify NS: NSZE = NCAP = NUSE = whole zones.
        assert.equal(readU64le(t.ns.identify(false), 0), 8n * BigInt(Z));
      },
      { imageBytes: 8 * Z * LBA + 3000 },
    ));

  it('CNS 05h CSI 2 without limits reports MAR = MOR = FFFFFFFFh; CSI 2 on an NVM namespace is refused by the namespace', () =>
    withZoned({}, (t) => {
      const id = t.ns.identifyIoCs(2) as Uint8Array;
      assert.equal(hex(id.subarray(4, 12)), 'ffffffffffffffff');
      assert.equal(t.ns.identifyIoCs(1), D(Status.INVALID_FIELD));
    }));

  it('Format NVM of a zoned namespace is Invalid Format + DNR', () =>
    withZoned({}, async (t) => {
      assert.deepEqual(await t.ns.format(0, 0, 0, 0, 0), { status: D(Status.INVALID_FORMAT) });
    }));

  it('shutdown closes open zones holding data and empties the others', () =>
    withZoned({}, async (t) => {
      await writeAt(t, 0, 2);
      await zms(t, Zsa.OPEN, Z);
      await t.ns.shutdown();
      assert.deepEqual([stateOf(t, 0), stateOf(t, 1)], [S.CLOSED, S.EMPTY]);
      assert.deepEqual([t.ns.zoned!.table.openCount, t.ns.zoned!.table.activeCount], [0, 1]);
    }));

  it('DULBE is not offered when the zone size is not a multiple of the granularity', () =>
    withZoned({ zoneSize: BigInt(100 * LBA), zoneCapacity: BigInt(100 * LBA) }, (t) => {
      assert.equal(t.ns.dulbeCapable, false);
      assert.equal(t.ns.identify(false)[24]! & 0x04, 0);
    }));
});
