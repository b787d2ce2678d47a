// What one NVMe controller is, as its commands see it (NVMe Base Spec 2.0 §3; reference
// qemu-nvme.md §2): identity and parameters, the CAP/VS/CC/CSTS properties, features,
// asynchronous events, SMART and the error log, the attached namespaces, and the front end that
// drives it. The command handlers (admin-table.ts and the modules it lists) work on this class;
// controller.ts adds running commands and the life cycle. Nothing here knows a transport: a
// front end binds the controller and says which personality it presents (PCIe or fabrics), and
// the command table and Identify follow from that.

import { Status } from '../spec/status.js';
import type { AccessGroup, NamespaceApi } from '../spec/namespace-api.js';
import { hostIdentity, type HostIdentity } from '../spec/host-id.js';
import { anaStatus, ControllerAna } from './ana.js';
import { ResvNotificationLog } from './resv-log.js';
import type { Completion } from '../spec/transfer.js';
import type { CommandContext, ControllerView } from '../spec/namespace-api.js';
import type { MaybePromise } from '../../util/maybe.js';
import type { Subsystem, SubsysController } from '../subsys/subsystem.js';
import { AerState, AerType } from './aer.js';
import { ErrorLog } from './error-log.js';
import { Features } from './features-state.js';
import type { ControllerParams, Transport } from './params.js';
import { capValue, CSTS_CFS, VERSION_1_4 } from './regs.js';
import { nvmeLevel, type NvmeLevel } from '../spec/levels.js';
import { SmartState } from './smart.js';

/** CNTRLTYPE (Identify byte 111): I/O controller or discovery controller. */
export type ControllerType = 'io' | 'discovery';

/** Why a controller resets (ctrl/controller.ts): the host, a function reset, or its front end. */
export type ResetKind = 'controller' | 'function';

/** The PCIe-only admin commands: queues and doorbells exist only there (pci/queue-commands.ts). */
export interface QueueCommands {
  createSq(ctx: CommandContext): Completion;
  createCq(ctx: CommandContext): Completion;
  deleteSq(ctx: CommandContext): Completion;
  deleteCq(ctx: CommandContext): Completion;
  dbbufConfig(ctx: CommandContext): Completion;
  /** True when `sqid` names an existing submission queue (Abort's check). */
  hasSq(sqid: number): boolean;
}

/** What a fabrics front end tells the controller (NVMe-oF 1.1 §3; reference nvme-tcp.md §2). */
export interface FabricsFrontEnd {
  /** In-capsule data bytes accepted on I/O queues (Identify IOCCSZ). */
  readonly inCapsuleSize: number;
  /** Grace added to KATO before the association ends (be generous, §2.4). */
  readonly katoGraceMs: number;
  /** True when I/O queue `qid` is connected (Abort's check). */
  hasQueue(qid: number): boolean;
  /** Disconnect: the queue (the association, for the admin queue) ends after the response. */
  disconnect(sqid: number): void;
  /** Connect's HOSTID (16 bytes): the host the controller acts for (reservations). */
  readonly hostid?: Uint8Array;
  /** In-band authentication of the queues (absent: Authentication Send/Receive are refused). */
  readonly auth?: FabricsAuth | undefined;
}

/**
 * In-band authentication as the fabrics front end runs it per queue (NVMe Base Spec 2.0
 * §8.13, NVMe-oF §3.3): the controller answers Authentication Send/Receive (FCTYPE 05h/06h) on
 * any queue through it, and refuses every other command of a queue that must still
 * authenticate with Authentication Required, as nvmet does (ctrl/fabrics.ts).
 */
export interface FabricsAuth {
  /** True while queue `sqid` must authenticate before it runs anything but Fabrics commands. */
  pending(sqid: number): boolean;
  /** Authentication Send: checks SECP/SPSP0/SPSP1/TL, hands the payload to the protocol. */
  send(ctx: CommandContext): Completion;
  /** Authentication Receive: checks the fields, writes the protocol's next message. */
  receive(ctx: CommandContext): Completion;
}

