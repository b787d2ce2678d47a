// Namespace.executeNow, the synchronous Read and Write of the NVMe/TCP fast path: wherever it answers, it
// must answer exactly as execute() does — status, data, SMART counters, error reports — and
// wherever anything could have to wait it must decline (undefined) without doing anything.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeU32le, writeU64le } from '../../util/bytes.js';
import type { CmdInit } from '../spec/command.js';
import { IoOpc } from '../spec/opcodes.js';
import { statusName } from '../spec/status.js';
import type { CommandContext, HostData } from '../spec/transfer.js';
import { bufferData } from '../spec/transfer.js';
import { ctxOf, fakeCtrl, MIB, pattern, rw, tempNamespace } from './fixtures.js';
import type { FakeCtrl, TempNs } from './fixtures.js';
import { ERR_REC_DULBE } from './namespace.js';
import { FUA } from './io.js';
import { CHUNK_BYTES } from './store.js';
import { attachWriteCacheModel } from './write-cache.js';
import { tempZoned } from './zoned/fixtures.js';

/** NSZE of the 1 MiB, 512 B-block namespaces below. */
const NSZE = 2048;

/** A host buffer the executor may fill in place, as the NVMe/TCP target's C2HData buffer. */
function directData(buf: Uint8Array): HostData {
  return { ...bufferData(buf), direct: buf };
}

const read = (slba: number, nlb: number, over: Partial<CmdInit> = {}): CmdInit => ({
  opcode: IoOpc.READ,
  ...rw(slba, nlb),
  ...over,
});

function ctxWith(init: CmdInit, data: HostData, ctrl = fakeCtrl()): CommandContext {
  return { ...ctxOf(init, undefined, undefined, ctrl), data };
}

/**
 * Runs `init` through execute() and executeNow() on the same namespace and state; both must
 * end identically. Returns the status name.
 */
async function samePath(t: TempNs, init: CmdInit, mdtsBytes = 4096 << 7): Promise<string> {
  const nlb = (((init.cdw12 ?? 0) & 0xffff) >>> 0) + 1;
  const slow = { buf: new Uint8Array(nlb * 512).fill(0xcc), ctrl: fakeCtrl({ mdtsBytes }) };
  const fast = { buf: new Uint8Array(nlb * 512).fill(0xcc), ctrl: fakeCtrl({ mdtsBytes }) };
  const s0 = t.ns.smart();
  const c1 = await t.ns.execute(ctxWith(init, bufferData(slow.buf), slow.ctrl));
  const s1 = t.ns.smart();
  const c2 = t.ns.executeNow(ctxWith(init, directData(fast.buf), fast.ctrl));
  const s2 = t.ns.smart();
  assert.ok(c2 !== undefined, 'the fast path declined a command it can run');
  assert.deepEqual(c2, c1);
  if (c1.status === 0) assert.deepEqual(fast.buf, slow.buf);
  assert.deepEqual(fast.ctrl.errors, slow.ctrl.errors);
  assert.equal(s2.readCommands - s1.readCommands, s1.readCommands - s0.readCommands);
  assert.equal(s2.bytesRead - s1.bytesRead, s1.bytesRead - s0.bytesRead);
  return statusName(c1.status);
}

async function withNs(fn: (t: TempNs) => Promise<void> | void, over = {}): Promise<void> {
  const t = await tempNamespace(MIB, over);
  try {
    await fn(t);
  } finally {
    await t.cleanup();
  }
}

async function write(t: TempNs, slba: number, data: Uint8Array): Promise<void> {
  const init = { opcode: IoOpc.WRITE, ...rw(slba, data.length / 512) };
  const c = await t.ns.execute(ctxOf(init, data));
  assert.equal(c.status, 0);
}

/** DSM Deallocate of [slba, slba + nlb): the image keeps its bytes, the namespace reads zeros. */
async function deallocate(t: TempNs, slba: number, nlb: number): Promise<void> {
  const range = new Uint8Array(16);
  writeU32le(range, 4, nlb);
  writeU64le(range, 8, BigInt(slba));
  const dsm = { opcode: IoOpc.DSM, cdw10: 0, cdw11: 1 << 2 };
  assert.equal((await t.ns.execute(ctxOf(dsm, range))).status, 0);
}

