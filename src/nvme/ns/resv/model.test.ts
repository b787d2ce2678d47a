// The reservation model against the spec's tables: Base Spec 2.1 Figure 645 (who may read and
// write under each type: holder, registrant, non-registrant) and Figure 646 (command groups,
// including the reservation commands that check themselves), then the semantics of each
// action (§8.19.3-§8.19.8) and the notifications they cause (§8.19.2).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Status, withDnr } from '../../spec/status.js';
import {
  acquire,
  conflict,
  EMPTY,
  MAX_REGISTRANTS,
  powerOn,
  Racqa,
  register,
  release,
  ResvNotice,
  Rrega,
  Rrela,
  Rtype,
  type Outcome,
  type ResvData,
} from './model.js';

const C = withDnr(Status.RESERVATION_CONFLICT);
const INVALID = withDnr(Status.INVALID_FIELD);
const KEYS: Record<string, bigint> = { H: 0xaan, R: 0xbbn, N: 0xccn };

/** The state after `ops`, each expected to succeed. */
function run(d: ResvData, ...ops: ((d: ResvData) => Outcome)[]): ResvData {
  for (const op of ops) {
    const out = op(d);
    assert.equal(out.status, 0, `setup step failed: 0x${out.status.toString(16)}`);
    d = out.next ?? d;
  }
  return d;
}

const reg =
  (host: string, rkey = KEYS[host]!) =>
  (d: ResvData): Outcome =>
    register(d, {
      host,
      cntlid: 1,
      rrega: Rrega.REGISTER,
      iekey: false,
      crkey: 0n,
      nrkey: rkey,
      ptpl: undefined,
    });
const acq =
  (host: string, rtype: number, racqa: number = Racqa.ACQUIRE, prkey = 0n) =>
  (d: ResvData): Outcome =>
    acquire(d, { host, racqa, rtype, crkey: KEYS[host]!, prkey });
const rel =
  (host: string, rtype: number, rrela: number = Rrela.RELEASE) =>
  (d: ResvData): Outcome =>
    release(d, { host, rrela, rtype, crkey: KEYS[host]! });

/** Host H holds a reservation of `rtype`, R is a registrant, N is not registered. */
const held = (rtype: number): ResvData => run(EMPTY, reg('H'), reg('R'), acq('H', rtype));

// Figure 645: Y allowed, N conflict; per role: [read, write].
const FIGURE_645: Record<number, { H: string; R: string; N: string }> = {
  [Rtype.WRITE_EXCLUSIVE]: { H: 'YY', R: 'YN', N: 'YN' },
  [Rtype.EXCLUSIVE_ACCESS]: { H: 'YY', R: 'NN', N: 'NN' },
  [Rtype.WRITE_EXCLUSIVE_REG_ONLY]: { H: 'YY', R: 'YY', N: 'YN' },
  [Rtype.EXCLUSIVE_ACCESS_REG_ONLY]: { H: 'YY', R: 'YY', N: 'NN' },
  [Rtype.WRITE_EXCLUSIVE_ALL_REGS]: { H: 'YY', R: 'YY', N: 'YN' },
  [Rtype.EXCLUSIVE_ACCESS_ALL_REGS]: { H: 'YY', R: 'YY', N: 'NN' },
};

describe('Figure 645/646: read and write command groups under each reservation type', () => {
  for (const [rtype, roles] of Object.entries(FIGURE_645)) {
    for (const role of ['H', 'R', 'N'] as const) {
      it(`type ${rtype}, ${{ H: 'holder', R: 'registrant', N: 'non-registrant' }[role]}: ${roles[role]}`, () => {
        const d = held(Number(rtype));
        const want = roles[role];
        assert.equal(conflict(d, role, 'read'), want[0] === 'Y' ? 0 : C, 'read group');
        assert.equal(conflict(d, role, 'write'), want[1] === 'Y' ? 0 : C, 'write group');
      });
    }
  }

  it('without a reservation nothing conflicts, registered or not', () => {
    const d = run(EMPTY, reg('R'));
    for (const host of ['R', 'N']) {
      assert.equal(conflict(d, host, 'read'), 0);
      assert.equal(conflict(d, host, 'write'), 0);
    }
  });
});

