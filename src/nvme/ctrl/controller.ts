// One NVMe controller, transport independent (NVMe Base Spec 2.0 §3; reference qemu-nvme.md §2):
// the command path and the life cycle, over the state of state.ts.
//
// A front end (pci/: the PCI function and the in-process host; nvme-tcp/target: an NVMe-oF
// association) binds the controller, moves commands in and completions out, and calls
// execute(sqid, cmd, data) for every command with its data already mapped. execute() is the only
// way a command runs: admin commands through the command table of the personality
// (admin-table.ts, discovery.ts), I/O commands through the namespace (nvme/ns). It completes at
// once when nothing in the command has to wait and returns a promise only when it must
// (util/maybe.ts); the front ends consume either. Every failed command leaves an Error
// Information log entry and one `nvme:cmd:err` trace event, here and nowhere else.
//
// Life cycle: bind (PCI at CC.EN 0→1, fabrics at Connect) → CC.EN enable → commands → reset /
// shutdown → release; remove() ends everything for good (device_del, power cut): the front end is
// evicted (fabrics: the association ends, the host sees the path go) and the controller refuses
// to bind again.

import { AdminOpc, IO_COMMAND_NAMES, IoOpc, LBA_OPCODES, RESV_GROUP } from '../spec/opcodes.js';
import { Status, withDnr, DNR } from '../spec/status.js';
import type { NvmeCmd } from '../spec/command.js';
import { rejected, type Completion, type HostData } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { MaybePromise } from '../../util/maybe.js';
import { trace, tracing } from '../../trace/catalogue.js';
import type { Subsystem } from '../subsys/subsystem.js';
import { adminCommand, listedAdminCommands, type AdminCommand } from './admin-table.js';
import { discoveryCommand, DISCOVERY_COMMANDS } from './discovery.js';
import { authenticationGate, fabricsIoCommand } from './fabrics.js';
import { MAX_NSID, NSID_BROADCAST, nsidValid } from './nsid.js';
import type { ControllerParams } from './params.js';
import { CSTS_CFS, CSTS_RDY, CSTS_SHST_COMPLETE, decodeCc } from './regs.js';
import {
  ControllerState,
  type AdminCommandInfo,
  type ControllerType,
  type FrontEnd,
  type ResetKind,
} from './state.js';

/**
 * Runs a command through fault injection (src/faults): the interceptor either calls `next`
 * (the command as it would run) or completes, delays or holds the command itself.
 */
export interface CommandInterceptor {
  intercept(
    ctrl: Controller,
    ctx: CommandContext,
    next: () => MaybePromise<Completion>,
  ): MaybePromise<Completion>;
  /** Controller reset: commands the interceptor holds are released (their queues are gone). */
  reset(ctrl: Controller): void;
}

/**
 * Watches the commands of a controller (the live view's metrics, record and replay): `begin`
 * when a command is about to run with its data mapped, `end` when it completed. Observers are
 * called in order and must not throw; with none installed the command path checks one length.
 */
export interface CommandObserver {
  begin?(ctrl: Controller, ctx: CommandContext): void;
  /** `elapsedNs`: from begin to completion (process.hrtime). */
  end(ctrl: Controller, ctx: CommandContext, c: Completion, elapsedNs: bigint): void;
}

const INTERNAL: Completion = { status: Status.INTERNAL_DEVICE_ERROR };
/** TRTYPE of the Error Information log entry (NVMe-oF 1.1 Figure 38: 3 TCP; 0 PCIe). */
const TRTYPE_TCP = 3;

export class Controller extends ControllerState {
  /** Fault injection (src/faults); undefined costs nothing on the command path. */
  interceptor: CommandInterceptor | undefined;
  /** Command observers (see CommandObserver); empty costs one length check per command. */
  readonly observers: CommandObserver[] = [];
  #removed = false;
  #katoTimer: NodeJS.Timeout | undefined;

  constructor(params: ControllerParams, subsys: Subsystem, type: ControllerType = 'io') {
    super(params, subsys, type);
  }

