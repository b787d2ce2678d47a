// DH-HMAC-CHAP on the queues of one association (NVMe Base Spec 2.0 §8.13, NVMe-oF §3.3;
// reference linux-nvme-auth-tls.md): the FabricsAuth the controller core calls for
// Authentication Send/Receive (nvme/ctrl/fabrics.ts), one phase-1 ControllerAuth per queue.
//
// As nvmet (drivers/nvme/target/fabrics-cmd-auth.c):
// - every queue authenticates on its own (Linux authenticates the admin queue, then each I/O
//   queue); until it did, its other commands fail with Authentication Required;
// - the command fields are checked first (SECP E9h, SPSP0/SPSP1 01h, TL/AL not 0: Invalid Field
//   with DNR), and the SGL must describe exactly TL/AL bytes;
// - a failed transaction (AUTH_Failure1 delivered, or AUTH_Failure2 received) ends the
//   association, as nvmet_ctrl_fatal_error does, after the command's completion is sent;
// - a new AUTH_Negotiate re-authenticates; the queue stays usable meanwhile;
// - a transaction that stalls is reset, as nvmet's auth_expired_work does; a queue that never
//   authenticates within the auth-timeout is closed (nvmet would wait for KATO).

import { checkAuthCommand } from '../auth/command.js';
import { describeNegotiated, explainFailure } from '../auth/common.js';
import { ControllerAuth, type ControllerAuthState } from '../auth/controller-auth.js';
import type { HostDhchap } from '../config/host-object.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import type { CommandContext } from '../../nvme/spec/namespace-api.js';
import { rejected, type Completion } from '../../nvme/spec/transfer.js';
import type { FabricsAuth } from '../../nvme/ctrl/state.js';

/** What the association gives its authentication. */
export interface QueueAuthContext {
  readonly hostnqn: string;
  readonly subnqn: string;
  readonly dhchap: HostDhchap;
  readonly timeoutMs: number;
  /** "host H qid Q (addr:port)" for log lines. */
  who(qid: number): string;
  log(line: string): void;
  /** Counts a success, failure or timeout (TargetCounters). */
  count(what: 'success' | 'failure' | 'timeout'): void;
  /** Sign of life on the admin queue (restarts the Keep Alive timer). */
  alive(): void;
  /** A transaction failed: end the association once the completion has gone out. */
  failed(qid: number, why: string): void;
  /** Queue `qid` did not authenticate in time: close it (the association, for qid 0). */
  timedOut(qid: number): void;
}

interface QueueState {
  readonly sm: ControllerAuth;
  /** Authenticated once; stays true while a re-authentication runs. */
  authenticated: boolean;
  timer: NodeJS.Timeout | undefined;
}

const OK: Completion = { status: 0 };
const IN_PROGRESS: ReadonlySet<ControllerAuthState> = new Set([
  'send-challenge',
  'await-reply',
  'send-success1',
  'await-success2',
  'send-failure1',
]);

/** The SECP/SPSP0/SPSP1 fields of CDW10 and TL/AL in CDW11 (Figure 545/547). */
function fieldsOf(ctx: CommandContext): {
  secp: number;
  spsp0: number;
  spsp1: number;
  length: number;
} {
  const cdw10 = ctx.cmd.cdw10;
  return {
    secp: cdw10 >>> 24,
    spsp1: (cdw10 >>> 16) & 0xff,
    spsp0: (cdw10 >>> 8) & 0xff,
    length: ctx.cmd.cdw11 >>> 0,
  };
}

const FIELD: Record<string, string> = {
  SECP: 'cdw10.secp',
  SPSP0: 'cdw10.spsp0',
  SPSP1: 'cdw10.spsp1',
  TL: 'cdw11',
  AL: 'cdw11',
};

export class AssociationAuth implements FabricsAuth {
  readonly #ctx: QueueAuthContext;
  readonly #queues = new Map<number, QueueState>();
  #closed = false;

  constructor(ctx: QueueAuthContext) {
    this.#ctx = ctx;
  }

  /** Queue `qid` connected with AUTHREQ.ATR set: it must authenticate within the timeout. */
  queueConnected(qid: number): void {
    const d = this.#ctx.dhchap;
    const sm = new ControllerAuth({
      hostNqn: this.#ctx.hostnqn,
      subsysNqn: this.#ctx.subnqn,
      hostSecret: d.hostSecret,
      hashes: d.hashes,
      dhGroups: d.dhGroups,
      ...(d.ctrlSecret !== undefined ? { ctrlSecret: d.ctrlSecret } : {}),
    });
    const q: QueueState = { sm, authenticated: false, timer: undefined };
    this.#queues.set(qid, q);
    this.#arm(qid, q);
  }

  queueClosed(qid: number): void {
    const q = this.#queues.get(qid);
    if (q !== undefined) clearTimeout(q.timer);
    this.#queues.delete(qid);
  }

