// Simple Copy with protection information and across namespaces (reference qemu-nvme.md §7):
// PRINFOR checks of the source with each range's tags, PRINFOW generation or checks at the
// destination, descriptor formats 2/3 naming a source namespace, and the pair rules.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { statusName } from '../src/nvme/spec/status.js';
import {
  ctxOf,
  fakeCtrl,
  pattern,
  rw,
  tempNamespace,
  MIB,
  type TempNs,
} from '../src/nvme/ns/fixtures.js';
import type { NvmeNsConfig } from '../src/nvme/ns/config.js';
import { writeU16le, writeU32le, writeU64le } from '../src/util/bytes.js';

const PRACT = 0x8;
const GUARD = 0x4;
const REF = 0x1;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

/** Format 0/2 entries (32 bytes): SNSID, SLBA, NLB (1's based here), EILBRT, ELBAT, ELBATM. */
function entries(
  list: {
    snsid?: number;
    slba: number;
    nlb: number;
    reftag?: number;
    apptag?: number;
    mask?: number;
  }[],
): Uint8Array {
  const b = new Uint8Array(32 * list.length);
  list.forEach((r, i) => {
    writeU32le(b, 32 * i, r.snsid ?? 0);
    writeU64le(b, 32 * i + 8, BigInt(r.slba));
    writeU16le(b, 32 * i + 16, r.nlb - 1);
    writeU32le(b, 32 * i + 24, r.reftag ?? 0);
    writeU16le(b, 32 * i + 28, r.apptag ?? 0);
    writeU16le(b, 32 * i + 30, r.mask ?? 0);
  });
  return b;
}

async function pair(
  a: Partial<NvmeNsConfig>,
  b: Partial<NvmeNsConfig>,
  fn: (x: TempNs, y: TempNs) => Promise<void>,
): Promise<void> {
  const x = await tempNamespace(MIB, { nsid: 1, ...a });
  const y = await tempNamespace(MIB, { nsid: 2, ...b });
  try {
    await fn(x, y);
  } finally {
    await x.cleanup();
    await y.cleanup();
  }
}

function copyCmd(
  t: TempNs,
  peer: TempNs,
  o: {
    sdlba: number;
    format: number;
    nr: number;
    prinfor?: number;
    prinfow?: number;
    cdw14?: number;
    cdw15?: number;
  },
  list: Uint8Array,
) {
  const ctrl = fakeCtrl({
    namespace: (n) => (n === peer.ns.nsid ? peer.ns : n === t.ns.nsid ? t.ns : undefined),
  });
  return t.ns.execute(
    ctxOf(
      {
        opcode: IoOpc.COPY,
        nsid: t.ns.nsid,
        cdw10: o.sdlba,
        cdw12: (o.nr - 1) | (o.format << 8) | ((o.prinfor ?? 0) << 12) | ((o.prinfow ?? 0) << 26),
        cdw14: o.cdw14 ?? 0,
        cdw15: o.cdw15 ?? 0,
      },
      list,
      undefined,
      ctrl,
    ),
  );
}

