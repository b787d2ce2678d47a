// 1000 seeded power cuts (docs/faults.md "Power cuts"): a workload that flushes never loses
// a write that was acknowledged and then made durable (Flush, FUA), whatever the cut keeps of
// the cache; every block holds one of the writes the host could expect; and a workload that
// never flushes is caught by the flush audit, which names exactly what the cut then loses.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../src/machine/machine.js';
import { flushAudit, powerCutMachine, trackWrites } from '../src/faults/power-cut.js';
import { SeededRng } from '../src/util/rng.js';
import type { CutMode } from '../src/nvme/ns/write-cache.js';
import {
  BLOCK,
  flush,
  hostOf,
  nvmeMachine,
  pattern,
  read,
  tempDir,
  write,
} from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

const BLOCKS = 64;
const CUTS = 1000;
const MODES: readonly CutMode[] = ['all', 'prefix', 'subset'];

/** The content a block may hold after a cut: its durable generation and any cached since. */
type Candidates = number[];

function content(lba: number, gen: number): Uint8Array {
  return gen === 0 ? new Uint8Array(BLOCK) : pattern(lba, gen);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('1000 seeded power cuts', () => {
  it('a flushing workload loses nothing acknowledged and flushed', async () => {
    const t = tempDir('cuts');
    dirs.push(t.cleanup);
    let m: Machine = await nvmeMachine(t.dir, { sizeKiB: (BLOCKS * BLOCK) / 1024 });
    const rng = new SeededRng(2024);
    const blocks: Candidates[] = Array.from({ length: BLOCKS }, () => [0]);
    let gen = 0;
    let durableChecked = 0;
    let lostSomething = 0;
    let h = await hostOf(m);
    for (let cut = 0; cut < CUTS; cut++) {
      trackWrites(m);
      const ops = 1 + rng.below(12);
      for (let i = 0; i < ops; i++) {
        const r = rng.next();
        if (r < 0.2) {
          assert.equal(await flush(h), 0);
          for (const b of blocks) b.splice(0, b.length - 1);
          continue;
        }
        const lba = rng.below(BLOCKS - 3);
        const nlb = 1 + rng.below(3);
        const fua = r > 0.85;
        gen++;
        const data = new Uint8Array(nlb * BLOCK);
        for (let k = 0; k < nlb; k++) data.set(content(lba + k, gen), k * BLOCK);
        assert.equal(await write(h, lba, data, { fua }), 0);
        for (let k = 0; k < nlb; k++) {
          const b = blocks[lba + k]!;
          if (fua) b.splice(0, b.length, gen);
          else b.push(gen);
        }
      }
      const mode = MODES[rng.below(MODES.length)]!;
      const next = await powerCutMachine(m, { seed: rng.nextU32(), mode });
      m = next.machine;
      h = await hostOf(m);
      const { status, data } = await read(h, 0, BLOCKS);
      assert.equal(status, 0);
      for (let lba = 0; lba < BLOCKS; lba++) {
        const got = data.subarray(lba * BLOCK, (lba + 1) * BLOCK);
        const cands = blocks[lba]!;
        const found = cands.find((g) => equal(got, content(lba, g)));
        if (cands.length === 1) durableChecked++;
        assert.notEqual(
          found,
          undefined,
          `cut ${cut} (${mode}): LBA ${lba} holds none of generations ${cands.join(', ')}`,
        );
        if (found !== cands.at(-1)) lostSomething++;
        cands.splice(0, cands.length, found!);
      }
    }
    await m.shutdown();
    assert.ok(durableChecked > CUTS * 10, `${durableChecked} durable blocks checked`);
    assert.ok(lostSomething > 0, 'the cuts did lose unflushed writes');
  });

  it('a workload that never flushes is caught by the audit, which lists exactly what is lost', async () => {
    const t = tempDir('audit');
    dirs.push(t.cleanup);
    const m = await nvmeMachine(t.dir, { sizeKiB: (BLOCKS * BLOCK) / 1024 });
    trackWrites(m);
    const h = await hostOf(m);
    const written: [number, number][] = [];
    for (let i = 0; i < 10; i++) {
      const lba = i * 5;
      assert.equal(await write(h, lba, pattern(lba, i + 1, 2)), 0);
      written.push([lba, 2]);
    }
    const audit = flushAudit(m)[0]!;
    assert.deepEqual(
      audit.volatile.map((w) => [w.lba, w.nlb]),
      written,
    );
    const { machine: m2, report } = await powerCutMachine(m, { mode: 'all' });
    assert.deepEqual(
      report.namespaces[0]!.cut!.lost.map((w) => [w.lba, w.nlb]),
      written,
    );
    const h2 = await hostOf(m2);
    const { data } = await read(h2, 0, BLOCKS);
    assert.ok(
      data.every((b) => b === 0),
      'every unflushed write is gone',
    );
    await m2.shutdown();
  });
});