  /** The association ended: no timer survives it. */
  close(): void {
    this.#closed = true;
    for (const q of this.#queues.values()) clearTimeout(q.timer);
    this.#queues.clear();
  }

  /** Whether queue `qid` authenticated (the monitor; unknown queues are not). */
  authenticated(qid: number): boolean {
    return this.#queues.get(qid)?.authenticated === true;
  }

  /** What queue `qid` negotiated last (the monitor), e.g. "hash hmac(sha256) dhgroup null". */
  negotiated(qid: number): string | undefined {
    const n = this.#queues.get(qid)?.sm.negotiated;
    return n === undefined ? undefined : describeNegotiated(n);
  }

  // ---- FabricsAuth ------------------------------------------------------------------------------

  pending(sqid: number): boolean {
    return this.#queues.get(sqid)?.authenticated !== true;
  }

  send(ctx: CommandContext): Completion {
    const f = fieldsOf(ctx);
    const problem = checkAuthCommand('send', f);
    if (problem !== undefined)
      return rejected(withDnr(Status.INVALID_FIELD), FIELD[problem.field]!);
    if (ctx.data.length !== f.length) return rejected(withDnr(Status.DATA_SGL_LEN_INVALID), 'dptr');
    const q = this.#queues.get(ctx.sqid);
    if (q === undefined) return rejected(withDnr(Status.COMMAND_SEQUENCE_ERROR), 'opcode');
    const payload = ctx.data.fromHost(0, f.length);
    if (typeof payload === 'number') return { status: payload };
    const before = q.sm.state;
    q.sm.onSend(payload);
    this.#after(ctx.sqid, q, before);
    return OK;
  }

  receive(ctx: CommandContext): Completion {
    const f = fieldsOf(ctx);
    const problem = checkAuthCommand('receive', f);
    if (problem !== undefined)
      return rejected(withDnr(Status.INVALID_FIELD), FIELD[problem.field]!);
    if (ctx.data.length !== f.length) return rejected(withDnr(Status.DATA_SGL_LEN_INVALID), 'dptr');
    const q = this.#queues.get(ctx.sqid);
    if (q === undefined) return rejected(withDnr(Status.COMMAND_SEQUENCE_ERROR), 'opcode');
    const before = q.sm.state;
    const r = q.sm.onReceive(f.length);
    // AL shorter than the message: the command fails and the message waits (nvmet: error).
    if (!r.ok) return rejected(withDnr(Status.INVALID_FIELD), 'cdw11');
    const status = ctx.data.toHost(0, r.message);
    this.#after(ctx.sqid, q, before);
    return status === 0 ? OK : { status };
  }

  // ---- transitions ------------------------------------------------------------------------------

  #after(qid: number, q: QueueState, before: ControllerAuthState): void {
    if (qid === 0) this.#ctx.alive();
    const now = q.sm.state;
    switch (now) {
      case 'authenticated':
        clearTimeout(q.timer);
        q.timer = undefined;
        if (before !== 'authenticated') {
          const again = q.authenticated;
          q.authenticated = true;
          this.#ctx.count('success');
          // Linux logs qid 0 only; so do we (an I/O queue's success is the usual case).
          if (qid === 0 || again) {
            const n = q.sm.negotiated;
            this.#ctx.log(
              `${this.#ctx.who(qid)}: ${again ? 're-authenticated' : 'authenticated'} with ` +
                `${n === undefined ? 'unknown parameters' : describeNegotiated(n)}`,
            );
          }
        }
        return;
      case 'failed': {
        clearTimeout(q.timer);
        q.timer = undefined;
        const f = q.sm.failure;
        const why = f === undefined ? 'failed' : explainFailure(f, 'controller');
        this.#ctx.count('failure');
        this.#ctx.log(`${this.#ctx.who(qid)}: authentication failed: ${why}`);
        this.#ctx.failed(qid, `authentication failed: ${why}`);
        return;
      }
      case 'await-negotiate':
      case 'send-challenge':
      case 'await-reply':
      case 'send-success1':
      case 'await-success2':
      case 'send-failure1':
        if (IN_PROGRESS.has(now) || !q.authenticated) this.#arm(qid, q);
        return;
    }
  }

  /** (Re)starts the queue's timer: authenticate in time, or finish the transaction in time. */
  #arm(qid: number, q: QueueState): void {
    clearTimeout(q.timer);
    q.timer = setTimeout(() => this.#expired(qid, q), this.#ctx.timeoutMs);
    q.timer.unref();
  }

  #expired(qid: number, q: QueueState): void {
    q.timer = undefined;
    if (this.#closed || this.#queues.get(qid) !== q) return;
    this.#ctx.count('timeout');
    if (q.authenticated) {
      // A re-authentication stalled: forget it, the queue stays authenticated (nvmet).
      q.sm.reset();
      this.#ctx.log(
        `${this.#ctx.who(qid)}: re-authentication stalled for ${this.#ctx.timeoutMs} ms; reset (auth-timeout)`,
      );
      return;
    }
    this.#ctx.log(
      `${this.#ctx.who(qid)}: not authenticated within ${this.#ctx.timeoutMs} ms; closing (auth-timeout)`,
    );
    this.#ctx.timedOut(qid);
  }
}
