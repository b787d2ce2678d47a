// A userspace NVMe driver in the spirit of SPDK's: it owns a PCI function through a
// PlatformBus, programs its BARs, enables the controller with admin queues in guest RAM,
// creates I/O queue pairs, builds PRPs for data buffers, submits commands by writing SQEs and
// ringing doorbells, and completes them by polling CQ phase tags (or by watching MSI-X
// messages land in a RAM mailbox). It runs unchanged against nvmemu (InProcessBus) and QEMU
// (QtestBus). Every guest-visible step is a register or memory access a real driver makes.

import { readU32le, writeU64le } from '../../util/bytes.js';
import { EmuError } from '../../util/errors.js';
import { encodeSqe, makeCmd, parseCqe, type CmdInit, type Cqe } from '../spec/command.js';
import { AdminOpc } from '../spec/opcodes.js';
import type { PlatformBus } from './bus.js';

const PAGE = 4096;

/** Config space offsets the driver uses (PCI 3.0 / QEMU's layout, pci/config-space.ts). */
const CFG_COMMAND = 0x04;
const CFG_BAR0 = 0x10;
const CFG_BAR2 = 0x18;
const CFG_MSIX = 0x40;

/** A bump allocator of page-aligned guest RAM for queues, PRP lists and buffers. */
export class DmaAllocator {
  #next: bigint;
  constructor(
    start: bigint,
    readonly end: bigint,
  ) {
    this.#next = start;
  }
  alloc(bytes: number, align = PAGE): bigint {
    const a = BigInt(align);
    const addr = ((this.#next + a - 1n) / a) * a;
    if (addr + BigInt(bytes) > this.end) {
      throw new EmuError('EMU_ERR_STATE', `guest RAM exhausted allocating ${bytes} bytes`);
    }
    this.#next = addr + BigInt(bytes);
    return addr;
  }
}

export interface QueuePair {
  readonly qid: number;
  readonly depth: number;
  readonly sqAddr: bigint;
  readonly cqAddr: bigint;
  sqTail: number;
  cqHead: number;
  phase: number;
  nextCid: number;
  readonly done: Map<number, Cqe>;
}

export interface AttachOptions {
  readonly slot: number;
  /** ARI function number: 0 the PF, n the VF n (its BAR comes from the PF's SR-IOV). */
  readonly fn?: number;
  /** BAR0 address to program (PF only); default 0xE0000000 + slot * 16 MiB. */
  readonly bar0?: bigint;
  /** For a VF: its BAR0 as placed by the PF (SR-IOV VF BAR0 + (n-1) * size). */
  readonly vfBar0?: bigint;
  /** BAR2 (CMB) address to program, when the function has one. */
  readonly bar2?: bigint;
  /** Guest RAM the driver may allocate from (default [1 MiB, 64 MiB) of RAM). */
  readonly dma?: DmaAllocator;
}

export interface DataBuffer {
  readonly addr: bigint;
  readonly len: number;
  readonly prp1: bigint;
  readonly prp2: bigint;
}

export class NvmeDriver {
  readonly queues = new Map<number, QueuePair>();
  dstrd = 0;
  /** MSI-X mailbox: vector v writes v+1 at mailbox + 4v. */
  mailbox: bigint | undefined;

  private constructor(
    readonly bus: PlatformBus,
    readonly slot: number,
    readonly fn: number,
    readonly bar0: bigint,
    readonly dma: DmaAllocator,
  ) {}

  /** Programs the BARs (PF), enables memory space and bus mastering. */
  static async attach(bus: PlatformBus, o: AttachOptions): Promise<NvmeDriver> {
    const fn = o.fn ?? 0;
    const dma =
      o.dma ?? new DmaAllocator(0x10_0000n, bus.ramSize < 0x400_0000n ? bus.ramSize : 0x400_0000n);
    let bar0: bigint;
    if (fn === 0 || o.vfBar0 === undefined) {
      bar0 = o.bar0 ?? 0xe000_0000n + BigInt(o.slot) * 0x100_0000n;
      await bus.cfgWrite(o.slot, fn, CFG_BAR0, 4, Number(bar0 & 0xffff_ffffn));
      await bus.cfgWrite(o.slot, fn, CFG_BAR0 + 4, 4, Number(bar0 >> 32n));
      if (o.bar2 !== undefined) {
        await bus.cfgWrite(o.slot, fn, CFG_BAR2, 4, Number(o.bar2 & 0xffff_ffffn));
        await bus.cfgWrite(o.slot, fn, CFG_BAR2 + 4, 4, Number(o.bar2 >> 32n));
      }
    } else {
      bar0 = o.vfBar0;
    }
    await bus.cfgWrite(o.slot, fn, CFG_COMMAND, 2, 0x0006);
    const d = new NvmeDriver(bus, o.slot, fn, bar0, dma);
    d.dstrd = Number(((await d.reg64(0)) >> 32n) & 0xfn);
    return d;
  }

  cfgRead(off: number, size: 1 | 2 | 4): Promise<number> {
    return this.bus.cfgRead(this.slot, this.fn, off, size);
  }
  cfgWrite(off: number, size: 1 | 2 | 4, value: number): Promise<void> {
    return this.bus.cfgWrite(this.slot, this.fn, off, size, value);
  }
  async reg32(off: number): Promise<number> {
    return Number(await this.bus.read(this.bar0 + BigInt(off), 4));
  }
  setReg32(off: number, v: number): Promise<void> {
    return this.bus.write(this.bar0 + BigInt(off), 4, BigInt(v >>> 0));
  }
  reg64(off: number): Promise<bigint> {
    return this.bus.read(this.bar0 + BigInt(off), 8);
  }
  setReg64(off: number, v: bigint): Promise<void> {
    return this.bus.write(this.bar0 + BigInt(off), 8, v);
  }

  sqDoorbell(qid: number): number {
    return 0x1000 + 2 * qid * (4 << this.dstrd);
  }
  cqDoorbell(qid: number): number {
    return 0x1000 + (2 * qid + 1) * (4 << this.dstrd);
  }

  /** Waits until `pred(CSTS)` holds (or `timeoutMs` passes); returns the last CSTS. */
  async waitCsts(pred: (csts: number) => boolean, timeoutMs = 2000): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const csts = await this.reg32(0x1c);
      if (pred(csts) || Date.now() > end) return csts;
      await this.bus.idle();
    }
  }

