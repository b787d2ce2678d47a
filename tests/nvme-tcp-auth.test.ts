// DH-HMAC-CHAP end to end on 127.0.0.1 (issue 19; NVMe Base Spec 2.0 §8.13): the target's
// per-queue authentication (nvme-tcp/target/queue-auth.ts through the controller's FabricsAuth
// seam) against the host library (host/auth.ts), and against raw Authentication Send/Receive
// for what a compliant host never sends. Every failure reason, as each side reports it.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NvmeTcpController, NvmeAuthError, AUTHREQ_ATR } from '../src/nvme-tcp/host/index.js';
import type { ConnectOptions, DhchapOptions } from '../src/nvme-tcp/host/index.js';
import { decodeMessage } from '../src/nvme-tcp/auth/decode.js';
import { encodeMessage, FailureReason } from '../src/nvme-tcp/auth/messages.js';
import { IoOpc, AdminOpc } from '../src/nvme/spec/opcodes.js';
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
  type AuthTargetOptions,
} from './nvme-tcp-auth-harness.js';

const AUTH_REQUIRED_DNR = 0x4191;
const INVALID_FIELD_DNR = 0x4002;
const SGL_LENGTH_DNR = 0x400f;

const read0 = { opcode: IoOpc.READ, nsid: 1, cdw10: 0, cdw11: 0, cdw12: 0 };

function opts(
  t: AuthTarget,
  dhchap: DhchapOptions | undefined,
  extra: Partial<ConnectOptions> = {},
): ConnectOptions {
  return {
    address: '127.0.0.1',
    port: t.port,
    subnqn: NQN,
    hostnqn: HOST,
    ioQueues: 2,
    ...(dhchap !== undefined ? { dhchap } : {}),
    ...extra,
  };
}

describe('DH-HMAC-CHAP: successful authentication', () => {
  const rows: {
    name: string;
    target: AuthTargetOptions['dhchap'];
    host: DhchapOptions;
    want: { hash: number; dhGroup: number; bidirectional: boolean };
    log: RegExp;
  }[] = [
    {
      name: 'unidirectional, SHA-256, null group (the target prefers null)',
      target: {},
      host: { secret: KEYS.host.format() },
      want: { hash: 1, dhGroup: 0, bidirectional: false },
      log: /authenticated with hash hmac\(sha256\) dhgroup null$/,
    },
    {
      name: 'bidirectional, SHA-256, ffdhe2048',
      target: {},
      host: { secret: KEYS.host.format(), ctrlSecret: KEYS.ctrl.format(), dhGroups: [1] },
      want: { hash: 1, dhGroup: 1, bidirectional: true },
      log: /authenticated with hash hmac\(sha256\) dhgroup ffdhe2048, bidirectional$/,
    },
    {
      name: 'SHA-512 and ffdhe3072 chosen by the target among the host offer',
      target: { hashes: [3], dhGroups: [2] },
      host: { secret: KEYS.host },
      want: { hash: 3, dhGroup: 2, bidirectional: false },
      log: /hash hmac\(sha512\) dhgroup ffdhe3072$/,
    },
    {
      name: 'bidirectional SHA-384 with ffdhe8192',
      target: { hashes: [2], dhGroups: [5] },
      host: { secret: KEYS.host, ctrlSecret: KEYS.ctrl },
      want: { hash: 2, dhGroup: 5, bidirectional: true },
      log: /hash hmac\(sha384\) dhgroup ffdhe8192, bidirectional$/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const t = await authTarget({ dhchap: row.target });
      try {
        const c = await NvmeTcpController.connect(opts(t, row.host));
        try {
          assert.deepEqual(c.negotiated, row.want);
          // Every queue authenticated on its own, and I/O runs.
          const a = t.target.fabrics.associations[0]!;
          for (const qid of [0, 1, 2]) assert.equal(a.authState?.authenticated(qid), true);
          assert.equal((await c.ioCommand(read0, { readLength: 512 }, 2)).status, 0);
          assert.match(
            t.lines.find((l) => l.includes('qid 0'))!,
            row.log,
          );
          assert.equal(t.target.counters.authSuccesses, 3);
        } finally {
          await c.disconnect();
        }
      } finally {
        await t.close();
      }
    });
  }

  it('re-authenticates every queue while I/O continues (a new AUTH_Negotiate)', async () => {
    const t = await authTarget();
    const c = await NvmeTcpController.connect(
      opts(t, { secret: KEYS.host, ctrlSecret: KEYS.ctrl, dhGroups: [1] }),
    );
    try {
      const io = c.ioCommand(read0, { readLength: 512 }, 1);
      const n = await c.reauthenticate();
      assert.deepEqual(n, { hash: 1, dhGroup: 1, bidirectional: true });
      assert.equal((await io).status, 0);
      assert.equal(t.lines.filter((l) => l.includes('re-authenticated')).length, 3);
      assert.equal(t.target.counters.authSuccesses, 6);
    } finally {
      await c.disconnect();
      await t.close();
    }
  });

  it('x-auth=off: AUTHREQ stays clear and a host with a key connects without authenticating', async () => {
    const t = await authTarget({ auth: 'off' });
    try {
      const c = await NvmeTcpController.connect(opts(t, { secret: KEYS.host }));
      assert.equal(c.negotiated, undefined);
      assert.equal((await c.ioCommand(read0, { readLength: 512 })).status, 0);
      await c.disconnect();
      const { q, connect } = await rawQueue(t.port);
      assert.equal(connect.dw0 & AUTHREQ_ATR, 0);
      q.close();
    } finally {
      await t.close();
    }
  });
});

