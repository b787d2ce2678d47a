// Fuzzing the in-band authentication messages and state machines (issue 19): arbitrary and
// mutated bytes through decodeMessage, and arbitrary sequences of Authentication Send /
// Receive through both state machines. Nothing may throw (a peer's bytes are never a crash),
// every call returns at once (no loop depends on peer data), and garbage never authenticates.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ControllerAuth } from '../src/nvme-tcp/auth/controller-auth.js';
import { decodeMessage } from '../src/nvme-tcp/auth/decode.js';
import { HostAuth } from '../src/nvme-tcp/auth/host-auth.js';
import { encodeMessage, type AuthMessage } from '../src/nvme-tcp/auth/messages.js';
import { genDhchapKey } from '../src/nvme-tcp/auth/secret.js';
import { seededRandom } from '../src/nvme-tcp/auth/test-support.js';

const HOST = 'nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555';
const SUBSYS = 'nqn.2024-01.io.nvmemu:fuzz';
const key = genDhchapKey({ hmac: 1, nqn: HOST, secret: new Uint8Array(32).fill(1) });
const ckey = genDhchapKey({ hmac: 0, secret: new Uint8Array(32).fill(2) });
const RUNS = Number(process.env.NVMEMU_FUZZ_RUNS ?? 400);

/** Valid messages of every kind, as seeds for mutation. */
const seeds: AuthMessage[] = [
  {
    kind: 'negotiate',
    tid: 1,
    scc: 0,
    descriptors: [{ authId: 1, hashIds: [1, 2, 3], dhGroupIds: [0, 1] }],
  },
  {
    kind: 'challenge',
    tid: 1,
    hashId: 1,
    dhGroupId: 0,
    seqnum: 5,
    challenge: new Uint8Array(32).fill(3),
    dhValue: new Uint8Array(0),
  },
  {
    kind: 'reply',
    tid: 1,
    seqnum: 7,
    response: new Uint8Array(32).fill(4),
    challenge: new Uint8Array(32).fill(5),
    dhValue: new Uint8Array(0),
  },
  { kind: 'success1', tid: 1, hl: 32, response: new Uint8Array(32).fill(6) },
  { kind: 'success2', tid: 1 },
  { kind: 'failure1', tid: 1, reason: 6 },
  { kind: 'failure2', tid: 1, reason: 1 },
];
const seedBytes = seeds.map((m) => encodeMessage(m));

/** A valid message with a few bytes changed, cut, or extended. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seedBytes),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.uint8Array({ maxLength: 8 }),
  )
  .map(([b, flips, cut, tail]) => {
    const c = Uint8Array.from(b);
    for (const [at, v] of flips) c[at % c.length] = v;
    const cutAt = cut === undefined ? c.length : cut % (c.length + 1);
    return Uint8Array.of(...c.subarray(0, cutAt), ...tail);
  });
const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated);

describe('fuzz: authentication messages and state machines', () => {
  it('decodeMessage never throws and names a reason 06h/07h and a field', () => {
    fc.assert(
      fc.property(anyBytes, (b) => {
        const d = decodeMessage(b);
        if (!d.ok) {
          assert.ok(d.reason === 6 || d.reason === 7, `reason ${d.reason}`);
          assert.ok(d.field.length > 0);
        } else {
          // What decodes re-encodes to a prefix of the input (the rest is zero padding).
          const again = encodeMessage(d.value);
          assert.deepEqual(b.subarray(0, again.length), again);
          assert.ok(b.subarray(again.length).every((x) => x === 0));
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('the controller survives any sequence of Send/Receive and never authenticates garbage', () => {
    const op = fc.oneof(
      anyBytes.map((b) => ({ send: b })),
      fc.integer({ min: 0, max: 5000 }).map((al) => ({ receive: al })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const c = new ControllerAuth({
          hostNqn: HOST,
          subsysNqn: SUBSYS,
          hostSecret: key,
          ctrlSecret: ckey,
          dhGroups: [0, 1],
          random: seededRandom('fuzz'),
        });
        for (const o of ops) {
          if ('send' in o) c.onSend(o.send);
          else {
            const r = c.onReceive(o.receive);
            if (r.ok) assert.ok(r.message.length <= o.receive);
            else assert.ok(r.need > o.receive);
          }
          assert.equal(c.authenticated, false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the host survives any controller answers and never authenticates garbage', () => {
    fc.assert(
      fc.property(
        fc.array(anyBytes, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (answers, bi) => {
          const h = new HostAuth({
            hostNqn: HOST,
            subsysNqn: SUBSYS,
            hostSecret: key,
            ...(bi ? { ctrlSecret: ckey } : {}),
            tid: 1,
            dhGroups: [0, 1],
            random: seededRandom('fuzz-host'),
          });
          h.start();
          for (const a of answers) {
            if (h.state !== 'await-challenge' && h.state !== 'await-success1') break;
            const step = h.onReceive(a);
            if (step.done !== undefined && step.done.ok) {
              // Only a unidirectional Success1 without a response can end well without a key:
              // it still needed a well-formed Challenge first, answered with our own Reply.
              assert.equal(bi, false);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
