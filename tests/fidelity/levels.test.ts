// The QEMU compatibility levels against the recorded answers of QEMU itself: probe.ts runs on
// nvmemu's PCI function (the in-process PlatformBus) for every configuration of configs.ts, at
// the 10.0 level (`-machine pc-q35-10.0`) against tests/fixtures/qemu/10.0 and at the 7.2 level
// (`q35`) against tests/fixtures/qemu/7.2, and every answer is compared key by key, field by
// field. What differs must be a deliberate difference of deviations.ts (with its reason), and
// every deviation listed must still occur.
//
// The clock stands still during the replays, as QEMU's virtual clock does under qtest, so the
// Timestamp feature and the FDP events carry exactly what the host set.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { answerRows, type DiffRow } from './diff.js';
import { CONFIGS, type QemuVersion } from './configs.js';
import { DEVIATIONS, explain, type Deviation } from './deviations.js';
import { loadFixture } from './fixtures.js';
import { replay } from './replay.js';

const FROZEN_MS = 1_700_000_000_000;
const realNow = Date.now;
before(() => {
  Date.now = () => FROZEN_MS;
});
after(() => {
  Date.now = realNow;
});

/** Deviations seen, per level. */
const used = new Map<QemuVersion, Set<Deviation>>([
  ['7.2', new Set()],
  ['10.0', new Set()],
]);

const show = (r: DiffRow): string =>
  `${r.answer} | ${r.field} | nvmemu ${r.v72} | QEMU ${r.v10} | ${r.meaning}`;

for (const level of ['10.0', '7.2'] as const) {
  describe(
    `the ${level} level answers as QEMU ${level} (tests/fixtures/qemu/${level})`,
    { concurrency: true },
    () => {
      for (const c of CONFIGS) {
        it(`${c.name}: ${c.title}`, async () => {
          const theirs = loadFixture(level, c.name).answers;
          const ours = (await replay(c, level)).answers;
          const keys = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])];
          const unexplained: string[] = [];
          for (const k of keys) {
            for (const row of answerRows(k, ours[k], theirs[k])) {
              const d = explain(row, c.name, level);
              if (d === undefined) unexplained.push(show(row));
              else used.get(level)!.add(d);
            }
          }
          assert.deepEqual(unexplained, [], `${c.name} at ${level}: differences not listed`);
        });
      }
    },
  );
}

describe('every listed deviation still occurs', () => {
  for (const d of DEVIATIONS) {
    for (const level of d.levels) {
      it(`${level}: ${String(d.answer)}${d.field !== undefined ? ` ${String(d.field)}` : ''}`, () => {
        assert.ok(used.get(level)!.has(d), `no row needs it any more: ${d.why}`);
      });
    }
  }
});
