// Property: random sequences of zone commands (writes at or off the WP, appends, Zone
// Management Send actions with and without Select All, shutdowns) keep the zone invariants:
// open <= max_open, active <= max_active, the counters equal what the states imply, and a
// zone's write pointer only moves forward until the zone is reset (reference §6.2).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Status } from '../src/nvme/spec/status.js';
import { isActive, isOpen, ZoneState } from '../src/nvme/ns/zoned/state.js';
import { Zsa } from '../src/nvme/ns/zoned/commands.js';
import {
  appendTo,
  tempZoned,
  writeAt,
  ZONE_BLOCKS,
  zms,
  zonedCtrl,
} from '../src/nvme/ns/zoned/fixtures.js';

const ZONES = 6;

const opArb = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    zone: fc.nat(ZONES - 1),
    atWp: fc.boolean(),
    nlb: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('append' as const),
    zone: fc.nat(ZONES - 1),
    nlb: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('zms' as const),
    zone: fc.nat(ZONES - 1),
    zsa: fc.constantFrom(Zsa.OPEN, Zsa.CLOSE, Zsa.FINISH, Zsa.RESET, Zsa.OFFLINE),
    all: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('shutdown' as const) }),
);

const limitsArb = fc
  .record({ maxActive: fc.integer({ min: 0, max: 4 }), maxOpen: fc.integer({ min: 0, max: 4 }) })
  .map(({ maxActive, maxOpen }) => {
    // QEMU's constraints: max_open <= max_active, and 0 max_open becomes max_active.
    if (maxActive !== 0 && (maxOpen === 0 || maxOpen > maxActive)) maxOpen = maxActive;
    return { maxActive, maxOpen };
  });

describe('random zone command sequences keep the zone invariants', () => {
  it('open <= max_open, active <= max_active, counters exact, WP monotonic until reset', async () => {
    await fc.assert(
      fc.asyncProperty(
        limitsArb,
        fc.boolean(),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        async (limits, autoTransition, ops) => {
          const t = await tempZoned(limits, { zones: ZONES });
          const ctrl = zonedCtrl({ zonedAutoTransition: autoTransition });
          const table = t.ns.zoned!.table;
          const lastWp = table.zones.map((z) => z.wp);
          try {
            for (const op of ops) {
              const z = table.zones['zone' in op ? op.zone : 0]!;
              const resetsBefore = table.zones.map((x) => x.generation);
              let status: number = Status.SUCCESS;
              switch (op.kind) {
                case 'write':
                  status = (await writeAt(t, op.atWp ? z.wp : z.wp + 1, op.nlb, ctrl)).status;
                  break;
                case 'append':
                  status = (await appendTo(t, z.zslba, op.nlb, ctrl)).status;
                  break;
                case 'zms':
                  status = (await zms(t, op.zsa, z.zslba, { all: op.all, ctrl })).status;
                  break;
                case 'shutdown':
                  await t.ns.shutdown();
                  break;
              }
              assert.ok(status === 0 || (status & 0x4000) !== 0, 'zone errors carry DNR');
              const open = table.zones.filter((x) => isOpen(x.state)).length;
              const active = table.zones.filter((x) => isActive(x.state)).length;
              assert.equal(table.openCount, open);
              assert.equal(table.activeCount, active);
              if (limits.maxOpen !== 0) assert.ok(open <= limits.maxOpen, `open ${open}`);
              if (limits.maxActive !== 0) assert.ok(active <= limits.maxActive, `active ${active}`);
              table.zones.forEach((x, i) => {
                const reset = x.generation !== resetsBefore[i];
                if (!reset) assert.ok(x.wp >= lastWp[i]!, `zone ${i} WP went back`);
                assert.ok(x.wp >= x.zslba && x.wp <= x.zslba + ZONE_BLOCKS, 'WP inside the zone');
                if (x.state === ZoneState.EMPTY) assert.equal(x.wp, x.zslba);
                lastWp[i] = x.wp;
              });
            }
          } finally {
            await t.cleanup();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