describe('Figure 646: the reservation command groups', () => {
  // Acquire (of another's reservation): C for registrant and non-registrant under every type;
  // Preempt / Preempt and Abort / Release: C for a non-registrant, allowed for a registrant.
  for (let rtype = 1; rtype <= 6; rtype++) {
    it(`type ${rtype}: Acquire conflicts for a registrant and a non-registrant`, () => {
      const d = held(rtype);
      // All Registrants: a registrant is a holder and may acquire the same type (Figure 645).
      const want = rtype >= 5 ? 0 : C;
      assert.equal(acq('R', rtype)(d).status, want, 'registrant, same type');
      assert.equal(acq('R', rtype === 1 ? 2 : 1)(d).status, C, 'registrant, other type');
      assert.equal(acquire(d, { host: 'N', racqa: 0, rtype, crkey: 0xccn, prkey: 0n }).status, C);
    });

    it(`type ${rtype}: Preempt, Preempt and Abort and Release are allowed for a registrant only`, () => {
      const d = held(rtype);
      for (const racqa of [Racqa.PREEMPT, Racqa.PREEMPT_AND_ABORT]) {
        assert.equal(acq('R', rtype, racqa, KEYS.H)(d).status, 0, `registrant racqa ${racqa}`);
        const n = acquire(d, { host: 'N', racqa, rtype, crkey: 0xccn, prkey: KEYS.H! });
        assert.equal(n.status, C, `non-registrant racqa ${racqa}`);
      }
      assert.equal(rel('R', rtype)(d).status, 0, 'registrant release');
      assert.equal(release(d, { host: 'N', rrela: 0, rtype, crkey: 0xccn }).status, C);
    });
  }
});

describe('Reservation Register (§8.19.3, §8.19.4)', () => {
  it('registers, re-registers with the same key, refuses another key; counts generations', () => {
    let d = run(EMPTY, reg('H'));
    assert.equal(d.gen, 1);
    assert.deepEqual(
      d.registrants.map((r) => [r.host, r.rkey]),
      [['H', 0xaan]],
    );
    d = run(d, reg('H'));
    assert.equal(d.gen, 2);
    assert.equal(reg('H', 0x1n)(d).status, C);
  });

  it('unregisters and replaces with the current key, or any key with IEKEY', () => {
    const d = run(EMPTY, reg('H'));
    const base = { host: 'H', cntlid: 1, iekey: false, nrkey: 0x77n, ptpl: undefined };
    assert.equal(register(d, { ...base, rrega: Rrega.UNREGISTER, crkey: 1n }).status, C);
    assert.equal(register(d, { ...base, rrega: Rrega.REPLACE, crkey: 1n }).status, C);
    const replaced = register(d, { ...base, rrega: Rrega.REPLACE, crkey: 1n, iekey: true });
    assert.equal(replaced.next?.registrants[0]?.rkey, 0x77n);
    const gone = register(d, { ...base, rrega: Rrega.UNREGISTER, crkey: 0xaan });
    assert.deepEqual(gone.next?.registrants, []);
    // A host that is not registered cannot unregister or replace.
    assert.equal(
      register(EMPTY, { ...base, rrega: Rrega.REPLACE, crkey: 0n, iekey: true }).status,
      C,
    );
    assert.equal(register(d, { ...base, rrega: 3, crkey: 0n }).status, INVALID);
  });

  it('sets PTPL with CPTPL and keeps it otherwise', () => {
    const d = register(EMPTY, {
      host: 'H',
      cntlid: 1,
      rrega: Rrega.REGISTER,
      iekey: false,
      crkey: 0n,
      nrkey: 5n,
      ptpl: true,
    }).next!;
    assert.equal(d.ptpl, true);
    assert.equal(run(d, reg('R')).ptpl, true);
  });

  it('the holder unregistering releases the reservation; Registrants Only notify the others', () => {
    for (const [rtype, notified] of [
      [Rtype.WRITE_EXCLUSIVE, []],
      [Rtype.WRITE_EXCLUSIVE_REG_ONLY, ['R']],
    ] as const) {
      const d = held(rtype);
      const out = register(d, {
        host: 'H',
        cntlid: 1,
        rrega: Rrega.UNREGISTER,
        iekey: false,
        crkey: 0xaan,
        nrkey: 0n,
        ptpl: undefined,
      });
      assert.equal(out.next?.rtype, 0);
      assert.deepEqual(
        (out.notices ?? []).map((n) => [n.host, n.type]),
        notified.map((h) => [h, ResvNotice.RESERVATION_RELEASED]),
      );
    }
  });

  it('an All Registrants reservation lasts until its last registrant leaves', () => {
    const unreg = (host: string) => (d: ResvData) =>
      register(d, {
        host,
        cntlid: 1,
        rrega: Rrega.UNREGISTER,
        iekey: true,
        crkey: 0n,
        nrkey: 0n,
        ptpl: undefined,
      });
    let d = held(Rtype.EXCLUSIVE_ACCESS_ALL_REGS);
    d = run(d, unreg('H'));
    assert.equal(d.rtype, Rtype.EXCLUSIVE_ACCESS_ALL_REGS);
    assert.equal(conflict(d, 'R', 'write'), 0);
    d = run(d, unreg('R'));
    assert.equal(d.rtype, 0);
  });

  it(`has room for ${MAX_REGISTRANTS} hosts`, () => {
    let d = EMPTY;
    for (let i = 0; i < MAX_REGISTRANTS; i++) d = run(d, reg(`h${i}`, BigInt(i + 1)));
    assert.equal(reg('more', 1n)(d).status, C);
  });
});

