import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PersistenceModel, type Granularity } from './persistence.js';

/** A model over plain memory; `store` is a tracked store. */
function setup(granularity: Granularity, size = 16384) {
  const mem = new Uint8Array(size);
  const model = new PersistenceModel(
    { length: size, read: (o, l) => mem.slice(o, o + l), write: (o, d) => mem.set(d, o) },
    granularity,
    4096,
  );
  const store = (off: number, bytes: number[]) => {
    model.beforeStore(off, bytes.length);
    mem.set(bytes, off);
  };
  return { mem, model, store };
}

describe('persistence model: what a power failure keeps', () => {
  const cases: {
    name: string;
    g: Granularity;
    run: (m: ReturnType<typeof setup>) => void;
    expect: Record<number, number>;
  }[] = [
    {
      name: "'byte' (cpu domain): every store survives, nothing is tracked",
      g: 'byte',
      run: ({ store }) => store(10, [1]),
      expect: { 10: 1 },
    },
    {
      name: "'cache-line': an unflushed store is lost",
      g: 'cache-line',
      run: ({ store }) => store(10, [1]),
      expect: { 10: 0 },
    },
    {
      name: "'cache-line': flushed and drained survives, the neighbouring unflushed line does not",
      g: 'cache-line',
      run: ({ store, model }) => {
        store(10, [1]);
        store(64, [2]);
        model.flush(0, 64);
        model.drain();
      },
      expect: { 10: 1, 64: 0 },
    },
    {
      name: "'cache-line': flushed but not drained is in flight and lost by default",
      g: 'cache-line',
      run: ({ store, model }) => {
        store(10, [1]);
        model.flush(0, 64);
      },
      expect: { 10: 0 },
    },
    {
      name: "'cache-line': a store after the flush is not covered by the drain",
      g: 'cache-line',
      run: ({ store, model }) => {
        store(10, [1]);
        model.flush(0, 64);
        store(11, [2]);
        model.drain();
      },
      expect: { 10: 1, 11: 0 },
    },
    {
      name: "'page': stores are lost until msync of their page",
      g: 'page',
      run: ({ store, model }) => {
        store(10, [1]);
        store(5000, [2]);
        model.persisted(4096, 1);
      },
      expect: { 10: 0, 5000: 2 },
    },
    {
      name: "'page': a flush covers what was stored before it started, not what came after",
      g: 'page',
      run: ({ store, model }) => {
        store(10, [1]);
        const t = model.beginFlush();
        store(10, [3]);
        store(9000, [4]);
        model.completeFlush(t);
      },
      expect: { 10: 1, 9000: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const m = setup(c.g);
      c.run(m);
      const image = m.model.imageAfterPowerFail(0, m.mem.length);
      m.model.powerFail();
      for (const [off, v] of Object.entries(c.expect)) {
        assert.equal(image[Number(off)], v, `image byte ${off}`);
        assert.equal(m.mem[Number(off)], v, `memory byte ${off} after powerFail`);
      }
      assert.equal(m.model.pendingUnits, 0);
    });
  }

  it('lets a chooser keep any subset of in-flight lines (crash-state exploration)', () => {
    const m = setup('cache-line');
    m.store(0, [1]);
    m.store(64, [2]);
    m.store(128, [3]);
    m.model.flush(0, 192);
    assert.deepEqual(
      m.model.pending().map((p) => p.inFlight),
      [true, true, true],
    );
    const reverted = m.model.powerFail((line) => line === 64);
    assert.deepEqual([m.mem[0], m.mem[64], m.mem[128]], [0, 2, 0]);
    assert.deepEqual(reverted, [
      { offset: 0, length: 64 },
      { offset: 128, length: 64 },
    ]);
  });

  it('merges adjacent reverted units in the report', () => {
    const m = setup('page');
    m.store(
      4000,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.deepEqual(m.model.powerFail(), [{ offset: 0, length: 8192 }]);
  });

  it('property: after powerFail, persisted ranges hold their last stores and the rest its durable bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              op: fc.constant('store' as const),
              off: fc.nat(1023),
              v: fc.integer({ min: 1, max: 255 }),
            }),
            fc.record({
              op: fc.constant('persist' as const),
              off: fc.nat(1023),
              len: fc.integer({ min: 1, max: 256 }),
            }),
          ),
          { maxLength: 40 },
        ),
        (ops) => {
          const m = setup('cache-line', 1024);
          // Reference: durable[] = what must survive; updated on persist of whole lines.
          const durable = new Uint8Array(1024);
          for (const o of ops) {
            if (o.op === 'store') m.store(o.off, [o.v]);
            else {
              const len = Math.min(o.len, 1024 - o.off);
              m.model.flush(o.off, len);
              m.model.drain();
              const first = Math.floor(o.off / 64) * 64;
              const end = Math.ceil((o.off + len) / 64) * 64;
              durable.set(m.mem.subarray(first, end), first);
            }
          }
          m.model.powerFail();
          assert.deepEqual(m.mem, durable);
        },
      ),
    );
  });
});
