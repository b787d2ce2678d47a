// Counterexamples reproducible from a seed and a recording (docs/pmem2.md "Store explorer"):
// the store trace of a run and its minimised counterexample are saved as one versioned file;
// another reader rebuilds the inconsistent image from the file alone (pmem and, for a
// cross-media run, the NVMe blocks), and exploring the file's trace with its seed finds the
// same counterexample. A damaged file is refused naming the field.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { crashImage, exploreTrace, type CrashView } from '../src/pmem2/explore-stores.js';
import { exploreStores } from '../src/pmem2/cross-media.js';
import {
  encodeCounterexampleFile,
  parseCounterexampleFile,
  TraceFileError,
} from '../src/pmem2/trace-file.js';
import { readU64le } from '../src/util/bytes.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { trackWrites } from '../src/faults/power-cut.js';
import { nvmeMachine, tempDir } from './faults-harness.js';
import { checkRecord, DATA, simMap, u64 } from './support/pmem2-record.js';

describe('counterexample files', () => {
  const t = tempDir('cxfile');
  after(() => t.cleanup());

  it('early flag: the file alone rebuilds the image, and its seed finds the same counterexample', async () => {
    const m = simMap();
    const opts = { model: 'word8', engine: 'partial', samples: 64, seed: 9 } as const;
    const r = await exploreStores(
      m,
      (x) => {
        x.store(0, u64(1));
        x.store(0, u64(0));
        x.store(64, DATA);
        x.persist(64, 64);
        x.store(0, u64(1));
        x.persist(0, 8);
      },
      checkRecord,
      opts,
    );
    m.delete();
    assert.equal(r.ok, false);
    const text = encodeCounterexampleFile({
      trace: r.trace,
      options: opts,
      counterexample: r.failure!,
    });
    const f = parseCounterexampleFile(text);
    assert.deepEqual(f.options, opts);
    assert.deepEqual(f.counterexample, r.failure);
    assert.deepEqual(f.trace.events, r.trace.events);
    const img = crashImage(f.trace, f.counterexample, f.options);
    assert.equal(checkRecord(img), 'flag set, record not durable');
    assert.equal(f.counterexample.culprit?.offset, 0); // the flag
    assert.match(f.counterexample.culprit?.stack ?? '', /pmem2-trace-file\.test\.js/);
    assert.deepEqual(exploreTrace(f.trace, checkRecord, f.options).failure, r.failure);
  });

  it('cross-media: the NVMe write-cache states travel in the file (log on NVMe, pointer in pmem)', async () => {
    const machine = await nvmeMachine(mkdtempSync(join(t.dir, 'm-')), { sizeKiB: 256 });
    trackWrites(machine);
    const ctrl = machine
      .components()
      .find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller;
    const h = new Host(ctrl);
    h.enable();
    await h.createIoQueues(1);
    const rec = new Uint8Array(512).fill(0x5a);
    const check = (v: CrashView): string | undefined => {
      const p = Number(readU64le(v.pmem, 0));
      if (p === 0) return undefined;
      return v.nvme(1, p)?.[0] === 0x5a
        ? undefined
        : `pointer to block ${p}, the record is not there`;
    };
    const m = simMap();
    const opts = { model: 'eadr', seed: 3 } as const;
    const r = await exploreStores(
      m,
      async (x) => {
        await h.command(1, { opcode: IoOpc.WRITE, nsid: 1, cdw10: 5, cdw12: 0 }, rec);
        x.store(0, u64(5));
        x.persist(0, 8);
        await h.command(1, { opcode: IoOpc.FLUSH, nsid: 1 });
      },
      check,
      { ...opts, nvme: [ctrl] },
    );
    m.delete();
    await machine.shutdown();
    assert.equal(r.ok, false);
    const f = parseCounterexampleFile(
      encodeCounterexampleFile({ trace: r.trace, options: opts, counterexample: r.failure! }),
    );
    assert.equal(f.counterexample.culpritRole, 'never made durable');
    const img = crashImage(f.trace, f.counterexample, f.options);
    assert.equal(check(img), 'pointer to block 5, the record is not there');
    assert.deepEqual(exploreTrace(f.trace, check, f.options).failure, r.failure);
  });

  it('refuses a damaged or foreign file naming the field', () => {
    const good = JSON.parse(
      encodeCounterexampleFile({
        trace: {
          size: 8,
          initial: new Uint8Array(8),
          events: [{ kind: 'store', offset: 0, bytes: u64(1), via: 'store', stack: '' }],
        },
        options: {},
        counterexample: {
          model: 'cacheline',
          instant: 1,
          choice: [1],
          seed: 1,
          message: 'x',
          markers: [],
          kept: [],
          culprit: undefined,
          culpritRole: 'none',
        },
      }),
    ) as Record<string, unknown>;
    assert.equal(parseCounterexampleFile(JSON.stringify(good)).trace.events.length, 1);
    const bad: [string, (d: Record<string, unknown>) => unknown, RegExp][] = [
      [
        'format',
        (d) => (d.format = 'x'),
        /^counterexample file: file\.format: expected "nvmemu-store-trace"$/,
      ],
      [
        'version',
        (d) => (d.version = 2),
        /file\.version: version 2 is not supported \(this nvmemu reads version 1\)$/,
      ],
      [
        'a store beyond the map',
        (d) => ((d.events as { offset: number }[])[0]!.offset = 4),
        /file\.events\[0\]: store \[4, 12\) beyond the map \(8 bytes\)$/,
      ],
      [
        'an event kind',
        (d) => ((d.events as { kind: string }[])[0]!.kind = 'load'),
        /file\.events\[0\]\.kind: expected one of store, flush, fence, mark, nvme$/,
      ],
      ['base64', (d) => (d.initial = '!!'), /file\.initial: expected base64 bytes$/],
      [
        'a model',
        (d) => ((d.counterexample as { model: string }).model = 'byte'),
        /file\.counterexample\.model: expected one of cacheline, word8, eadr$/,
      ],
      [
        'an instant',
        (d) => ((d.counterexample as { instant: number }).instant = 7),
        /file\.counterexample\.instant: 7 is beyond the trace's 1 events$/,
      ],
    ];
    for (const [what, change, msg] of bad) {
      const d = structuredClone(good);
      change(d);
      assert.throws(
        () => parseCounterexampleFile(JSON.stringify(d)),
        (e: unknown) => {
          assert.ok(e instanceof TraceFileError, what);
          assert.match(e.message, msg, what);
          return true;
        },
      );
    }
    assert.throws(() => parseCounterexampleFile('{'), {
      message: /^counterexample file: not JSON/,
    });
  });
});
