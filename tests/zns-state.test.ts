// The zone state machine (ZNS 1.1 Figure 7; reference qemu-nvme.md §6.2): every action from
// every state, valid and invalid, and the active/open/ZRWA resource limits with
// auto-transition — on the ZoneTable directly, so each row names one transition.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import {
  isActive,
  isOpen,
  ZoneState,
  ZoneTable,
  type ZoneLimits,
  type ZoneStateValue,
} from '../src/nvme/ns/zoned/state.js';

const S = ZoneState;
const INVAL = withDnr(Status.ZONE_INVAL_TRANSITION);
const NAMES = new Map<number, string>(Object.entries(S).map(([k, v]) => [v, k]));
const name = (s: number): string => NAMES.get(s) ?? String(s);

function table(limits: Partial<ZoneLimits> = {}, zones = 8): ZoneTable {
  return new ZoneTable(zones, 128, 100, { maxActive: 0, maxOpen: 0, numZrwa: 0, ...limits });
}

/** Brings zone 0 of a fresh table into `s` through legal transitions (or injection). */
function inState(s: ZoneStateValue): ZoneTable {
  const t = table();
  const z = t.zones[0]!;
  switch (s) {
    case S.EMPTY:
      break;
    case S.IMPLICITLY_OPEN:
      t.open(z, 'implicit', false, true);
      break;
    case S.EXPLICITLY_OPEN:
      t.open(z, 'explicit', false, true);
      break;
    case S.CLOSED:
      t.open(z, 'implicit', false, true);
      t.reserve(z, 5);
      t.advance(z, 5);
      t.close(z);
      break;
    case S.FULL:
      t.finish(z);
      break;
    case S.READ_ONLY:
    case S.OFFLINE:
      t.restore(z, s, z.wp, 0);
      break;
  }
  assert.equal(z.state, s);
  return t;
}

/** Counters must always equal what the states imply. */
function assertCounts(t: ZoneTable): void {
  assert.equal(t.openCount, t.zones.filter((z) => isOpen(z.state)).length, 'open count');
  assert.equal(t.activeCount, t.zones.filter((z) => isActive(z.state)).length, 'active count');
}

type Action = 'open' | 'write' | 'close' | 'finish' | 'reset' | 'offline' | 'set-zde';

function act(t: ZoneTable, a: Action): number {
  const z = t.zones[0]!;
  switch (a) {
    case 'open':
      return t.open(z, 'explicit', false, true);
    case 'write':
      return t.open(z, 'implicit', false, true);
    case 'close':
      return t.close(z);
    case 'finish':
      return t.finish(z);
    case 'reset':
      return t.reset(z);
    case 'offline':
      return t.offline(z);
    case 'set-zde':
      return t.setExtension(z, new Uint8Array(64).fill(7));
  }
}

const ALL_STATES: readonly ZoneStateValue[] = [
  S.EMPTY,
  S.IMPLICITLY_OPEN,
  S.EXPLICITLY_OPEN,
  S.CLOSED,
  S.FULL,
  S.READ_ONLY,
  S.OFFLINE,
];

/** Expected result state, or INVAL, per action and starting state (in ALL_STATES order). */
const EXPECT: Record<Action, readonly (ZoneStateValue | 'inval')[]> = {
  open: [
    S.EXPLICITLY_OPEN,
    S.EXPLICITLY_OPEN,
    S.EXPLICITLY_OPEN,
    S.EXPLICITLY_OPEN,
    'inval',
    'inval',
    'inval',
  ],
  write: [
    S.IMPLICITLY_OPEN,
    S.IMPLICITLY_OPEN,
    S.EXPLICITLY_OPEN,
    S.IMPLICITLY_OPEN,
    'inval',
    'inval',
    'inval',
  ],
  close: ['inval', S.CLOSED, S.CLOSED, S.CLOSED, 'inval', 'inval', 'inval'],
  finish: [S.FULL, S.FULL, S.FULL, S.FULL, S.FULL, 'inval', 'inval'],
  reset: [S.EMPTY, S.EMPTY, S.EMPTY, S.EMPTY, S.EMPTY, 'inval', 'inval'],
  offline: ['inval', 'inval', 'inval', 'inval', 'inval', S.OFFLINE, S.OFFLINE],
  'set-zde': [S.CLOSED, 'inval', 'inval', 'inval', 'inval', 'inval', 'inval'],
};

