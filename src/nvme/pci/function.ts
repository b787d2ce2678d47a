// The NVMe controller as a PCI function (reference qemu-nvme.md §2.1-§2.5, §11): configuration
// space, BAR0 (4 KiB register window, doorbells from 0x1000 with stride 8, MSI-X table and PBA
// at 4 KiB-aligned offsets after them), BAR2 (CMB), interrupts (MSI-X per CQ vector, else INTx
// masked by INTMS), and the controller's queues in guest memory: a doorbell write makes the
// controller fetch SQEs from guest RAM (or the CMB) and write CQEs with their phase tag back.
//
// The controller's PCIe personality (pcie-controller.ts: registers, rings, queue commands) does the
// NVMe work; this class adds what makes it a PCI function and is the rings' memory (QueueMemory):
// guest RAM and the CMB. A VF is the same class with `vf` set: no BARs of its own (the PF's SR-IOV
// capability places them) and, while its secondary controller is offline, MMIO other than CSTS
// reads 0 and writes are ignored.

import { readU32le, writeU32le } from '../../util/bytes.js';
import { encodeCqe, parseSqe, type Cqe } from '../spec/command.js';
import type { Controller } from '../ctrl/controller.js';
import type { CompletionQueue, QueueMemory, SqSlot, SubmissionQueue } from './rings.js';
import { PcieController } from './pcie-controller.js';
import { DOORBELL_BASE, Reg, REG_WINDOW } from '../ctrl/regs.js';
import { Cmb, overlayCmbRegs } from './cmb.js';
import {
  buildNvmeConfig,
  Cfg,
  CMD_BUS_MASTER,
  CMD_INTX_DISABLE,
  CMD_MEMORY,
  DEVCTL_FLR,
  MSIX_ENABLE,
  MSIX_FUNCTION_MASK,
  nvmeBarLayout,
  type PciConfig,
} from './config-space.js';
import { mapDptr, mapMptr, type DmaSpace } from './dma.js';
import type { GuestMemory } from './guest-memory.js';
import { MsixState, type MsiMessage } from './msix.js';
import { blockTransferLengths, lazyHostData, type SegmentIo } from './xfer.js';

export interface NvmePciOptions {
  readonly ctrl: Controller;
  readonly memory: GuestMemory;
  /** Queues the doorbell array covers (QEMU: max_ioqpairs + 1; a VF: VQFRSM). */
  readonly queues: number;
  /** MSI-X table entries (QEMU: msix_qsize; a VF: VIFRSM). */
  readonly vectors: number;
  readonly useIntelId?: boolean;
  readonly cmbSizeMb?: number;
  readonly legacyCmb?: boolean;
  /** PF with SR-IOV: TotalVFs and the VF BAR0 size (sriov.ts). */
  readonly sriov?: { readonly maxVfs: number; readonly vfBar0Size: number };
  /** VF: where the PF's SR-IOV capability maps this VF's BAR0 (undefined = not decoded). */
  readonly vfBar0?: () => bigint | undefined;
}

export type BarIndex = 0 | 2;

export class NvmePciFunction implements QueueMemory {
  readonly ownsFunction = true;
  readonly ctrl: Controller;
  /** The controller's PCIe personality: BAR0's registers and the queue rings. */
  readonly pcie: PcieController;
  readonly memory: GuestMemory;
  readonly config: PciConfig;
  readonly msix: MsixState;
  readonly cmb: Cmb | undefined;
  readonly bar0Size: number;
  readonly tableOffset: number;
  readonly pbaOffset: number;
  readonly isVf: boolean;
  /** Message sink for MSI-X (after the message's memory write, when it targets RAM). */
  onMsi: ((m: MsiMessage) => void) | undefined;
  /** INTx pin level changes (pin A). */
  onIntx: ((level: boolean) => void) | undefined;
  /** Function Level Reset hook for the SR-IOV layer (runs after the controller reset). */
  onFunctionReset: (() => void) | undefined;
  /** Config writes to the SR-IOV capability (sriov.ts). */
  onConfigWrite: ((off: number) => void) | undefined;
  #irqStatus = 0;
  #intx = false;
  readonly #vfBar0: (() => bigint | undefined) | undefined;

