// Connect and the routing of commands to controllers (reference nvme-tcp.md §2.1–§2.5): the
// CommandSink of every connection of every port. Connect (on a queue that is not bound yet)
// chooses a controller of the subsystem, binds it to a new association (admin queue) or adds an
// I/O queue to one; every other command goes to the bound controller's execute(), where the
// fabrics personality answers Property Get/Set, Keep Alive and the rest. This is the only place
// that knows which connection belongs to which association.
//
// Connect also decides what a host must do (docs/security.md): a host whose subsystem lists it
// with a dhchap-secret gets AUTHREQ.ATR in the response on every queue and authenticates each
// one (queue-auth.ts); a connection that came through TLS may only Connect as the host and to
// the subsystem of its PSK identity; the per-host limits (queue depth, I/O queues) apply here.

import { readU16le, readU8 } from '../../util/bytes.js';
import type { NvmeCmd } from '../../nvme/spec/command.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import { FcType } from '../../nvme/ctrl/fabrics.js';
import type { Controller } from '../../nvme/ctrl/controller.js';
import type { MaybePromise } from '../../util/maybe.js';
import type { FabricsSubsystem, SubsystemSource } from './backend.js';
import { Association, AUTHREQ_ATR } from './association.js';
import type { CommandSink, TargetConnection } from './connection.js';
import type { TargetCounters, TargetLimits, TargetLog } from './limits.js';
import { AssociationAuth } from './queue-auth.js';
import type { HostDhchap } from '../config/host-object.js';

export { FcType };

/** Connect command-specific statuses (SCT 1, §2.2). */
export const ConnectStatus = {
  INCOMPATIBLE_FORMAT: 0x180,
  CONTROLLER_BUSY: 0x181,
  INVALID_PARAMETERS: 0x182,
  RESTART_DISCOVERY: 0x183,
  INVALID_HOST: 0x184,
} as const;

/** Connect data layout (1024 bytes, §2.2) and the SQE offsets reported as IPO. */
export const ConnectOff = {
  hostid: 0,
  cntlid: 16,
  subnqn: 256,
  hostnqn: 512,
  sqeQid: 42,
  sqeSqsize: 44,
} as const;
export const CONNECT_DATA_LEN = 1024;

const CNTLID_DYNAMIC = 0xffff;
const CNTLID_ANY_STATIC = 0xfffe;

export interface FabricsOptions {
  /** Added to KATO before an association is torn down (§2.4: be generous). */
  readonly katoGraceMs: number;
  /** In-capsule bytes on I/O queues (for IOCCSZ). */
  readonly inCapsuleSize: number;
  readonly limits: TargetLimits;
  readonly counters: TargetCounters;
  readonly log: TargetLog;
}

/** An association begins (admin queue Connect succeeded) or ends (§2.5). */
export type AssociationListener = (event: 'connected' | 'disconnected', a: Association) => void;

interface QueueState {
  readonly assoc: Association;
  readonly qid: number;
}

/** IPO/IATTR of an Invalid Parameters status: offset, and whether it lies in the Connect data. */
function invalidParam(offset: number, inData: boolean): Completion {
  return {
    status: withDnr(ConnectStatus.INVALID_PARAMETERS),
    dw0: offset | (inData ? 1 << 16 : 0),
    field: inData ? 'dptr' : offset === ConnectOff.sqeQid ? 'cdw10' : 'cdw11',
  };
}

function nqnAt(data: Uint8Array, off: number): string {
  const field = data.subarray(off, off + 256);
  const end = field.indexOf(0);
  return Buffer.from(field.subarray(0, end < 0 ? field.length : end)).toString('latin1');
}

export class FabricsTarget implements CommandSink {
  readonly #source: SubsystemSource;
  readonly #extra: FabricsSubsystem[] = [];
  readonly #queues = new Map<TargetConnection, QueueState>();
  readonly #live = new Set<Association>();
  readonly #opts: FabricsOptions;
  #nextDiscoveryCntlid = 1;
  readonly #listeners = new Set<AssociationListener>();

  constructor(source: SubsystemSource, opts: FabricsOptions) {
    this.#source = source;
    this.#opts = opts;
  }

