// An in-process host for a controller's PCIe personality: what a driver does at probe (reference
// §12.3) and a command/completion helper that assigns CIDs, reaps CQs and matches CQEs to
// commands. The rings are in-process objects (pcie-controller.ts LOCAL_MEMORY) and the data is
// the caller's buffers, so no guest memory is involved; everything else — registers, queues,
// the command path — is the PCI function's. Used by the in-process API (tests, embedding).

import { EmuError } from '../../util/errors.js';
import { makeCmd, type CmdInit, type Cqe } from '../spec/command.js';
import { AdminOpc } from '../spec/opcodes.js';
import { bufferData, type HostData } from '../spec/transfer.js';
import { Controller } from '../ctrl/controller.js';
import { encodeCc, Reg } from '../ctrl/regs.js';
import { PcieController } from './pcie-controller.js';

export interface EnableOptions {
  /** Admin queue entries (both queues), 2..4096. Default 32. */
  readonly adminDepth?: number;
  /** CC.CSS: 0 NVM, 6 all I/O command sets (what Linux writes), 7 admin only. Default 6. */
  readonly css?: number;
  readonly mps?: number;
}

interface Waiter {
  readonly resolve: (c: Cqe) => void;
  readonly reject: (e: Error) => void;
}

export class Host {
  readonly #cids = new Map<number, number>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #pumping = new Set<number>();

  readonly ctrl: Controller;
  /** The PCIe personality the host drives. */
  readonly pcie: PcieController;

  constructor(target: Controller | PcieController) {
    this.pcie = target instanceof Controller ? PcieController.of(target) : target;
    this.ctrl = this.pcie.ctrl;
  }

  /** Programs AQA/ASQ/ACQ and sets CC.EN; returns CSTS afterwards. */
  enable(opts: EnableOptions = {}): number {
    const depth = (opts.adminDepth ?? 32) - 1;
    const p = this.pcie;
    p.writeReg32(Reg.AQA, (depth << 16) | depth);
    p.writeReg64(Reg.ASQ, 0x10000n);
    p.writeReg64(Reg.ACQ, 0x20000n);
    p.writeReg32(Reg.CC, encodeCc({ en: true, css: opts.css ?? 6, mps: opts.mps ?? 0 }));
    return this.ctrl.csts;
  }

  /** CC.EN = 0 (controller reset); pending commands are rejected. */
  disable(): void {
    this.pcie.writeReg32(Reg.CC, 0);
    this.#rejectWhere(() => true, 'controller reset');
  }

  /** Submits a command (CID assigned unless given) and resolves with its CQE. */
  async command(
    sqid: number,
    init: CmdInit,
    data?: HostData | Uint8Array,
    meta?: HostData,
  ): Promise<Cqe> {
    const cid = init.cid ?? this.#nextCid(sqid);
    const hd = data instanceof Uint8Array ? bufferData(data) : data;
    const cmd = makeCmd({ ...init, cid });
    const key = `${sqid}:${cid}`;
    const done = new Promise<Cqe>((resolve, reject) => this.#waiters.set(key, { resolve, reject }));
    const cqid = this.pcie.sqs[sqid]?.cqid;
    if (cqid === undefined) {
      this.#waiters.delete(key);
      throw new EmuError('EMU_ERR_STATE', `SQ ${sqid} does not exist`);
    }
    while (!this.pcie.submit(sqid, cmd, hd, meta)) {
      if (this.pcie.sqs[sqid] === undefined) {
        this.#waiters.delete(key);
        throw new EmuError('EMU_ERR_STATE', `SQ ${sqid} was deleted`);
      }
      this.#pump(cqid);
      await this.pcie.whenPosted(cqid);
      this.#drain(cqid);
    }
    this.#pump(cqid);
    const cqe = await done;
    if (sqid === 0 && init.opcode === AdminOpc.DELETE_SQ && cqe.status === 0) {
      const gone = init.cdw10 === undefined ? 0 : init.cdw10 & 0xffff;
      this.#rejectWhere((s) => s === gone, `SQ ${gone} deleted`);
    }
    return cqe;
  }

  admin(init: CmdInit, data?: HostData | Uint8Array): Promise<Cqe> {
    return this.command(0, init, data);
  }

  /** Creates `count` I/O queue pairs (CQ i + SQ i) of `size` entries. */
  async createIoQueues(count: number, size = 64): Promise<void> {
    for (let q = 1; q <= count; q++) {
      const cq = await this.admin({
        opcode: AdminOpc.CREATE_CQ,
        prp1: 0x100000n * BigInt(q),
        cdw10: ((size - 1) << 16) | q,
        cdw11: 0x3 | (q << 16),
      });
      const sq = await this.admin({
        opcode: AdminOpc.CREATE_SQ,
        prp1: 0x100000n * BigInt(q) + 0x80000n,
        cdw10: ((size - 1) << 16) | q,
        cdw11: 0x1 | (q << 16),
      });
      if (cq.status !== 0 || sq.status !== 0) {
        throw new EmuError('EMU_ERR_STATE', `creating I/O queue pair ${q} failed`);
      }
    }
  }

  #nextCid(sqid: number): number {
    let cid = this.#cids.get(sqid) ?? 0;
    for (let i = 0; i < 0x10000; i++) {
      cid = (cid + 1) & 0xffff;
      if (!this.#waiters.has(`${sqid}:${cid}`)) break;
    }
    this.#cids.set(sqid, cid);
    return cid;
  }

  #drain(cqid: number): void {
    for (const cqe of this.pcie.reap(cqid)) {
      const key = `${cqe.sqid}:${cqe.cid}`;
      const w = this.#waiters.get(key);
      if (w === undefined) continue;
      this.#waiters.delete(key);
      w.resolve(cqe);
    }
  }

  #hasWaitersOn(cqid: number): boolean {
    for (const key of this.#waiters.keys()) {
      const sqid = Number(key.split(':')[0]);
      if (this.pcie.sqs[sqid]?.cqid === cqid) return true;
    }
    return false;
  }

  /** Reaps `cqid` until no command waits on it; stops (rejecting) if the CQ disappears. */
  #pump(cqid: number): void {
    if (this.#pumping.has(cqid)) return;
    this.#pumping.add(cqid);
    const loop = async (): Promise<void> => {
      try {
        while (this.#hasWaitersOn(cqid)) {
          if (this.pcie.cqs[cqid] === undefined) break;
          await this.pcie.whenPosted(cqid);
          this.#drain(cqid);
        }
      } finally {
        this.#pumping.delete(cqid);
      }
    };
    void loop();
  }

  #rejectWhere(pred: (sqid: number) => boolean, why: string): void {
    for (const [key, w] of [...this.#waiters]) {
      if (!pred(Number(key.split(':')[0]))) continue;
      this.#waiters.delete(key);
      w.reject(new EmuError('EMU_ERR_STATE', `command ${key} cancelled: ${why}`));
    }
  }
}
