// The store explorer (docs/pmem2.md "Store explorer"): the three programs (correct, missing
// persist, early flag), a flag sharing the data's cache line, and a cross-media log (record on
// NVMe, pointer in pmem), each with its expected verdict under every persistence model; engines,
// markers, minimised counterexamples that blame a store with its stack, and reproduction of a
// counterexample from its trace alone.

import { describe, it, after } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Pmem2Map } from '../src/pmem2/map.js';
import {
  crashImage,
  exploreTrace,
  formatCounterexample,
  type PersistenceModel,
  type ReorderEngine,
} from '../src/pmem2/explore-stores.js';
import { exploreStores, traceStores } from '../src/pmem2/cross-media.js';
import { readU64le } from '../src/util/bytes.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { trackWrites } from '../src/faults/power-cut.js';
import { nvmeMachine, tempDir } from './faults-harness.js';
import {
  checkRecord,
  DATA,
  simMap,
  STORE_PROGRAMS,
  u64,
  type StoreProgram,
} from './support/pmem2-record.js';

/** Anonymous maps are BYTE (eADR) maps: the tests name the model they mean. */
const CL = { model: 'cacheline' } as const;

const PROGRAMS: Record<string, StoreProgram> = STORE_PROGRAMS;

/** Expected verdicts: true = consistent. */
const EXPECTED: Record<string, Record<PersistenceModel, boolean>> = {
  correct: { cacheline: true, word8: true, eadr: true },
  'missing persist': { cacheline: false, word8: false, eadr: true },
  'early flag': { cacheline: false, word8: false, eadr: false },
  'same line': { cacheline: true, word8: false, eadr: true },
};

describe('store explorer: verdicts per model', () => {
  for (const [name, p] of Object.entries(PROGRAMS)) {
    for (const model of ['cacheline', 'word8', 'eadr'] as const) {
      it(`${name} under ${model}: ${EXPECTED[name]![model] ? 'consistent' : 'inconsistent'}`, async () => {
        const m = simMap();
        const r = await exploreStores(m, p.run, p.check, { model });
        m.delete();
        assert.equal(
          r.ok,
          EXPECTED[name]![model],
          r.failure ? formatCounterexample(r.failure) : 'no failure',
        );
        if (r.ok) assert.equal(r.coverage, 1, 'short windows are explored exhaustively');
      });
    }
  }
});

