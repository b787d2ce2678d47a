// One association (NVMe-oF 1.1 §3.3; reference nvme-tcp.md §2.2–§2.5): a host bound to one
// controller through an admin queue connection plus I/O queue connections. It is the
// controller's front end for the fabrics personality (nvme/ctrl/state.ts FrontEnd): the
// controller runs every command, including Property Get/Set and Keep Alive, and tells the
// association when it ends the binding itself (Keep Alive timeout, device_del).

import type { Controller } from '../../nvme/ctrl/controller.js';
import type { FabricsFrontEnd, FrontEnd, ResetKind } from '../../nvme/ctrl/state.js';
import type { FabricsSubsystem } from './backend.js';
import type { TargetConnection } from './connection.js';
import type { AssociationAuth } from './queue-auth.js';

export interface AssociationInit {
  readonly subsys: FabricsSubsystem;
  readonly ctrl: Controller;
  readonly hostnqn: string;
  /** HOSTID from the Connect data (16 bytes). */
  readonly hostid: Uint8Array;
  readonly admin: TargetConnection;
  readonly katoGraceMs: number;
  readonly inCapsuleSize: number;
  /** The controller ended the binding: the target tears the association down. */
  readonly onEvicted: (a: Association, why: string) => void;
}

/** AUTHREQ.ATR (Connect response DW0 bit 17): the queue must authenticate (NVMe-oF §3.3). */
export const AUTHREQ_ATR = 1 << 17;

export class Association implements FrontEnd, FabricsFrontEnd {
  readonly transport = 'fabrics' as const;
  readonly subsys: FabricsSubsystem;
  readonly ctrl: Controller;
  readonly hostnqn: string;
  readonly hostid: Uint8Array;
  readonly admin: TargetConnection;
  readonly io = new Map<number, TargetConnection>();
  readonly katoGraceMs: number;
  readonly inCapsuleSize: number;
  readonly #onEvicted: (a: Association, why: string) => void;
  dead = false;
  /** Why it ended (logs, tests). */
  endReason: string | undefined;
  /**
   * DH-HMAC-CHAP of the queues (queue-auth.ts), set at Connect when the host must authenticate
   * (a dhchap-secret and x-auth not off); the controller reaches it through `auth`.
   */
  authState: AssociationAuth | undefined;

  constructor(init: AssociationInit) {
    this.subsys = init.subsys;
    this.ctrl = init.ctrl;
    this.hostnqn = init.hostnqn;
    this.hostid = init.hostid;
    this.admin = init.admin;
    this.katoGraceMs = init.katoGraceMs;
    this.inCapsuleSize = init.inCapsuleSize;
    this.#onEvicted = init.onEvicted;
  }

  get fabrics(): FabricsFrontEnd {
    return this;
  }

  /** CSTS.RDY of the controller (I/O queues may connect once it is set). */
  get ready(): boolean {
    return this.ctrl.enabled;
  }

  get kato(): number {
    return this.ctrl.kato;
  }

  // ---- FrontEnd ---------------------------------------------------------------------------------

  /** The admin queue exists since Connect: nothing more to set up at CC.EN. */
  start(): boolean {
    return true;
  }

  /** A controller reset keeps the queue connections; their commands wait for CC.EN (§3.5). */
  reset(_kind: ResetKind): void {
    // Nothing: commands on the queues get Command Sequence Error until the host enables again.
  }

  evicted(why: string): void {
    this.#onEvicted(this, why);
  }

  // ---- FabricsFrontEnd --------------------------------------------------------------------------

  get auth(): AssociationAuth | undefined {
    return this.authState;
  }

  hasQueue(qid: number): boolean {
    return qid === 0 || this.io.has(qid);
  }

  disconnect(sqid: number): void {
    const conn = sqid === 0 ? this.admin : this.io.get(sqid);
    // After the response has been written (NVMe-oF 1.1 §3.6).
    if (conn !== undefined) setImmediate(() => conn.closeAfterFlush('Disconnect'));
  }
}