  constructor(o: NvmePciOptions) {
    this.ctrl = o.ctrl;
    this.pcie = PcieController.of(o.ctrl);
    this.memory = o.memory;
    this.isVf = o.vfBar0 !== undefined;
    this.#vfBar0 = o.vfBar0;
    const layout = nvmeBarLayout(o.queues, o.vectors);
    this.bar0Size = layout.size;
    this.tableOffset = layout.tableOffset;
    this.pbaOffset = layout.pbaOffset;
    const cmbSizeMb = o.cmbSizeMb ?? 0;
    this.config = buildNvmeConfig({
      useIntelId: o.useIntelId ?? false,
      isVf: this.isVf,
      msixVectors: o.vectors,
      msixTableOffset: layout.tableOffset,
      msixPbaOffset: layout.pbaOffset,
      bar0Size: layout.size,
      cmbSize: cmbSizeMb * 1024 * 1024,
      ...(o.sriov !== undefined ? { sriov: o.sriov } : {}),
      extTag: o.ctrl.baseParams.pcieExtTag,
      ariNextFn1: o.ctrl.baseParams.ariNextFn1,
    });
    this.msix = new MsixState(o.vectors, (m) => this.#deliverMsi(m));
    this.cmb =
      cmbSizeMb > 0
        ? new Cmb(cmbSizeMb, o.legacyCmb ?? false, () => this.barAddress(2))
        : undefined;
    this.#syncMsixSize();
  }

  // ---- Configuration space --------------------------------------------------------------------

  cfgRead(off: number, size: 1 | 2 | 4): number {
    return this.config.read(off, size);
  }

  cfgWrite(off: number, size: 1 | 2 | 4, value: number): void {
    const c = this.config;
    const devctl = Cfg.PCIE + 8;
    c.write(off, size, value);
    if (off <= Cfg.MSIX + 3 && off + size > Cfg.MSIX + 2) {
      const mc = c.u16(Cfg.MSIX + 2);
      this.msix.setControl((mc & MSIX_ENABLE) !== 0, (mc & MSIX_FUNCTION_MASK) !== 0);
      this.ctrl.setMsixEnabled(this.msix.enabled);
      this.#irqCheck();
    }
    if (off <= Cfg.COMMAND + 1 && off + size > Cfg.COMMAND) this.#irqCheck();
    if (off <= devctl + 1 && off + size > devctl) {
      const v = c.u16(devctl);
      if ((v & DEVCTL_FLR) !== 0) {
        c.bytes[devctl + 1] = c.bytes[devctl + 1]! & 0x7f; // reads 0
        this.functionLevelReset();
      }
    }
    if (off >= Cfg.SRIOV) this.onConfigWrite?.(off);
  }

  /** Address a BAR decodes at, or undefined (memory space off, unassigned, or absent). */
  barAddress(bar: BarIndex): bigint | undefined {
    if (this.isVf) return bar === 0 ? this.#vfBar0?.() : undefined;
    if ((this.config.u16(Cfg.COMMAND) & CMD_MEMORY) === 0) return undefined;
    if (bar === 2 && this.cmb === undefined) return undefined;
    const a = this.config.bar64(bar === 0 ? Cfg.BAR0 : Cfg.BAR2);
    return a === 0n ? undefined : a;
  }

  barSize(bar: BarIndex): number {
    return bar === 0 ? this.bar0Size : (this.cmb?.size ?? 0);
  }

  get busMaster(): boolean {
    return (this.config.u16(Cfg.COMMAND) & CMD_BUS_MASTER) !== 0;
  }

  // ---- BAR0 / BAR2 MMIO -----------------------------------------------------------------------

  #offline(): boolean {
    const s = this.ctrl.secondary;
    return s !== undefined && !s.online;
  }

