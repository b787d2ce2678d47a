// Property: random Write / Write Zeroes (with and without DEAC) / Dataset Management / Read
// sequences against a byte model of the namespace as the host sees it (data + metadata per
// block). After every command the whole namespace reads back exactly as the model, so no
// command ever changes a block outside its addressed range, and out-of-range commands change
// nothing.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import { writeU32le, writeU64le } from '../src/util/bytes.js';
import { ctxOf, rw, tempNamespace, type TempNs } from '../src/nvme/ns/fixtures.js';
import type { NvmeNsConfig } from '../src/nvme/ns/config.js';
import { ERR_REC_DULBE } from '../src/nvme/ns/namespace.js';

const IMAGE = 64 * 1024;

type Op =
  | { kind: 'write'; slba: number; nlb: number; seed: number }
  | { kind: 'zeroes'; slba: number; nlb: number; deac: boolean }
  | { kind: 'dsm'; ranges: [number, number][] }
  | { kind: 'read'; slba: number; nlb: number };

/** LBAs up to a bit beyond NSZE so that out-of-range commands occur too. */
function opArb(nsze: number): fc.Arbitrary<Op> {
  const slba = fc.nat(nsze + 4);
  const nlb = fc.integer({ min: 1, max: 24 });
  return fc.oneof(
    fc.record({ kind: fc.constant('write' as const), slba, nlb, seed: fc.nat(255) }),
    fc.record({ kind: fc.constant('zeroes' as const), slba, nlb, deac: fc.boolean() }),
    fc.record({
      kind: fc.constant('dsm' as const),
      ranges: fc.array(fc.tuple(slba, fc.nat(24)), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('read' as const), slba, nlb }),
  );
}

interface Layout {
  readonly name: string;
  readonly over: Partial<NvmeNsConfig>;
}

const LAYOUTS: readonly Layout[] = [
  { name: '512 B blocks', over: {} },
  { name: '512+8 B blocks with separate metadata', over: { ms: 8 } },
  { name: '512+8 B extended blocks', over: { ms: 8, mset: 1 } },
  { name: '4 KiB blocks', over: { lbaSize: 4096, physicalBlockSize: 4096 } },
];

/** The namespace as the host reads it: [data | meta] per block, both in one host buffer. */
async function readAll(
  t: TempNs,
  slba: number,
  nlb: number,
): Promise<{ status: number; bytes: Uint8Array }> {
  const g = t.ns.geometry;
  const stride = g.lbaSize + g.ms;
  const data = new Uint8Array(nlb * (g.extended ? stride : g.lbaSize));
  const meta = new Uint8Array(nlb * g.ms);
  const c = await t.ns.execute(ctxOf({ opcode: IoOpc.READ, ...rw(slba, nlb) }, data, meta));
  if (g.extended || g.ms === 0) return { status: c.status, bytes: data };
  const bytes = new Uint8Array(nlb * stride);
  for (let i = 0; i < nlb; i++) {
    bytes.set(data.subarray(i * g.lbaSize, (i + 1) * g.lbaSize), i * stride);
    bytes.set(meta.subarray(i * g.ms, (i + 1) * g.ms), i * stride + g.lbaSize);
  }
  return { status: c.status, bytes };
}

async function apply(t: TempNs, model: Uint8Array, op: Op): Promise<void> {
  const g = t.ns.geometry;
  const stride = g.lbaSize + g.ms;
  const inRange = (slba: number, nlb: number) => slba + nlb <= g.nsze;
  switch (op.kind) {
    case 'write': {
      const host = new Uint8Array(op.nlb * stride);
      for (let i = 0; i < host.length; i++) host[i] = ((i * 7 + op.seed) % 251) + 1;
      let data = host;
      let meta: Uint8Array | undefined;
      if (!g.extended && g.ms > 0) {
        data = new Uint8Array(op.nlb * g.lbaSize);
        meta = new Uint8Array(op.nlb * g.ms);
        for (let i = 0; i < op.nlb; i++) {
          data.set(host.subarray(i * stride, i * stride + g.lbaSize), i * g.lbaSize);
          meta.set(host.subarray(i * stride + g.lbaSize, (i + 1) * stride), i * g.ms);
        }
      }
      const c = await t.ns.execute(
        ctxOf({ opcode: IoOpc.WRITE, ...rw(op.slba, op.nlb) }, data, meta),
      );
      if (inRange(op.slba, op.nlb)) {
        assert.equal(c.status, Status.SUCCESS);
        model.set(host, op.slba * stride);
      } else {
        assert.equal(c.status, withDnr(Status.LBA_RANGE));
      }
      return;
    }
    case 'zeroes': {
      const flags = op.deac ? 1 << 25 : 0;
      const c = await t.ns.execute(
        ctxOf({ opcode: IoOpc.WRITE_ZEROES, ...rw(op.slba, op.nlb, flags) }),
      );
      if (inRange(op.slba, op.nlb)) {
        assert.equal(c.status, Status.SUCCESS);
        model.fill(0, op.slba * stride, (op.slba + op.nlb) * stride);
      } else {
        assert.equal(c.status, withDnr(Status.LBA_RANGE));
      }
      return;
    }
    case 'dsm': {
      const buf = new Uint8Array(op.ranges.length * 16);
      op.ranges.forEach(([slba, nlb], i) => {
        writeU32le(buf, i * 16 + 4, nlb);
        writeU64le(buf, i * 16 + 8, BigInt(slba));
      });
      const cdw10 = op.ranges.length - 1;
      const c = await t.ns.execute(ctxOf({ opcode: IoOpc.DSM, cdw10, cdw11: 1 << 2 }, buf));
      assert.equal(c.status, Status.SUCCESS);
      for (const [slba, nlb] of op.ranges) {
        if (inRange(slba, nlb)) model.fill(0, slba * stride, (slba + nlb) * stride);
      }
      return;
    }
    case 'read': {
      const r = await readAll(t, op.slba, op.nlb);
      if (inRange(op.slba, op.nlb)) {
        assert.equal(r.status, Status.SUCCESS);
        assert.deepEqual(r.bytes, model.subarray(op.slba * stride, (op.slba + op.nlb) * stride));
      } else {
        assert.equal(r.status, withDnr(Status.LBA_RANGE));
      }
      return;
    }
  }
}

describe('namespace data path against a model', () => {
  for (const layout of LAYOUTS) {
    it(`keeps every block equal to the model for ${layout.name}`, async () => {
      const t = await tempNamespace(IMAGE, layout.over);
      try {
        const nsze = t.ns.geometry.nsze;
        const stride = t.ns.geometry.lbaSize + t.ns.geometry.ms;
        await fc.assert(
          fc.asyncProperty(fc.array(opArb(nsze), { minLength: 1, maxLength: 12 }), async (ops) => {
            // Each run starts from a zeroed namespace (Format to the same format).
            const g = t.ns.geometry;
            const f = await t.ns.format(g.lbafIndex, 0, 0, 0, g.extended ? 1 : 0);
            assert.equal(f.status, Status.SUCCESS);
            const model = new Uint8Array(nsze * stride);
            for (const op of ops) {
              await apply(t, model, op);
              const all = await readAll(t, 0, nsze);
              assert.equal(all.status, Status.SUCCESS);
              assert.deepEqual(all.bytes, model, `after ${JSON.stringify(op)}`);
            }
          }),
          { numRuns: 40 },
        );
      } finally {
        await t.cleanup();
      }
    });
  }

  it('reports 0x287+DNR under DULBE exactly for reads that touch deallocated blocks', async () => {
    const t = await tempNamespace(IMAGE);
    try {
      const nsze = t.ns.geometry.nsze;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(nsze - 1), fc.integer({ min: 1, max: 16 })), { maxLength: 4 }),
          fc.nat(nsze - 1),
          fc.integer({ min: 1, max: 16 }),
          async (deallocs, slba, nlb) => {
            assert.equal((await t.ns.format(0, 0, 0, 0, 0)).status, Status.SUCCESS);
            t.ns.errorRecovery = ERR_REC_DULBE;
            const gone = new Set<number>();
            for (const [s, n] of deallocs) {
              const c = await t.ns.execute(
                ctxOf({ opcode: IoOpc.WRITE_ZEROES, ...rw(s, Math.min(n, nsze - s), 1 << 25) }),
              );
              assert.equal(c.status, Status.SUCCESS);
              for (let i = s; i < Math.min(s + n, nsze); i++) gone.add(i);
            }
            const n = Math.min(nlb, nsze - slba);
            const c = await t.ns.execute(
              ctxOf({ opcode: IoOpc.READ, ...rw(slba, n) }, new Uint8Array(n * 512)),
            );
            let touches = false;
            for (let i = slba; i < slba + n; i++) touches ||= gone.has(i);
            assert.equal(c.status, touches ? withDnr(Status.DULB) : Status.SUCCESS);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await t.cleanup();
    }
  });
});
