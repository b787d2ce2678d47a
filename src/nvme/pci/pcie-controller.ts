// The PCIe personality of a controller (NVMe Base Spec 2.0 §3.1.4, reference qemu-nvme.md §2.2-
// §2.5): the register window of BAR0 (CAP, VS, INTMS/INTMC, CC, CSTS, AQA/ASQ/ACQ, PMR; doorbells
// from 0x1000 with stride 8), the submission and completion queue rings with QEMU 7.2's fetch
// and post rules, and the admin commands that exist only on PCIe (queue creation and deletion,
// Doorbell Buffer Config). It is the controller's front end (ctrl/state.ts FrontEnd) for both
// drivers of a PCIe controller: the PCI function (function.ts; rings in guest memory) and the
// in-process host (local-host.ts; rings in the objects themselves, LOCAL_MEMORY).
//
// Commands fetched from a ring run through Controller.execute — the same path as every other
// front end's — and complete into the CQ ring: at once when the command did not wait.

import { readU32le, readU64le, writeU32le, writeU64le } from '../../util/bytes.js';
import { parseSqe, encodeSqe, type CmdInit, type Cqe, type NvmeCmd } from '../spec/command.js';
import { NO_DATA, type Completion, type HostData } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { trace } from '../../trace/catalogue.js';
import type { Controller } from '../ctrl/controller.js';
import type { FrontEnd, QueueCommands, ResetKind } from '../ctrl/state.js';
import { decodeAqa, DOORBELL_BASE, Reg, REG_WINDOW } from '../ctrl/regs.js';
import { CompletionQueue, SubmissionQueue, type QueueMemory, type Request } from './rings.js';
import * as qc from './queue-commands.js';

/** AER event types/infos for doorbell errors (Base Spec 2.0 Figure 150). */
const AER_ERROR = 0;
const AER_INFO_INVALID_DB_REGISTER = 0;
const AER_INFO_INVALID_DB_VALUE = 1;
const LOG_ERROR_INFO = 0x01;

/** The rings are these objects (the in-process host: no guest memory, no interrupts). */
export const LOCAL_MEMORY: QueueMemory = {
  ownsFunction: false,
  fetch: (sq, index) => sq.slots[index],
  writeCqe: () => true,
  posted: () => undefined,
  syncSq: () => undefined,
  syncCq: () => undefined,
  dbbufChanged: () => undefined,
  cqCreated: () => undefined,
  cqDeleted: () => undefined,
};

const personalities = new WeakMap<Controller, PcieController>();

export class PcieController implements FrontEnd, QueueCommands {
  readonly transport = 'pci' as const;
  readonly ctrl: Controller;
  /** BAR0's register bytes; CAP, VS, CC and CSTS are the controller's and copied in on reads. */
  readonly #regs = new Uint8Array(REG_WINDOW);
  readonly sqs: (SubmissionQueue | undefined)[];
  readonly cqs: (CompletionQueue | undefined)[];
  /** Where the rings live, latched at enable; the writer of the CC write under way. */
  #memory: QueueMemory | undefined;
  #writer: QueueMemory = LOCAL_MEMORY;
  #dbbuf: { readonly dbs: bigint; readonly eis: bigint } | undefined;
  readonly #waiters = new Map<number, (() => void)[]>();
  /** Called after CQEs were posted to `cqid` (the in-process "interrupt"). */
  onInterrupt: ((cqid: number) => void) | undefined;

  private constructor(ctrl: Controller) {
    this.ctrl = ctrl;
    const n = ctrl.baseParams.maxIoqpairs + 1;
    this.sqs = new Array<SubmissionQueue | undefined>(n).fill(undefined);
    this.cqs = new Array<CompletionQueue | undefined>(n).fill(undefined);
    if (ctrl.params.pmr) {
      writeU32le(
        this.#regs,
        Reg.PMRCAP,
        (0x1 << 3) | (0x1 << 4) | (4 << 5) | (0x2 << 10) | (1 << 24),
      );
    }
  }

  /** The PCIe personality of `ctrl` (one per controller, made on first use). */
  static of(ctrl: Controller): PcieController {
    let p = personalities.get(ctrl);
    if (p === undefined) {
      p = new PcieController(ctrl);
      personalities.set(ctrl, p);
    }
    return p;
  }

  // ---- FrontEnd -------------------------------------------------------------------------------

