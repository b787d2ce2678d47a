// Fuzzing the DH-HMAC-CHAP exchange on the wire against a live target (issue 19 "must show"):
// random sequences of Authentication Send/Receive — random bytes, well-formed messages with
// random fields, bit flips of real messages, wrong command fields — on a fresh admin queue that
// must authenticate. Whatever comes: every command completes (no hang), the target keeps
// serving an authenticated host on another association (no crash), and the fuzzed queue never
// authenticates (its Identify is still Authentication Required, the target says so too).
// NVMEMU_FUZZ_RUNS=N sets the number of runs (default 120).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NvmeTcpController, type CommandResult } from '../src/nvme-tcp/host/index.js';
import { encodeMessage, type AuthMessage } from '../src/nvme-tcp/auth/messages.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import {
  authRecv,
  authSend,
  authTarget,
  HOST,
  KEYS,
  NQN,
  rawQueue,
  until,
  type AuthTarget,
} from './nvme-tcp-auth-harness.js';

const RUNS = Number(process.env.NVMEMU_FUZZ_RUNS ?? 120);

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u16 = fc.integer({ min: 0, max: 0xffff });
const hl = fc.constantFrom(32, 48, 64, 0, 17);

/** Well-formed messages (as the codec can write them) with arbitrary field values. */
const message: fc.Arbitrary<AuthMessage> = fc.oneof(
  fc.record({
    kind: fc.constant('negotiate' as const),
    tid: u16,
    scc: fc.constantFrom(0, 0, 1, 2),
    descriptors: fc.array(
      fc.record({
        authId: fc.constantFrom(1, 1, 2),
        hashIds: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
        dhGroupIds: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 6 }),
      }),
      { minLength: 0, maxLength: 2 },
    ),
  }),
  fc.record({
    kind: fc.constant('reply' as const),
    tid: u16,
    seqnum: fc.integer({ min: 0, max: 0xffffffff }),
    response: hl.chain((n) => bytes(n, n)),
    challenge: fc.option(bytes(32, 32), { nil: undefined }),
    dhValue: fc.oneof(bytes(0, 0), bytes(256, 256), bytes(0, 40)),
  }),
  fc.record({ kind: fc.constant('success2' as const), tid: u16 }),
  fc.record({
    kind: fc.constantFrom('failure2' as const, 'failure1' as const),
    tid: u16,
    reason: fc.integer({ min: 0, max: 9 }),
  }),
  fc.record({
    kind: fc.constant('success1' as const),
    tid: u16,
    hl: fc.constant(32),
    response: fc.option(bytes(32, 32), { nil: undefined }),
  }),
);

type Step =
  | { readonly op: 'send'; readonly payload: Uint8Array; readonly cdw10?: number | undefined }
  | { readonly op: 'recv'; readonly al: number; readonly cdw10?: number | undefined };

const CDW10 = (0xe9 << 24) | 0x10100;
const fields = fc.option(
  fc.constantFrom(CDW10, CDW10, (0xea << 24) | 0x10100, (0xe9 << 24) | 0x20100),
  {
    nil: undefined,
  },
);

function encodeOr(m: AuthMessage): Uint8Array {
  try {
    return encodeMessage(m);
  } catch {
    return new Uint8Array(8);
  }
}

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('send' as const), payload: bytes(1, 300), cdw10: fields }),
  fc.record({ op: fc.constant('send' as const), payload: message.map(encodeOr), cdw10: fields }),
  fc.record({
    op: fc.constant('send' as const),
    payload: fc
      .tuple(message.map(encodeOr), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([m, at, x]) => {
        const c = m.slice();
        c[at % c.length] = c[at % c.length]! ^ x;
        return c;
      }),
  }),
  fc.record({
    op: fc.constant('recv' as const),
    al: fc.constantFrom(4096, 4096, 16, 1, 2048),
    cdw10: fields,
  }),
);

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hang: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('DH-HMAC-CHAP on the wire under fuzzing', () => {
  let t: AuthTarget;
  let good: NvmeTcpController;
  before(async () => {
    t = await authTarget({ dhchap: { dhGroups: [0, 1] } });
    good = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: t.port,
      subnqn: NQN,
      hostnqn: HOST,
      cntlid: 1,
      ioQueues: 1,
      dhchap: { secret: KEYS.host },
    });
  });
  after(async () => {
    await good.disconnect();
    await t.close();
  });

  it(`no crash, no hang, nothing authenticates by mistake (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 7 }), async (steps) => {
        const { q, connect } = await rawQueue(t.port);
        assert.equal(connect.status, 0);
        const a = t.target.fabrics.associations.find((x) =>
          x.admin.peer.endsWith(`:${q.socket.localPort}`),
        );
        try {
          for (const s of steps) {
            if (q.closed) break;
            let r: Promise<CommandResult>;
            if (s.op === 'send')
              r = authSend(q, s.payload, s.cdw10 === undefined ? {} : { cdw10: s.cdw10 });
            else
              r = authRecv(
                q,
                s.al,
                s.cdw10 === undefined ? { readLength: 4096 } : { cdw10: s.cdw10, readLength: 4096 },
              );
            // A closed connection rejects the command: that is an answer too.
            await withDeadline(
              r.catch(() => undefined),
              3000,
              `${s.op}`,
            );
          }
          assert.equal(
            a?.authState?.authenticated(0) ?? false,
            false,
            'the target authenticated the queue',
          );
          if (!q.closed) {
            const id = await withDeadline(
              q
                .submit({ opcode: AdminOpc.IDENTIFY, cdw10: 1 }, { readLength: 4096 })
                .catch(() => undefined),
              3000,
              'Identify',
            );
            if (id !== undefined)
              assert.equal(id.status, 0x4191, 'a command ran on the unauthenticated queue');
          }
        } finally {
          q.close();
          await until(
            () => t.target.fabrics.associations.length === 1,
            3000,
            'the fuzzed association to end',
          );
        }
        // The authenticated host is unaffected.
        const r = await good.ioCommand(
          { opcode: IoOpc.READ, nsid: 1, cdw12: 0 },
          { readLength: 512 },
        );
        assert.equal(r.status, 0);
      }),
      { numRuns: RUNS },
    );
    assert.equal(t.target.counters.authSuccesses, 2);
  });
});