/**
 * The driver side of a controller: the PCI function (or the in-process host) presenting the
 * PCIe personality, or an NVMe-oF association presenting the fabrics personality. One front end
 * holds a controller at a time (bind/release in controller.ts).
 */
export interface FrontEnd {
  readonly transport: Transport;
  /**
   * The PCI function itself (not the in-process host): its resets take the SR-IOV secondaries
   * offline, as QEMU's nvme_ctrl_reset does.
   */
  readonly ownsFunction?: boolean;
  readonly queues?: QueueCommands;
  readonly fabrics?: FabricsFrontEnd;
  /** CC.EN 0→1 passed the controller's checks: the front end's own (admin queue). */
  start(): boolean;
  /** Controller reset (CC.EN 1→0, function reset): the front end drops its queues. */
  reset(kind: ResetKind): void;
  /** The controller ends the binding (Keep Alive timeout, removal): `why` for logs and hosts. */
  evicted(why: string): void;
}

/** An admin command as Identify (OACS) and the effects log (LID 05h) see it. */
export interface AdminCommandInfo {
  readonly opcode: number;
  readonly effects: number;
  /** OACS bits it stands for. */
  readonly oacs: number;
}

/**
 * CAP of a discovery controller: MQES 127, CQR, TO 15 (7.5 s), CSS bit 37 (NVM). Linux clamps its
 * queue_size (default 128) to MQES+1 and logs "queue_size 128 > ctrl sqsize 32, clamping down" on
 * each `nvme discover` when MQES is 31 (seen in the Linux 6.1 guest); nvmet reports 1023.
 */
export const DISCOVERY_MQES = 127;
const DISCOVERY_CAP = BigInt(DISCOVERY_MQES) | (1n << 16n) | (15n << 24n) | (1n << 37n);
const VERSION_1_3 = 0x0001_0300;

export abstract class ControllerState implements ControllerView, SubsysController {
  /** The properties as configured (QEMU n->params). */
  readonly baseParams: ControllerParams;
  /** The QEMU compatibility level's answers (spec/levels.ts), chosen at realize time. */
  readonly level: NvmeLevel;
  #params: ControllerParams;
  readonly subsys: Subsystem;
  readonly type: ControllerType;
  /** Attached namespaces. */
  readonly namespaces = new Map<number, NamespaceApi>();
  readonly features: Features;
  readonly aer: AerState;
  readonly smart: SmartState;
  readonly errors = new ErrorLog();
  /** ANA group states through this controller (§8.20; ctrl/ana.ts). */
  readonly ana: ControllerAna;
  /** Reservation notifications for this controller's host (log page 80h; ctrl/resv-log.ts). */
  readonly resvLog: ResvNotificationLog;
  /** NSIDs changed since the Changed Namespace List log was last read. */
  readonly changedNsids = new Set<number>();
  /** Set when an I/O queue was created since the last reset (Set Features NQ then fails). */
  qsCreated = false;
  /** Memory page size latched at enable (4 KiB << CC.MPS). */
  pageSize = 4096;
  /** CC.CSS latched at enable. */
  css = 0;
  /** CAP and VS (read only). */
  readonly cap: bigint;
  readonly vs: number;
  /** CC as last written (0 after a reset). */
  cc = 0;
  #csts = 0;
  /** The front end holding the controller, if any. */
  protected frontEnd: FrontEnd | undefined;
  /**
   * SR-IOV state (ctrl/virt.ts): `secondary` on a VF's controller; undefined otherwise.
   */
  secondary: { readonly online: boolean } | undefined;
  /** Function-reset work of the SR-IOV primary (virt.ts), run by reset('function'). */
  onReset: ((kind: ResetKind, viaPci: boolean) => void) | undefined;
  /** Handlers that threw (our bugs; the command completes 0x006). Tests assert it stays 0. */
  internalErrors = 0;
  /** Completed commands and those with a non-zero status (monitor x-nvmemu-query-stats). */
  readonly stats = { adminCommands: 0, adminErrors: 0, ioCommands: 0, ioErrors: 0 };
  /**
   * Called after a successful Flush: persisted device state (SMART counters, FDP state) is
   * saved with the data. A throw fails the Flush with Write Fault.
   */
  onDurable: (() => void) | undefined;
  /** Keep Alive Timeout in ms (fabrics, 0 = disabled; Connect's KATO, Set Features 0Fh). */
  kato = 0;
  /**
   * The Discovery Log Page (LID 70h) of a discovery controller, supplied by the transport that
   * created it (it knows the ports and the subsystems behind them).
   */
  discoveryLog: (() => Uint8Array) | undefined;