describe('zone state machine: every action from every state', () => {
  for (const [a, row] of Object.entries(EXPECT) as [Action, (ZoneStateValue | 'inval')[]][]) {
    ALL_STATES.forEach((from, i) => {
      const want = row[i]!;
      const label =
        want === 'inval'
          ? `${a} from ${name(from)} is Invalid Zone State Transition + DNR and changes nothing`
          : `${a} from ${name(from)} goes to ${name(want)}`;
      it(label, () => {
        const t = inState(from);
        const z = t.zones[0]!;
        const wpBefore = z.wp;
        const s = act(t, a);
        if (want === 'inval') {
          assert.equal(s, INVAL);
          assert.equal(z.state, from);
          assert.equal(z.wp, wpBefore);
        } else {
          assert.equal(s, Status.SUCCESS);
          assert.equal(z.state, want);
        }
        assertCounts(t);
      });
    });
  }

  it('finish moves the write pointer to the zone capacity; reset back to ZSLBA and clears ZA', () => {
    const t = inState(S.CLOSED);
    const z = t.zones[0]!;
    t.finish(z);
    assert.equal(z.wp, z.zslba + 100);
    t.reset(z);
    assert.deepEqual([z.wp, z.wptr, z.za, z.ext, z.generation], [0, 0, 0, undefined, 1]);
  });

  it('a completed write that reaches the capacity makes the zone Full and frees its resources', () => {
    const t = table({ maxActive: 1, maxOpen: 1 });
    const z = t.zones[1]!;
    assert.equal(t.open(z, 'implicit', false, true), 0);
    t.reserve(z, 100);
    t.advance(z, 100);
    assert.equal(z.state, S.FULL);
    assert.deepEqual([t.openCount, t.activeCount], [0, 0]);
  });

  it('shutdown closes zones with data or an extension and empties the others', () => {
    const t = table();
    const [a, b, c, d] = t.zones;
    t.open(a!, 'implicit', false, true);
    t.reserve(a!, 3);
    t.advance(a!, 3);
    t.open(b!, 'explicit', false, true);
    t.setExtension(c!, new Uint8Array(64));
    t.finish(d!);
    t.shutdown();
    assert.deepEqual(
      t.zones.slice(0, 4).map((z) => name(z.state)),
      ['CLOSED', 'EMPTY', 'CLOSED', 'FULL'],
    );
    assertCounts(t);
  });
});