  /** CC.EN = 0 and wait for RDY = 0; forgets every queue. */
  async disable(): Promise<number> {
    await this.setReg32(0x14, 0);
    this.queues.clear();
    return this.waitCsts((c) => (c & 1) === 0);
  }

  /**
   * Linux's enable sequence (reference §12.3): AQA/ASQ/ACQ, then CC with EN, CSS, MPS 0,
   * IOSQES 6, IOCQES 4; waits for RDY or CFS and returns CSTS.
   */
  async enable(o: { depth?: number; css?: number; cc?: number } = {}): Promise<number> {
    const depth = o.depth ?? 32;
    const sq = this.dma.alloc(depth * 64);
    const cq = this.dma.alloc(depth * 16);
    await this.bus.memWrite(cq, new Uint8Array(depth * 16));
    await this.setReg32(0x24, ((depth - 1) << 16) | (depth - 1));
    await this.setReg64(0x28, sq);
    await this.setReg64(0x30, cq);
    const cc = o.cc ?? 1 | ((o.css ?? 0) << 4) | (6 << 16) | (4 << 20);
    await this.setReg32(0x14, cc);
    const csts = await this.waitCsts((c) => (c & 3) !== 0);
    if ((csts & 1) === 1) this.queues.set(0, this.#pair(0, depth, sq, cq));
    return csts;
  }

  #pair(qid: number, depth: number, sqAddr: bigint, cqAddr: bigint): QueuePair {
    return {
      qid,
      depth,
      sqAddr,
      cqAddr,
      sqTail: 0,
      cqHead: 0,
      phase: 1,
      nextCid: 1,
      done: new Map(),
    };
  }

  /** A guest buffer of `len` bytes (page aligned) with its PRP1/PRP2 (a PRP list if needed). */
  async buffer(len: number, fill?: Uint8Array): Promise<DataBuffer> {
    const pages = Math.max(1, Math.ceil(len / PAGE));
    const addr = this.dma.alloc(pages * PAGE);
    if (fill !== undefined) await this.bus.memWrite(addr, fill);
    let prp2 = 0n;
    if (pages === 2) prp2 = addr + BigInt(PAGE);
    if (pages > 2) {
      if (pages - 1 > PAGE / 8) throw new EmuError('EMU_ERR_UNSUPPORTED', 'buffer over 2 MiB');
      const list = new Uint8Array((pages - 1) * 8);
      for (let i = 1; i < pages; i++) writeU64le(list, (i - 1) * 8, addr + BigInt(i * PAGE));
      prp2 = this.dma.alloc(PAGE);
      await this.bus.memWrite(prp2, list);
    }
    return { addr, len, prp1: addr, prp2 };
  }

  /** Writes the SQE at the tail and rings the SQ doorbell; returns the CID. */
  async submit(qid: number, init: CmdInit, ring = true): Promise<number> {
    const q = this.#queue(qid);
    const cid = init.cid ?? q.nextCid;
    q.nextCid = (cid + 1) & 0xffff || 1;
    await this.bus.memWrite(q.sqAddr + BigInt(64 * q.sqTail), encodeSqe(makeCmd({ ...init, cid })));
    q.sqTail = (q.sqTail + 1) % q.depth;
    if (ring) await this.setReg32(this.sqDoorbell(qid), q.sqTail);
    return cid;
  }

  /** Reads posted CQEs (phase tag), moves the CQ head doorbell past them. */
  async poll(qid: number): Promise<Cqe[]> {
    const q = this.#queue(qid);
    const out: Cqe[] = [];
    for (;;) {
      const raw = await this.bus.memRead(q.cqAddr + BigInt(16 * q.cqHead), 16);
      const cqe = parseCqe(raw);
      if (cqe.phase !== q.phase) break;
      out.push(cqe);
      q.cqHead = (q.cqHead + 1) % q.depth;
      if (q.cqHead === 0) q.phase ^= 1;
    }
    if (out.length > 0) await this.setReg32(this.cqDoorbell(qid), q.cqHead);
    for (const c of out) q.done.set(c.cid, c);
    return out;
  }

