// The Fabrics command layer of the target (reference nvme-tcp.md §2.1–§2.5): Connect on admin and
// I/O queues, Property Get/Set, Keep Alive and the KATO feature, Disconnect, and the routing of
// every other command to the bound controller. It is the CommandSink of all connections of all
// ports, and the only place that knows which connection belongs to which association.

import { readU16le, readU8 } from '../../util/bytes.js';
import type { NvmeCmd } from '../../nvme/spec/command.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import type { FabricsController, FabricsSubsystem } from './backend.js';
import { Association, PCIE_ONLY_ADMIN } from './association.js';
import type { CommandSink, TargetConnection } from './connection.js';

/** FCTYPE values (§2.1). */
export const FcType = {
  PROPERTY_SET: 0x00,
  CONNECT: 0x01,
  PROPERTY_GET: 0x04,
  AUTH_SEND: 0x05,
  AUTH_RECV: 0x06,
  DISCONNECT: 0x08,
} as const;

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

const FID_NUM_QUEUES = 0x07;
/** CSTS property offset and its CFS bit (Base Spec 2.0 Figure 36). */
const PROP_CSTS = 0x1c;
const CSTS_CFS = 0x2;

/** CSTS.CFS of the in-process controller behind a fabrics controller, if it has one. */
function controllerFatal(c: FabricsController): boolean {
  const inner = (c as { readonly ctrl?: { readonly csts?: unknown } }).ctrl;
  return typeof inner?.csts === 'number' && (inner.csts & CSTS_CFS) !== 0;
}
const FID_KATO = 0x0f;
const LID_EFFECTS = 0x05;
const CNTLID_DYNAMIC = 0xffff;
const CNTLID_ANY_STATIC = 0xfffe;

export interface FabricsOptions {
  /** Added to KATO before an association is torn down (§2.4: be generous). */
  readonly katoGraceMs: number;
  /** In-capsule bytes on I/O queues (for IOCCSZ). */
  readonly inCapsuleSize: number;
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
  };
}

function nqnAt(data: Uint8Array, off: number): string {
  const field = data.subarray(off, off + 256);
  const end = field.indexOf(0);
  return Buffer.from(field.subarray(0, end < 0 ? field.length : end)).toString('latin1');
}

export class FabricsTarget implements CommandSink {
  readonly #subsystems = new Map<string, FabricsSubsystem>();
  readonly #queues = new Map<TargetConnection, QueueState>();
  /** Live associations, plus those whose controller is still resetting (controller busy). */
  readonly #busy = new Map<FabricsController, Association>();
  readonly #opts: FabricsOptions;
  #nextDiscoveryCntlid = 1;
  readonly #listeners = new Set<AssociationListener>();

  constructor(subsystems: readonly FabricsSubsystem[], opts: FabricsOptions) {
    for (const s of subsystems) this.#subsystems.set(s.nqn, s);
    this.#opts = opts;
  }

  addSubsystem(s: FabricsSubsystem): void {
    this.#subsystems.set(s.nqn, s);
  }