describe('zone resources (max_active, max_open, numzrwa) and auto-transition', () => {
  it('auto-transition closes the oldest implicitly open zone to open another', () => {
    const t = table({ maxOpen: 2, maxActive: 4 });
    const z = t.zones;
    assert.equal(t.open(z[0]!, 'implicit', false, true), 0);
    assert.equal(t.open(z[1]!, 'implicit', false, true), 0);
    assert.equal(t.open(z[2]!, 'implicit', false, true), 0);
    assert.deepEqual(
      z.slice(0, 3).map((x) => name(x.state)),
      ['CLOSED', 'IMPLICITLY_OPEN', 'IMPLICITLY_OPEN'],
    );
    assert.deepEqual([t.openCount, t.activeCount], [2, 3]);
  });

  it('an explicit open also auto-closes an implicitly open zone (QEMU 7.2, measured)', () => {
    const t = table({ maxOpen: 2 });
    const z = t.zones;
    t.open(z[0]!, 'explicit', false, true);
    t.open(z[1]!, 'implicit', false, true);
    assert.equal(t.open(z[2]!, 'explicit', false, true), 0);
    assert.deepEqual(
      z.slice(0, 3).map((x) => name(x.state)),
      ['EXPLICITLY_OPEN', 'CLOSED', 'EXPLICITLY_OPEN'],
    );
  });

  it('explicitly open zones are never auto-closed: Too Many Open Zones + DNR', () => {
    const t = table({ maxOpen: 2 });
    const z = t.zones;
    t.open(z[0]!, 'explicit', false, true);
    t.open(z[1]!, 'explicit', false, true);
    assert.equal(t.open(z[2]!, 'implicit', false, true), withDnr(Status.ZONE_TOO_MANY_OPEN));
    assert.equal(z[2]!.state, S.EMPTY);
  });

  it('without auto-transition a write needing an open resource fails with Too Many Open', () => {
    const t = table({ maxOpen: 1 });
    t.open(t.zones[0]!, 'implicit', false, false);
    assert.equal(t.open(t.zones[1]!, 'implicit', false, false), withDnr(Status.ZONE_TOO_MANY_OPEN));
    assert.equal(t.zones[0]!.state, S.IMPLICITLY_OPEN);
  });

  it('an Empty zone needs an active resource: Too Many Active Zones + DNR', () => {
    const t = table({ maxActive: 2, maxOpen: 2 });
    const z = t.zones;
    t.open(z[0]!, 'implicit', false, true);
    t.open(z[1]!, 'implicit', false, true);
    assert.equal(t.open(z[2]!, 'implicit', false, true), withDnr(Status.ZONE_TOO_MANY_ACTIVE));
    // Closed zones stay active, so closing does not help; finishing does.
    t.close(z[0]!);
    assert.equal(t.open(z[2]!, 'explicit', false, true), withDnr(Status.ZONE_TOO_MANY_ACTIVE));
    t.finish(z[0]!);
    assert.equal(t.open(z[2]!, 'explicit', false, true), 0);
    assertCounts(t);
  });

  it('reopening a Closed zone needs only an open resource', () => {
    const t = table({ maxActive: 2, maxOpen: 1 });
    const z = t.zones;
    t.open(z[0]!, 'explicit', false, true);
    t.close(z[0]!);
    t.open(z[1]!, 'explicit', false, true);
    assert.equal(t.open(z[0]!, 'implicit', false, true), withDnr(Status.ZONE_TOO_MANY_OPEN));
    t.close(z[1]!);
    assert.equal(t.open(z[0]!, 'implicit', false, true), 0);
  });

  it('Set Zone Descriptor Extension takes an active resource', () => {
    const t = table({ maxActive: 1 });
    assert.equal(t.setExtension(t.zones[0]!, new Uint8Array(64)), 0);
    assert.equal(
      t.setExtension(t.zones[1]!, new Uint8Array(64)),
      withDnr(Status.ZONE_TOO_MANY_ACTIVE),
    );
  });

  it('ZRWA resources: numzrwa limits allocations, finish and reset return them', () => {
    const t = table({ numZrwa: 1 });
    const z = t.zones;
    assert.equal(t.open(z[0]!, 'explicit', true, true), 0);
    assert.equal(t.zrwaCount, 1);
    assert.equal(t.open(z[1]!, 'explicit', true, true), withDnr(Status.ZONE_NO_ZRWA));
    assert.equal(z[1]!.state, S.EMPTY);
    t.finish(z[0]!);
    assert.equal(t.zrwaCount, 0);
    assert.equal(t.open(z[1]!, 'explicit', true, true), 0);
    t.reset(z[1]!);
    assert.equal(t.zrwaCount, 0);
  });

  it('lists keep the order zones entered a state (Select All walks them oldest first)', () => {
    const t = table();
    const z = t.zones;
    for (const i of [3, 1, 2]) {
      t.open(z[i]!, 'explicit', false, true);
      t.close(z[i]!);
    }
    assert.deepEqual(
      t.inState(S.CLOSED).map((x) => x.index),
      [3, 1, 2],
    );
  });
});
