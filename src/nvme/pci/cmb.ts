// Controller Memory Buffer (reference qemu-nvme.md §2.2, §11; NVMe Base Spec 2.0 §3.1.3.11,
// §8.2): `cmb_size_mb` MiB at offset 0 of BAR2, holding submission queues, PRP/SGL lists and
// read/write data (CMBSZ SQS|LISTS|RDS|WDS; not CQs).
//  - NVMe 1.4 scheme (default): CMBLOC/CMBSZ read 0 until the host writes CMBMSC.CRE=1; with
//    CMSE=1 the controller addresses the CMB at CBA (CMBMSC bits 63:12); a CBA whose range
//    wraps sets CMBSTS.CBAI and leaves CMSE off; CRE=0 clears CMBLOC/CMBSZ.
//  - `legacy-cmb` (NVMe 1.3): registers valid from reset and the BAR address is the CMB's.
// BAR accesses are byte granular; an access that runs past the end keeps only its in-range
// bytes (QEMU's oob-cmb-access qtest).

import { writeU32le } from '../../util/bytes.js';

/** CMBLOC: BIR 2, CDPMLS (bit 5), CDPCILS (bit 6). */
export const CMBLOC_VALUE = 0x62;
/** CMBSZ: SQS, LISTS, RDS, WDS, SZU 2 (1 MiB); SZ is added per size. */
const CMBSZ_FLAGS = 0x1 | 0x4 | 0x8 | 0x10 | (2 << 8);

export class Cmb {
  readonly buf: Uint8Array;
  cmbloc = 0;
  cmbsz = 0;
  cmbmsc = 0n;
  cmbsts = 0;
  /** Controller memory space enabled: addresses in [base, base+size) are served from here. */
  cmse = false;
  cba = 0n;

  constructor(
    readonly sizeMb: number,
    readonly legacy: boolean,
    /** The BAR2 address (legacy CMB addressing). */
    readonly barAddress: () => bigint | undefined,
  ) {
    this.buf = new Uint8Array(sizeMb * 1024 * 1024);
    if (legacy) {
      this.#enableRegs();
      this.cmse = true;
    }
  }

  get size(): number {
    return this.buf.length;
  }

  #enableRegs(): void {
    this.cmbloc = CMBLOC_VALUE;
    this.cmbsz = (CMBSZ_FLAGS | (this.sizeMb << 12)) >>> 0;
  }

  /** The controller address of the CMB, or undefined while it is not addressable. */
  base(): bigint | undefined {
    if (!this.cmse) return undefined;
    return this.legacy ? this.barAddress() : this.cba;
  }

  /** nvme_addr_is_cmb. */
  contains(addr: bigint): boolean {
    const lo = this.base();
    return lo !== undefined && addr >= lo && addr < lo + BigInt(this.size);
  }

  /** Bytes at controller address `addr` (wholly inside), or undefined. */
  read(addr: bigint, len: number): Uint8Array | undefined {
    const lo = this.base();
    if (lo === undefined || addr < lo || addr + BigInt(len) > lo + BigInt(this.size)) {
      return undefined;
    }
    const off = Number(addr - lo);
    return this.buf.slice(off, off + len);
  }

  write(addr: bigint, data: Uint8Array): boolean {
    const lo = this.base();
    if (lo === undefined || addr < lo || addr + BigInt(data.length) > lo + BigInt(this.size)) {
      return false;
    }
    this.buf.set(data, Number(addr - lo));
    return true;
  }

  /** CMBMSC write (low dword carries CRE/CMSE and triggers; the high dword is stored). */
  writeMsc(value: bigint, low: boolean): void {
    if (!low) {
      this.cmbmsc = (this.cmbmsc & 0xffff_ffffn) | ((value & 0xffff_ffffn) << 32n);
      return;
    }
    this.cmbmsc = value;
    this.cmse = false;
    if ((value & 1n) === 0n) {
      this.cmbsz = 0;
      this.cmbloc = 0;
      return;
    }
    this.#enableRegs();
    if ((value & 2n) !== 0n) {
      const cba = (this.cmbmsc >> 12n) << 12n;
      if (cba + BigInt(this.size) > 0xffff_ffff_ffff_ffffn) {
        this.cmbsts |= 1; // CBAI
        return;
      }
      this.cba = cba;
      this.cmse = true;
    }
  }

  /** BAR2 read of `size` bytes at `off`; bytes past the end read 0. */
  barRead(off: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) {
      const a = off + i;
      v = (v << 8n) | BigInt(a >= 0 && a < this.size ? this.buf[a]! : 0);
    }
    return v;
  }

  /** BAR2 write; bytes past the end are dropped. */
  barWrite(off: number, size: number, value: bigint): void {
    for (let i = 0; i < size; i++) {
      const a = off + i;
      if (a >= 0 && a < this.size) this.buf[a] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
  }

  /** Register reads (CMBLOC 0x38, CMBSZ 0x3C, CMBMSC 0x50/0x54, CMBSTS 0x58). */
  readReg(off: number): number | undefined {
    switch (off) {
      case 0x38:
        return this.cmbloc;
      case 0x3c:
        return this.cmbsz;
      case 0x50:
        return Number(this.cmbmsc & 0xffff_ffffn);
      case 0x54:
        return Number(this.cmbmsc >> 32n);
      case 0x58:
        return this.cmbsts;
      default:
        return undefined;
    }
  }
}

/** Overlays CMB register values onto a register window copy (for multi-byte reads). */
export function overlayCmbRegs(regs: Uint8Array, cmb: Cmb): void {
  for (const off of [0x38, 0x3c, 0x50, 0x54, 0x58]) {
    writeU32le(regs, off, cmb.readReg(off)!);
  }
}