describe('DH-HMAC-CHAP: every failure, host library against the target', () => {
  const R = FailureReason;
  const rows: {
    name: string;
    target?: AuthTargetOptions;
    host: DhchapOptions | undefined;
    /** The host's NvmeAuthError: reason and who decided it; undefined: no failure object. */
    reason?: number;
    by?: 'peer' | 'local';
    message: RegExp;
    /** The target's log line, if it logs the failure. */
    log?: RegExp;
  }[] = [
    {
      name: 'wrong host key',
      host: { secret: KEYS.wrongHost },
      reason: R.FAILED,
      by: 'peer',
      message: /the controller sent AUTH_Failure1: authentication failed \(reason 0x01\)/,
      log: /authentication failed: authentication failed: host response mismatch \(reason 0x01, AUTH_Failure1 sent\)/,
    },
    {
      name: 'wrong controller key (bidirectional)',
      host: { secret: KEYS.host, ctrlSecret: KEYS.wrongCtrl },
      reason: R.FAILED,
      by: 'local',
      message: /controller response mismatch \(reason 0x01, AUTH_Failure2 sent\)/,
      log: /the host sent AUTH_Failure2: authentication failed \(reason 0x01\)/,
    },
    {
      name: 'bidirectional asked, the target has no controller key',
      target: { dhchap: { ctrlSecret: undefined } },
      host: { secret: KEYS.host, ctrlSecret: KEYS.ctrl },
      reason: R.FAILED,
      by: 'peer',
      message: /AUTH_Failure1: authentication failed/,
      log: /no controller secret/,
    },
    {
      name: 'no hash in common',
      target: { dhchap: { hashes: [1] } },
      host: { secret: KEYS.host, hashes: [3] },
      reason: R.HASH_UNUSABLE,
      by: 'peer',
      message: /hash function not usable \(reason 0x04\)/,
      log: /hash function not usable: host offers hashes \[3\]/,
    },
    {
      name: 'no DH group in common',
      target: { dhchap: { dhGroups: [0, 1] } },
      host: { secret: KEYS.host, dhGroups: [5] },
      reason: R.DHGROUP_UNUSABLE,
      by: 'peer',
      message: /DH group not usable \(reason 0x05\)/,
      log: /DH group not usable: host offers DH groups \[5\]/,
    },
    {
      name: 'no key on the host while the target requires authentication',
      host: undefined,
      message: /requires in-band authentication \(AUTHREQ\.ATR\) and no DH-HMAC-CHAP secret/,
    },
  ];
  for (const row of rows) {
    it(row.name, async () => {
      const t = await authTarget(row.target);
      try {
        const err = await NvmeTcpController.connect(opts(t, row.host)).then(
          () => assert.fail('connected'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof NvmeAuthError, String(err));
        assert.equal(err.code, 'NVME_TCP_AUTH');
        assert.match(err.message, row.message);
        assert.equal(err.failure?.reason, row.reason);
        assert.equal(err.failure?.by, row.by);
        // The association is gone (nvmet ends the controller on a failed transaction).
        await until(() => t.target.fabrics.associations.length === 0, 2000, 'association end');
        if (row.log !== undefined) {
          assert.match(t.lines.join('\n'), row.log);
          assert.equal(t.target.counters.authFailures, 1);
        }
        // No key material in any log line.
        for (const k of Object.values(KEYS)) {
          assert.ok(!t.lines.join('\n').includes(k.format().slice(10, 30)));
        }
      } finally {
        await t.close();
      }
    });
  }

  it('a malformed key is a usage error before any socket opens', async () => {
    const t = await authTarget();
    try {
      await assert.rejects(
        NvmeTcpController.connect(opts(t, { secret: 'DHHC-1:01:AAAA:' })),
        (e: Error & { code?: string }) =>
          e.code === 'NVME_TCP_USAGE' && /dhchap secret: DHHC-1 secret/.test(e.message),
      );
      assert.equal(t.target.counters.connectionsAccepted, 0);
    } finally {
      await t.close();
    }
  });
});

describe('DH-HMAC-CHAP: the wire, command by command', () => {
  let t: AuthTarget;
  const fresh = async (o?: AuthTargetOptions) => {
    await t?.close();
    t = await authTarget(o);
    return t;
  };
  after(() => t?.close());

  const negotiate = (
    o: { tid?: number; scc?: number; authId?: number; hashes?: number[]; groups?: number[] } = {},
  ) =>
    encodeMessage({
      kind: 'negotiate',
      tid: o.tid ?? 7,
      scc: o.scc ?? 0,
      descriptors: [
        { authId: o.authId ?? 1, hashIds: o.hashes ?? [1, 2, 3], dhGroupIds: o.groups ?? [0] },
      ],
    });

  /** Receive, decode, and expect an AUTH_Failure1 with `reason`. */
  async function expectFailure1(q: Awaited<ReturnType<typeof rawQueue>>['q'], reason: number) {
    const r = await authRecv(q);
    assert.equal(r.status, 0);
    const d = decodeMessage(r.data);
    assert.ok(d.ok);
    assert.equal(d.value.kind, 'failure1');
    assert.equal((d.value as { reason: number }).reason, reason);
    await until(() => q.closed, 2000, 'the association to end');
  }

  it('Connect sets AUTHREQ.ATR; until authenticated every non-Fabrics command is Authentication Required', async () => {
    await fresh();
    const { q, connect } = await rawQueue(t.port);
    assert.equal(connect.status, 0);
    assert.equal(connect.dw0 & AUTHREQ_ATR, AUTHREQ_ATR);
    const identify = await q.submit({ opcode: AdminOpc.IDENTIFY, cdw10: 1 }, { readLength: 4096 });
    assert.equal(identify.status, AUTH_REQUIRED_DNR);
    assert.equal((await q.submit({ opcode: AdminOpc.KEEP_ALIVE })).status, AUTH_REQUIRED_DNR);
    // Property Get is a Fabrics command: allowed, as nvmet allows it.
    const cap = await q.submit({ opcode: 0x7f, fctype: 0x04, cdw10: 1, cdw11: 0 });
    assert.equal(cap.status, 0);
    // The refusals are logged in the Error Information log like any failed command.
    const ctrl = t.target.fabrics.associations[0]!.ctrl;
    assert.equal(ctrl.errors.count >= 2n || ctrl.errors.count >= 2, true);
    q.close();
  });

  const fieldRows: { name: string; send: boolean; cdw10?: number; len?: number; want: number }[] = [
    {
      name: 'Send SECP not E9h',
      send: true,
      cdw10: (0xea << 24) | 0x10100,
      want: INVALID_FIELD_DNR,
    },
    {
      name: 'Send SPSP0 not 01h',
      send: true,
      cdw10: (0xe9 << 24) | 0x10200,
      want: INVALID_FIELD_DNR,
    },
    {
      name: 'Send SPSP1 not 01h',
      send: true,
      cdw10: (0xe9 << 24) | 0x20100,
      want: INVALID_FIELD_DNR,
    },
    {
      name: 'Receive SECP not E9h',
      send: false,
      cdw10: (0x00 << 24) | 0x10100,
      want: INVALID_FIELD_DNR,
    },
    { name: 'Receive AL 0', send: false, len: 0, want: INVALID_FIELD_DNR },
    { name: 'Send TL 0', send: true, len: 0, want: INVALID_FIELD_DNR },
    { name: 'Send TL other than the SGL length', send: true, len: 3, want: SGL_LENGTH_DNR },
  ];
  for (const row of fieldRows) {
    it(`command field check: ${row.name}`, async () => {
      await fresh();
      const { q } = await rawQueue(t.port);
      const r = row.send
        ? await authSend(q, negotiate(), {
            ...(row.cdw10 !== undefined ? { cdw10: row.cdw10 } : {}),
            ...(row.len !== undefined ? { tl: row.len } : {}),
          })
        : await authRecv(q, row.len ?? 4096, {
            ...(row.cdw10 !== undefined ? { cdw10: row.cdw10 } : {}),
            readLength: 4096,
          });
      assert.equal(r.status, row.want);
      // A field error is an NVMe status, not an authentication failure: the queue lives on.
      assert.equal(q.closed, false);
      q.close();
    });
  }

  it('AL shorter than the Challenge fails the command; the Challenge waits for a longer one', async () => {
    await fresh();
    const { q } = await rawQueue(t.port);
    assert.equal((await authSend(q, negotiate({ groups: [1] }))).status, 0);
    assert.equal((await authRecv(q, 64)).status, INVALID_FIELD_DNR);
    const r = await authRecv(q, 4096);
    const d = decodeMessage(r.data);
    assert.ok(d.ok && d.value.kind === 'challenge');
    q.close();
  });

  const protocolRows: {
    name: string;
    reason: number;
    steps: (q: Awaited<ReturnType<typeof rawQueue>>['q']) => Promise<void>;
  }[] = [
    {
      name: 'Receive before AUTH_Negotiate: incorrect protocol message',
      reason: FailureReason.INCORRECT_MESSAGE,
      steps: async () => {},
    },
    {
      name: 'secure channel concatenation requested: concatenation mismatch',
      reason: FailureReason.CONCAT_MISMATCH,
      steps: async (q) => void (await authSend(q, negotiate({ scc: 1 }))),
    },
    {
      name: 'no DH-HMAC-CHAP protocol descriptor',
      reason: FailureReason.PROTOCOL_NOT_USABLE,
      steps: async (q) => void (await authSend(q, negotiate({ authId: 2 }))),
    },
    {
      name: 'a Reply with the right length and a wrong response: authentication failed',
      reason: FailureReason.FAILED,
      steps: async (q) => {
        await authSend(q, negotiate());
        const ch = decodeMessage((await authRecv(q)).data);
        assert.ok(ch.ok && ch.value.kind === 'challenge');
        const reply = encodeMessage({
          kind: 'reply',
          tid: 7,
          seqnum: 0,
          response: new Uint8Array(32).fill(0x5a),
          challenge: undefined,
          dhValue: new Uint8Array(0),
        });
        assert.equal((await authSend(q, reply)).status, 0);
      },
    },
    {
      name: 'a Reply whose HL is not the hash length: incorrect payload',
      reason: FailureReason.INCORRECT_PAYLOAD,
      steps: async (q) => {
        await authSend(q, negotiate({ hashes: [1] }));
        await authRecv(q);
        const reply = encodeMessage({
          kind: 'reply',
          tid: 7,
          seqnum: 0,
          response: new Uint8Array(48),
          challenge: undefined,
          dhValue: new Uint8Array(0),
        });
        await authSend(q, reply);
      },
    },
    {
      name: 'a Reply of another transaction: incorrect protocol message',
      reason: FailureReason.INCORRECT_MESSAGE,
      steps: async (q) => {
        await authSend(q, negotiate());
        await authRecv(q);
        const reply = encodeMessage({
          kind: 'reply',
          tid: 8,
          seqnum: 0,
          response: new Uint8Array(32),
          challenge: undefined,
          dhValue: new Uint8Array(0),
        });
        await authSend(q, reply);
      },
    },
    {
      name: 'a controller-to-host message sent by the host: incorrect protocol message',
      reason: FailureReason.INCORRECT_MESSAGE,
      steps: async (q) =>
        void (await authSend(
          q,
          encodeMessage({ kind: 'success1', tid: 7, hl: 32, response: undefined }),
        )),
    },
    {
      name: 'an unknown message type: incorrect protocol message',
      reason: FailureReason.INCORRECT_MESSAGE,
      steps: async (q) => void (await authSend(q, Uint8Array.from([0x10, 0x00, 1, 2, 3, 4, 5, 6]))),
    },
    {
      name: 'an AUTH_Negotiate with a reserved byte set: incorrect payload',
      reason: FailureReason.INCORRECT_PAYLOAD,
      steps: async (q) => {
        const m = negotiate();
        m[2] = 0xff;
        await authSend(q, m);
      },
    },
  ];
  for (const row of protocolRows) {
    it(`protocol failure: ${row.name}`, async () => {
      await fresh();
      const { q } = await rawQueue(t.port);
      await row.steps(q);
      await expectFailure1(q, row.reason);
      assert.equal(t.target.counters.authFailures, 1);
      assert.equal(t.target.fabrics.associations.length, 0);
    });
  }

  it('an AUTH_Failure2 from the host ends the association', async () => {
    await fresh();
    const { q } = await rawQueue(t.port);
    await authSend(q, negotiate());
    await authRecv(q);
    const r = await authSend(q, encodeMessage({ kind: 'failure2', tid: 7, reason: 1 }));
    assert.equal(r.status, 0);
    await until(() => q.closed, 2000, 'association end');
    assert.match(t.lines.join('\n'), /the host sent AUTH_Failure2/);
  });

  it('an I/O queue authenticates on its own: Authentication Required until it did', async () => {
    await fresh();
    const c = await NvmeTcpController.connect(opts(t, { secret: KEYS.host }, { ioQueues: 1 }));
    try {
      const { q, connect } = await rawQueue(t.port, { qid: 2, cntlid: c.cntlid, sqsize: 31 });
      assert.equal(connect.status, 0);
      assert.equal(connect.dw0 & AUTHREQ_ATR, AUTHREQ_ATR);
      assert.equal((await q.submit(read0, { readLength: 512 })).status, AUTH_REQUIRED_DNR);
      const { authenticateQueue } = await import('../src/nvme-tcp/host/auth.js');
      await authenticateQueue(
        q,
        2,
        9,
        { hostnqn: HOST, subnqn: NQN },
        { host: KEYS.host, ctrl: undefined },
      );
      assert.equal((await q.submit(read0, { readLength: 512 })).status, 0);
      q.close();
    } finally {
      await c.disconnect();
    }
  });

  it('a queue that never authenticates is closed after auth-timeout', async () => {
    await fresh({ target: { limits: { authTimeoutMs: 150 } } });
    const { q } = await rawQueue(t.port);
    await until(() => q.closed, 3000, 'the queue to close');
    assert.equal(t.target.counters.authTimeouts, 1);
    assert.match(
      t.lines.join('\n'),
      /qid 0 .*not authenticated within 150 ms; closing \(auth-timeout\)/,
    );
  });

  it('a stalled re-authentication is reset after auth-timeout; the queue stays authenticated', async () => {
    await fresh({ target: { limits: { authTimeoutMs: 150 } } });
    const c = await NvmeTcpController.connect(opts(t, { secret: KEYS.host }, { ioQueues: 1 }));
    try {
      // Start a transaction and abandon it.
      assert.equal((await authSend(c.admin, negotiate({ tid: 99 }))).status, 0);
      await until(
        () => t.lines.some((l) => l.includes('re-authentication stalled')),
        3000,
        'reset',
      );
      assert.equal(t.target.counters.authTimeouts, 1);
      assert.equal((await c.ioCommand(read0, { readLength: 512 })).status, 0);
      const id = await c.adminCommand(
        { opcode: AdminOpc.IDENTIFY, cdw10: 1 },
        { readLength: 4096 },
      );
      assert.equal(id.status, 0);
      // And a new transaction still works.
      await c.reauthenticate();
    } finally {
      await c.disconnect();
    }
  });
});