describe('Namespace.executeNow (synchronous Read and Write)', () => {
  it('answers like execute() for every outcome of a Read', async () => {
    await withNs(async (t) => {
      await write(t, 0, pattern(64 * 512, 1));
      // Blocks 8..15 deallocated by DSM (the image keeps their bytes: only the namespace knows
      // they read as zeros), 32..33 uncorrectable, 40 a media fault.
      await deallocate(t, 8, 8);
      t.ns.injectUncorrectable(32, 2);
      t.ns.mediaFaults.inject('read', 40, 41);
      const cases: [CmdInit, string, number?][] = [
        [read(0, 8), 'SUCCESS'],
        [read(4, 8), 'SUCCESS'], // half deallocated: those blocks read as zeros
        [read(30, 4), 'UNRECOVERED_READ'],
        [read(38, 4), 'UNRECOVERED_READ'],
        [read(NSZE - 1, 1), 'SUCCESS'],
        [read(NSZE - 1, 2), 'LBA_RANGE'],
        [read(2 ** 40, 1), 'LBA_RANGE'],
        [read(0, 16), 'INVALID_FIELD', 4096], // beyond MDTS
      ];
      for (const [init, want, mdts] of cases) {
        assert.equal(
          (await samePath(t, init, mdts)).replace(/[ +].*/, ''),
          want,
          JSON.stringify(init),
        );
      }
      // DULBE on: the deallocated range now fails the same way on both paths.
      t.ns.errorRecovery |= ERR_REC_DULBE;
      assert.equal(await samePath(t, read(4, 8)), 'DULB+DNR');
    });
  });

  it('writes like execute() — image, deallocated and uncorrectable blocks, counters, status', async () => {
    interface Case {
      readonly what: string;
      readonly init: CmdInit;
      readonly want: string;
      readonly arrange?: (t: TempNs) => void;
      readonly mdts?: number;
    }
    const w = (slba: number, nlb: number): CmdInit => ({ opcode: IoOpc.WRITE, ...rw(slba, nlb) });
    const cases: Case[] = [
      { what: 'plain', init: w(16, 8), want: 'SUCCESS' },
      { what: 'over deallocated and uncorrectable blocks', init: w(6, 8), want: 'SUCCESS' },
      { what: 'at the end', init: w(NSZE - 2, 2), want: 'SUCCESS' },
      { what: 'beyond NSZE', init: w(NSZE - 1, 2), want: 'LBA_RANGE+DNR' },
      { what: 'beyond MDTS', init: w(0, 16), want: 'INVALID_FIELD+DNR', mdts: 4096 },
      {
        what: 'onto an injected media fault',
        init: w(40, 4),
        want: 'WRITE_FAULT',
        arrange: (t) => t.ns.mediaFaults.inject('write', 42, 43),
      },
    ];
    for (const { what, init, want, arrange, mdts } of cases) {
      const slow = await tempNamespace(MIB);
      const fast = await tempNamespace(MIB);
      try {
        for (const t of [slow, fast]) {
          await write(t, 0, pattern(64 * 512, 3));
          await deallocate(t, 4, 4);
          t.ns.injectUncorrectable(10, 2);
          arrange?.(t);
        }
        const nlb = ((init.cdw12 ?? 0) & 0xffff) + 1;
        const data = pattern(nlb * 512, 9);
        const mk = (): FakeCtrl => fakeCtrl({ mdtsBytes: mdts ?? 4096 << 7 });
        const ctrl = { slow: mk(), fast: mk() };
        const c1 = await slow.ns.execute(ctxWith(init, bufferData(data), ctrl.slow));
        const c2 = fast.ns.executeNow(ctxWith(init, directData(data), ctrl.fast));
        assert.ok(c2 !== undefined, `${what}: declined`);
        assert.deepEqual(c2, c1, what);
        assert.equal(statusName(c1.status), want, what);
        assert.deepEqual(ctrl.fast.errors, ctrl.slow.errors, what);
        assert.deepEqual(fast.ns.smart(), slow.ns.smart(), what);
        assert.deepEqual(fast.ns.deallocatedRanges(), slow.ns.deallocatedRanges(), what);
        assert.deepEqual(fast.ns.uncorrectableRanges(), slow.ns.uncorrectableRanges(), what);
        assert.deepEqual(readFileSync(fast.drive.path), readFileSync(slow.drive.path), what);
      } finally {
        await slow.cleanup();
        await fast.cleanup();
      }
    }
  });

  it('declines, doing nothing, whatever might have to wait or does not fit', async () => {
    await withNs((t) => {
      const buf = new Uint8Array(4096);
      const declines: [string, CommandContext][] = [
        ['a Compare', ctxWith({ opcode: IoOpc.COMPARE, ...rw(0, 8) }, directData(buf))],
        ['a FUA Write', ctxWith({ opcode: IoOpc.WRITE, ...rw(0, 8, FUA) }, directData(buf))],
        ['no direct buffer', ctxWith(read(0, 8), bufferData(buf))],
        ['a buffer longer than the transfer', ctxWith(read(0, 4), directData(buf))],
        ['a fused command', ctxWith(read(0, 8, { fuse: 1 }), directData(buf))],
        ['CC.CSS admin only', ctxWith(read(0, 8), directData(buf), fakeCtrl({ css: 7 }))],
      ];
      for (const [what, ctx] of declines) {
        const before = t.ns.smart();
        assert.equal(t.ns.executeNow(ctx), undefined, what);
        assert.deepEqual(t.ns.smart(), before, what);
      }
    });
    await withNs(async (t) => {
      const big = new Uint8Array(CHUNK_BYTES + 512);
      const ctx = ctxWith({ opcode: IoOpc.WRITE, ...rw(0, big.length / 512) }, directData(big));
      assert.equal(t.ns.executeNow(ctx), undefined, 'a Write of more than one store step');
      await t.ns.setWriteCache(false);
      const wt = ctxWith({ opcode: IoOpc.WRITE, ...rw(0, 1) }, directData(new Uint8Array(512)));
      assert.equal(t.ns.executeNow(wt), undefined, 'write cache off (write-through)');
      await t.ns.setWriteCache(true);
      attachWriteCacheModel(t.ns.ioCore().store);
      assert.equal(t.ns.executeNow(wt), undefined, 'the write cache model of power cuts');
      const r = ctxWith(read(0, 1), directData(new Uint8Array(512)));
      assert.equal(t.ns.executeNow(r)?.status, 0, 'reads need no journal');
    });
    const ineligible: [string, () => Promise<TempNs>][] = [
      ['metadata', () => tempNamespace(MIB, { ms: 8 })],
      ['protection information', () => tempNamespace(MIB, { ms: 8, pi: 1 })],
      ['a zoned namespace', () => tempZoned()],
      ['aio=threads', () => tempNamespace(MIB, {}, {}, 'threads')],
    ];
    for (const [what, make] of ineligible) {
      const t = await make();
      try {
        const ctx = ctxWith(read(0, 1), directData(new Uint8Array(t.ns.lbaSize)));
        assert.equal(t.ns.executeNow(ctx), undefined, what);
        // …and the ordinary path still serves it.
        assert.equal((await t.ns.execute(ctx)).status, 0, what);
      } finally {
        await t.cleanup();
      }
    }
  });

  it('declines while a format runs and once the namespace is closed', async () => {
    await withNs(async (t) => {
      const ctx = ctxWith(read(0, 1), directData(new Uint8Array(512)));
      const formatting = t.ns.format(0, 0, 0, 0, 0);
      assert.equal(t.ns.executeNow(ctx), undefined);
      assert.equal((await formatting).status, 0);
      assert.equal(t.ns.executeNow(ctx)?.status, 0);
      await t.ns.close();
      assert.equal(t.ns.executeNow(ctx), undefined);
    });
  });
});