  constructor(params: ControllerParams, subsys: Subsystem, type: ControllerType = 'io') {
    this.baseParams = params;
    this.#params = params;
    this.subsys = subsys;
    this.type = type;
    this.features = new Features();
    this.features.writeAtomicityDn = params.atomicDn;
    this.aer = new AerState(params.aerl, params.aerMaxQueued);
    this.smart = new SmartState(
      this.features,
      this.aer,
      params.smartCriticalWarning,
      params.clock.nowMs(),
    );
    this.ana = new ControllerAna(this.aer, () => this.features.asyncEventConfig);
    this.resvLog = new ResvNotificationLog(this.aer);
    this.level = nvmeLevel(params.compat);
    this.cap =
      type === 'discovery'
        ? DISCOVERY_CAP
        : capValue(params.pmr, params.cmbSizeMb !== 0, this.level.capCss, params.mqes);
    this.vs = type === 'discovery' ? VERSION_1_3 : VERSION_1_4;
  }

  /**
   * The parameters in effect: the properties, with max_ioqpairs/msix_qsize replaced by the
   * resources currently configured (QEMU conf_ioqpairs/conf_msix_qsize; they differ under
   * SR-IOV) and msixEnabled following the PCI function's MSI-X enable.
   */
  get params(): ControllerParams {
    return this.#params;
  }

  /** Sets the configured I/O queue pairs and interrupt vectors (SR-IOV resources). */
  setResources(ioqpairs: number, vectors: number): void {
    this.#params = { ...this.#params, maxIoqpairs: ioqpairs, msixQsize: vectors };
  }

