// One command path that completes at once whenever nothing in the command has to wait: execute()
// returns a completion, not a promise, for page-cache I/O of every format (plain, metadata,
// protection information, zoned), with or without the write cache model, and for every rejected
// command; it returns a promise exactly where the spec makes the command wait for the medium
// (FUA, write through, Flush) or the drive's I/O leaves the event loop (aio=threads).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeU32le, writeU64le } from '../../util/bytes.js';
import type { CmdInit } from '../spec/command.js';
import { IoOpc } from '../spec/opcodes.js';
import { Status, withDnr } from '../spec/status.js';
import { bufferData, type Completion } from '../spec/transfer.js';
import { ctxOf, MIB, pattern, rw, tempNamespace, type TempNs } from './fixtures.js';
import { FUA } from './io.js';
import { attachWriteCacheModel } from './write-cache.js';
import { tempZoned } from './zoned/fixtures.js';

const W = IoOpc.WRITE;
const R = IoOpc.READ;
/** PRACT (cdw12 bit 29) with no PRCHK: the controller inserts and strips the tuple. */
const PRACT = 1 << 29;

function now(c: ReturnType<TempNs['ns']['execute']>, what: string): Completion {
  assert.ok(!(c instanceof Promise), `${what}: completed through a promise`);
  return c;
}

async function later(c: ReturnType<TempNs['ns']['execute']>, what: string): Promise<Completion> {
  assert.ok(c instanceof Promise, `${what}: completed at once`);
  return c;
}

function cmd(t: TempNs, init: CmdInit, data?: Uint8Array): ReturnType<TempNs['ns']['execute']> {
  return t.ns.execute(ctxOf(init, data));
}

async function each(
  makes: readonly [string, () => Promise<TempNs>][],
  fn: (t: TempNs, what: string) => Promise<void> | void,
): Promise<void> {
  for (const [what, make] of makes) {
    const t = await make();
    try {
      await fn(t, what);
    } finally {
      await t.cleanup();
    }
  }
}

const KINDS: readonly [string, () => Promise<TempNs>][] = [
  ['plain', () => tempNamespace(MIB)],
  ['separate metadata', () => tempNamespace(MIB, { ms: 8 })],
  ['extended LBAs', () => tempNamespace(MIB, { ms: 16, mset: 1 })],
  ['protection information', () => tempNamespace(MIB, { ms: 8, pi: 1 })],
  ['zoned', () => tempZoned()],
];

describe('execute() completes at once when nothing has to wait', () => {
  it('Read and Write of every namespace kind, data round trip', async () => {
    await each(KINDS, (t, what) => {
      const lba = t.ns.lbaSize;
      const nlb = 4;
      const extended = t.ns.geometry.extended ? t.ns.geometry.ms : 0;
      const pi = t.ns.protection !== undefined;
      const flags = pi ? PRACT : 0;
      const data = pattern(nlb * (lba + (pi ? 0 : extended)), 5);
      const meta =
        t.ns.geometry.ms > 0 && !t.ns.geometry.extended && !pi
          ? pattern(nlb * t.ns.geometry.ms, 6)
          : undefined;
      const w = now(
        t.ns.execute(ctxOf({ opcode: W, ...rw(0, nlb, flags) }, data, meta)),
        `${what} write`,
      );
      assert.equal(w.status, 0, what);
      const back = new Uint8Array(data.length);
      const r = now(
        t.ns.execute(
          ctxOf({ opcode: R, ...rw(0, nlb, flags) }, back, meta && new Uint8Array(meta.length)),
        ),
        `${what} read`,
      );
      assert.equal(r.status, 0, what);
      assert.deepEqual(back, data, what);
    });
  });

  it('Compare, Verify, Write Zeroes, DSM and rejected commands', async () => {
    await withPlain((t) => {
      const data = pattern(8 * 512, 1);
      assert.equal(now(cmd(t, { opcode: W, ...rw(0, 8) }, data), 'write').status, 0);
      assert.equal(now(cmd(t, { opcode: IoOpc.COMPARE, ...rw(0, 8) }, data), 'compare').status, 0);
      assert.equal(now(cmd(t, { opcode: IoOpc.VERIFY, ...rw(0, 8) }), 'verify').status, 0);
      assert.equal(now(cmd(t, { opcode: IoOpc.WRITE_ZEROES, ...rw(0, 2) }), 'zeroes').status, 0);
      const range = new Uint8Array(16);
      writeU32le(range, 4, 2);
      writeU64le(range, 8, 4n);
      const dsm = cmd(t, { opcode: IoOpc.DSM, cdw10: 0, cdw11: 1 << 2 }, range);
      assert.equal(now(dsm, 'deallocate').status, 0);
      assert.deepEqual(now(cmd(t, { opcode: R, ...rw(1 << 20, 1) }), 'out of range'), {
        status: withDnr(Status.LBA_RANGE),
        field: 'slba',
      });
      assert.equal(
        now(cmd(t, { opcode: 0x7e }), 'unknown opcode').status,
        withDnr(Status.INVALID_OPCODE),
      );
    });
  });

  it('with the write cache model watching (power cuts)', async () => {
    await withPlain((t) => {
      attachWriteCacheModel(t.ns.ioCore().store);
      const w = now(cmd(t, { opcode: W, ...rw(0, 8) }, pattern(4096, 2)), 'write');
      assert.equal(w.status, 0);
    });
  });

  it('fills a host buffer held in memory in place (no copy through toHost)', async () => {
    await withPlain((t) => {
      const data = pattern(4096, 7);
      now(cmd(t, { opcode: W, ...rw(0, 8) }, data), 'write');
      const host = new Uint8Array(4096);
      let copies = 0;
      const base = bufferData(host);
      const c = t.ns.execute({
        ...ctxOf({ opcode: R, ...rw(0, 8) }),
        data: {
          length: base.length,
          fromHost: (o, l) => base.fromHost(o, l),
          toHost: (o, d) => (copies++, base.toHost(o, d)),
          window: (o, l) => base.window?.(o, l),
        },
      });
      assert.equal(now(c, 'read').status, 0);
      assert.equal(copies, 0);
      assert.deepEqual(host, data);
    });
  });
});

describe('execute() returns a promise exactly where the command must wait', () => {
  it('FUA, write through and Flush wait for the medium', async () => {
    await withPlain(async (t) => {
      const data = pattern(512, 3);
      assert.equal((await later(cmd(t, { opcode: W, ...rw(0, 1, FUA) }, data), 'FUA')).status, 0);
      await t.ns.setWriteCache(false);
      assert.equal(
        (await later(cmd(t, { opcode: W, ...rw(0, 1) }, data), 'write through')).status,
        0,
      );
      assert.equal((await later(cmd(t, { opcode: IoOpc.FLUSH, nsid: 1 }), 'flush')).status, 0);
    });
  });

  it('aio=threads drives answer through the thread pool', async () => {
    const t = await tempNamespace(MIB, {}, {}, 'threads');
    try {
      const data = pattern(4096, 4);
      assert.equal((await later(cmd(t, { opcode: W, ...rw(0, 8) }, data), 'write')).status, 0);
      const back = new Uint8Array(4096);
      assert.equal((await later(cmd(t, { opcode: R, ...rw(0, 8) }, back), 'read')).status, 0);
      assert.deepEqual(back, data);
    } finally {
      await t.cleanup();
    }
  });
});

async function withPlain(fn: (t: TempNs) => Promise<void> | void): Promise<void> {
  const t = await tempNamespace(MIB);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}