describe('Reservation Acquire and Release (§8.19.5-§8.19.8)', () => {
  it('acquires, re-acquires the same type, and refuses another type or key', () => {
    const d = run(EMPTY, reg('H'), acq('H', Rtype.WRITE_EXCLUSIVE));
    assert.equal(d.holder, 'H');
    assert.equal(d.gen, 1, 'Acquire does not count');
    assert.equal(acq('H', Rtype.WRITE_EXCLUSIVE)(d).status, 0);
    assert.equal(acq('H', Rtype.EXCLUSIVE_ACCESS)(d).status, C);
    assert.equal(acquire(d, { host: 'H', racqa: 0, rtype: 1, crkey: 1n, prkey: 0n }).status, C);
  });

  it('preempts the holder: new holder, the preempted host unregistered and notified', () => {
    const d = held(Rtype.WRITE_EXCLUSIVE);
    const out = acq('R', Rtype.EXCLUSIVE_ACCESS, Racqa.PREEMPT, KEYS.H)(d);
    assert.equal(out.status, 0);
    assert.equal(out.next?.holder, 'R');
    assert.equal(out.next?.rtype, Rtype.EXCLUSIVE_ACCESS);
    assert.deepEqual(
      out.next?.registrants.map((r) => r.host),
      ['R'],
    );
    assert.equal(out.next?.gen, d.gen + 1);
    assert.deepEqual(out.notices, [{ host: 'H', type: ResvNotice.REGISTRATION_PREEMPTED }]);
  });

  it('preempting a non-holder key only unregisters it; key 0 is invalid then', () => {
    const d = run(held(Rtype.WRITE_EXCLUSIVE), reg('N'));
    const out = acq('R', Rtype.WRITE_EXCLUSIVE, Racqa.PREEMPT, KEYS.N)(d);
    assert.equal(out.next?.holder, 'H');
    assert.deepEqual(
      out.next?.registrants.map((r) => r.host),
      ['H', 'R'],
    );
    assert.equal(acq('R', Rtype.WRITE_EXCLUSIVE, Racqa.PREEMPT, 0n)(d).status, INVALID);
    assert.equal(acq('R', Rtype.WRITE_EXCLUSIVE, Racqa.PREEMPT, 0x999n)(d).status, C);
  });

  it('preempts an All Registrants reservation with key 0: everyone else goes', () => {
    const d = run(held(Rtype.WRITE_EXCLUSIVE_ALL_REGS), reg('N'));
    const out = acq('R', Rtype.WRITE_EXCLUSIVE, Racqa.PREEMPT, 0n)(d);
    assert.equal(out.next?.holder, 'R');
    assert.deepEqual(
      out.next?.registrants.map((r) => r.host),
      ['R'],
    );
  });

  it('releases (type must match), notifies registrants for other than WE/EA, clears', () => {
    const d = held(Rtype.EXCLUSIVE_ACCESS_REG_ONLY);
    assert.equal(rel('H', Rtype.WRITE_EXCLUSIVE)(d).status, INVALID);
    const out = rel('H', Rtype.EXCLUSIVE_ACCESS_REG_ONLY)(d);
    assert.equal(out.next?.rtype, 0);
    assert.deepEqual(out.notices, [{ host: 'R', type: ResvNotice.RESERVATION_RELEASED }]);
    // A registrant that holds nothing releases nothing, successfully.
    assert.equal(rel('R', 1)(d).next, undefined);
    const cleared = rel('R', 0, Rrela.CLEAR)(d);
    assert.equal(cleared.next?.rtype, 0);
    assert.deepEqual(cleared.next?.registrants, []);
    assert.deepEqual(cleared.notices, [{ host: 'H', type: ResvNotice.RESERVATION_PREEMPTED }]);
  });

  it('a power-on clears everything unless PTPL is set', () => {
    const d = held(Rtype.WRITE_EXCLUSIVE);
    assert.deepEqual(powerOn(d), { ...EMPTY, gen: d.gen });
    assert.equal(powerOn({ ...d, ptpl: true }).holder, 'H');
  });
});
