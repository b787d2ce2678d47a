import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from './ranges.js';

type Op = readonly ['add' | 'remove', number, number];

const CASES: readonly { name: string; ops: readonly Op[]; expect: [number, number][] }[] = [
  { name: 'adding an empty range leaves the set empty', ops: [['add', 5, 5]], expect: [] },
  {
    name: 'adjacent ranges merge into one',
    ops: [
      ['add', 0, 4],
      ['add', 4, 8],
    ],
    expect: [[0, 8]],
  },
  {
    name: 'a range bridging two ranges merges all three',
    ops: [
      ['add', 0, 2],
      ['add', 6, 8],
      ['add', 1, 7],
    ],
    expect: [[0, 8]],
  },
  {
    name: 'removing the middle splits a range',
    ops: [
      ['add', 0, 10],
      ['remove', 3, 5],
    ],
    expect: [
      [0, 3],
      [5, 10],
    ],
  },
  {
    name: 'removing across several ranges trims both ends',
    ops: [
      ['add', 0, 4],
      ['add', 6, 8],
      ['add', 10, 14],
      ['remove', 2, 12],
    ],
    expect: [
      [0, 2],
      [12, 14],
    ],
  },
  {
    name: 'removing a range that touches but does not overlap keeps it',
    ops: [
      ['add', 4, 8],
      ['remove', 0, 4],
      ['remove', 8, 9],
    ],
    expect: [[4, 8]],
  },
];

describe('RangeSet', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const s = new RangeSet();
      for (const [op, a, b] of c.ops) s[op](a, b);
      assert.deepEqual(
        s.list().map((r) => [r.start, r.end]),
        c.expect,
      );
    });
  }

  it('answers intersects, covers and overlaps for a split set', () => {
    const s = new RangeSet();
    s.add(2, 4);
    s.add(8, 12);
    assert.equal(s.intersects(0, 2), false);
    assert.equal(s.intersects(3, 9), true);
    assert.equal(s.intersects(4, 8), false);
    assert.equal(s.covers(8, 12), true);
    assert.equal(s.covers(2, 9), false);
    assert.equal(s.covers(5, 5), true);
    assert.deepEqual(s.overlaps(3, 10), [
      { start: 3, end: 4 },
      { start: 8, end: 10 },
    ]);
  });

  it('rejects inverted and negative ranges', () => {
    const s = new RangeSet();
    assert.throws(() => s.add(5, 4), RangeError);
    assert.throws(() => s.remove(-1, 4), RangeError);
  });

  it('matches a per-block boolean model under random adds and removes', () => {
    const N = 64;
    const op = fc.tuple(fc.constantFrom('add' as const, 'remove' as const), fc.nat(N), fc.nat(N));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.nat(N), fc.nat(N), (ops, qa, qb) => {
        const s = new RangeSet();
        const model = new Array<boolean>(N).fill(false);
        for (const [kind, a, b] of ops) {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          s[kind](lo, hi);
          for (let i = lo; i < hi; i++) model[i] = kind === 'add';
        }
        // Canonical form: sorted, non-empty, non-adjacent.
        const list = s.list();
        for (let i = 0; i < list.length; i++) {
          assert.ok(list[i]!.start < list[i]!.end);
          if (i > 0) assert.ok(list[i - 1]!.end < list[i]!.start);
        }
        for (let i = 0; i < N; i++) assert.equal(s.has(i), model[i]);
        const [lo, hi] = qa <= qb ? [qa, qb] : [qb, qa];
        const slice = model.slice(lo, hi);
        assert.equal(s.intersects(lo, hi), slice.some(Boolean));
        assert.equal(s.covers(lo, hi), slice.every(Boolean));
      }),
    );
  });
});