  /** True once remove() ran: the controller is gone from its machine. */
  get removed(): boolean {
    return this.#removed;
  }

  /** The front end holding the controller (undefined when none). */
  get boundTo(): FrontEnd | undefined {
    return this.frontEnd;
  }

  // ---- Binding ----------------------------------------------------------------------------------

  /**
   * `fe` takes the controller. False when another front end holds it (a PCI driver and an
   * NVMe/TCP host cannot drive one controller at once) or it has been removed.
   */
  bind(fe: FrontEnd): boolean {
    if (this.#removed || (this.frontEnd !== undefined && this.frontEnd !== fe)) return false;
    if (this.frontEnd === fe) return true;
    this.frontEnd = fe;
    this.#state('bound', fe.transport);
    return true;
  }

  /** `fe` lets go: the controller resets (as CC.EN 1→0) and may be bound again. */
  release(fe: FrontEnd): void {
    if (this.frontEnd !== fe) return;
    if (this.cc !== 0 || this.csts !== 0) this.reset('controller');
    this.#stopKato();
    this.kato = 0;
    this.frontEnd = undefined;
    this.#state('released', fe.transport);
  }

  /** The controller ends the binding itself (Keep Alive timeout, removal). */
  #evict(why: string): void {
    const fe = this.frontEnd;
    if (fe === undefined) return;
    fe.evicted(why);
    this.release(fe);
  }

