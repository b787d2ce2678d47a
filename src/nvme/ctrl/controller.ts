// One NVMe controller, transport independent (reference §2): registers and the CC/CSTS state
// machine, queues with QEMU's fetch/post rules, dispatch to the admin table or to namespaces.
//
// Front ends drive it through registers (readReg/writeReg: CC, AQA, doorbells) and the queue
// API (submit() places an SQE at the SQ tail and rings the doorbell; reap() reads the posted
// CQEs and moves the CQ head). NVMe/TCP uses enableForFabrics() and createIoQueuePair().

import { readU32le, readU64le, writeU32le, writeU64le } from '../../util/bytes.js';
import { parseSqe, type CmdInit, type NvmeCmd, type Cqe, encodeSqe } from '../spec/command.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import { Status, withDnr } from '../spec/status.js';
import {
  NO_DATA,
  type CommandContext,
  type CommandError,
  type Completion,
  type ControllerView,
  type HostData,
} from '../spec/transfer.js';
import type { Subsystem, SubsysController } from '../subsys/subsystem.js';
import { AerState } from './aer.js';
import { dispatchAdmin } from './admin-table.js';
import { Features } from './features.js';
import { dispatchIo } from './io.js';
import type { ControllerParams } from './params.js';
import {
  CompletionQueue,
  DEFERRED,
  SubmissionQueue,
  type Deferred,
  type QueueFrontEnd,
  type Request,
} from './queues.js';
import {
  capValue,
  CSTS_CFS,
  CSTS_RDY,
  CSTS_SHST_COMPLETE,
  decodeAqa,
  decodeCc,
  DOORBELL_BASE,
  Reg,
  REG_WINDOW,
  VERSION_1_4,
} from './regs.js';
import { SmartState } from './smart.js';

/** AER event types/infos for doorbell errors (Base Spec 2.0 Figure 150). */
const AER_ERROR = 0;
const AER_INFO_INVALID_DB_REGISTER = 0;
const AER_INFO_INVALID_DB_VALUE = 1;
const LOG_ERROR_INFO = 0x01;

/**
 * Runs a command through fault injection (src/faults): the interceptor either calls `next`
 * (the real dispatch) or completes, delays or holds the command itself. Admin commands are
 * intercepted here, I/O commands in dispatchIo (so the PCI and NVMe/TCP paths share it).
 */
export interface CommandInterceptor {
  intercept<T>(
    ctrl: Controller,
    ctx: CommandContext,
    next: () => Promise<T>,
  ): Promise<T | Completion>;
  /** Controller reset: commands the interceptor holds are released (their requests are gone). */
  reset(ctrl: Controller): void;
}

export class Controller implements ControllerView, SubsysController {
  /** The properties as configured (QEMU n->params). */
  readonly baseParams: ControllerParams;
  #params: ControllerParams;
  readonly subsys: Subsystem;
  /** Register file (4 KiB, little endian), as QEMU's NvmeBar. */
  readonly #regs = new Uint8Array(REG_WINDOW);
  readonly sqs: (SubmissionQueue | undefined)[];
  readonly cqs: (CompletionQueue | undefined)[];
  /** Attached namespaces. */
  readonly namespaces = new Map<number, NamespaceApi>();
  readonly features: Features;
  readonly aer: AerState;
  readonly smart: SmartState;
  /** NSIDs changed since the Changed Namespace List log was last read. */
  readonly changedNsids = new Set<number>();
  /** Set when an I/O CQ was created since the last reset (Set Features NQ then fails). */
  qsCreated = false;
  /** Memory page size latched at enable (4 KiB << CC.MPS). */
  pageSize = 4096;
  /** CC.CSS latched at enable. */
  css = 0;
  #dbbuf: { readonly dbs: bigint; readonly eis: bigint } | undefined;
  /** The front end that owns the queues since the last enable (PCI), if any. */
  #front: QueueFrontEnd | undefined;
  /**
   * SR-IOV state (ctrl/virt.ts): `secondary` on a VF's controller, `primary` on a PF with
   * sriov_max_vfs; both undefined otherwise.
   */
  secondary: { readonly online: boolean } | undefined;
  /** Function-reset work of the SR-IOV primary (virt.ts), run by reset('function'). */
  onReset: ((kind: 'controller' | 'function', viaPci: boolean) => void) | undefined;
  /** Failed commands seen (house rule 2: counted; QEMU keeps no Error log entries). */
  errorCount = 0;
  /** Handlers that threw (our bugs; the command completes 0x006). Tests assert it stays 0. */
  internalErrors = 0;
  /**
   * Completed commands and those of them with a non-zero status (monitor x-nvmemu-query-stats):
   * admin counted at completion, I/O in dispatchIo (the PCI and NVMe/TCP paths share it).
   */
  readonly stats = { adminCommands: 0, adminErrors: 0, ioCommands: 0, ioErrors: 0 };
  readonly #waiters = new Map<number, (() => void)[]>();
  /** Called after CQEs were posted to `cqid` (the in-process "interrupt"). */
  onInterrupt: ((cqid: number) => void) | undefined;
  /** Fault injection (src/faults); undefined costs nothing on the command path. */
  interceptor: CommandInterceptor | undefined;
  /**
   * Called after a successful Flush: persisted device state (SMART counters with
   * x-persist-smart=on, FDP state; src/faults/device-state.ts) is saved with the data. A throw
   * fails the Flush with Write Fault.
   */
  onDurable: (() => void) | undefined;