describe('store explorer: counterexamples', () => {
  it('early flag: the store that set the flag too early is blamed, with its stack', async () => {
    const m = simMap();
    const r = await exploreStores(m, PROGRAMS['early flag']!.run, checkRecord, CL);
    m.delete();
    const cx = r.failure!;
    assert.equal(cx.culpritRole, 'reached media too early');
    assert.equal(cx.culprit?.event, 1);
    assert.equal(cx.culprit?.offset, 0);
    // The stack names the program's own store (the programs live in tests/support).
    assert.match(cx.culprit?.stack ?? '', /support\/pmem2-record\.js/);
    assert.equal(cx.instant, 1, 'the crash right after the flag was set: its line was evicted');
    assert.match(formatCounterexample(cx), /blame: #1 memcpy \[0, 8\) reached media too early/);
  });

  it('missing persist: the flag that reached media first, or the record never made durable, is blamed', async () => {
    const m = simMap();
    const trace = await traceStores(m, PROGRAMS['missing persist']!.run);
    m.delete();
    const r = exploreTrace(trace, checkRecord, CL);
    assert.equal(r.failure?.culpritRole, 'reached media too early');
    assert.equal(r.failure?.culprit?.offset, 0);
    assert.deepEqual(r.failure?.kept, ['#2 memcpy [0, 8)']);
    // Accumulative (stores in program order) cannot put the flag before the record: its first
    // failure is after the flag's persist, where the record store was never made durable.
    const late = exploreTrace(trace, checkRecord, { ...CL, engine: 'accumulative' });
    assert.equal(late.failure?.culpritRole, 'never made durable');
    assert.equal(late.failure?.culprit?.offset, 64);
  });

  it('a counterexample is reproduced from its trace and seed, without the program', async () => {
    const m = simMap();
    const trace = await traceStores(m, PROGRAMS['early flag']!.run);
    m.delete();
    const a = exploreTrace(trace, checkRecord, { ...CL, seed: 9 });
    const b = exploreTrace(trace, checkRecord, { ...CL, seed: 9 });
    assert.deepEqual(a.failure, b.failure);
    const img = crashImage(trace, a.failure!, CL);
    assert.equal(checkRecord(img), 'flag set, record not durable');
    assert.equal(readU64le(img.pmem, 0), 1n);
  });

  it('direct stores into map.bytes are found at the next flush or fence', async () => {
    const m = simMap();
    const r = await exploreStores(
      m,
      (x) => {
        x.bytes[0] = 1; // the flag, stored directly, before the record is durable
        x.store(64, DATA);
        x.persist(0, 128);
      },
      checkRecord,
      CL,
    );
    m.delete();
    assert.equal(r.ok, false);
    assert.equal(r.failure?.culprit?.via, 'direct');
  });
});

describe('store explorer: engines and markers', () => {
  const verdicts = async (engine: ReorderEngine): Promise<boolean> => {
    const m = simMap();
    const r = await exploreStores(m, PROGRAMS['missing persist']!.run, checkRecord, {
      ...CL,
      engine,
      seed: 3,
    });
    m.delete();
    return r.ok;
  };

  it('missing persist: full, accumulative and partial find it; no-reorder (program order) cannot', async () => {
    assert.deepEqual(
      await Promise.all((['full', 'accumulative', 'partial', 'no-reorder'] as const).map(verdicts)),
      [false, false, false, true],
    );
  });

  it('markers reach the check and choose the engine of their region', async () => {
    const run = (m: Pmem2Map): void => {
      m.mark('TX.BEGIN');
      PROGRAMS['missing persist']!.run(m);
      m.mark('TX.END');
      m.store(64, DATA);
      m.persist(64, 64);
    };
    const seen: string[][] = [];
    const m = simMap();
    const r = await exploreStores(
      m,
      run,
      (v) => {
        seen.push([...v.markers]);
        return checkRecord(v);
      },
      { ...CL, engines: { TX: 'no-reorder' } },
    );
    m.delete();
    assert.equal(
      r.ok,
      false,
      'after TX.END the default engine (full) finds the record still volatile',
    );
    assert.deepEqual(r.failure?.markers, ['TX.BEGIN', 'TX.END']);
    assert.ok(seen.some((s) => s.length === 1 && s[0] === 'TX.BEGIN'));
  });

  it('sampling beyond maxExhaustive is seeded and reports its coverage', async () => {
    const m = simMap();
    const r = await exploreStores(
      m,
      (x) => {
        for (let i = 0; i < 16; i++) x.store(64 * (i + 2), u64(i + 1));
        x.persist(0, 4096);
      },
      () => undefined,
      { ...CL, maxExhaustive: 1000, samples: 50, seed: 4 },
    );
    m.delete();
    assert.ok(r.ok);
    assert.ok(r.coverage < 1 && r.coverage > 0, `coverage ${r.coverage}`);
    assert.ok(r.exhaustive > 0 && r.exhaustive < r.instants);
  });
});

describe('store explorer: one crash across pmem and NVMe', () => {
  const t = tempDir('xmedia');
  after(() => t.cleanup());

  /** A log record on NVMe (block `lba`), its pointer in pmem; `flushFirst` is the fix. */
  async function logAppend(flushFirst: boolean, model: PersistenceModel) {
    const machine = await nvmeMachine(mkdtempSync(join(t.dir, 'm-')), { sizeKiB: 256 });
    trackWrites(machine);
    const ctrl = machine
      .components()
      .find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller;
    const h = new Host(ctrl);
    h.enable();
    await h.createIoQueues(1);
    const rec = new Uint8Array(512).fill(0x5a);
    const m = simMap();
    const r = await exploreStores(
      m,
      async (x) => {
        assert.equal(
          (await h.command(1, { opcode: IoOpc.WRITE, nsid: 1, cdw10: 5, cdw12: 0 }, rec)).status,
          0,
        );
        if (flushFirst) await h.command(1, { opcode: IoOpc.FLUSH, nsid: 1 });
        x.store(0, u64(5));
        x.persist(0, 8);
        if (!flushFirst) await h.command(1, { opcode: IoOpc.FLUSH, nsid: 1 });
      },
      (v) => {
        const p = Number(readU64le(v.pmem, 0));
        if (p === 0) return undefined;
        return v.nvme(1, p)?.[0] === 0x5a
          ? undefined
          : `pointer to block ${p}, the record is not there`;
      },
      { model, nvme: [ctrl] },
    );
    m.delete();
    await machine.shutdown();
    return r;
  }

  for (const model of ['cacheline', 'word8', 'eadr'] as const) {
    it(`pointer persisted before the NVMe flush is inconsistent (${model}); flush first is not`, async () => {
      const bad = await logAppend(false, model);
      assert.equal(bad.ok, false);
      if (model === 'eadr') {
        // The pointer is durable at once: the crash loses the cached NVMe write.
        assert.equal(bad.failure?.culpritRole, 'never made durable');
        assert.match(bad.failure?.culprit?.via ?? '', /^nvme write nsid 1 lba 5/);
      } else {
        // The pointer's line can be evicted before the NVMe flush: it reached media too early.
        assert.equal(bad.failure?.culpritRole, 'reached media too early');
        assert.equal(bad.failure?.culprit?.offset, 0);
      }
      const good = await logAppend(true, model);
      assert.equal(good.ok, true, good.failure ? formatCounterexample(good.failure) : '');
    });
  }
});