  /** A read of 1, 2, 4 or 8 bytes at `off` in `bar`. */
  mmioRead(bar: BarIndex, off: number, size: 1 | 2 | 4 | 8): bigint {
    if (bar === 2) return this.cmb?.barRead(off, size) ?? 0n;
    if (off >= this.tableOffset && off < this.tableOffset + this.msix.table.length) {
      const lo = this.msix.readTable(off - this.tableOffset);
      if (size !== 8) return BigInt(lo) & ((1n << BigInt(8 * size)) - 1n);
      return BigInt(lo) | (BigInt(this.msix.readTable(off - this.tableOffset + 4)) << 32n);
    }
    if (off >= this.pbaOffset && off < this.pbaOffset + this.msix.pba.length) {
      const lo = this.msix.readPba(off - this.pbaOffset);
      if (size !== 8) return BigInt(lo) & ((1n << BigInt(8 * size)) - 1n);
      return BigInt(lo) | (BigInt(this.msix.readPba(off - this.pbaOffset + 4)) << 32n);
    }
    // nvme_mmio_read: past the register struct reads 0 (doorbells too); an offline VF only
    // answers CSTS.
    if (off + size > REG_WINDOW) return 0n;
    if (this.#offline() && off !== Reg.CSTS) return 0n;
    const bytes = this.pcie.readRegBytes(off & ~7, 16);
    if (this.cmb !== undefined) {
      const win = new Uint8Array(REG_WINDOW + 8);
      win.set(bytes, off & ~7);
      overlayCmbRegs(win, this.cmb);
      bytes.set(win.subarray(off & ~7, (off & ~7) + 16));
    }
    let v = 0n;
    const s = off & 7;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[s + i]!);
    return v;
  }

  mmioWrite(bar: BarIndex, off: number, size: 1 | 2 | 4 | 8, value: bigint): void {
    if (bar === 2) {
      this.cmb?.barWrite(off, size, value);
      return;
    }
    if (off >= this.tableOffset && off < this.tableOffset + this.msix.table.length) {
      const rel = off - this.tableOffset;
      this.msix.writeTable(rel, Number(value & 0xffff_ffffn));
      if (size === 8) this.msix.writeTable(rel + 4, Number(value >> 32n));
      return;
    }
    if (off >= this.pbaOffset && off < this.bar0Size) return; // PBA is read-only
    if (this.#offline() && off !== Reg.CSTS) return;
    // The controller follows this function's MSI-X enable once the host drives it over PCI
    // (the in-process and NVMe/TCP paths keep their own setting).
    this.ctrl.setMsixEnabled(this.msix.enabled);
    if (off >= DOORBELL_BASE) {
      this.pcie.writeReg32(off, Number(value & 0xffff_ffffn), this);
      this.#afterDoorbell(off);
      return;
    }
    if (this.cmb !== undefined && (off === Reg.CMBMSC || off === Reg.CMBMSC + 4)) {
      // Only writable with CAP.CMBS (always set with a CMB).
      this.cmb.writeMsc(value, off === Reg.CMBMSC);
      if (size === 8 && off === Reg.CMBMSC) this.cmb.writeMsc(value, true);
      return;
    }
    if (size === 8) this.pcie.writeReg64(off, value, this);
    else this.pcie.writeReg32(off, Number(value & 0xffff_ffffn), this);
    if (off === Reg.INTMS || off === Reg.INTMC) this.#irqCheck();
    if (off === Reg.CC) this.#afterCc();
  }

  #afterCc(): void {
    if (this.ctrl.csts !== 0) return;
    // A controller reset drops interrupt state and reprograms the MSI-X table size.
    this.#irqStatus = 0;
    this.#irqCheck();
    this.#syncMsixSize();
  }

