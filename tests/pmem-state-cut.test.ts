// The state folder is replaced as a whole: a publish cut at any of its steps (a SIGKILL, a
// failing write) leaves the old state or the new one, complete, for every reader; a reader that
// runs beside a stream of republishes never sees a mix or nothing. Issue 20 removed the
// per-file fsyncs; this is what still holds without them (state-generation.ts).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readPmemState } from '../src/pmem/index.js';
import { currentBootId } from '../src/pmem/nvdimm/state.js';
import { stateDir } from '../src/pmem/state-folder.js';
import { publishGeneration, type GenerationFile } from '../src/pmem/state-generation.js';
import { scratch } from './pmem-harness.js';

let dir = '';
before(() => {
  dir = scratch('nvmemu-pmem-state-cut-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const owner = (): GenerationFile => ({
  name: 'owner',
  text: `${process.pid} ${currentBootId()}\n`,
});

/** A state with `regions` regions whose files all carry `tag` (so old and new differ). */
function stateOf(tag: string, regions: number): GenerationFile[] {
  const files: GenerationFile[] = [];
  for (let i = 0; i < regions; i++) {
    files.push({ name: `region${i}/devtype`, text: 'nvdimm\n' });
    files.push({ name: `region${i}/devid`, text: `${tag}${i}\n` });
    files.push({ name: `region${i}/badblocks`, text: `${i} 8\n` });
    files.push({ name: `region${i}/nmem/id`, text: `${tag}-id-${i}\n` });
  }
  return [...files, owner()];
}

/** What readPmemState must return for `files`: region name → file → content. */
function expected(files: readonly GenerationFile[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const f of files) {
    const [region, ...rest] = f.name.split('/');
    if (rest.length === 0) continue;
    (out[region!] ??= {})[rest.join('/')] = f.text.replace(/\n$/, '');
  }
  return out;
}

/** The state a reader sees, in expected()'s shape, or its status when it is not live. */
function seen(data: string): Record<string, Record<string, string>> | string {
  const s = readPmemState(data);
  if (s.status !== 'live') return s.status;
  return Object.fromEntries(s.regions.map((r) => [r.name, Object.fromEntries(r.files)]));
}

/** expected()'s shape as the reader thread prints it: regions in order, files sorted. */
const canonical = (e: Record<string, Record<string, string>>): string =>
  JSON.stringify(
    Object.entries(e)
      .sort(([a], [b]) => Number(a.slice(6)) - Number(b.slice(6)))
      .map(([name, files]) => [name, Object.entries(files).sort()]),
  );

class Cut extends Error {}

describe('state folder: a cut publish', () => {
  const older = stateOf('old', 2);
  const newer = stateOf('new', 3);

  /** The steps of publishing `newer` over `older`, recorded on a dry run. */
  function steps(): string[] {
    const data = join(dir, 'steps');
    const link = stateDir(data);
    mkdirSync(data, { recursive: true });
    publishGeneration(link, older);
    const all: string[] = [];
    publishGeneration(link, newer, (s) => all.push(s));
    rmSync(data, { recursive: true, force: true });
    return all;
  }

  it('leaves the old state before the swap and the new one from the swap on, at every step', () => {
    const all = steps();
    // one write per file, link, swap, prune of the old generation
    assert.equal(all.length, newer.length + 3);
    const swap = all.indexOf('swap');
    assert.ok(swap > 0);
    all.forEach((step, k) => {
      const data = join(dir, `cut${k}`);
      const link = stateDir(data);
      mkdirSync(data, { recursive: true });
      publishGeneration(link, older);
      assert.throws(
        () =>
          publishGeneration(link, newer, (s) => {
            if (s === step) throw new Cut(step);
          }),
        Cut,
      );
      // A cut at `swap` stops before the rename: still the old state.
      const want = k <= swap ? expected(older) : expected(newer);
      assert.deepEqual(seen(data), want, `cut before step ${k} (${step})`);
      // The next start publishes over whatever the cut left, and keeps one generation.
      const next = stateOf('next', 1);
      publishGeneration(link, next);
      assert.deepEqual(seen(data), expected(next), `publish after a cut at ${step}`);
      assert.equal(readdirSync(join(data, 'state-gen')).length, 1, `generations after ${step}`);
      rmSync(data, { recursive: true, force: true });
    });
  });

  it('replaces a state folder of the layout before generations (a real folder) by a link', () => {
    const data = join(dir, 'upgrade');
    mkdirSync(join(stateDir(data), 'region0'), { recursive: true });
    writeFileSync(join(stateDir(data), 'region0', 'devtype'), 'virtio-pmem\n');
    writeFileSync(join(stateDir(data), 'owner'), owner().text);
    publishGeneration(stateDir(data), newer);
    assert.deepEqual(seen(data), expected(newer));
  });

  it('gives a reader in another thread the old or the new state, whole, during republishes', async () => {
    const data = join(dir, 'race');
    mkdirSync(data, { recursive: true });
    const link = stateDir(data);
    publishGeneration(link, older);
    // [0]: stop flag, [1]: reads done (the parent publishes until the reader has read enough).
    const shared = new Int32Array(new SharedArrayBuffer(8));
    // The reader tallies what it saw: 'old', 'new', or the first thing that was neither.
    const reader = new Worker(
      `const { workerData: w, parentPort } = require('node:worker_threads');
       import(w.module).then(({ readPmemState }) => {
         const tally = { old: 0, new: 0, other: '' };
         parentPort.postMessage('ready');
         while (Atomics.load(w.shared, 0) === 0 && tally.other === '') {
           const s = readPmemState(w.data);
           const got = s.status === 'live'
             ? JSON.stringify(s.regions.map((r) => [r.name, [...r.files].sort()]))
             : s.status;
           if (got === w.old) tally.old++;
           else if (got === w.new) tally.new++;
           else tally.other = got;
           Atomics.add(w.shared, 1, 1);
         }
         Atomics.store(w.shared, 0, 1);
         parentPort.postMessage(tally);
       });`,
      {
        eval: true,
        workerData: {
          module: new URL('../src/pmem/index.js', import.meta.url).href,
          data,
          shared,
          old: canonical(expected(older)),
          new: canonical(expected(newer)),
        },
      },
    );
    const next = (): Promise<unknown> =>
      new Promise((ok, fail) => {
        reader.once('message', ok);
        reader.once('error', fail);
      });
    assert.equal(await next(), 'ready');
    const tally = next() as Promise<{ old: number; new: number; other: string }>;
    // At least 300 ms and 200 reads (a loaded machine), at most 10 s.
    const t0 = Date.now();
    let publishes = 0;
    while (
      (Date.now() - t0 < 300 || Atomics.load(shared, 1) < 200) &&
      Date.now() - t0 < 10_000 &&
      // The reader stops at the first bad state.
      Atomics.load(shared, 0) === 0
    ) {
      publishGeneration(link, publishes++ % 2 === 0 ? newer : older);
      await new Promise((r) => setImmediate(r));
    }
    Atomics.store(shared, 0, 1);
    const t = await tally;
    await reader.terminate();
    assert.equal(t.other, '', 'the reader saw a state that is neither the old nor the new');
    assert.ok(t.old + t.new >= 200, `the reader read ${t.old + t.new} times`);
    assert.ok(publishes > 2, 'republished');
  });
});
