import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAuthCommand } from './command.js';
import type { ControllerAuth } from './controller-auth.js';
import { dhKeyPair } from './dh.js';
import type { HostAuth } from './host-auth.js';
import { encodeMessage, FailureReason as R } from './messages.js';
import { genDhchapKey, type DhchapSecret } from './secret.js';
import { ctrl, ctrlKey, host, otherKey, SUBSYS } from './sm-fixtures.js';
import { exchange } from './test-support.js';

/** The controller's challenge for a host offer, decoded from the wire. */
function challengeFor(c: ControllerAuth, h: HostAuth): Uint8Array {
  c.onSend(h.start().send!);
  const r = c.onReceive(4096);
  assert.ok(r.ok);
  return r.message;
}

describe('authentication failure cases (every reason code)', () => {
  interface Case {
    name: string;
    /** Runs the scenario; returns [controller failure, host outcome failure]. */
    run: () => { ctrl?: ControllerAuth; hostDone?: ReturnType<HostAuth['onReceive']>['done'] };
    reason: number;
    /** Which side detected it. */
    detectedBy: 'controller' | 'host';
    detail: RegExp;
  }
  const withCtrl = (c: ControllerAuth, h: HostAuth) => ({ ctrl: c, hostDone: exchange(h, c) });
  const cases: Case[] = [
    {
      name: 'wrong host secret',
      run: () => withCtrl(ctrl({ hostSecret: otherKey }), host()),
      reason: R.FAILED,
      detectedBy: 'controller',
      detail: /host response mismatch/,
    },
    {
      name: 'wrong controller secret (bidirectional)',
      run: () => withCtrl(ctrl(), host({ ctrlSecret: genDhchapKey({ hmac: 2, nqn: SUBSYS }) })),
      reason: R.FAILED,
      detectedBy: 'host',
      detail: /controller response mismatch/,
    },
    {
      name: 'bidirectional asked, controller has no secret',
      run: () =>
        withCtrl(
          ctrl({ ctrlSecret: undefined as unknown as DhchapSecret }),
          host({ ctrlSecret: ctrlKey }),
        ),
      reason: R.FAILED,
      detectedBy: 'controller',
      detail: /no controller secret/,
    },
    {
      name: 'Success1 without the controller response',
      run: () => {
        const h = host({ ctrlSecret: ctrlKey });
        const c = ctrl();
        const ch = challengeFor(c, h);
        h.onReceive(ch);
        return {
          hostDone: h.onReceive(
            encodeMessage({ kind: 'success1', tid: 3, hl: 32, response: undefined }),
          ).done,
        };
      },
      reason: R.FAILED,
      detectedBy: 'host',
      detail: /did not authenticate itself/,
    },
    {
      name: 'no DH-HMAC-CHAP descriptor',
      run: () => {
        const c = ctrl();
        c.onSend(
          encodeMessage({
            kind: 'negotiate',
            tid: 9,
            scc: 0,
            descriptors: [{ authId: 2, hashIds: [1], dhGroupIds: [0] }],
          }),
        );
        return { ctrl: c };
      },
      reason: R.PROTOCOL_NOT_USABLE,
      detectedBy: 'controller',
      detail: /no DH-HMAC-CHAP protocol descriptor/,
    },
    {
      name: 'secure channel concatenation requested',
      run: () => {
        const c = ctrl();
        c.onSend(
          encodeMessage({
            kind: 'negotiate',
            tid: 9,
            scc: 1,
            descriptors: [{ authId: 1, hashIds: [1], dhGroupIds: [1] }],
          }),
        );
        return { ctrl: c };
      },
      reason: R.CONCAT_MISMATCH,
      detectedBy: 'controller',
      detail: /secure channel concatenation is not supported/,
    },
    {
      name: 'no common hash (controller)',
      run: () => withCtrl(ctrl({ hashes: [1] }), host({ hashes: [3] })),
      reason: R.HASH_UNUSABLE,
      detectedBy: 'controller',
      detail: /host offers hashes \[3\]/,
    },
    {
      name: 'challenge with a hash the host did not offer',
      run: () => {
        const h = host({ hashes: [1] });
        h.start();
        const ch = encodeMessage({
          kind: 'challenge',
          tid: 3,
          hashId: 2,
          dhGroupId: 0,
          seqnum: 1,
          challenge: new Uint8Array(48),
          dhValue: new Uint8Array(0),
        });
        return { hostDone: h.onReceive(ch).done };
      },
      reason: R.HASH_UNUSABLE,
      detectedBy: 'host',
      detail: /HASHID 0x2 was not offered/,
    },
    {
      name: 'no common DH group (controller)',
      run: () => withCtrl(ctrl({ dhGroups: [0] }), host({ dhGroups: [5] })),
      reason: R.DHGROUP_UNUSABLE,
      detectedBy: 'controller',
      detail: /host offers DH groups \[5\]/,
    },
    {
      name: 'challenge with a DH group the host did not offer',
      run: () => {
        const h = host({ dhGroups: [0, 1] });
        h.start();
        const ch = encodeMessage({
          kind: 'challenge',
          tid: 3,
          hashId: 1,
          dhGroupId: 3,
          seqnum: 1,
          challenge: new Uint8Array(32),
          dhValue: dhKeyPair(3, new Uint8Array(8).fill(1)).publicValue,
        });
        return { hostDone: h.onReceive(ch).done };
      },
      reason: R.DHGROUP_UNUSABLE,
      detectedBy: 'host',
      detail: /DHGID 0x3 was not offered/,
    },
    {
      name: 'Reply with a DH value out of range',
      run: () => {
        const c = ctrl({ dhGroups: [1] });
        const h = host();
        const step = h.onReceive(challengeFor(c, h));
        const bad = step.send!.slice();
        bad.fill(0, 16 + 64); // DH value 0
        c.onSend(bad);
        return { ctrl: c };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'controller',
      detail: /DH value is out of range/,
    },
    {
      name: 'Reply with a DH value on the null group',
      run: () => {
        const c = ctrl({ dhGroups: [0] });
        const h = host();
        challengeFor(c, h);
        c.onSend(
          encodeMessage({
            kind: 'reply',
            tid: 3,
            seqnum: 0,
            response: new Uint8Array(32),
            challenge: undefined,
            dhValue: new Uint8Array(4).fill(1),
          }),
        );
        return { ctrl: c };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'controller',
      detail: /DHVLEN 4 with the null DH group/,
    },
    {
      name: 'Reply with CVALID and SEQNUM 0',
      run: () => {
        const c = ctrl();
        const h = host({ ctrlSecret: ctrlKey, nextSeqnum: () => 0 });
        const step = h.onReceive(challengeFor(c, h));
        c.onSend(step.send!);
        return { ctrl: c };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'controller',
      detail: /SEQNUM 0 with CVALID set/,
    },
    {
      name: 'Reply with HL of another hash',
      run: () => {
        const c = ctrl({ hashes: [1] });
        challengeFor(c, host());
        c.onSend(
          encodeMessage({
            kind: 'reply',
            tid: 3,
            seqnum: 1,
            response: new Uint8Array(48),
            challenge: undefined,
            dhValue: new Uint8Array(0),
          }),
        );
        return { ctrl: c };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'controller',
      detail: /HL 48, the hash needs 32/,
    },
    {
      name: 'malformed Reply (reserved byte set)',
      run: () => {
        const c = ctrl();
        challengeFor(c, host());
        const m = encodeMessage({
          kind: 'reply',
          tid: 3,
          seqnum: 1,
          response: new Uint8Array(32),
          challenge: undefined,
          dhValue: new Uint8Array(0),
        });
        m[9] = 1;
        c.onSend(m);
        return { ctrl: c };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'controller',
      detail: /Reply reserved/,
    },
    {
      name: 'Challenge with a DH value on the null group',
      run: () => {
        const h = host();
        h.start();
        return {
          hostDone: h.onReceive(
            encodeMessage({
              kind: 'challenge',
              tid: 3,
              hashId: 1,
              dhGroupId: 0,
              seqnum: 1,
              challenge: new Uint8Array(32),
              dhValue: new Uint8Array(2).fill(1),
            }),
          ).done,
        };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'host',
      detail: /DHVLEN 2 with the null DH group/,
    },
    {
      name: 'Challenge with a short DH value',
      run: () => {
        const h = host();
        h.start();
        return {
          hostDone: h.onReceive(
            encodeMessage({
              kind: 'challenge',
              tid: 3,
              hashId: 1,
              dhGroupId: 1,
              seqnum: 1,
              challenge: new Uint8Array(32),
              dhValue: new Uint8Array(128).fill(1),
            }),
          ).done,
        };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'host',
      detail: /128 bytes, ffdhe2048 needs 256/,
    },
    {
      name: 'Success1 with a response nobody asked for',
      run: () => {
        const h = host();
        h.onReceive(challengeFor(ctrl(), h));
        return {
          hostDone: h.onReceive(
            encodeMessage({
              kind: 'success1',
              tid: 3,
              hl: 32,
              response: new Uint8Array(32).fill(1),
            }),
          ).done,
        };
      },
      reason: R.INCORRECT_PAYLOAD,
      detectedBy: 'host',
      detail: /RVALID set/,
    },
    {
      name: 'Reply before AUTH_Negotiate',
      run: () => {
        const c = ctrl();
        c.onSend(
          encodeMessage({
            kind: 'reply',
            tid: 3,
            seqnum: 1,
            response: new Uint8Array(32),
            challenge: undefined,
            dhValue: new Uint8Array(0),
          }),
        );
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /Reply in state await-negotiate/,
    },
    {
      name: 'Reply of another transaction',
      run: () => {
        const c = ctrl();
        challengeFor(c, host());
        c.onSend(
          encodeMessage({
            kind: 'reply',
            tid: 4,
            seqnum: 1,
            response: new Uint8Array(32),
            challenge: undefined,
            dhValue: new Uint8Array(0),
          }),
        );
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /Reply T_ID 4, transaction 3/,
    },
    {
      name: 'Success2 after unidirectional authentication',
      run: () => {
        const c = ctrl();
        exchange(host(), c);
        c.onSend(encodeMessage({ kind: 'success2', tid: 3 }));
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /Success2 in state authenticated/,
    },
    {
      name: 'a controller-to-host message sent to the controller',
      run: () => {
        const c = ctrl();
        c.onSend(encodeMessage({ kind: 'success1', tid: 3, hl: 32, response: undefined }));
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /success1 is a controller-to-host message/,
    },
    {
      name: 'unknown AUTH_TYPE',
      run: () => {
        const c = ctrl();
        c.onSend(Uint8Array.of(0x09, 0, 0, 0, 3, 0, 0, 0));
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /AUTH_TYPE: 0x9/,
    },
    {
      name: 'Authentication Receive while a Reply is awaited',
      run: () => {
        const c = ctrl();
        challengeFor(c, host());
        assert.ok(c.onReceive(4096).ok);
        return { ctrl: c };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'controller',
      detail: /Authentication Receive in state await-reply/,
    },
    {
      name: 'Success1 where a Challenge is awaited',
      run: () => {
        const h = host();
        h.start();
        return {
          hostDone: h.onReceive(
            encodeMessage({ kind: 'success1', tid: 3, hl: 32, response: undefined }),
          ).done,
        };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'host',
      detail: /success1 instead of a Challenge/,
    },
    {
      name: 'Challenge of another transaction',
      run: () => {
        const h = host();
        h.start();
        return {
          hostDone: h.onReceive(
            encodeMessage({
              kind: 'challenge',
              tid: 8,
              hashId: 1,
              dhGroupId: 0,
              seqnum: 1,
              challenge: new Uint8Array(32),
              dhValue: new Uint8Array(0),
            }),
          ).done,
        };
      },
      reason: R.INCORRECT_MESSAGE,
      detectedBy: 'host',
      detail: /challenge T_ID 8, transaction 3/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: reason ${c.reason} detected by the ${c.detectedBy}`, () => {
      const r = c.run();
      if (c.detectedBy === 'controller') {
        const ctl = r.ctrl!;
        assert.equal(ctl.authenticated, false);
        assert.equal(ctl.failure?.reason, c.reason);
        assert.equal(ctl.failure?.by, 'local');
        assert.match(ctl.failure?.detail ?? '', c.detail);
        if (r.hostDone === undefined) {
          // The host learns it from AUTH_Failure1 at its next Authentication Receive.
          const f1 = ctl.onReceive(4096);
          assert.ok(f1.ok);
          assert.equal(f1.message[1], 0xf1);
          assert.equal(f1.message[7], c.reason);
          assert.equal(ctl.state, 'failed');
        } else {
          assert.deepEqual(r.hostDone, {
            ok: false,
            failure: { reason: c.reason, by: 'peer', detail: 'AUTH_Failure1 from the controller' },
          });
        }
      } else {
        const done = r.hostDone;
        assert.ok(done !== undefined && !done.ok);
        assert.equal(done.failure.reason, c.reason);
        assert.equal(done.failure.by, 'local');
        assert.match(done.failure.detail, c.detail);
        // and the controller, told by AUTH_Failure2, records the host's reason.
        if (r.ctrl !== undefined) {
          assert.deepEqual(r.ctrl.failure, {
            reason: c.reason,
            by: 'peer',
            detail: 'AUTH_Failure2 from the host',
          });
        }
      }
    });
  }

  it('covers every failure explanation 01h..07h', () => {
    assert.deepEqual([...new Set(cases.map((c) => c.reason))].sort(), [1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('Authentication Send / Receive command fields', () => {
  const ok = { secp: 0xe9, spsp0: 1, spsp1: 1, length: 72 };
  const table: [Partial<typeof ok>, 'send' | 'receive', string | undefined][] = [
    [{}, 'send', undefined],
    [{ secp: 0xea }, 'send', 'SECP'],
    [{ spsp0: 0 }, 'receive', 'SPSP0'],
    [{ spsp1: 2 }, 'send', 'SPSP1'],
    [{ length: 0 }, 'send', 'TL'],
    [{ length: 0 }, 'receive', 'AL'],
    [{ length: 9000 }, 'send', 'TL'],
  ];
  for (const [over, kind, field] of table) {
    it(`${kind} ${JSON.stringify(over)} → ${field ?? 'ok'}`, () => {
      assert.equal(checkAuthCommand(kind, { ...ok, ...over })?.field, field);
    });
  }
});