  #afterDoorbell(off: number): void {
    const rel = off - DOORBELL_BASE;
    if ((rel & 3) !== 0 || ((rel >>> 2) & 1) === 0) return;
    const cq = this.pcie.cqs[rel >>> 3];
    if (cq !== undefined && cq.head === cq.tail) this.#deassert(cq);
  }

  /** nvme_update_msixcap_ts: the advertised table size follows the configured vectors. */
  #syncMsixSize(): void {
    const n = Math.min(this.ctrl.params.msixQsize, this.msix.vectors);
    const mc = this.config.u16(Cfg.MSIX + 2);
    this.config.bytes[Cfg.MSIX + 2] = (n - 1) & 0xff;
    this.config.bytes[Cfg.MSIX + 3] = ((mc & 0xf800) >>> 8) | (((n - 1) >>> 8) & 0x7);
  }

  // ---- Resets ---------------------------------------------------------------------------------

  /**
   * Function Level Reset (PCIe DevCtl bit 15) or PCI reset: the controller's function reset
   * (pending primary flexible resources apply, VFs are disabled), then the function's
   * configuration returns to reset values (command, BARs, MSI-X).
   */
  functionLevelReset(): void {
    this.ctrl.reset('function');
    this.ctrl.release(this.pcie);
    this.onFunctionReset?.();
    const c = this.config;
    c.bytes[Cfg.COMMAND] = 0;
    c.bytes[Cfg.COMMAND + 1] = 0;
    if (!this.isVf) {
      writeU32le(c.bytes, Cfg.BAR0, 0x4);
      writeU32le(c.bytes, Cfg.BAR0 + 4, 0);
      if (this.cmb !== undefined) {
        writeU32le(c.bytes, Cfg.BAR2, 0xc);
        writeU32le(c.bytes, Cfg.BAR2 + 4, 0);
      }
    }
    c.bytes[Cfg.INT_LINE] = 0;
    c.bytes[Cfg.MSIX + 3] = c.bytes[Cfg.MSIX + 3]! & 0x3f;
    this.msix.setControl(false, false);
    this.msix.reset();
    this.ctrl.setMsixEnabled(false);
    this.#irqStatus = 0;
    this.#setIntx(false);
    this.#syncMsixSize();
  }

  // ---- Interrupts -----------------------------------------------------------------------------

  #deliverMsi(m: MsiMessage): void {
    // An MSI is a posted memory write: it lands in RAM when it targets RAM.
    const data = new Uint8Array(4);
    writeU32le(data, 0, m.data);
    if (this.busMaster && this.memory.contains(m.address, 4)) this.memory.write(m.address, data);
    this.onMsi?.(m);
  }

  #assert(cq: CompletionQueue): void {
    if (!cq.irqEnabled) return;
    if (this.msix.enabled) {
      this.msix.notify(cq.vector);
      return;
    }
    this.#irqStatus |= 1 << (cq.vector & 31);
    this.#irqCheck();
  }

  #deassert(cq: CompletionQueue): void {
    if (!cq.irqEnabled || this.msix.enabled) return;
    this.#irqStatus &= ~(1 << (cq.vector & 31));
    this.#irqCheck();
  }

  /** nvme_irq_check: INTx level = pending vectors not masked by INTMS. */
  #irqCheck(): void {
    if (this.msix.enabled) return;
    const intms = this.pcie.readReg32(Reg.INTMS);
    this.#setIntx((~intms & this.#irqStatus) !== 0);
  }

  #setIntx(level: boolean): void {
    const c = this.config;
    // Status bit 3 (Interrupt Status) reflects the level; Command bit 10 gates the pin.
    c.bytes[Cfg.STATUS] = level ? c.bytes[Cfg.STATUS]! | 0x08 : c.bytes[Cfg.STATUS]! & ~0x08;
    const out = level && (c.u16(Cfg.COMMAND) & CMD_INTX_DISABLE) === 0 && !this.isVf;
    if (out !== this.#intx) {
      this.#intx = out;
      this.onIntx?.(out);
    }
  }

  /** The INTx pin level as the interrupt controller sees it. */
  get intx(): boolean {
    return this.#intx;
  }

  // ---- DMA ------------------------------------------------------------------------------------

  /**
   * The controller's view of addresses (DmaSpace without the page size, plus SegmentIo). Guest
   * RAM is reachable only while Bus Master is enabled; the CMB is the device's own memory.
   */
  readonly space: Omit<DmaSpace, 'pageSize'> & SegmentIo = {
    isCmb: (addr) => this.cmb?.contains(addr) ?? false,
    isIomem: (addr) => {
      const b = this.barAddress(0);
      return b !== undefined && addr >= b && addr < b + BigInt(this.bar0Size);
    },
    readAddr: (addr, len) => {
      if (this.cmb?.contains(addr) === true) {
        const r = this.cmb.read(addr, len);
        if (r !== undefined) return r;
      }
      return this.busMaster ? this.memory.read(addr, len) : undefined;
    },
    // Data transfers (QEMU dma_buf_read/write) ignore unassigned memory: reads see zeros,
    // writes vanish; only list and descriptor fetches (readAddr) fail with 0x004.
    read: (cmb, addr, len) =>
      cmb
        ? this.cmb?.read(addr, len)
        : ((this.busMaster ? this.memory.read(addr, len) : undefined) ?? new Uint8Array(len)),
    write: (cmb, addr, data) => {
      if (cmb) return this.cmb?.write(addr, data) ?? false;
      if (this.busMaster) this.memory.write(addr, data);
      return true;
    },
  };

  #dmaSpace(): DmaSpace {
    const s = this.space;
    const pageSize = this.ctrl.pageSize;
    return {
      pageSize,
      isCmb: (a) => s.isCmb(a),
      isIomem: (a) => s.isIomem(a),
      readAddr: (a, l) => s.readAddr(a, l),
    };
  }

  // ---- QueueMemory ----------------------------------------------------------------------------

  fetch(sq: SubmissionQueue, index: number): SqSlot | undefined {
    const sqe = this.space.readAddr(sq.baseAddr + BigInt(64 * index), 64);
    if (sqe === undefined) return undefined;
    const cmd = parseSqe(sqe);
    const space = this.#dmaSpace();
    const io = sq.sqid === 0 ? undefined : { cmd };
    let lengths: { data: number; meta: number } | undefined | null = null;
    const known = (): { data: number; meta: number } | undefined => {
      if (lengths === null) {
        lengths =
          io === undefined ? undefined : blockTransferLengths(cmd, this.ctrl.namespace(cmd.nsid));
      }
      return lengths;
    };
    const fallback = this.ctrl.mdtsBytes === 0 ? 0x7fff_ffff : this.ctrl.mdtsBytes;
    const data = lazyHostData(
      this.space,
      (len) => mapDptr(space, cmd.psdt, cmd.dptr, len),
      () => known()?.data,
      fallback,
    );
    const meta =
      io === undefined
        ? undefined
        : lazyHostData(
            this.space,
            (len) => mapMptr(space, cmd.psdt, cmd.mptr, len),
            () => known()?.meta,
            fallback,
          );
    return { sqe, data, meta };
  }

  writeCqe(cq: CompletionQueue, index: number, cqe: Cqe): boolean {
    const addr = cq.baseAddr + BigInt(16 * index);
    const bytes = encodeCqe(cqe);
    // Unlike data transfers, a CQE write to unassigned memory fails (QEMU: CSTS.CFS).
    if (this.cmb?.contains(addr) === true) return this.cmb.write(addr, bytes);
    return this.busMaster && this.memory.write(addr, bytes);
  }

  cqCreated(cq: CompletionQueue): void {
    if (this.msix.enabled) this.msix.use(cq.vector);
  }

  cqDeleted(cq: CompletionQueue): void {
    if (this.msix.enabled) this.msix.unuse(cq.vector);
  }

  posted(cq: CompletionQueue): void {
    if (cq.tail !== cq.head) this.#assert(cq);
  }

  /** Shadow doorbell buffer (Doorbell Buffer Config): SQ y tail at dbs + 8y, CQ head at +4. */
  syncSq(sq: SubmissionQueue): void {
    const db = this.pcie.dbbuf;
    if (db === undefined) return;
    const off = BigInt(8 * sq.sqid);
    const t = this.memory.read(db.dbs + off, 4);
    if (t !== undefined) {
      const tail = readU32le(t, 0);
      if (tail < sq.size) sq.tail = tail;
    }
    const ei = new Uint8Array(4);
    writeU32le(ei, 0, sq.tail);
    this.memory.write(db.eis + off, ei);
  }

  syncCq(cq: CompletionQueue): void {
    const db = this.pcie.dbbuf;
    if (db === undefined) return;
    const off = BigInt(8 * cq.cqid + 4);
    const ei = new Uint8Array(4);
    writeU32le(ei, 0, cq.head);
    this.memory.write(db.eis + off, ei);
    const h = this.memory.read(db.dbs + off, 4);
    if (h !== undefined) {
      const head = readU32le(h, 0);
      if (head < cq.size) cq.head = head;
    }
  }

  /** Doorbell Buffer Config: existing queues publish their tail/head into the shadow buffer. */
  dbbufChanged(): void {
    const db = this.pcie.dbbuf;
    if (db === undefined) return;
    const put = (addr: bigint, v: number): void => {
      const b = new Uint8Array(4);
      writeU32le(b, 0, v);
      this.memory.write(addr, b);
    };
    this.pcie.sqs.forEach((sq, i) => {
      if (sq !== undefined) put(db.dbs + BigInt(8 * i), sq.tail);
    });
    this.pcie.cqs.forEach((cq, i) => {
      if (cq !== undefined) put(db.dbs + BigInt(8 * i + 4), cq.head);
    });
  }
}