  setMsixEnabled(enabled: boolean): void {
    if (this.#params.msixEnabled !== enabled)
      this.#params = { ...this.#params, msixEnabled: enabled };
  }

  /** The personality presented now: the bound front end's, PCIe when none is bound. */
  get transport(): Transport {
    return this.frontEnd?.transport ?? 'pci';
  }

  /** The PCIe queue commands of the bound front end (undefined over fabrics). */
  get queueCommands(): QueueCommands | undefined {
    return this.frontEnd?.queues;
  }

  /** The fabrics front end bound now (undefined over PCIe). */
  get fabrics(): FabricsFrontEnd | undefined {
    return this.frontEnd?.fabrics;
  }

  // ---- CSTS ------------------------------------------------------------------------------------

  get csts(): number {
    return this.#csts;
  }
  protected set csts(v: number) {
    this.#csts = v >>> 0;
  }
  get enabled(): boolean {
    return (this.#csts & 1) !== 0;
  }

  /**
   * Controller Fatal Status (an injected fault, a queue DMA failure): CSTS.CFS reads 1 on every
   * transport until the host resets the controller (Base Spec 2.0 §3.1.4.6).
   */
  setFatalStatus(): void {
    this.#csts |= CSTS_CFS;
  }

  /**
   * A queue entry could not be fetched or posted (PCIe DMA failure): QEMU stores CSTS = CFS,
   * RDY cleared, and the controller stops (reference §2.5).
   */
  queueFailure(): void {
    this.#csts = CSTS_CFS;
  }

  // ---- ControllerView ---------------------------------------------------------------------------

  get cntlid(): number {
    return this.params.cntlid;
  }
  get mdtsBytes(): number {
    return this.params.mdts === 0 ? 0 : this.pageSize * 2 ** this.params.mdts;
  }
  get vslBytes(): number {
    return this.pageSize * 2 ** this.params.vsl;
  }
  get zaslBytes(): number {
    return this.params.zasl === 0 ? this.mdtsBytes : this.pageSize * 2 ** this.params.zasl;
  }
  get zonedAutoTransition(): boolean {
    return this.params.zonedAutoTransition;
  }
  get lbafee(): boolean {
    return this.features.lbafee;
  }
  namespace(nsid: number): NamespaceApi | undefined {
    return this.namespaces.get(nsid);
  }
  timestamp(): bigint {
    return this.features.timestamp(this.params.clock.nowMs());
  }

  /**
   * The host: Connect's HOSTID over fabrics, else the Host Identifier feature (81h) the host
   * set; all zeros make the controller a host of its own (spec/host-id.ts).
   */
  get host(): HostIdentity {
    const id = this.fabrics?.hostid ?? this.features.hostId;
    // Cached per identifier array (a new host ID is a new array): every command may ask.
    if (this.#host?.src !== id) this.#host = { src: id, identity: hostIdentity(id, this.cntlid) };
    return this.#host.identity;
  }
  #host: { readonly src: Uint8Array; readonly identity: HostIdentity } | undefined;

  /**
   * The one check of the path and the fence (ControllerView.admits): ANA state of the
   * namespace's group through this controller (§8.20.3: 0x301-0x303, no DNR, so a multipath
   * host retries on another path), then the reservation rules for the command's group.
   */
  admits(ns: NamespaceApi, group: AccessGroup | undefined): number {
    if (this.ana.states().size > 0) {
      const grpid = this.subsys.anaGroupOf(ns);
      if (grpid !== 0) {
        const s = anaStatus(this.ana.state(grpid));
        if (s !== 0) return s;
      }
    }
    const r = ns.reservations;
    return r === undefined || group === undefined ? 0 : r.check(this.host.key, group);
  }

  // ---- Namespaces (SubsysController) ------------------------------------------------------------

  attachNamespace(ns: NamespaceApi): void {
    this.namespaces.set(ns.nsid, ns);
    // A device model's wear warnings raise this controller's SMART event (docs/models.md).
    const unwatch = ns.watchWear?.((bits) => this.smart.wearWarning(bits));
    if (unwatch !== undefined) this.#unwatchWear.set(ns.nsid, unwatch);
  }
  detachNamespace(nsid: number): void {
    this.namespaces.delete(nsid);
    this.#unwatchWear.get(nsid)?.();
    this.#unwatchWear.delete(nsid);
  }
  readonly #unwatchWear = new Map<number, () => void>();
  isAttached(nsid: number): boolean {
    return this.namespaces.has(nsid);
  }
  /** A reservation notification (type 1..3) for this controller's host on namespace `nsid`. */
  reservationNotice(nsid: number, type: number): void {
    if (this.namespaces.has(nsid)) this.resvLog.add(nsid, type);
  }

  /** Records a changed NSID and raises one Notice AER until the log is read (§3.7). */
  noteNamespaceChanged(nsid: number): void {
    if (this.changedNsids.has(nsid)) return;
    this.changedNsids.add(nsid);
    this.aer.enqueue(AerType.NOTICE, 0, 0x04);
  }

  /** Sets the injected SMART critical warning bits (QOM `smart_critical_warning`). */
  setSmartCriticalWarning(value: number): void {
    this.smart.setCriticalWarning(value, this.params.pmr);
  }

  // ---- What commands may ask of the controller (controller.ts) ----------------------------------

  /** Controller reset (CC.EN 1→0) or function reset (FLR, SR-IOV state changes). */
  abstract reset(kind?: ResetKind): void;
  /**
   * CC write (PCI register, fabrics Property Set): enable, reset, shutdown (§3.1.3.5). `via` is
   * the front end making it when it may not be bound yet (PCI binds at CC.EN 0→1).
   */
  abstract writeCc(value: number, via?: FrontEnd): MaybePromise<void>;
  /** Keep Alive (and Set Features KATO): restarts the Keep Alive timer. */
  abstract keepAlive(): void;
  /** The admin commands accepted now (the command table for this controller's personality). */
  abstract adminCommands(): readonly AdminCommandInfo[];
}

/** Completes a command with only a status. */
export const status = (s: number): Completion => ({ status: s });
export const OK: Completion = { status: Status.SUCCESS };