  constructor(params: ControllerParams, subsys: Subsystem) {
    this.baseParams = params;
    this.#params = params;
    this.subsys = subsys;
    this.sqs = new Array<SubmissionQueue | undefined>(params.maxIoqpairs + 1).fill(undefined);
    this.cqs = new Array<CompletionQueue | undefined>(params.maxIoqpairs + 1).fill(undefined);
    this.features = new Features();
    this.aer = new AerState(params.aerl, params.aerMaxQueued, (req, c) => this.finish(req, c));
    this.smart = new SmartState(this, params.smartCriticalWarning, params.clock.nowMs());
    writeU64le(this.#regs, Reg.CAP, capValue(params.pmr, params.cmbSizeMb !== 0));
    writeU32le(this.#regs, Reg.VS, VERSION_1_4);
    if (params.pmr)
      writeU32le(
        this.#regs,
        Reg.PMRCAP,
        (0x1 << 3) | (0x1 << 4) | (4 << 5) | (0x2 << 10) | (1 << 24),
      );
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

  /** Doorbell Buffer Config addresses (PCI personality; the front end uses them). */
  get dbbuf(): { readonly dbs: bigint; readonly eis: bigint } | undefined {
    return this.#dbbuf;
  }
  set dbbuf(v: { readonly dbs: bigint; readonly eis: bigint } | undefined) {
    this.#dbbuf = v;
    this.#front?.dbbufChanged();
  }

  // ---- ControllerView -------------------------------------------------------------------------

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
  notifyError(_e: CommandError): void {
    this.errorCount++;
  }

  // ---- Namespaces (SubsysController) ----------------------------------------------------------

  attachNamespace(ns: NamespaceApi): void {
    this.namespaces.set(ns.nsid, ns);
  }
  detachNamespace(nsid: number): void {
    this.namespaces.delete(nsid);
  }
  isAttached(nsid: number): boolean {
    return this.namespaces.has(nsid);
  }
  /** Records a changed NSID and raises one Notice AER until the log is read (§3.7). */
  noteNamespaceChanged(nsid: number): void {
    if (this.changedNsids.has(nsid)) return;
    this.changedNsids.add(nsid);
    this.aer.enqueue(2, 0, 0x04);
  }

  // ---- Registers ------------------------------------------------------------------------------

  get csts(): number {
    return readU32le(this.#regs, Reg.CSTS);
  }
  get cc(): number {
    return readU32le(this.#regs, Reg.CC);
  }
  get enabled(): boolean {
    return (this.csts & CSTS_RDY) !== 0;
  }

  /** 32-bit register read; offsets past the register struct (doorbells too) read 0. */
  readReg32(off: number): number {
    if (off < 0 || off + 4 > REG_WINDOW) return 0;
    return readU32le(this.#regs, off);
  }
  readReg64(off: number): bigint {
    if (off < 0 || off + 8 > REG_WINDOW) return 0n;
    return readU64le(this.#regs, off);
  }

  /** A copy of `len` register bytes from `off` (PCI byte/word/qword reads); past 4 KiB reads 0. */
  readRegBytes(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (off >= 0 && off < REG_WINDOW)
      out.set(this.#regs.subarray(off, Math.min(off + len, REG_WINDOW)));
    return out;
  }

  /** 64-bit write: ASQ/ACQ (and CMBMSC) take it whole; others as two 32-bit writes. */
  writeReg64(off: number, value: bigint): void {
    if (off === Reg.ASQ || off === Reg.ACQ) {
      writeU64le(this.#regs, off, value & 0xffff_ffff_ffff_ffffn);
      return;
    }
    this.writeReg32(off, Number(value & 0xffff_ffffn));
    this.writeReg32(off + 4, Number((value >> 32n) & 0xffff_ffffn));
  }

  /** `via`: the front end making the access (PCI); CC.EN 0->1 hands it the queues. */
  writeReg32(off: number, value: number, via?: QueueFrontEnd): void {
    const v = value >>> 0;
    if (off >= DOORBELL_BASE) {
      this.#doorbell(off, v);
      return;
    }
    switch (off) {
      case Reg.INTMS:
        writeU32le(this.#regs, Reg.INTMS, (this.readReg32(Reg.INTMS) | v) >>> 0);
        writeU32le(this.#regs, Reg.INTMC, this.readReg32(Reg.INTMS));
        return;
      case Reg.INTMC:
        writeU32le(this.#regs, Reg.INTMS, (this.readReg32(Reg.INTMS) & ~v) >>> 0);
        writeU32le(this.#regs, Reg.INTMC, this.readReg32(Reg.INTMS));
        return;
      case Reg.CC:
        this.#writeCc(v, via);
        return;
      case Reg.AQA:
        writeU32le(this.#regs, Reg.AQA, v);
        return;
      case Reg.ASQ:
      case Reg.ASQ + 4:
      case Reg.ACQ:
      case Reg.ACQ + 4:
        writeU32le(this.#regs, off, v);
        return;
      case Reg.PMRCTL:
        if (this.params.pmr) {
          writeU32le(this.#regs, Reg.PMRCTL, v & 1);
          writeU32le(this.#regs, Reg.PMRSTS, (v & 1) === 0 ? 1 : 0);
        }
        return;
      default:
        // CAP, VS, CSTS, NSSR (logged as unsupported by QEMU) and reserved: ignored.
        return;
    }
  }

  /** CC write, QEMU 7.2's sequence (reference §2.3/§2.4). */
  #writeCc(data: number, via: QueueFrontEnd | undefined): void {
    let cc = this.cc;
    let csts = this.csts;
    const nd = decodeCc(data);
    if (!nd.en && !decodeCc(cc).en && nd.shn === 0 && decodeCc(cc).shn === 0) cc = data;
    if (nd.en && !decodeCc(cc).en) {
      cc = data;
      writeU32le(this.#regs, Reg.CC, cc);
      csts = this.#start(via) ? CSTS_RDY : CSTS_CFS;
    } else if (!nd.en && decodeCc(cc).en) {
      this.reset('controller', via);
      cc = 0;
      csts = this.csts & ~CSTS_RDY;
    }
    if (nd.shn !== 0 && decodeCc(cc).shn === 0) {
      this.#shutdown();
      cc = data;
      csts |= CSTS_SHST_COMPLETE;
    } else if (nd.shn === 0 && decodeCc(cc).shn !== 0) {
      csts &= ~CSTS_SHST_COMPLETE;
      cc = data;
    }
    writeU32le(this.#regs, Reg.CC, cc >>> 0);
    writeU32le(this.#regs, Reg.CSTS, csts >>> 0);
  }

  /** nvme_start_ctrl: the enable checks of §2.3; false means CSTS.CFS. */
  #start(via: QueueFrontEnd | undefined): boolean {
    const cap = this.readReg64(Reg.CAP);
    const cc = decodeCc(this.cc);
    const { asqs, acqs } = decodeAqa(this.readReg32(Reg.AQA));
    const asq = this.readReg64(Reg.ASQ);
    const acq = this.readReg64(Reg.ACQ);
    const pageSize = 4096 * 2 ** cc.mps;
    const mask = BigInt(pageSize - 1);
    const capCss = Number((cap >> 37n) & 0xffn);
    const ok =
      (this.secondary === undefined || this.secondary.online) &&
      this.cqs[0] === undefined &&
      this.sqs[0] === undefined &&
      (asq & mask) === 0n &&
      (acq & mask) === 0n &&
      (capCss & (1 << cc.css)) !== 0 &&
      cc.mps >= Number((cap >> 48n) & 0xfn) &&
      cc.mps <= Number((cap >> 52n) & 0xfn) &&
      cc.iocqes === 4 &&
      cc.iosqes === 6 &&
      asqs !== 0 &&
      acqs !== 0;
    if (!ok) return false;
    this.pageSize = pageSize;
    this.css = cc.css;
    this.#front = via;
    this.cqs[0] = new CompletionQueue(0, acqs + 1, 0, true, acq);
    via?.cqCreated(this.cqs[0]);
    this.sqs[0] = new SubmissionQueue(0, 0, asqs + 1, asq);
    this.cqs[0].sqs.add(this.sqs[0]);
    this.features.resetTimestamp(this.params.clock.nowMs());
    return true;
  }

  /**
   * Controller reset (CC.EN 1->0): queues deleted with their commands cancelled, AER state
   * dropped; features, AQA/ASQ/ACQ, SMART counters and namespaces stay (reference §2.4).
   */
  reset(kind: 'controller' | 'function' = 'controller', via?: QueueFrontEnd): void {
    for (let q = this.sqs.length - 1; q >= 0; q--) {
      const sq = this.sqs[q];
      if (sq === undefined) continue;
      for (const r of sq.outstanding) r.cancelled = true;
      this.sqs[q] = undefined;
    }
    for (const cq of this.cqs) if (cq !== undefined) this.#front?.cqDeleted(cq);
    this.cqs.fill(undefined);
    for (const list of this.#waiters.values()) for (const w of list) w();
    this.#waiters.clear();
    this.aer.reset();
    this.qsCreated = false;
    this.dbbuf = undefined;
    this.#front = undefined;
    this.onReset?.(kind, via !== undefined || kind === 'function');
    this.interceptor?.reset(this);
    writeU32le(this.#regs, Reg.INTMS, 0);
    writeU32le(this.#regs, Reg.INTMC, 0);
    // A secondary controller that is offline reports CFS (reference §10).
    const offline = this.secondary !== undefined && !this.secondary.online;
    writeU32le(this.#regs, Reg.CSTS, offline ? CSTS_CFS : 0);
    writeU32le(this.#regs, Reg.CC, 0);
  }

  /** Shutdown: flush and shut down every attached namespace (best effort, reported as CFS). */
  #shutdown(): void {
    for (const ns of this.namespaces.values()) {
      ns.shutdown().catch(() => {
        writeU32le(this.#regs, Reg.CSTS, this.csts | CSTS_CFS);
      });
    }
  }

  // ---- Queues ---------------------------------------------------------------------------------

  /** Creates an I/O CQ (after the Create I/O CQ checks). */
  addCq(cqid: number, size: number, vector: number, ien: boolean, addr: bigint): void {
    this.cqs[cqid] = new CompletionQueue(cqid, size, vector, ien, addr);
    this.#front?.cqCreated(this.cqs[cqid]);
    this.qsCreated = true;
  }

  addSq(sqid: number, cqid: number, size: number, addr: bigint): void {
    const cq = this.cqs[cqid];
    if (cq === undefined) throw new Error(`addSq: CQ ${cqid} does not exist`);
    const sq = new SubmissionQueue(sqid, cqid, size, addr);
    this.sqs[sqid] = sq;
    cq.sqs.add(sq);
  }

  /** Delete I/O SQ: posts what fits, then discards the rest of its completions (§3.2). */
  deleteSq(sqid: number): void {
    const sq = this.sqs[sqid];
    if (sq === undefined) return;
    const cq = this.cqs[sq.cqid];
    if (cq !== undefined) {
      cq.sqs.delete(sq);
      this.#post(cq);
      for (let i = cq.pending.length - 1; i >= 0; i--) {
        if (cq.pending[i]!.sq === sq) cq.pending.splice(i, 1);
      }
    }
    for (const r of sq.outstanding) r.cancelled = true;
    this.sqs[sqid] = undefined;
  }

  deleteCq(cqid: number): void {
    const cq = this.cqs[cqid];
    if (cq !== undefined) this.#front?.cqDeleted(cq);
    this.cqs[cqid] = undefined;
  }

  /**
   * Places an SQE at the tail of SQ `sqid` and rings its doorbell. Returns false (nothing
   * queued) when the SQ does not exist or is full.
   */
  submit(
    sqid: number,
    cmd: Uint8Array | NvmeCmd | CmdInit,
    data?: HostData,
    meta?: HostData,
  ): boolean {
    const sq = this.sqs[sqid];
    if (sq === undefined || sq.full) return false;
    const slot = sq.slots[sq.tail]!;
    slot.sqe = cmd instanceof Uint8Array ? cmd.slice(0, 64) : encodeSqe(cmd);
    slot.data = data;
    slot.meta = meta;
    this.writeReg32(DOORBELL_BASE + 8 * sqid, (sq.tail + 1) % sq.size);
    return true;
  }

  /** Reads up to `max` posted CQEs of CQ `cqid` and moves its head past them (doorbell). */
  reap(cqid: number, max = Infinity): Cqe[] {
    const cq = this.cqs[cqid];
    if (cq === undefined) return [];
    const out: Cqe[] = [];
    let head = cq.head;
    while (head !== cq.tail && out.length < max) {
      out.push(cq.ring[head]!);
      head = (head + 1) % cq.size;
    }
    if (out.length > 0) this.writeReg32(DOORBELL_BASE + 8 * cqid + 4, head);
    return out;
  }

  /** Resolves once CQ `cqid` holds an entry (immediately if it already does) or is gone. */
  whenPosted(cqid: number): Promise<void> {
    const cq = this.cqs[cqid];
    if (cq === undefined || cq.head !== cq.tail) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(cqid) ?? [];
      list.push(resolve);
      this.#waiters.set(cqid, list);
    });
  }

  /** nvme_process_db: SQ tail / CQ head doorbells with QEMU's error events (§2.5). */
  #doorbell(off: number, value: number): void {
    if ((off & 3) !== 0) return;
    const rel = off - DOORBELL_BASE;
    const isCq = ((rel >>> 2) & 1) === 1;
    const qid = rel >>> 3;
    const v = value & 0xffff;
    if (isCq) {
      const cq = qid < this.cqs.length ? this.cqs[qid] : undefined;
      if (cq === undefined) return this.#dbError(AER_INFO_INVALID_DB_REGISTER);
      if (v >= cq.size) return this.#dbError(AER_INFO_INVALID_DB_VALUE);
      const wasFull = cq.full;
      cq.head = v;
      if (wasFull || cq.pending.length > 0) {
        this.#post(cq);
        for (const sq of cq.sqs) this.#process(sq);
      }
      return;
    }
    const sq = qid < this.sqs.length ? this.sqs[qid] : undefined;
    if (sq === undefined) return this.#dbError(AER_INFO_INVALID_DB_REGISTER);
    if (v >= sq.size) return this.#dbError(AER_INFO_INVALID_DB_VALUE);
    sq.tail = v;
    this.#process(sq);
  }

  #dbError(info: number): void {
    if (this.aer.outstandingCount > 0) this.aer.enqueue(AER_ERROR, info, LOG_ERROR_INFO);
  }

  /** nvme_process_sq: fetch while entries and request slots are available. */
  #process(sq: SubmissionQueue): void {
    const front = this.#front;
    front?.syncSq(sq);
    while (!sq.empty && sq.freeRequests > 0 && this.sqs[sq.sqid] === sq) {
      const slot = front === undefined ? sq.slots[sq.head]! : front.fetch(sq, sq.head);
      if (slot === undefined) {
        // SQE fetch failure: QEMU stores CSTS = CFS and stops fetching.
        writeU32le(this.#regs, Reg.CSTS, CSTS_CFS);
        return;
      }
      sq.head = (sq.head + 1) % sq.size;
      front?.syncSq(sq);
      sq.freeRequests--;
      const cmd = parseSqe(slot.sqe);
      const req: Request = { sq, cid: cmd.cid, cancelled: false, status: 0, dw0: 0, dw1: 0 };
      sq.outstanding.add(req);
      const data = slot.data ?? NO_DATA;
      const meta = slot.meta;
      const ctx = {
        cmd,
        data,
        sqid: sq.sqid,
        ctrl: this as ControllerView,
        ...(meta ? { meta } : {}),
      };
      const admin = (): Promise<Completion | Deferred> => dispatchAdmin(this, req, ctx);
      const run =
        sq.sqid !== 0
          ? dispatchIo(this, ctx)
          : this.interceptor === undefined
            ? admin()
            : this.interceptor.intercept(this, ctx, admin);
      run.then(
        (c) => {
          if (c !== DEFERRED) this.finish(req, c);
        },
        () => {
          this.internalErrors++;
          this.finish(req, { status: Status.INTERNAL_DEVICE_ERROR });
        },
      );
    }
  }

  /** Completes a request: queue its CQE on the SQ's CQ (discarded when cancelled). */
  finish(req: Request, c: Completion): void {
    if (req.cancelled) return;
    if (req.sq.sqid === 0) {
      this.stats.adminCommands++;
      if (c.status !== 0) this.stats.adminErrors++;
    }
    req.status = c.status;
    req.dw0 = (c.dw0 ?? 0) >>> 0;
    req.dw1 = (c.dw1 ?? 0) >>> 0;
    if (c.status !== 0) {
      this.notifyError({ sqid: req.sq.sqid, cid: req.cid, nsid: 0, status: c.status });
    }
    const cq = this.cqs[req.sq.cqid];
    if (cq === undefined) return;
    cq.pending.push(req);
    this.#post(cq);
    this.#process(req.sq);
  }

  /** nvme_post_cqes: as many pending completions as fit; each frees its request slot. */
  #post(cq: CompletionQueue): void {
    let posted = false;
    const front = this.#front;
    while (cq.pending.length > 0) {
      front?.syncCq(cq);
      if (cq.full) break;
      const req = cq.pending.shift()!;
      const at = cq.tail;
      cq.post(req);
      if (front !== undefined && !front.writeCqe(cq, at, cq.ring[at]!)) {
        // CQ DMA write failure: CSTS = CFS, as QEMU.
        writeU32le(this.#regs, Reg.CSTS, CSTS_CFS);
        return;
      }
      req.sq.outstanding.delete(req);
      req.sq.freeRequests++;
      posted = true;
    }
    if (!posted) return;
    const waiters = this.#waiters.get(cq.cqid);
    if (waiters !== undefined) {
      this.#waiters.delete(cq.cqid);
      for (const w of waiters) w();
    }
    front?.posted(cq);
    this.onInterrupt?.(cq.cqid);
  }

  /** Commands fetched and not yet completed, on all queues. */
  get inFlight(): number {
    let n = 0;
    for (const sq of this.sqs) if (sq !== undefined) n += sq.outstanding.size;
    return n;
  }

  /**
   * Controller Fatal Status (injected fault): CSTS.CFS reads 1 until the host resets the
   * controller (CC.EN 1->0 writes CSTS 0), as after an internal failure (Base Spec 2.0 §3.1.4.6).
   */
  setFatalStatus(): void {
    writeU32le(this.#regs, Reg.CSTS, this.csts | CSTS_CFS);
  }

  /** Sets the injected SMART critical warning bits (QOM `smart_critical_warning`). */
  setSmartCriticalWarning(value: number): void {
    this.smart.setCriticalWarning(value, this.params.pmr);
  }

  /** For fabrics Connect: an I/O queue pair `qid` with `size` entries (CQ and SQ). */
  createIoQueuePair(qid: number, size: number): number {
    if (
      qid < 1 ||
      qid >= this.sqs.length ||
      this.sqs[qid] !== undefined ||
      this.cqs[qid] !== undefined
    ) {
      return withDnr(Status.INVALID_QID);
    }
    if (size < 2 || size > 0x800) return withDnr(Status.MAX_QSIZE_EXCEEDED);
    this.addCq(qid, size, 0, false, 0n);
    this.addSq(qid, qid, size, 0n);
    return Status.SUCCESS;
  }
}
