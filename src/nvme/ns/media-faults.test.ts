import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CmdInit } from '../spec/command.js';
import { ctxOf, MIB, pattern, rw, tempNamespace, type TempNs } from './fixtures.js';
import { onTrace, type TraceEvents } from '../../trace/catalogue.js';

async function withNs(fn: (t: TempNs) => Promise<void>): Promise<void> {
  const t = await tempNamespace(MIB);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

const run = async (t: TempNs, init: CmdInit, data?: Uint8Array): Promise<number> =>
  (await t.ns.execute(ctxOf(init, data))).status;

const buf = (t: TempNs, nlb: number) => new Uint8Array(nlb * t.ns.lbaSize);

describe('injected media errors', () => {
  const cases: {
    name: string;
    kind: 'read' | 'write';
    cmd: (t: TempNs) => [CmdInit, Uint8Array | undefined];
    status: number;
  }[] = [
    {
      name: 'a Read over a read fault completes Unrecovered Read Error without DNR',
      kind: 'read',
      cmd: (t) => [{ opcode: IoOpc.READ, ...rw(8, 4) }, buf(t, 4)],
      status: Status.UNRECOVERED_READ,
    },
    {
      name: 'a Verify over a read fault completes Unrecovered Read Error',
      kind: 'read',
      cmd: () => [{ opcode: IoOpc.VERIFY, ...rw(10, 1) }, undefined],
      status: Status.UNRECOVERED_READ,
    },
    {
      name: 'a Compare over a read fault completes Unrecovered Read Error',
      kind: 'read',
      cmd: (t) => [{ opcode: IoOpc.COMPARE, ...rw(9, 2) }, buf(t, 2)],
      status: Status.UNRECOVERED_READ,
    },
    {
      name: 'a Write over a write fault completes Write Fault without DNR',
      kind: 'write',
      cmd: (t) => [{ opcode: IoOpc.WRITE, ...rw(11, 2) }, pattern(2 * t.ns.lbaSize, 1)],
      status: Status.WRITE_FAULT,
    },
    {
      name: 'a Write Zeroes over a write fault completes Write Fault',
      kind: 'write',
      cmd: () => [{ opcode: IoOpc.WRITE_ZEROES, ...rw(0, 64) }, undefined],
      status: Status.WRITE_FAULT,
    },
    {
      name: 'a Write over a read fault succeeds (the fault stays)',
      kind: 'read',
      cmd: (t) => [{ opcode: IoOpc.WRITE, ...rw(10, 1) }, pattern(t.ns.lbaSize, 2)],
      status: Status.SUCCESS,
    },
    {
      name: 'a Read next to the fault succeeds',
      kind: 'read',
      cmd: (t) => [{ opcode: IoOpc.READ, ...rw(12, 4) }, buf(t, 4)],
      status: Status.SUCCESS,
    },
    {
      name: 'an out-of-range Read overlapping a fault is still LBA Out of Range + DNR',
      kind: 'read',
      cmd: (t) => [{ opcode: IoOpc.READ, ...rw(2047, 2) }, buf(t, 2)],
      status: withDnr(Status.LBA_RANGE),
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      withNs(async (t) => {
        t.ns.mediaFaults.inject(c.kind, 10, 12);
        t.ns.mediaFaults.inject(c.kind, 2047, 2048);
        const [init, data] = c.cmd(t);
        assert.equal(await run(t, init, data), c.status);
      }),
    );
  }

  it('clearing a fault makes the blocks readable again, and hits are counted', () =>
    withNs(async (t) => {
      t.ns.mediaFaults.inject('read', 10, 12);
      assert.equal(await run(t, { opcode: IoOpc.READ, ...rw(10, 1) }, buf(t, 1)), 0x281);
      t.ns.mediaFaults.clear(undefined, 0, 11);
      assert.deepEqual(t.ns.mediaFaults.list('read'), [{ start: 11, end: 12 }]);
      assert.equal(await run(t, { opcode: IoOpc.READ, ...rw(10, 1) }, buf(t, 1)), 0);
      assert.deepEqual(t.ns.mediaFaults.hits, { read: 1, write: 0 });
    }));

  it('a hit is traced (nvme:ns:media-error) with the exact status', () =>
    withNs(async (t) => {
      const seen: TraceEvents['nvme:ns:media-error'][] = [];
      const off = onTrace('nvme:ns:media-error', (m) => void seen.push(m));
      try {
        t.ns.mediaFaults.inject('write', 5, 6);
        const data = pattern(4 * t.ns.lbaSize, 3);
        assert.equal(await run(t, { opcode: IoOpc.WRITE, ...rw(4, 4) }, data), 0x280);
      } finally {
        off();
      }
      assert.deepEqual(seen, [
        {
          id: t.ns.id,
          nsid: t.ns.nsid,
          kind: 'write',
          slba: 4,
          nlb: 4,
          status: 0x280,
          source: t.ns.mediaFaults,
        },
      ]);
    }));
});