  get subsystems(): readonly FabricsSubsystem[] {
    return [...this.#subsystems.values()];
  }

  /** Calls `fn` when an association begins or ends (monitor events); returns an unsubscribe. */
  onAssociation(fn: AssociationListener): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  /** Live associations (tests, `describe`). */
  get associations(): Association[] {
    return [...this.#busy.values()].filter((a) => !a.dead);
  }

  /**
   * Path faults (src/faults/path-loss.ts), consulted before every command of a connection with
   * the connection's subsystem (undefined before Connect): a promise holds the command while
   * the path is stalled; a dropped path has closed the socket and never settles.
   */
  pathGate:
    ((conn: TargetConnection, subnqn: string | undefined) => Promise<void> | undefined) | undefined;

  /** An I/O command run at once (FabricsController.ioNow) when no path fault is armed. */
  executeNow(conn: TargetConnection, cmd: NvmeCmd, data: HostData): Completion | undefined {
    if (this.pathGate !== undefined) return undefined;
    const q = this.#queues.get(conn);
    if (q === undefined || q.qid === 0 || !q.assoc.ready) return undefined;
    return q.assoc.ctrl.ioNow?.(q.qid, cmd, data);
  }

  async execute(conn: TargetConnection, cmd: NvmeCmd, data: HostData): Promise<Completion> {
    if (this.pathGate !== undefined) {
      const wait = this.pathGate(conn, this.#queues.get(conn)?.assoc.subsys.nqn);
      if (wait !== undefined) await wait;
    }
    const q = this.#queues.get(conn);
    if (cmd.opcode === AdminOpc.FABRICS) return this.#fabrics(conn, q, cmd, data);
    // §2.1: before Connect only Connect is legal.
    if (q === undefined) return { status: withDnr(Status.INVALID_OPCODE) };
    const a = q.assoc;
    if (q.qid > 0) {
      if (!a.ready) return { status: withDnr(Status.COMMAND_SEQUENCE_ERROR) };
      return a.ctrl.io(q.qid, cmd, data);
    }
    if (cmd.opcode === AdminOpc.KEEP_ALIVE) {
      a.keepAlive();
      return { status: 0 };
    }
    if (PCIE_ONLY_ADMIN.has(cmd.opcode)) return { status: withDnr(Status.INVALID_OPCODE) };
    if (!a.ready) return { status: withDnr(Status.COMMAND_SEQUENCE_ERROR) };
    const fid = cmd.cdw10 & 0xff;
    if (cmd.opcode === AdminOpc.GET_FEATURES && fid === FID_KATO) {
      return { status: 0, dw0: a.kato };
    }
    if (cmd.opcode === AdminOpc.SET_FEATURES && fid === FID_KATO) {
      a.kato = cmd.cdw11 >>> 0;
      a.keepAlive();
      return { status: 0 };
    }
    if (cmd.opcode === AdminOpc.IDENTIFY && (cmd.cdw10 & 0xff) === 0x01) {
      return a.ctrl.admin(cmd, a.identifyOverlay(data));
    }
    if (cmd.opcode === AdminOpc.GET_LOG_PAGE && (cmd.cdw10 & 0xff) === LID_EFFECTS) {
      const lpo = BigInt(cmd.cdw12 >>> 0) | (BigInt(cmd.cdw13 >>> 0) << 32n);
      return a.ctrl.admin(cmd, a.effectsOverlay(data, lpo));
    }
    const c = await a.ctrl.admin(cmd, data);
    if (cmd.opcode === AdminOpc.SET_FEATURES && fid === FID_NUM_QUEUES && c.status === 0) {
      a.grantedQueues = Math.min(a.ctrl.maxIoQueues, ((c.dw0 ?? 0) & 0xffff) + 1);
    }
    return c;
  }

  closed(conn: TargetConnection): void {
    const q = this.#queues.get(conn);
    if (q === undefined) return;
    this.#queues.delete(conn);
    if (q.qid === 0) this.#destroy(q.assoc);
    else if (q.assoc.io.get(q.qid) === conn) q.assoc.io.delete(q.qid);
  }

  /** Ends every association (port shutdown). */
  closeAll(): void {
    for (const a of this.associations) this.#destroy(a);
  }

  #fabrics(
    conn: TargetConnection,
    q: QueueState | undefined,
    cmd: NvmeCmd,
    data: HostData,
  ): Promise<Completion> | Completion {
    const fctype = cmd.nsid & 0xff;
    if (fctype === FcType.CONNECT) {
      if (q !== undefined) return { status: withDnr(Status.COMMAND_SEQUENCE_ERROR) };
      return this.#connect(conn, cmd, data);
    }
    if (q === undefined) return { status: withDnr(Status.INVALID_OPCODE) };
    const size8 = (cmd.cdw10 & 0x7) === 1;
    switch (fctype) {
      case FcType.PROPERTY_GET: {
        if (q.qid !== 0) return { status: withDnr(Status.INVALID_OPCODE) };
        const got = q.assoc.getProperty(cmd.cdw11 >>> 0, size8);
        // An injected Controller Fatal Status (src/faults) of the controller shows in CSTS.
        if (cmd.cdw11 >>> 0 === PROP_CSTS && got.status === 0 && controllerFatal(q.assoc.ctrl)) {
          return { ...got, dw0: (got.dw0 ?? 0) | CSTS_CFS };
        }
        return got;
      }
      case FcType.PROPERTY_SET: {
        if (q.qid !== 0) return { status: withDnr(Status.INVALID_OPCODE) };
        const value = BigInt(cmd.cdw12 >>> 0) | (BigInt(cmd.cdw13 >>> 0) << 32n);
        return q.assoc.setProperty(cmd.cdw11 >>> 0, size8, value);
      }
      case FcType.DISCONNECT:
        // NVMe-oF 1.1: the queue (the association, for the admin queue) ends after the response.
        setImmediate(() => conn.closeAfterFlush('Disconnect'));
        return { status: 0 };
      default:
        // Authentication (05h/06h) is not implemented: AUTHREQ is never set in Connect.
        return { status: withDnr(Status.INVALID_OPCODE) };
    }
  }

  async #connect(conn: TargetConnection, cmd: NvmeCmd, data: HostData): Promise<Completion> {
    const recfmt = cmd.cdw10 & 0xffff;
    const qid = cmd.cdw10 >>> 16;
    const sqsize = cmd.cdw11 & 0xffff;
    const cattr = (cmd.cdw11 >>> 16) & 0xff;
    const kato = cmd.cdw12 >>> 0;
    if (recfmt !== 0) return { status: withDnr(ConnectStatus.INCOMPATIBLE_FORMAT) };
    if (data.length !== CONNECT_DATA_LEN) return { status: withDnr(Status.DATA_SGL_LEN_INVALID) };
    const raw = await data.fromHost(0, CONNECT_DATA_LEN);
    if (typeof raw === 'number') return { status: raw };
    // The socket may have gone while the data was read: bind nothing to a dead connection.
    if (conn.closed) return { status: Status.ABORT_REQUESTED };
    const subnqn = nqnAt(raw, ConnectOff.subnqn);
    const hostnqn = nqnAt(raw, ConnectOff.hostnqn);
    const cntlid = readU16le(raw, ConnectOff.cntlid);
    const subsys = this.#subsystems.get(subnqn);
    if (subsys === undefined) return invalidParam(ConnectOff.subnqn, true);
    if (subsys.allowedHosts !== undefined && !subsys.allowedHosts.includes(hostnqn)) {
      return { status: withDnr(ConnectStatus.INVALID_HOST) };
    }
    if (qid === 0) return this.#connectAdmin(conn, subsys, hostnqn, cntlid, sqsize, cattr, kato);

    const a = this.associations.find(
      (x) => x.subsys === subsys && x.ctrl.cntlid === cntlid && x.hostnqn === hostnqn,
    );
    if (a === undefined) return invalidParam(ConnectOff.cntlid, true);
    if (!a.ready) return { status: withDnr(Status.COMMAND_SEQUENCE_ERROR) };
    if (qid > a.grantedQueues || a.io.has(qid)) return invalidParam(ConnectOff.sqeQid, false);
    if (sqsize === 0 || sqsize > mqes(a.ctrl)) return invalidParam(ConnectOff.sqeSqsize, false);
    a.io.set(qid, conn);
    this.#queues.set(conn, { assoc: a, qid });
    conn.bind({ qid, sqsize, sqFlowDisabled: (cattr & 4) !== 0, maxTransfer: a.ctrl.mdtsBytes });
    return { status: 0 };
  }

  #connectAdmin(
    conn: TargetConnection,
    subsys: FabricsSubsystem,
    hostnqn: string,
    cntlid: number,
    sqsize: number,
    cattr: number,
    kato: number,
  ): Completion {
    let ctrl: FabricsController | undefined;
    if (subsys.kind === 'discovery') {
      if (cntlid !== CNTLID_DYNAMIC) return invalidParam(ConnectOff.cntlid, true);
      const id = this.#nextDiscoveryCntlid;
      this.#nextDiscoveryCntlid = (id % 0xffef) + 1;
      const socket = conn.socket;
      ctrl = subsys.createController?.(id, socket.localAddress ?? '', socket.localPort ?? 0);
      if (ctrl === undefined) return { status: withDnr(Status.INTERNAL_DEVICE_ERROR) };
    } else if (cntlid === CNTLID_DYNAMIC || cntlid === CNTLID_ANY_STATIC) {
      // The first controller of the subsystem with no live association (issue 4).
      ctrl = subsys.controllers.find((c) => !this.#busy.has(c));
      if (ctrl === undefined) return { status: ConnectStatus.CONTROLLER_BUSY };
    } else {
      ctrl = subsys.controllers.find((c) => c.cntlid === cntlid);
      if (ctrl === undefined) return invalidParam(ConnectOff.cntlid, true);
      if (this.#busy.has(ctrl)) return { status: ConnectStatus.CONTROLLER_BUSY };
    }
    if (sqsize === 0 || sqsize > mqes(ctrl)) return invalidParam(ConnectOff.sqeSqsize, false);
    const a = new Association({
      subsys,
      ctrl,
      hostnqn,
      admin: conn,
      kato,
      graceMs: this.#opts.katoGraceMs,
      inCapsuleSize: this.#opts.inCapsuleSize,
      onExpire: (x) => this.#destroy(x),
    });
    this.#busy.set(ctrl, a);
    this.#queues.set(conn, { assoc: a, qid: 0 });
    const maxTransfer = ctrl.mdtsBytes;
    conn.bind({ qid: 0, sqsize, sqFlowDisabled: (cattr & 4) !== 0, maxTransfer });
    for (const fn of this.#listeners) fn('connected', a);
    // AUTHREQ (bits 31:16) stays 0: no in-band authentication (§2.2).
    return { status: 0, dw0: ctrl.cntlid };
  }

  /** Association end (§2.5): every queue's socket closes; the controller resets, then frees. */
  #destroy(a: Association): void {
    if (a.dead) return;
    a.dead = true;
    a.stopTimer();
    for (const c of a.io.values()) c.close('association ended');
    a.admin.close('association ended');
    const release = (): void => {
      if (this.#busy.get(a.ctrl) === a) this.#busy.delete(a.ctrl);
    };
    a.ctrl.reset().then(release, release);
    for (const fn of this.#listeners) fn('disconnected', a);
  }
}

function mqes(ctrl: FabricsController): number {
  return Number(ctrl.cap & 0xffffn);
}

/** Fabrics command type of a raw SQE (byte 4), for hosts and traces. */
export function sqeFctype(sqe: Uint8Array): number {
  return readU8(sqe, 4);
}