  /**
   * The controller leaves its machine (device_del, power cut): the front end is evicted and no
   * front end can bind it again. Idempotent.
   */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.ana.stop();
    this.#evict('controller removed');
    this.#state('removed', undefined);
  }

  // ---- CC / CSTS (§3.1.3.5, §3.1.3.6) -------------------------------------------------------

  /**
   * A CC write, QEMU 7.2's sequence (reference §2.3/§2.4): EN 0→1 enables (CSTS.RDY, or CFS when
   * a check fails), EN 1→0 resets, SHN shuts down (SHST complete at once; the returned promise
   * settles when the namespaces are durable, which a fabrics Property Set waits for).
   */
  writeCc(value: number, via?: FrontEnd): MaybePromise<void> {
    const data = value >>> 0;
    let cc = this.cc;
    let csts = this.csts;
    const nd = decodeCc(data);
    const od = decodeCc(cc);
    if (!nd.en && !od.en && nd.shn === 0 && od.shn === 0) cc = data;
    if (nd.en && !od.en) {
      cc = data;
      this.cc = cc;
      csts = this.#start(via ?? this.frontEnd, data) ? CSTS_RDY : CSTS_CFS;
    } else if (!nd.en && od.en) {
      this.reset('controller');
      cc = 0;
      csts = this.csts & ~CSTS_RDY;
    }
    let shutdown: Promise<void> | undefined;
    if (nd.shn !== 0 && decodeCc(cc).shn === 0) {
      shutdown = this.#shutdown();
      cc = data;
      csts |= CSTS_SHST_COMPLETE;
    } else if (nd.shn === 0 && decodeCc(cc).shn !== 0) {
      csts &= ~CSTS_SHST_COMPLETE;
      cc = data;
    }
    this.cc = cc >>> 0;
    this.csts = csts;
    return shutdown;
  }

  /** nvme_start_ctrl: the enable checks (§2.3); false means CSTS.CFS. */
  #start(fe: FrontEnd | undefined, ccValue: number): boolean {
    const cc = decodeCc(ccValue);
    const capCss = Number((this.cap >> 37n) & 0xffn);
    const ok =
      (this.secondary === undefined || this.secondary.online) &&
      (capCss & (1 << cc.css)) !== 0 &&
      cc.mps >= Number((this.cap >> 48n) & 0xfn) &&
      cc.mps <= Number((this.cap >> 52n) & 0xfn) &&
      cc.iocqes === 4 &&
      cc.iosqes === 6;
    if (!ok || fe === undefined || !this.bind(fe)) {
      this.#state('enable-failed', ok ? 'held by another front end' : 'CC check');
      return false;
    }
    this.pageSize = 4096 * 2 ** cc.mps;
    this.css = cc.css;
    // The front end's own checks and queues (PCIe: the admin queue from AQA/ASQ/ACQ).
    if (!fe.start()) {
      this.#state('enable-failed', 'admin queue');
      return false;
    }
    this.features.resetTimestamp(this.params.clock.nowMs());
    this.#state('enabled', fe.transport);
    return true;
  }

  /**
   * Controller reset (CC.EN 1→0) or function reset: the front end drops its queues and their
   * commands, AERs are dropped; features, SMART counters, the error log and namespaces stay
   * (reference §2.4).
   */
  reset(kind: ResetKind = 'controller'): void {
    const fe = this.frontEnd;
    // Only resets of the PCI function take the SR-IOV secondaries offline (QEMU
    // nvme_ctrl_reset); an association ending or the in-process host resets the queues only.
    const viaPci = kind === 'function' || fe?.ownsFunction === true;
    this.aer.reset();
    this.qsCreated = false;
    fe?.reset(kind);
    this.onReset?.(kind, viaPci);
    this.interceptor?.reset(this);
    // A secondary controller that is offline reports CFS (reference §10).
    const offline = this.secondary !== undefined && !this.secondary.online;
    this.csts = offline ? CSTS_CFS : 0;
    this.cc = 0;
    this.#state('reset', kind);
  }

  /** Shutdown: flush and shut down every attached namespace; a failure is reported as CFS. */
  #shutdown(): Promise<void> {
    const all = [...this.namespaces.values()].map((ns) => ns.shutdown());
    this.#state('shutdown', undefined);
    return Promise.allSettled(all).then((r) => {
      if (r.some((x) => x.status === 'rejected')) this.setFatalStatus();
    });
  }

  // ---- Keep Alive (NVMe-oF 1.1 §3.2; Base §5.27.1.12) ---------------------------------------------

  /** Restarts the Keep Alive timer (Connect, Keep Alive, Set Features KATO). KATO + grace. */
  keepAlive(): void {
    this.#stopKato();
    const fe = this.fabrics;
    if (this.kato === 0 || fe === undefined || this.#removed) return;
    this.#katoTimer = setTimeout(
      () => this.#evict('keep-alive timeout'),
      this.kato + fe.katoGraceMs,
    );
    this.#katoTimer.unref();
  }

  #stopKato(): void {
    clearTimeout(this.#katoTimer);
    this.#katoTimer = undefined;
  }

  // ---- Commands ---------------------------------------------------------------------------------

  /**
   * Runs one command of queue `sqid` (admin 0, I/O ≥ 1) whose data the front end has mapped.
   * Never throws: a handler bug completes the command with Internal Error (counted).
   */
  execute(sqid: number, cmd: NvmeCmd, data: HostData, meta?: HostData): MaybePromise<Completion> {
    const ctx: CommandContext =
      meta === undefined ? { cmd, data, sqid, ctrl: this } : { cmd, data, meta, sqid, ctrl: this };
    if (this.observers.length > 0) return this.#observed(ctx);
    return this.#execute(ctx);
  }

  /** execute() with the observers told (a separate method keeps the common path short). */
  #observed(ctx: CommandContext): MaybePromise<Completion> {
    const start = process.hrtime.bigint();
    for (const o of this.observers) o.begin?.(this, ctx);
    const tell = (c: Completion): Completion => {
      const ns = process.hrtime.bigint() - start;
      for (const o of this.observers) o.end(this, ctx, c, ns);
      return c;
    };
    const run = this.#execute(ctx);
    return run instanceof Promise ? run.then(tell) : tell(run);
  }

  #execute(ctx: CommandContext): MaybePromise<Completion> {
    let run: MaybePromise<Completion>;
    try {
      run = ctx.sqid === 0 ? this.#admin(ctx) : this.#io(ctx);
    } catch {
      this.internalErrors++;
      run = INTERNAL;
    }
    if (!(run instanceof Promise)) return this.#completed(ctx, run);
    return run.then(
      (c) => this.#completed(ctx, c),
      () => {
        this.internalErrors++;
        return this.#completed(ctx, INTERNAL);
      },
    );
  }

  /** The admin commands of this controller's personality (Identify OACS, effects log). */
  adminCommands(): readonly AdminCommandInfo[] {
    return this.type === 'discovery'
      ? DISCOVERY_COMMANDS
      : listedAdminCommands(this.transport, this);
  }

  #adminEntry(opcode: number): AdminCommand | undefined {
    return this.type === 'discovery'
      ? discoveryCommand(opcode)
      : adminCommand(opcode, this.transport, this);
  }

  /** nvme_admin_cmd: opcode support, PSDT, FUSE, controller ready; then the handler. */
  #admin(ctx: CommandContext): MaybePromise<Completion> {
    const { cmd } = ctx;
    const fabricsCmd = cmd.opcode === AdminOpc.FABRICS;
    // In-band authentication first (fabrics.ts), before any other check as in nvmet.
    const unauthenticated = fabricsCmd ? undefined : authenticationGate(this, 0);
    if (unauthenticated !== undefined) return unauthenticated;
    const d = this.#adminEntry(cmd.opcode);
    if (d === undefined) return rejected(withDnr(Status.INVALID_OPCODE), 'opcode');
    const bad = this.#checkPsdt(cmd, true);
    if (bad !== undefined) return bad;
    if (cmd.fuse !== 0) return rejected(Status.INVALID_FIELD, 'fuse');
    // Over fabrics the admin queue exists before CC.EN: only Fabrics commands (Property Get/Set)
    // and Keep Alive may run then (NVMe-oF 1.1 §3.5).
    if (!this.enabled && !fabricsCmd && cmd.opcode !== AdminOpc.KEEP_ALIVE) {
      return rejected(withDnr(Status.COMMAND_SEQUENCE_ERROR), 'opcode');
    }
    // Fabrics commands are the transport's own (Property Get must show an injected CFS).
    if (this.interceptor === undefined || fabricsCmd) return d.run(this, ctx);
    return this.interceptor.intercept(this, ctx, () => d.run(this, ctx));
  }

  /**
   * Data pointer rules: PCIe admin commands use PRPs ([7.2] PSDT 0, 0x002+DNR); over fabrics
   * every command carries one SGL descriptor (PSDT 01b, as nvmet requires).
   */
  #checkPsdt(cmd: NvmeCmd, admin: boolean): Completion | undefined {
    if (this.transport === 'fabrics') {
      return cmd.psdt === 1 ? undefined : rejected(withDnr(Status.INVALID_FIELD), 'psdt');
    }
    return admin && cmd.psdt !== 0 ? rejected(withDnr(Status.INVALID_FIELD), 'psdt') : undefined;
  }

  #io(ctx: CommandContext): MaybePromise<Completion> {
    if (this.fabrics !== undefined) {
      // Authentication Send/Receive on an I/O queue, and the queue's authentication (fabrics.ts).
      if (ctx.cmd.opcode === AdminOpc.FABRICS) return fabricsIoCommand(this, ctx);
      const unauthenticated = authenticationGate(this, ctx.sqid);
      if (unauthenticated !== undefined) return unauthenticated;
    }
    if (!this.enabled) return rejected(withDnr(Status.COMMAND_SEQUENCE_ERROR), 'opcode');
    const bad = this.#checkPsdt(ctx.cmd, false);
    if (bad !== undefined) return bad;
    if (this.interceptor === undefined) return this.#route(ctx);
    return this.interceptor.intercept(this, ctx, () => this.#route(ctx));
  }

  /**
   * §4.1 steps 1-2: Flush for any NSID, then NSID validity and attachment; then the path and
   * the fence (admits: ANA state, reservations), the one place every I/O command passes; then
   * the namespace.
   */
  #route(ctx: CommandContext): MaybePromise<Completion> {
    const { cmd } = ctx;
    if (cmd.opcode === IoOpc.FLUSH) return this.#flush(cmd.nsid);
    if (!nsidValid(cmd.nsid)) return rejected(withDnr(Status.INVALID_NSID), 'nsid');
    const ns = this.namespaces.get(cmd.nsid);
    if (ns === undefined) return rejected(withDnr(Status.INVALID_FIELD), 'nsid');
    const refused = this.admits(ns, RESV_GROUP.get(cmd.opcode));
    if (refused !== 0) return rejected(refused, 'opcode');
    if (this.transport === 'fabrics') {
      // The SGL describes exactly the command's transfer (nvmet_check_transfer_len).
      const want = ns.transferLength(cmd);
      if (want !== undefined && ctx.data.length !== want.data) {
        return rejected(withDnr(Status.DATA_SGL_LEN_INVALID), 'dptr');
      }
    }
    return ns.execute(ctx);
  }

  async #flush(nsid: number): Promise<Completion> {
    let targets;
    if (nsid === NSID_BROADCAST) {
      // A broadcast Flush leaves out the namespaces this host may not write (or reach).
      targets = [...this.namespaces.values()].filter((ns) => this.admits(ns, 'write') === 0);
    } else {
      if (!nsidValid(nsid)) return rejected(withDnr(Status.INVALID_NSID), 'nsid');
      const ns = this.namespaces.get(nsid);
      if (ns === undefined) return rejected(withDnr(Status.INVALID_FIELD), 'nsid');
      const refused = this.admits(ns, 'write');
      if (refused !== 0) return rejected(refused, 'opcode');
      targets = [ns];
    }
    const results = await Promise.allSettled(targets.map((ns) => ns.flush()));
    if (results.some((r) => r.status === 'rejected')) return { status: Status.WRITE_FAULT };
    try {
      this.onDurable?.();
    } catch {
      // The device could not make its own state durable with the data.
      return { status: Status.WRITE_FAULT };
    }
    return { status: 0 };
  }

  /** Accounting of a completed command; a failure is logged and traced (house rule 2). */
  #completed(ctx: CommandContext, c: Completion): Completion {
    const admin = ctx.sqid === 0;
    if (admin) this.stats.adminCommands++;
    else this.stats.ioCommands++;
    if (c.status === 0) return c;
    if (admin) this.stats.adminErrors++;
    else this.stats.ioErrors++;
    const { cmd } = ctx;
    const lba =
      !admin && LBA_OPCODES.has(cmd.opcode)
        ? (BigInt(cmd.cdw11 >>> 0) << 32n) | BigInt(cmd.cdw10 >>> 0)
        : undefined;
    const ns = !admin && cmd.nsid <= MAX_NSID ? this.namespaces.get(cmd.nsid) : undefined;
    this.errors.add({
      sqid: ctx.sqid,
      cid: cmd.cid,
      status: c.status,
      opcode: cmd.opcode,
      nsid: cmd.nsid,
      field: c.field,
      lba,
      trtype: this.transport === 'fabrics' ? TRTYPE_TCP : 0,
      csi: ns?.csi ?? 0,
    });
    if (tracing('nvme:cmd:err')) {
      trace('nvme:cmd:err', {
        serial: this.params.serial,
        cntlid: this.cntlid,
        sqid: ctx.sqid,
        cid: cmd.cid,
        opcode: cmd.opcode,
        command: commandName(this, admin, cmd.opcode),
        nsid: cmd.nsid,
        status: c.status,
        dnr: (c.status & DNR) !== 0,
        field: c.field,
        lba,
      });
    }
    return c;
  }

  #state(
    event: 'enabled' | 'enable-failed' | 'reset' | 'shutdown' | 'bound' | 'released' | 'removed',
    detail: string | undefined,
  ): void {
    trace('nvme:ctrl:state', { serial: this.params.serial, cntlid: this.cntlid, event, detail });
  }
}

function commandName(c: Controller, admin: boolean, opcode: number): string {
  const hex = `0x${opcode.toString(16).padStart(2, '0')}`;
  if (!admin) return IO_COMMAND_NAMES.get(opcode) ?? `I/O ${hex}`;
  const d =
    c.type === 'discovery' ? discoveryCommand(opcode) : adminCommand(opcode, c.transport, c);
  return d?.name ?? `admin ${hex}`;
}