  /** Serves `s` too (the discovery subsystem; tests). */
  addSubsystem(s: FabricsSubsystem): void {
    this.#extra.push(s);
  }

  /** The subsystems served now (the machine's, read live, and the added ones). */
  get subsystems(): readonly FabricsSubsystem[] {
    return [...this.#source(), ...this.#extra];
  }

  /** Calls `fn` when an association begins or ends (monitor events); returns an unsubscribe. */
  onAssociation(fn: AssociationListener): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  /** Live associations (tests, `describe`, the monitor). */
  get associations(): Association[] {
    return [...this.#live];
  }

  /**
   * Path faults (src/faults/path-loss.ts), consulted before every command of a connection with
   * the connection's subsystem (undefined before Connect): a promise holds the command while
   * the path is stalled; a dropped path has closed the socket and never settles.
   */
  pathGate:
    ((conn: TargetConnection, subnqn: string | undefined) => Promise<void> | undefined) | undefined;

  execute(conn: TargetConnection, cmd: NvmeCmd, data: HostData): MaybePromise<Completion> {
    const gate = this.pathGate?.(conn, this.#queues.get(conn)?.assoc.subsys.nqn);
    if (gate !== undefined) return gate.then(() => this.#route(conn, cmd, data));
    return this.#route(conn, cmd, data);
  }

  #route(conn: TargetConnection, cmd: NvmeCmd, data: HostData): MaybePromise<Completion> {
    const q = this.#queues.get(conn);
    if (q !== undefined) return q.assoc.ctrl.execute(q.qid, cmd, data);
    // §2.1: before Connect only Connect is legal.
    if (cmd.opcode !== AdminOpc.FABRICS || (cmd.nsid & 0xff) !== FcType.CONNECT) {
      return { status: withDnr(Status.INVALID_OPCODE), field: 'opcode' };
    }
    return this.#connect(conn, cmd, data);
  }

  closed(conn: TargetConnection): void {
    const q = this.#queues.get(conn);
    if (q === undefined) return;
    this.#queues.delete(conn);
    if (q.qid === 0) this.#destroy(q.assoc, 'admin queue closed');
    else if (q.assoc.io.get(q.qid) === conn) {
      q.assoc.io.delete(q.qid);
      q.assoc.authState?.queueClosed(q.qid);
    }
  }

  /** Ends every association (port shutdown). */
  closeAll(): void {
    for (const a of this.associations) this.#destroy(a, 'target shut down');
  }

  #connect(conn: TargetConnection, cmd: NvmeCmd, data: HostData): Completion {
    const recfmt = cmd.cdw10 & 0xffff;
    const qid = cmd.cdw10 >>> 16;
    const sqsize = cmd.cdw11 & 0xffff;
    const cattr = (cmd.cdw11 >>> 16) & 0xff;
    const kato = cmd.cdw12 >>> 0;
    if (recfmt !== 0) return { status: withDnr(ConnectStatus.INCOMPATIBLE_FORMAT), field: 'cdw10' };
    if (data.length !== CONNECT_DATA_LEN) {
      return { status: withDnr(Status.DATA_SGL_LEN_INVALID), field: 'dptr' };
    }
    const raw = data.fromHost(0, CONNECT_DATA_LEN);
    if (typeof raw === 'number') return { status: raw };
    // The socket may have gone while the capsule was processed: bind nothing to it.
    if (conn.closed) return { status: Status.ABORT_REQUESTED };
    const subnqn = nqnAt(raw, ConnectOff.subnqn);
    const hostnqn = nqnAt(raw, ConnectOff.hostnqn);
    const cntlid = readU16le(raw, ConnectOff.cntlid);
    const subsys = this.subsystems.find((s) => s.nqn === subnqn);
    if (subsys === undefined) return invalidParam(ConnectOff.subnqn, true);
    if (subsys.allowedHosts !== undefined && !subsys.allowedHosts.includes(hostnqn)) {
      return { status: withDnr(ConnectStatus.INVALID_HOST), field: 'dptr' };
    }
    const tls = conn.tls;
    if (tls !== undefined && (tls.hostnqn !== hostnqn || tls.subnqn !== subnqn)) {
      // A PSK authenticates one host to one subsystem: it must not open any other.
      this.#opts.counters.tlsIdentityMismatches++;
      this.#opts.log.line(
        `${conn.peer}: Connect as ${hostnqn} to ${subnqn} refused: the TLS PSK identity is ` +
          `for ${tls.hostnqn} to ${tls.subnqn}`,
      );
      return { status: withDnr(ConnectStatus.INVALID_HOST), field: 'dptr' };
    }
    if (sqsize + 1 > this.#opts.limits.maxQueueDepth) {
      const max = this.#opts.limits.maxQueueDepth;
      this.#refuseQueue(
        conn,
        hostnqn,
        qid,
        `queue of ${sqsize + 1} entries (max ${max})`,
        'max-queue-depth',
      );
      return invalidParam(ConnectOff.sqeSqsize, false);
    }
    const hostid = raw.slice(ConnectOff.hostid, ConnectOff.hostid + 16);
    if (qid === 0) {
      return this.#connectAdmin(conn, { subsys, hostnqn, hostid, cntlid, sqsize, cattr, kato });
    }
    const a = this.associations.find(
      (x) => x.subsys.nqn === subsys.nqn && x.ctrl.cntlid === cntlid && x.hostnqn === hostnqn,
    );
    if (a === undefined) return invalidParam(ConnectOff.cntlid, true);
    if (!a.ready) return { status: withDnr(Status.COMMAND_SEQUENCE_ERROR), field: 'cdw10' };
    if (qid > a.ctrl.params.maxIoqpairs || a.io.has(qid)) {
      return invalidParam(ConnectOff.sqeQid, false);
    }
    if (sqsize === 0 || sqsize > mqes(a.ctrl)) return invalidParam(ConnectOff.sqeSqsize, false);
    const held = this.associations
      .filter((x) => x.hostnqn === hostnqn)
      .reduce((n, x) => n + x.io.size, 0);
    if (held >= this.#opts.limits.maxIoQueuesPerHost) {
      const max = this.#opts.limits.maxIoQueuesPerHost;
      this.#refuseQueue(
        conn,
        hostnqn,
        qid,
        `I/O queue beyond ${max} for this host`,
        'max-io-queues-per-host',
      );
      return invalidParam(ConnectOff.sqeQid, false);
    }
    a.io.set(qid, conn);
    a.ctrl.qsCreated = true;
    this.#queues.set(conn, { assoc: a, qid });
    conn.bind({ qid, sqsize, sqFlowDisabled: (cattr & 4) !== 0, maxTransfer: a.ctrl.mdtsBytes });
    a.authState?.queueConnected(qid);
    return a.authState === undefined ? { status: 0 } : { status: 0, dw0: AUTHREQ_ATR };
  }

  /** A per-host limit refused a queue's Connect: one log line (rate limited), one count. */
  #refuseQueue(
    conn: TargetConnection,
    hostnqn: string,
    qid: number,
    what: string,
    limit: 'max-queue-depth' | 'max-io-queues-per-host',
  ): void {
    this.#opts.counters.queuesRefused++;
    this.#opts.log.limit(limit, `${conn.peer}: host ${hostnqn} qid ${qid}: refused a ${what}`);
  }

  #connectAdmin(
    conn: TargetConnection,
    p: {
      subsys: FabricsSubsystem;
      hostnqn: string;
      hostid: Uint8Array;
      cntlid: number;
      sqsize: number;
      cattr: number;
      kato: number;
    },
  ): Completion {
    const { subsys, cntlid } = p;
    let ctrl: Controller | undefined;
    if (subsys.kind === 'discovery') {
      if (cntlid !== CNTLID_DYNAMIC) return invalidParam(ConnectOff.cntlid, true);
      const id = this.#nextDiscoveryCntlid;
      this.#nextDiscoveryCntlid = (id % 0xffef) + 1;
      const socket = conn.socket;
      ctrl = subsys.createController?.(
        id,
        socket.localAddress ?? '',
        socket.localPort ?? 0,
        p.hostnqn,
      );
      if (ctrl === undefined) return { status: withDnr(Status.INTERNAL_DEVICE_ERROR) };
    } else if (cntlid === CNTLID_DYNAMIC || cntlid === CNTLID_ANY_STATIC) {
      // The first controller of the subsystem that no front end holds (issue 4).
      ctrl = subsys.controllers().find((c) => c.boundTo === undefined && !c.removed);
      if (ctrl === undefined) return { status: ConnectStatus.CONTROLLER_BUSY, field: 'dptr' };
    } else {
      ctrl = subsys.controllers().find((c) => c.cntlid === cntlid);
      if (ctrl === undefined) return invalidParam(ConnectOff.cntlid, true);
    }
    if (p.sqsize === 0 || p.sqsize > mqes(ctrl)) return invalidParam(ConnectOff.sqeSqsize, false);
    const a = new Association({
      subsys,
      ctrl,
      hostnqn: p.hostnqn,
      hostid: p.hostid,
      admin: conn,
      katoGraceMs: this.#opts.katoGraceMs,
      inCapsuleSize: this.#opts.inCapsuleSize,
      onEvicted: (x, why) => this.#destroy(x, why),
    });
    // One front end at a time: a controller held by another association or a PCI driver is busy.
    if (!ctrl.bind(a)) return { status: ConnectStatus.CONTROLLER_BUSY, field: 'dptr' };
    ctrl.kato = p.kato;
    ctrl.keepAlive();
    this.#live.add(a);
    this.#queues.set(conn, { assoc: a, qid: 0 });
    const maxTransfer = ctrl.mdtsBytes;
    conn.bind({ qid: 0, sqsize: p.sqsize, sqFlowDisabled: (p.cattr & 4) !== 0, maxTransfer });
    const dhchap =
      subsys.kind === 'nvm' && (subsys.auth ?? 'auto') !== 'off'
        ? subsys.hosts?.get(p.hostnqn)?.dhchap
        : undefined;
    if (dhchap !== undefined) {
      a.authState = this.#authFor(a, dhchap);
      a.authState.queueConnected(0);
    }
    for (const fn of this.#listeners) fn('connected', a);
    // AUTHREQ (DW0 bits 31:16): ATR when the host must authenticate; ASCR (secure channel
    // concatenation) is never asked for.
    return { status: 0, dw0: ctrl.cntlid | (dhchap !== undefined ? AUTHREQ_ATR : 0) };
  }

  /** The association's DH-HMAC-CHAP (queue-auth.ts), wired to the log, counters and teardown. */
  #authFor(a: Association, dhchap: HostDhchap): AssociationAuth {
    const o = this.#opts;
    const connOf = (qid: number): TargetConnection | undefined =>
      qid === 0 ? a.admin : a.io.get(qid);
    return new AssociationAuth({
      hostnqn: a.hostnqn,
      subnqn: a.subsys.nqn,
      dhchap,
      timeoutMs: o.limits.authTimeoutMs,
      who: (qid) => `host ${a.hostnqn} qid ${qid} (${connOf(qid)?.peer ?? '?'}) to ${a.subsys.nqn}`,
      log: (line) => o.log.line(line),
      count: (what) => {
        if (what === 'success') o.counters.authSuccesses++;
        else if (what === 'failure') o.counters.authFailures++;
        else o.counters.authTimeouts++;
      },
      alive: () => a.ctrl.keepAlive(),
      // After the completion that carries AUTH_Failure1 (or acknowledges AUTH_Failure2) is out,
      // as nvmet_ctrl_fatal_error ends the controller.
      failed: (_qid, why) => setImmediate(() => this.#destroy(a, why)),
      timedOut: (qid) => {
        if (qid === 0) this.#destroy(a, 'not authenticated in time');
        else connOf(qid)?.close('not authenticated in time');
      },
    });
  }

  /** Association end (§2.5): every queue's socket closes; the controller resets and is free. */
  #destroy(a: Association, why: string): void {
    if (a.dead) return;
    a.dead = true;
    a.endReason = why;
    a.authState?.close();
    this.#live.delete(a);
    for (const c of a.io.values()) c.close('association ended');
    a.admin.close('association ended');
    a.ctrl.release(a);
    for (const fn of this.#listeners) fn('disconnected', a);
  }
}

function mqes(ctrl: Controller): number {
  return Number(ctrl.cap & 0xffffn);
}

/** Fabrics command type of a raw SQE (byte 4), for hosts and traces. */
export function sqeFctype(sqe: Uint8Array): number {
  return readU8(sqe, 4);
}
