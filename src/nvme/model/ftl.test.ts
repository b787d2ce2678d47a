// The FTL model against Desnoyers' analytic greedy WAF (desnoyers.ts), and its bookkeeping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../util/rng.js';
import { greedyWaf, lambertW0 } from './desnoyers.js';
import { PageFtl, type GcPolicy } from './ftl.js';

/**
 * Fills a namespace of `blocks` × `ppb` pages at spare factor `sf` sequentially, then writes
 * uniform random single pages: `warm` × U to reach steady state, then `measure` × U counted.
 */
export function steadyWaf(sf: number, gc: GcPolicy, blocks = 512, ppb = 128): number {
  const user = Math.floor(blocks * ppb * (1 - sf));
  const ftl = new PageFtl({ blocks, pagesPerBlock: ppb, userPages: user, gc });
  const rng = new SeededRng(23);
  for (let lpn = 0; lpn < user; lpn++) ftl.write(lpn);
  for (let i = 0; i < 4 * user; i++) ftl.write(rng.below(user));
  const host0 = ftl.hostPages;
  const media0 = ftl.mediaPages;
  for (let i = 0; i < 4 * user; i++) ftl.write(rng.below(user));
  return (ftl.mediaPages - media0) / (ftl.hostPages - host0);
}

test('Lambert W0 satisfies w·e^w = x', () => {
  for (const x of [-1 / Math.E + 1e-9, -0.3, -0.1, 0, 0.5, 1, 10]) {
    const w = lambertW0(x);
    assert.ok(Math.abs(w * Math.exp(w) - x) < 1e-9, `x=${x} w=${w}`);
  }
  assert.throws(() => lambertW0(-1), /below/);
});

test('the analytic model: over-provisioning 0.3 (Sf 0.23) gives 2.36 (Xiang & Kurkoski)', () => {
  assert.ok(Math.abs(greedyWaf(0.3 / 1.3) - 2.36) < 0.01, String(greedyWaf(0.3 / 1.3)));
});

for (const sf of [0.07, 0.13, 0.28]) {
  test(`greedy GC, uniform random 4 KiB overwrites, Sf ${sf}: WAF within 10% of Desnoyers`, () => {
    const measured = steadyWaf(sf, 'greedy');
    const model = greedyWaf(sf);
    const err = Math.abs(measured - model) / model;
    assert.ok(err < 0.1, `measured ${measured.toFixed(3)} model ${model.toFixed(3)}`);
  });
}

test('cost-benefit GC runs and amplifies no less than 1, close to greedy under uniform writes', () => {
  const cb = steadyWaf(0.13, 'cost-benefit', 256, 32);
  const greedy = steadyWaf(0.13, 'greedy', 256, 32);
  assert.ok(cb >= 1 && cb < greedy * 1.3, `cost-benefit ${cb} greedy ${greedy}`);
});

test('sequential overwrites never copy (WAF 1); erases are counted per block', () => {
  const ftl = new PageFtl({ blocks: 64, pagesPerBlock: 16, userPages: 800, gc: 'greedy' });
  for (let round = 0; round < 5; round++) for (let p = 0; p < 800; p++) ftl.write(p);
  assert.equal(ftl.waf, 1);
  assert.ok(ftl.totalErases > 0);
  assert.equal(
    ftl.erases.reduce((a, b) => a + b, 0),
    ftl.totalErases,
  );
});

test('trimmed pages are not copied by GC: trimming half the data lowers the WAF', () => {
  const run = (trim: boolean): number => {
    const ftl = new PageFtl({ blocks: 128, pagesPerBlock: 32, userPages: 3700, gc: 'greedy' });
    const rng = new SeededRng(5);
    for (let p = 0; p < 3700; p++) ftl.write(p);
    if (trim) for (let p = 1850; p < 3700; p++) ftl.trim(p);
    const h = ftl.hostPages;
    const m = ftl.mediaPages;
    for (let i = 0; i < 20000; i++) ftl.write(rng.below(1850));
    return (ftl.mediaPages - m) / (ftl.hostPages - h);
  };
  const full = run(false);
  const trimmed = run(true);
  assert.ok(trimmed < full * 0.8, `trimmed ${trimmed} full ${full}`);
});

test('streams keep data apart: separating a sequential stream from a random one lowers the WAF', () => {
  const run = (streams: number): PageFtl => {
    const ftl = new PageFtl({
      blocks: 256,
      pagesPerBlock: 32,
      userPages: 7000,
      gc: 'greedy',
      streams,
    });
    const rng = new SeededRng(9);
    const s1 = streams - 1;
    for (let p = 0; p < 7000; p++) ftl.write(p, p < 3500 ? 0 : s1);
    for (let i = 0; i < 40000; i++) {
      ftl.write(rng.below(3500), 0);
      ftl.write(3500 + (i % 3500), s1);
    }
    return ftl;
  };
  const mixed = run(1);
  const apart = run(2);
  assert.ok(apart.waf < mixed.waf * 0.97, `apart ${apart.waf} mixed ${mixed.waf}`);
  // Per-stream counters add up to the totals.
  assert.equal(apart.hostPagesByStream[0]! + apart.hostPagesByStream[1]!, apart.hostPages);
  assert.equal(apart.mediaPagesByStream[0]! + apart.mediaPagesByStream[1]!, apart.mediaPages);
  const waf1 = apart.mediaPagesByStream[1]! / apart.hostPagesByStream[1]!;
  const waf0 = apart.mediaPagesByStream[0]! / apart.hostPagesByStream[0]!;
  assert.ok(waf1 < waf0, `sequential ${waf1} random ${waf0}`);
});

test('shapes that cannot work are refused with the numbers', () => {
  assert.throws(
    () => new PageFtl({ blocks: 8, pagesPerBlock: 4, userPages: 30, gc: 'greedy' }),
    /at most 20 user pages, not 30/,
  );
  const ftl = new PageFtl({ blocks: 8, pagesPerBlock: 4, userPages: 16, gc: 'greedy' });
  assert.throws(() => ftl.write(16), /outside 0\.\.15/);
});
