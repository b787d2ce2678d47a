import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CidTable } from './cid-table.js';

describe('CidTable', () => {
  it('behaves as a Map over 16-bit CIDs (sizes, lookups, deletes, values by CID)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 0xffff })), { maxLength: 200 }),
        (ops) => {
          const t = new CidTable<string>();
          const m = new Map<number, string>();
          for (const [put, cid] of ops) {
            if (put) {
              t.set(cid, `v${cid}`);
              m.set(cid, `v${cid}`);
            } else {
              assert.equal(t.delete(cid), m.delete(cid));
            }
            assert.equal(t.size, m.size);
            assert.equal(t.get(cid), m.get(cid));
            assert.equal(t.has(cid), m.has(cid));
          }
          assert.deepEqual(
            t.values(),
            [...m].sort((a, b) => a[0] - b[0]).map(([, v]) => v),
          );
          t.clear();
          assert.equal(t.size, 0);
          assert.deepEqual(t.values(), []);
        },
      ),
    );
  });

  it('refuses a CID that is not a 16-bit integer', () => {
    const t = new CidTable<number>();
    for (const cid of [-1, 0x10000, 1.5]) {
      assert.throws(() => t.set(cid, 1), /CID .* is not a 16-bit integer/);
    }
    assert.equal(t.size, 0);
  });
});
