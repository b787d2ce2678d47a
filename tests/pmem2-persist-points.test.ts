// The fast paths of order.ts elide fences and FFI calls; the power-failure simulation must still
// see exactly the persist points the API defines, and wherever the simulation has flushed-but-not-
// drained lines at a persist point, the real path must have issued an SFENCE in that same call.
// One workload runs on a simulated map and on a real map with counting kernels, per granularity.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Pmem2Map } from '../src/pmem2/map.js';
import { PMEM2_F_MEM_NODRAIN, PMEM2_F_MEM_NONTEMPORAL } from '../src/pmem2/mem.js';
import {
  FENCING,
  noKernels,
  withSpiedMap,
  type ForcedGranularity,
} from './support/pmem2-kernels.js';

const skip = noKernels;
if (skip !== false) console.log(`# pmem2 persist-point tests skipped: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'pmem2-points-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh zero-filled file for each run, so that every store really changes the media. */
function freshFile(): string {
  const f = join(dir, `pool${files++}`);
  writeFileSync(f, Buffer.alloc(32 * 1024));
  return f;
}

const rec = new Uint8Array(64).fill(0x11);
const big = new Uint8Array(4096).fill(0x22);

/** The workload, one API call (or direct store + call) per step. */
const STEPS: readonly ((m: Pmem2Map) => void)[] = [
  (m) => m.memcpy(0, rec), // 0: copy + persist
  (m) => ((m.bytes[200] = 1), m.persist(200, 1)), // 1: direct store, persist
  (m) => m.memcpy(4096, big, PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN), // 2
  (m) => m.drain(), // 3
  (m) => ((m.bytes[70] = 2), m.flush(64, 8)), // 4
  (m) => m.drain(), // 5
  (m) => m.drain(), // 6: nothing outstanding
  (m) => m.memset(8192, 3, 300, PMEM2_F_MEM_NODRAIN), // 7
  (m) => m.persist(0, 8), // 8
];

/** Steps at which the simulation reports a persist point (golden, per pmdk.md §2.3 / §1.3). */
const POINTS: Record<ForcedGranularity, number[]> = {
  BYTE: [0, 1, 3, 5, 6, 8],
  CACHE_LINE: [0, 1, 3, 5, 6, 8],
  PAGE: [0, 1, 2, 4, 7, 8],
};

interface SimRun {
  /** Step of each persist point, and whether flushed-but-not-drained lines were pending there. */
  points: { step: number; flushedPending: boolean }[];
}

function runSim(g: ForcedGranularity): SimRun {
  const points: SimRun['points'] = [];
  withSpiedMap(
    freshFile(),
    g,
    (m) => {
      let step = -1;
      m.sim!.onPersistPoint = (p) =>
        points.push({
          step,
          flushedPending: p.uncertain.some((u) => u.labels.includes('flushed')),
        });
      STEPS.forEach((s, i) => ((step = i), s(m)));
    },
    true,
  );
  return { points };
}

/** Per step, the kernel calls the real path made. */
function runReal(g: ForcedGranularity): string[][] {
  const perStep: string[][] = [];
  withSpiedMap(freshFile(), g, (m, calls) => {
    for (const s of STEPS) {
      const before = calls.length;
      s(m);
      perStep.push(calls.slice(before));
    }
  });
  return perStep;
}

describe('persist points: simulation and real path agree', { skip }, () => {
  for (const g of ['BYTE', 'CACHE_LINE', 'PAGE'] as const) {
    it(`${g}: the simulation sees the API's persist points, and fences wherever lines wait`, () => {
      const sim = runSim(g);
      assert.deepEqual(
        sim.points.map((p) => p.step),
        POINTS[g],
      );
      const real = runReal(g);
      for (const p of sim.points)
        if (p.flushedPending)
          assert.ok(
            real[p.step]!.some((c) => FENCING.test(c)),
            `step ${p.step}: flushed lines pending, but the real path made ${JSON.stringify(real[p.step])}`,
          );
      // …and the real path never fences outside a persist point
      real.forEach((calls, step) => {
        if (calls.some((c) => FENCING.test(c)))
          assert.ok(POINTS[g].includes(step), `step ${step} fenced: ${JSON.stringify(calls)}`);
      });
      if (g === 'CACHE_LINE')
        assert.deepEqual(
          sim.points.filter((p) => p.flushedPending).map((p) => p.step),
          [0, 1, 3, 5, 8],
        );
    });
  }

  it('BYTE: the real path fences only after its own non-temporal stores', () => {
    const real = runReal('BYTE');
    assert.deepEqual(
      real
        .map((calls, step) => (calls.some((c) => FENCING.test(c)) ? step : -1))
        .filter((s) => s >= 0),
      [3],
    );
  });
});