  get queues(): QueueCommands {
    return this;
  }
  get ownsFunction(): boolean {
    return this.#memory?.ownsFunction === true;
  }
  /** The memory the rings live in while the controller is enabled through this front end. */
  get memory(): QueueMemory | undefined {
    return this.#memory;
  }

  /** nvme_start_ctrl, the PCIe part: admin queue registers, then the admin queue pair. */
  start(): boolean {
    const { asqs, acqs } = decodeAqa(this.readReg32(Reg.AQA));
    const asq = readU64le(this.#regs, Reg.ASQ);
    const acq = readU64le(this.#regs, Reg.ACQ);
    const mask = BigInt(this.ctrl.pageSize - 1);
    const ok =
      this.cqs[0] === undefined &&
      this.sqs[0] === undefined &&
      (asq & mask) === 0n &&
      (acq & mask) === 0n &&
      asqs !== 0 &&
      acqs !== 0;
    if (!ok) return false;
    const mem = this.#writer;
    this.#memory = mem;
    this.cqs[0] = new CompletionQueue(0, acqs + 1, 0, true, acq);
    mem.cqCreated(this.cqs[0]);
    this.sqs[0] = new SubmissionQueue(0, 0, asqs + 1, asq);
    this.cqs[0].sqs.add(this.sqs[0]);
    return true;
  }

  /** Controller reset: queues deleted with their commands cancelled (reference §2.4). */
  reset(_kind: ResetKind): void {
    for (let q = this.sqs.length - 1; q >= 0; q--) {
      const sq = this.sqs[q];
      if (sq === undefined) continue;
      for (const r of sq.outstanding) r.cancelled = true;
      this.sqs[q] = undefined;
    }
    for (const cq of this.cqs) if (cq !== undefined) this.#memory?.cqDeleted(cq);
    this.cqs.fill(undefined);
    for (const list of this.#waiters.values()) for (const w of list) w();
    this.#waiters.clear();
    this.#setDbbuf(undefined);
    this.#memory = undefined;
    writeU32le(this.#regs, Reg.INTMS, 0);
    writeU32le(this.#regs, Reg.INTMC, 0);
  }

  evicted(): void {
    // The controller resets next (release): the queues go with it.
  }

  // ---- Registers ------------------------------------------------------------------------------

  #refresh(): void {
    writeU64le(this.#regs, Reg.CAP, this.ctrl.cap);
    writeU32le(this.#regs, Reg.VS, this.ctrl.vs);
    writeU32le(this.#regs, Reg.CC, this.ctrl.cc);
    writeU32le(this.#regs, Reg.CSTS, this.ctrl.csts);
  }

  /** 32-bit register read; offsets past the register struct (doorbells too) read 0. */
  readReg32(off: number): number {
    if (off < 0 || off + 4 > REG_WINDOW) return 0;
    this.#refresh();
    return readU32le(this.#regs, off);
  }
  readReg64(off: number): bigint {
    if (off < 0 || off + 8 > REG_WINDOW) return 0n;
    this.#refresh();
    return readU64le(this.#regs, off);
  }

  /** A copy of `len` register bytes from `off` (PCI byte/word/qword reads); past 4 KiB reads 0. */
  readRegBytes(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.#refresh();
    if (off >= 0 && off < REG_WINDOW) {
      out.set(this.#regs.subarray(off, Math.min(off + len, REG_WINDOW)));
    }
    return out;
  }

  /** 64-bit write: ASQ/ACQ take it whole; others as two 32-bit writes. */
  writeReg64(off: number, value: bigint, via?: QueueMemory): void {
    if (off === Reg.ASQ || off === Reg.ACQ) {
      writeU64le(this.#regs, off, value & 0xffff_ffff_ffff_ffffn);
      return;
    }
    this.writeReg32(off, Number(value & 0xffff_ffffn), via);
    this.writeReg32(off + 4, Number((value >> 32n) & 0xffff_ffffn), via);
  }

  /** `via`: where the writer's rings live (the PCI function's guest memory; default local). */
  writeReg32(off: number, value: number, via: QueueMemory = LOCAL_MEMORY): void {
    const v = value >>> 0;
    if (off >= DOORBELL_BASE) {
      this.#doorbell(off, v);
      return;
    }
    switch (off) {
      case Reg.INTMS:
        writeU32le(this.#regs, Reg.INTMS, (readU32le(this.#regs, Reg.INTMS) | v) >>> 0);
        writeU32le(this.#regs, Reg.INTMC, readU32le(this.#regs, Reg.INTMS));
        return;
      case Reg.INTMC:
        writeU32le(this.#regs, Reg.INTMS, (readU32le(this.#regs, Reg.INTMS) & ~v) >>> 0);
        writeU32le(this.#regs, Reg.INTMC, readU32le(this.#regs, Reg.INTMS));
        return;
      case Reg.CC:
        this.#writeCc(v, via);
        return;
      case Reg.AQA:
      case Reg.ASQ:
      case Reg.ASQ + 4:
      case Reg.ACQ:
      case Reg.ACQ + 4:
        writeU32le(this.#regs, off, v);
        return;
      case Reg.PMRCTL:
        if (this.ctrl.params.pmr) {
          writeU32le(this.#regs, Reg.PMRCTL, v & 1);
          writeU32le(this.#regs, Reg.PMRSTS, (v & 1) === 0 ? 1 : 0);
        }
        return;
      default:
        // CAP, VS, CSTS, NSSR (logged as unsupported by QEMU) and reserved: ignored.
        return;
    }
  }

  /**
   * CC: the controller's state machine (ctrl/controller.ts writeCc). A write that leaves the
   * controller disabled ends this front end's hold on it, so another may bind it.
   */
  #writeCc(v: number, via: QueueMemory): void {
    this.#writer = via;
    const shutdown = this.ctrl.writeCc(v, this);
    // A failed shutdown is reported as CSTS.CFS by the controller; nothing waits here (QEMU).
    if (shutdown instanceof Promise) shutdown.catch(() => undefined);
    if (!this.ctrl.enabled && (this.ctrl.cc & 1) === 0) this.ctrl.release(this);
  }

  // ---- Queues (the in-process host's surface) -------------------------------------------------

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

  /** Commands fetched and not yet completed, on all queues. */
  get inFlight(): number {
    let n = 0;
    for (const sq of this.sqs) if (sq !== undefined) n += sq.outstanding.size;
    return n;
  }

  // ---- Doorbells and the command path (nvme_process_db / _sq / _post_cqes) --------------------

  #doorbell(off: number, value: number): void {
    if ((off & 3) !== 0) return;
    const rel = off - DOORBELL_BASE;
    const isCq = ((rel >>> 2) & 1) === 1;
    const qid = rel >>> 3;
    const v = value & 0xffff;
    if (isCq) {
      const cq = qid < this.cqs.length ? this.cqs[qid] : undefined;
      if (cq === undefined) return this.#dbError(off, value, AER_INFO_INVALID_DB_REGISTER);
      if (v >= cq.size) return this.#dbError(off, value, AER_INFO_INVALID_DB_VALUE);
      const wasFull = cq.full;
      cq.head = v;
      if (wasFull || cq.pending.length > 0) {
        this.#post(cq);
        for (const sq of cq.sqs) this.#process(sq);
      }
      return;
    }
    const sq = qid < this.sqs.length ? this.sqs[qid] : undefined;
    if (sq === undefined) return this.#dbError(off, value, AER_INFO_INVALID_DB_REGISTER);
    if (v >= sq.size) return this.#dbError(off, value, AER_INFO_INVALID_DB_VALUE);
    sq.tail = v;
    this.#process(sq);
  }

  #dbError(off: number, value: number, info: number): void {
    trace('nvme:pci:doorbell-err', {
      cntlid: this.ctrl.cntlid,
      offset: off,
      value,
      reason: info === AER_INFO_INVALID_DB_REGISTER ? 'invalid register' : 'invalid value',
    });
    if (this.ctrl.aer.outstandingCount > 0) this.ctrl.aer.enqueue(AER_ERROR, info, LOG_ERROR_INFO);
  }

  /** nvme_process_sq: fetch while entries and request slots are available. */
  #process(sq: SubmissionQueue): void {
    const mem = this.#memory ?? LOCAL_MEMORY;
    mem.syncSq(sq);
    while (!sq.empty && sq.freeRequests > 0 && this.sqs[sq.sqid] === sq) {
      const slot = mem.fetch(sq, sq.head);
      if (slot === undefined) {
        // SQE fetch failure: QEMU sets CSTS to CFS and stops fetching.
        this.ctrl.queueFailure();
        return;
      }
      sq.head = (sq.head + 1) % sq.size;
      mem.syncSq(sq);
      sq.freeRequests--;
      const cmd = parseSqe(slot.sqe);
      const req: Request = { sq, cid: cmd.cid, cancelled: false, status: 0, dw0: 0, dw1: 0 };
      sq.outstanding.add(req);
      const done = this.ctrl.execute(sq.sqid, cmd, slot.data ?? NO_DATA, slot.meta);
      // execute() never rejects: a failing handler completes with Internal Error.
      if (done instanceof Promise) void done.then((c) => this.#finish(req, c));
      else this.#finish(req, done);
    }
  }

  /** Completes a request: queue its CQE on the SQ's CQ (discarded when cancelled). */
  #finish(req: Request, c: Completion): void {
    if (req.cancelled) return;
    req.status = c.status;
    req.dw0 = (c.dw0 ?? 0) >>> 0;
    req.dw1 = (c.dw1 ?? 0) >>> 0;
    const cq = this.cqs[req.sq.cqid];
    if (cq === undefined) return;
    cq.pending.push(req);
    this.#post(cq);
    this.#process(req.sq);
  }

  /** nvme_post_cqes: as many pending completions as fit; each frees its request slot. */
  #post(cq: CompletionQueue): void {
    let posted = false;
    const mem = this.#memory ?? LOCAL_MEMORY;
    while (cq.pending.length > 0) {
      mem.syncCq(cq);
      if (cq.full) break;
      const req = cq.pending.shift()!;
      const at = cq.tail;
      cq.post(req);
      if (!mem.writeCqe(cq, at, cq.ring[at]!)) {
        // CQ DMA write failure: CSTS = CFS, as QEMU.
        this.ctrl.queueFailure();
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
    mem.posted(cq);
    this.onInterrupt?.(cq.cqid);
  }

  // ---- QueueCommands (reference §3.2) -----------------------------------------------------------

  /** Creates an I/O CQ (after the Create I/O CQ checks). */
  addCq(cqid: number, size: number, vector: number, ien: boolean, addr: bigint): void {
    this.cqs[cqid] = new CompletionQueue(cqid, size, vector, ien, addr);
    this.#memory?.cqCreated(this.cqs[cqid]);
    this.ctrl.qsCreated = true;
  }

  addSq(sqid: number, cqid: number, size: number, addr: bigint): void {
    const cq = this.cqs[cqid];
    if (cq === undefined) throw new Error(`addSq: CQ ${cqid} does not exist`);
    const sq = new SubmissionQueue(sqid, cqid, size, addr);
    this.sqs[sqid] = sq;
    cq.sqs.add(sq);
  }

  /** Delete I/O SQ: posts what fits, then discards the rest of its completions (§3.2). */
  removeSq(sqid: number): void {
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

  removeCq(cqid: number): void {
    const cq = this.cqs[cqid];
    if (cq !== undefined) this.#memory?.cqDeleted(cq);
    this.cqs[cqid] = undefined;
  }

  createSq(ctx: CommandContext): Completion {
    return qc.createSq(this, ctx);
  }
  createCq(ctx: CommandContext): Completion {
    return qc.createCq(this, ctx);
  }
  deleteSq(ctx: CommandContext): Completion {
    return qc.deleteSq(this, ctx);
  }
  deleteCq(ctx: CommandContext): Completion {
    return qc.deleteCq(this, ctx);
  }
  dbbufConfig(ctx: CommandContext): Completion {
    return qc.dbbufConfig(this, ctx);
  }
  hasSq(sqid: number): boolean {
    return sqid <= this.ctrl.params.maxIoqpairs && this.sqs[sqid] !== undefined;
  }
  hasCq(cqid: number): boolean {
    return cqid <= this.ctrl.params.maxIoqpairs && this.cqs[cqid] !== undefined;
  }

  /** Doorbell Buffer Config addresses (the guest memory's shadow doorbells use them). */
  get dbbuf(): { readonly dbs: bigint; readonly eis: bigint } | undefined {
    return this.#dbbuf;
  }
  setDbbuf(v: { readonly dbs: bigint; readonly eis: bigint }): void {
    this.#setDbbuf(v);
  }
  #setDbbuf(v: { readonly dbs: bigint; readonly eis: bigint } | undefined): void {
    this.#dbbuf = v;
    this.#memory?.dbbufChanged();
  }
}
