// FUA is one behaviour on every kind of namespace (issue 16; NVM Command Set 1.0 §3.2.6): a write
// with FUA — a Write on a plain, a protection-information or a zoned namespace, a Copy into a
// destination — makes exactly its own blocks durable. A power cut right after it keeps those
// blocks and loses every cached write around them (before the one path, PI writes and Copy
// flushed everything, so the cached writes before them survived a cut).

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { powerCutMachine, trackWrites } from '../src/faults/power-cut.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { encodeCopyRanges } from '../src/cli/nvme/copy.js';
import type { Host } from '../src/nvme/pci/local-host.js';
import { BLOCK, flush, hostOf, nvmeMachine, pattern, read, tempDir } from './faults-harness.js';

const FUA = 1 << 30;
const PRACT = 1 << 29;

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

interface Kind {
  readonly what: string;
  /** nvme-ns properties. */
  readonly ns: string;
  /** Blocks written without FUA before and after the FUA operation (the cut loses them). */
  readonly cachedBefore: number;
  readonly cachedAfter: number;
  /** Made durable before the cached writes (a Copy's source). */
  setup?(h: Host, data: Uint8Array): Promise<void>;
  /** The FUA operation; returns the first of the two blocks it made durable. */
  fua(h: Host, data: Uint8Array): Promise<number>;
  /** Extra cdw12 bits of plain writes (PI: PRACT, so the controller makes the tuples). */
  readonly flags: number;
}

async function cmd(
  h: Host,
  opcode: number,
  lba: number,
  nlb: number,
  cdw12: number,
  data?: Uint8Array,
) {
  const c = await h.command(1, { opcode, nsid: 1, cdw10: lba, cdw12: (nlb - 1) | cdw12 }, data);
  assert.equal(c.status, 0, `opcode ${opcode} at ${lba}`);
}

const KINDS: readonly Kind[] = [
  {
    what: 'a Write on a plain namespace',
    ns: '',
    cachedBefore: 10,
    cachedAfter: 30,
    flags: 0,
    fua: async (h, data) => (await cmd(h, IoOpc.WRITE, 20, 2, FUA, data), 20),
  },
  {
    what: 'a Write on a namespace with protection information',
    ns: ',ms=8,pi=1',
    cachedBefore: 10,
    cachedAfter: 30,
    flags: PRACT,
    fua: async (h, data) => (await cmd(h, IoOpc.WRITE, 20, 2, FUA | PRACT, data), 20),
  },
  {
    // Zones of 128 blocks: the cached writes open zones 0 and 2, the FUA write zone 1.
    what: 'a Write on a zoned namespace',
    ns: ',zoned=on,zoned.zone_size=64K',
    cachedBefore: 0,
    cachedAfter: 256,
    flags: 0,
    fua: async (h, data) => (await cmd(h, IoOpc.WRITE, 128, 2, FUA, data), 128),
  },
  {
    what: 'a Copy into its destination',
    ns: '',
    cachedBefore: 10,
    cachedAfter: 30,
    flags: 0,
    // The source is made durable first; then only the copy's own blocks may become durable.
    setup: async (h, data) => {
      await cmd(h, IoOpc.WRITE, 100, 2, 0, data);
      assert.equal(await flush(h), 0);
    },
    fua: async (h) => {
      const ranges = encodeCopyRanges([{ slba: 100n, nlb: 1, eilbrt: 0n, elbat: 0, elbatm: 0 }], 0);
      const c = await h.command(1, { opcode: IoOpc.COPY, nsid: 1, cdw10: 20, cdw12: FUA }, ranges);
      assert.equal(c.status, 0, 'Copy');
      return 20;
    },
  },
];

describe('a FUA write makes exactly its own blocks durable', () => {
  for (const k of KINDS) {
    it(k.what, async () => {
      const t = tempDir('fua');
      dirs.push(t.cleanup);
      const m = await nvmeMachine(t.dir, { ns: k.ns });
      trackWrites(m);
      const h = await hostOf(m);
      const before = pattern(k.cachedBefore, 1);
      const durable = pattern(0, 2, 2);
      const later = pattern(k.cachedAfter, 3);
      await k.setup?.(h, durable);
      await cmd(h, IoOpc.WRITE, k.cachedBefore, 1, k.flags, before);
      const at = await k.fua(h, durable);
      await cmd(h, IoOpc.WRITE, k.cachedAfter, 1, k.flags, later);
      const { machine: m2, report } = await powerCutMachine(m, { mode: 'all' });
      const lost = report.namespaces[0]!.cut!.lost.map((w) => w.lba);
      assert.deepEqual(lost, [k.cachedBefore, k.cachedAfter], 'the cached writes are lost');
      const h2 = await hostOf(m2);
      assert.deepEqual((await read(h2, at, 2)).data, durable, 'the FUA blocks survive');
      const zero = new Uint8Array(BLOCK);
      assert.deepEqual((await read(h2, k.cachedBefore)).data, zero);
      assert.deepEqual((await read(h2, k.cachedAfter)).data, zero);
      await m2.shutdown();
    });
  }
});