describe('Copy with protection information', () => {
  it('copies within a PI namespace, checking the source with the range tags and regenerating with PRACT', async () => {
    await pair({ ms: 8, pi: 1 }, {}, async (a, b) => {
      const w = await a.ns.execute(
        ctxOf(
          { opcode: IoOpc.WRITE, ...rw(0, 2, PRACT << 26), cdw14: 0, cdw15: 0x11 },
          pattern(1024, 1),
        ),
      );
      assert.equal(w.status, 0);
      const ok = await copyCmd(
        a,
        b,
        {
          sdlba: 40,
          format: 0,
          nr: 1,
          prinfor: GUARD | REF,
          prinfow: PRACT,
          cdw14: 40,
          cdw15: 0x22,
        },
        entries([{ slba: 0, nlb: 2, reftag: 0, apptag: 0x11, mask: 0xffff }]),
      );
      assert.equal(statusName(ok.status), 'SUCCESS');
      const meta = new Uint8Array(16);
      const back = new Uint8Array(1024);
      const r = await a.ns.execute(
        ctxOf({ opcode: IoOpc.READ, ...rw(40, 2, (GUARD | REF) << 26), cdw14: 40 }, back, meta),
      );
      assert.equal(r.status, 0);
      assert.deepEqual(back, pattern(1024, 1));
      assert.equal(hex(meta.subarray(2, 8)), '002200000028');
      assert.equal(hex(meta.subarray(10, 16)), '002200000029');
      // A wrong expected reference tag for the source range is a reference tag error (type 1
      // command rule: EILBRT must equal the range's SLBA) in range 0.
      const bad = await copyCmd(
        a,
        b,
        { sdlba: 80, format: 0, nr: 1, prinfor: REF, prinfow: PRACT, cdw14: 80 },
        entries([{ slba: 0, nlb: 2, reftag: 5 }]),
      );
      assert.deepEqual([statusName(bad.status), bad.dw0], ['INVALID_PROT_INFO+DNR', 0]);
      // Destination type 1 rule: cdw14 must equal SDLBA.
      const dst = await copyCmd(
        a,
        b,
        { sdlba: 80, format: 0, nr: 1, prinfow: PRACT | REF, cdw14: 81 },
        entries([{ slba: 0, nlb: 2 }]),
      );
      assert.equal(statusName(dst.status), 'INVALID_PROT_INFO+DNR');
    });
  });

  it('format 2 copies from a metadata-less namespace into a PI namespace with PRACT, and refuses without it', async () => {
    await pair({ ms: 8, pi: 1 }, {}, async (a, b) => {
      assert.equal(
        (await b.ns.execute(ctxOf({ opcode: IoOpc.WRITE, nsid: 2, ...rw(3, 1) }, pattern(512, 7))))
          .status,
        0,
      );
      const ok = await copyCmd(
        a,
        b,
        { sdlba: 9, format: 2, nr: 1, prinfow: PRACT, cdw14: 9 },
        entries([{ snsid: 2, slba: 3, nlb: 1 }]),
      );
      assert.equal(statusName(ok.status), 'SUCCESS');
      const meta = new Uint8Array(8);
      const back = new Uint8Array(512);
      assert.equal(
        (
          await a.ns.execute(
            ctxOf({ opcode: IoOpc.READ, ...rw(9, 1, (GUARD | REF) << 26), cdw14: 9 }, back, meta),
          )
        ).status,
        0,
      );
      assert.deepEqual(back, pattern(512, 7));
      const noPract = await copyCmd(
        a,
        b,
        { sdlba: 9, format: 2, nr: 1 },
        entries([{ snsid: 2, slba: 3, nlb: 1 }]),
      );
      assert.equal(statusName(noPract.status), 'INCOMPATIBLE_NS_OR_FORMAT+DNR');
    });
  });

  it('format 2 rules: invalid SNSID, unattached source, different LBA sizes, overlapping same-namespace ranges', async () => {
    await pair({}, { lbaSize: 4096 }, async (a, b) => {
      const cases: [Uint8Array, number, string][] = [
        [entries([{ snsid: 0xffffffff, slba: 0, nlb: 1 }]), 0, 'INVALID_NSID+DNR'],
        [entries([{ snsid: 7, slba: 0, nlb: 1 }]), 0, 'INVALID_FIELD+DNR'],
        [entries([{ snsid: 2, slba: 0, nlb: 1 }]), 0, 'INCOMPATIBLE_NS_OR_FORMAT+DNR'],
        [entries([{ snsid: 1, slba: 10, nlb: 4 }]), 12, 'OVERLAPPING_IO_RANGE+DNR'],
        [entries([{ snsid: 1, slba: 10, nlb: 4 }]), 14, 'SUCCESS'],
      ];
      for (const [list, sdlba, want] of cases) {
        const c = await copyCmd(a, b, { sdlba, format: 2, nr: 1 }, list);
        assert.equal(statusName(c.status), want);
      }
    });
  });
});