  /** Waits for the completion of `cid` on the CQ of `qid`. */
  async wait(qid: number, cid: number, timeoutMs = 5000): Promise<Cqe> {
    const q = this.#queue(qid);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const got = q.done.get(cid);
      if (got !== undefined) {
        q.done.delete(cid);
        return got;
      }
      await this.poll(qid);
      if (!q.done.has(cid)) {
        if (Date.now() > end) {
          throw new EmuError('EMU_ERR_STATE', `command ${cid} on queue ${qid} did not complete`);
        }
        await this.bus.idle();
      }
    }
  }

  /** Submits and waits. */
  async command(qid: number, init: CmdInit): Promise<Cqe> {
    return this.wait(qid, await this.submit(qid, init));
  }

  /** An admin command with an optional data buffer (read back after completion). */
  async admin(
    init: CmdInit,
    data?: { len: number; fill?: Uint8Array },
  ): Promise<{ cqe: Cqe; data: Uint8Array }> {
    let buf: DataBuffer | undefined;
    if (data !== undefined) buf = await this.buffer(data.len, data.fill);
    const cqe = await this.command(0, {
      ...init,
      ...(buf !== undefined ? { prp1: buf.prp1, prp2: buf.prp2 } : {}),
    });
    const out = buf === undefined ? new Uint8Array(0) : await this.bus.memRead(buf.addr, buf.len);
    return { cqe, data: out };
  }

  /** Identify (CNS, CNTID, NSID) into a 4 KiB buffer. */
  async identify(cns: number, nsid = 0, cntid = 0): Promise<{ cqe: Cqe; data: Uint8Array }> {
    return this.admin(
      { opcode: AdminOpc.IDENTIFY, nsid, cdw10: ((cntid & 0xffff) << 16) | cns },
      { len: 4096 },
    );
  }

  /** Create I/O CQ + SQ `qid` of `depth` entries in guest RAM; returns both statuses. */
  async createIoQueuePair(
    qid: number,
    depth: number,
    o: { vector?: number; ien?: boolean } = {},
  ): Promise<{ cq: Cqe; sq: Cqe }> {
    const cqAddr = this.dma.alloc(depth * 16);
    const sqAddr = this.dma.alloc(depth * 64);
    await this.bus.memWrite(cqAddr, new Uint8Array(depth * 16));
    const ien = o.ien ?? this.mailbox !== undefined;
    const cq = await this.command(0, {
      opcode: AdminOpc.CREATE_CQ,
      prp1: cqAddr,
      cdw10: ((depth - 1) << 16) | qid,
      cdw11: ((o.vector ?? 0) << 16) | (ien ? 2 : 0) | 1,
    });
    const sq = await this.command(0, {
      opcode: AdminOpc.CREATE_SQ,
      prp1: sqAddr,
      cdw10: ((depth - 1) << 16) | qid,
      cdw11: (qid << 16) | 1,
    });
    if (cq.status === 0 && sq.status === 0) {
      this.queues.set(qid, this.#pair(qid, depth, sqAddr, cqAddr));
    }
    return { cq, sq };
  }

  /**
   * Enables MSI-X with `vectors` table entries pointing into a RAM mailbox (vector v writes
   * v+1 at mailbox + 4v), so interrupts are observable without an interrupt controller.
   */
  async enableMsix(vectors: number): Promise<void> {
    const table = (await this.cfgRead(CFG_MSIX + 4, 4)) & ~7;
    this.mailbox = this.dma.alloc(PAGE);
    await this.bus.memWrite(this.mailbox, new Uint8Array(PAGE));
    for (let v = 0; v < vectors; v++) {
      const e = this.bar0 + BigInt(table + 16 * v);
      await this.bus.write(e, 4, (this.mailbox + BigInt(4 * v)) & 0xffff_ffffn);
      await this.bus.write(e + 4n, 4, this.mailbox >> 32n);
      await this.bus.write(e + 8n, 4, BigInt(v + 1));
      await this.bus.write(e + 12n, 4, 0n);
    }
    const mc = await this.cfgRead(CFG_MSIX + 2, 2);
    await this.cfgWrite(CFG_MSIX + 2, 2, (mc | 0x8000) & ~0x4000);
  }

  /** True when vector `v` fired since the last call (clears the mailbox word). */
  async interrupted(v: number): Promise<boolean> {
    if (this.mailbox === undefined) return false;
    const at = this.mailbox + BigInt(4 * v);
    const word = readU32le(await this.bus.memRead(at, 4), 0);
    if (word === 0) return false;
    await this.bus.memWrite(at, new Uint8Array(4));
    return true;
  }

  #queue(qid: number): QueuePair {
    const q = this.queues.get(qid);
    if (q === undefined) throw new EmuError('EMU_ERR_STATE', `queue ${qid} is not set up`);
    return q;
  }
}
