// The volatile write cache model against a reference written from its contract (docs/faults.md
// "Power cuts"): reads always see the newest write; after a cut a block holds the newest of
// its writes that was durable (Flush, FUA, destage) or survived, and nothing else. Random
// workloads of writes, zeroes, Flushes and FUA flushes, on drives of both aio modes, with
// reads and flushes overlapping (aio=threads), for every cut mode and many seeds.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Drive, type DriveAio } from '../../block/drive.js';
import { SeededRng } from '../../util/rng.js';
import { computeGeometry } from './lbaf.js';
import { BlockStore } from './store.js';
import { attachWriteCacheModel, CUT_MODES } from './write-cache.js';

const LBA = 512;
const MS = 8;
const NSZE = 48;

interface Version {
  /** Write sequence number (0: the initial content). */
  readonly seq: number;
  /** Block content: data then metadata. */
  readonly bytes: Uint8Array;
}

/** The contract's view of one namespace: per block, its versions and the durable one. */
class Reference {
  readonly versions: Version[][] = [];
  readonly durable: number[] = [];
  seq = 0;

  constructor() {
    for (let b = 0; b < NSZE; b++) {
      this.versions.push([{ seq: 0, bytes: new Uint8Array(LBA + MS) }]);
      this.durable.push(0);
    }
  }

  write(lba: number, nlb: number, data: Uint8Array | 'zero', meta: Uint8Array | 'zero'): void {
    const seq = ++this.seq;
    for (let i = 0; i < nlb; i++) {
      const bytes = new Uint8Array(LBA + MS);
      if (data !== 'zero') bytes.set(data.subarray(i * LBA, (i + 1) * LBA));
      if (meta !== 'zero') bytes.set(meta.subarray(i * MS, (i + 1) * MS), LBA);
      this.versions[lba + i]!.push({ seq, bytes });
    }
  }

  newest(b: number): Version {
    return this.versions[b]!.at(-1)!;
  }

  /** A Flush (every block) or a FUA write's flush (its range): newest content is durable. */
  flush(from = 0, to = NSZE): void {
    for (let b = from; b < to; b++) this.durable[b] = this.newest(b).seq;
  }

  /** Content of `b` after a cut in which exactly the writes of `survived` made it. */
  afterCut(b: number, survived: ReadonlySet<number>): Uint8Array {
    const vs = this.versions[b]!;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i]!;
      if (v.seq <= this.durable[b]! || survived.has(v.seq)) return v.bytes;
    }
    return vs[0]!.bytes;
  }
}

async function withStore(
  aio: DriveAio,
  fn: (store: BlockStore, drive: Drive) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nvmemu-wc-'));
  const file = join(dir, 'img');
  await writeFile(file, new Uint8Array(NSZE * (LBA + MS)));
  const drive = await Drive.open({ id: 'd', file, readOnly: false, aio });
  try {
    const g = computeGeometry({ ds: 9, ms: MS }, 1, false, drive.size, 4096);
    await fn(new BlockStore(drive, g), drive);
  } finally {
    await drive.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Data then metadata of block `b` as the store reads it. */
async function readBlock(store: BlockStore, b: number): Promise<Uint8Array> {
  const { data, meta } = await store.read(b, 1);
  const out = new Uint8Array(LBA + MS);
  out.set(data);
  out.set(meta, LBA);
  return out;
}

/** The image itself, bypassing the cache. */
async function imageBlock(drive: Drive, b: number): Promise<Uint8Array> {
  const out = new Uint8Array(LBA + MS);
  await drive.read(out.subarray(0, LBA), b * LBA);
  await drive.read(out.subarray(LBA), NSZE * LBA + b * MS);
  return out;
}

async function workload(
  store: BlockStore,
  ref: Reference,
  rng: SeededRng,
  steps: number,
): Promise<void> {
  const inflight: Promise<unknown>[] = [];
  for (let s = 0; s < steps; s++) {
    const lba = rng.below(NSZE);
    const nlb = 1 + rng.below(Math.min(6, NSZE - lba));
    const op = rng.below(10);
    if (op < 5) {
      const data = new Uint8Array(nlb * LBA).map(() => rng.below(256));
      const meta = new Uint8Array(nlb * MS).map(() => rng.below(256));
      ref.write(lba, nlb, data.slice(), meta.slice());
      await store.write(lba, data, meta);
      // The caller's buffers are reused at once: the cache must keep its own copy.
      data.fill(0xee);
      meta.fill(0xee);
    } else if (op < 7) {
      await store.zero(lba, nlb);
      ref.write(lba, nlb, 'zero', 'zero');
    } else if (op < 8) {
      // FUA: the write's own blocks become durable.
      ref.flush(lba, lba + nlb);
      inflight.push(store.flush({ lba, nlb }));
    } else if (op < 9) {
      ref.flush();
      inflight.push(store.flush());
    } else {
      // A read overlapping the flushes under way sees the newest content.
      for (let b = lba; b < lba + nlb; b++) {
        assert.deepEqual(await readBlock(store, b), ref.newest(b).bytes, `read of block ${b}`);
      }
    }
  }
  await Promise.all(inflight);
}

describe('write cache model', () => {
  for (const aio of ['sync', 'threads'] as const) {
    for (const mode of CUT_MODES) {
      it(`aio=${aio}, cut ${mode}: reads see the newest write; the image after the cut holds exactly the durable and surviving content`, async () => {
        for (let seed = 1; seed <= 12; seed++) {
          await withStore(aio, async (store, drive) => {
            const model = attachWriteCacheModel(store);
            const ref = new Reference();
            await workload(store, ref, new SeededRng(seed), 60);
            const inCache = model.audit().map((w) => w.seq);
            const report = await model.cut(mode, seed);
            const lost = new Set(report.lost.map((w) => w.seq));
            const survived = new Set(inCache.filter((s) => !lost.has(s)));
            assert.equal(report.survived, survived.size);
            assert.equal(report.volatileWrites, inCache.length);
            if (mode === 'all') assert.equal(survived.size, 0);
            if (mode === 'prefix') {
              assert.deepEqual(
                inCache.slice(0, survived.size),
                [...survived],
                'prefix: the survivors are the oldest writes',
              );
            }
            for (let b = 0; b < NSZE; b++) {
              assert.deepEqual(
                await imageBlock(drive, b),
                ref.afterCut(b, survived),
                `seed ${seed}, block ${b}`,
              );
            }
            assert.equal(model.volatileBlocks, 0);
            assert.equal(model.bytes, 0);
          });
        }
      });
    }
  }

  it('a full cache destages its oldest writes: they survive any cut', async () => {
    for (const aio of ['sync', 'threads'] as const) {
      await withStore(aio, async (store, drive) => {
        const model = attachWriteCacheModel(store, 3 * (LBA + MS));
        for (let b = 0; b < 5; b++) {
          await store.write(b, new Uint8Array(LBA).fill(b + 1), new Uint8Array(MS).fill(b + 1));
        }
        assert.equal(model.stats.destaged, 2, aio);
        assert.equal(model.bytes, 3 * (LBA + MS));
        assert.deepEqual(
          model.audit().map((w) => w.lba),
          [2, 3, 4],
        );
        const report = await model.cut('all', 1);
        assert.deepEqual(report.reverted, [{ start: 2, end: 5 }]);
        for (let b = 0; b < 5; b++) {
          const want = b < 2 ? b + 1 : 0;
          assert.deepEqual(
            await imageBlock(drive, b),
            new Uint8Array(LBA + MS).fill(want),
            `${aio} block ${b}`,
          );
        }
      });
    }
  });
});
