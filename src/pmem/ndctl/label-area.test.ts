import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crashPoints, cutAfter, recordFrom } from './crash.js';
import { formatUuid, guidBytes, PMEM_TYPE_GUID, randomUuid } from './guid.js';
import { cookieFor, type LabelVersion } from './label-format.js';
import {
  initLabelArea,
  readLabelArea,
  updateLabels,
  zeroLabelArea,
  type LabelArea,
  type NewLabel,
} from './label-area.js';
import { MemMedia } from './media.js';

const AREA = 128 * 1024;

function newLabel(version: LabelVersion, dpa: number, uuid = randomUuid()): NewLabel {
  return {
    uuid,
    name: '',
    flags: 0,
    nlabel: 1,
    position: 0,
    isetcookie: cookieFor(0, version),
    lbasize: 0n,
    dpa: BigInt(dpa),
    rawsize: 16n << 20n,
    typeGuid: guidBytes(PMEM_TYPE_GUID),
    abstractionGuid: new Uint8Array(16),
  };
}

const uuids = (a: LabelArea | undefined): string[] =>
  (a?.labels ?? []).map((l) => formatUuid(l.uuid)).sort();

describe('label area init / read / zero', () => {
  for (const version of ['1.1', '1.2'] as const) {
    it(`a fresh v${version} area reads back with index 0 current (seq 3) and every slot free`, () => {
      const m = new MemMedia(AREA);
      initLabelArea(m, version);
      const a = readLabelArea(m);
      assert.equal(a?.geometry.version, version);
      assert.equal(a?.current, 0);
      assert.equal(a?.seq, 3);
      assert.equal(
        a?.free.every((f) => f),
        true,
      );
      assert.deepEqual(a?.labels, []);
    });
  }
  it('a zeroed area has no valid index (label-less)', () => {
    const m = new MemMedia(AREA);
    initLabelArea(m, '1.2');
    zeroLabelArea(m);
    assert.equal(readLabelArea(m), undefined);
  });
  it('an update goes to index 1 with seq 1 and the next one back to index 0 with seq 2', () => {
    const m = new MemMedia(AREA);
    let a = initLabelArea(m, '1.2');
    a = updateLabels(m, a, [], [newLabel('1.2', 0)]);
    assert.deepEqual([a.current, a.seq, a.labels[0]?.slot], [1, 1, 0]);
    a = updateLabels(m, a, [0], [newLabel('1.2', 0)]);
    assert.deepEqual([a.current, a.seq, a.labels[0]?.slot], [0, 2, 1]);
  });
  it('keeps one slot free: the 510th label of a 128 KiB v1.2 area is refused', () => {
    const m = new MemMedia(AREA);
    let a = initLabelArea(m, '1.2');
    a = updateLabels(
      m,
      a,
      [],
      Array.from({ length: 509 }, (_, i) => newLabel('1.2', i * 4096)),
    );
    assert.equal(a.labels.length, 509);
    assert.throws(() => updateLabels(m, a, [], [newLabel('1.2', 0)]), {
      code: 'EMU_ERR_STATE',
      message: 'label area full: 1 label(s) needed, 0 slot(s) available',
    });
  });
});

describe('random create/destroy sequences always leave a valid label area', () => {
  it('holds for v1.1 and v1.2 over 200 random sequences', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<LabelVersion>('1.1', '1.2'),
        fc.array(fc.tuple(fc.boolean(), fc.nat(20), fc.nat(3)), { maxLength: 30 }),
        (version, ops) => {
          const m = new MemMedia(AREA);
          let a = initLabelArea(m, version);
          const model = new Set<string>();
          for (const [create, pick, count] of ops) {
            if (create || a.labels.length === 0) {
              const add = Array.from({ length: count + 1 }, (_, i) => newLabel(version, i * 4096));
              a = updateLabels(m, a, [], add);
              for (const l of add) model.add(formatUuid(l.uuid));
            } else {
              const victim = a.labels[pick % a.labels.length]!;
              // Destroy, or reconfigure (replace the label with a new one) on odd picks.
              const add = pick % 2 === 1 ? [newLabel(version, 0)] : [];
              a = updateLabels(m, a, [victim.slot], add);
              model.delete(formatUuid(victim.uuid));
              for (const l of add) model.add(formatUuid(l.uuid));
            }
            const reread = readLabelArea(m);
            assert.ok(reread !== undefined);
            assert.ok(!('invalid' in reread.indexes[reread.current]));
            assert.deepEqual(reread.badSlots, []);
            assert.deepEqual(uuids(reread), [...model].sort());
            const used = reread.free.filter((f) => !f).length;
            assert.equal(used, model.size);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('a power cut during a label update leaves the old or the new namespaces', () => {
  for (const version of ['1.1', '1.2'] as const) {
    it(`every cut (and torn write) of a v${version} destroy+create recovers old or new`, () => {
      const m = new MemMedia(AREA);
      let a = initLabelArea(m, version);
      a = updateLabels(m, a, [], [newLabel(version, 0), newLabel(version, 16 << 20)]);
      a = updateLabels(m, a, [a.labels[0]!.slot], [newLabel(version, 32 << 20)]);
      const before = m.bytes.slice();
      const oldSet = uuids(a);
      const rec = recordFrom(before);
      const after = updateLabels(rec, a, [a.labels[1]!.slot], [newLabel(version, 48 << 20)]);
      const newSet = uuids(after);
      assert.equal(rec.log.length, 2);
      let sawOld = 0;
      let sawNew = 0;
      for (const { complete, torn } of crashPoints(rec.log)) {
        const got = uuids(readLabelArea(cutAfter(before, rec.log, complete, torn)));
        if (JSON.stringify(got) === JSON.stringify(oldSet)) sawOld++;
        else if (JSON.stringify(got) === JSON.stringify(newSet)) sawNew++;
        else assert.fail(`cut after ${complete} writes (+${torn} bytes) gave ${got.join(',')}`);
      }
      assert.ok(sawOld > 0 && sawNew > 0);
    });
  }
  it('a cut during init leaves the area either label-less or fully initialised', () => {
    const rec = recordFrom(new Uint8Array(AREA));
    initLabelArea(rec, '1.2');
    for (const { complete, torn } of crashPoints(rec.log)) {
      const a = readLabelArea(cutAfter(new Uint8Array(AREA), rec.log, complete, torn));
      if (complete < rec.log.length) assert.ok(a === undefined || a.labels.length === 0);
      else assert.equal(a?.current, 0);
    }
  });
});
