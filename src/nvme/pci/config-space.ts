// PCI Express configuration space of the NVMe function (PCI Local Bus 3.0 §6, PCIe 4.0 §7),
// laid out as QEMU 7.2 lays out its `nvme` device (reference qemu-nvme.md §2.1, measured through
// QEMU's qtest socket with MMCONFIG on q35):
//   0x00 1b36:0010 (8086:5845 with use-intel-id), status cap-list, rev 2, class 01/08/02,
//   BAR0 64-bit memory (registers, doorbells, MSI-X), BAR2 64-bit prefetchable (CMB),
//   subsystem 1af4:1100, cap pointer 0x40, interrupt pin A;
//   0x40 MSI-X -> 0x80 PCIe v2 (FLR) -> 0x60 PM 1.2 (No_Soft_Reset);
//   0x100 ARI -> 0x120 SR-IOV (PF with sriov_max_vfs only; a VF has ARI alone).
// A VF reads vendor/device 0xffff and its BARs 0: its BAR0 lives in the PF's SR-IOV capability.

import { readU16le, readU32le, writeU16le, writeU32le } from '../../util/bytes.js';

export const CFG_SIZE = 4096;

export const Cfg = {
  VENDOR: 0x00,
  DEVICE: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION: 0x08,
  BAR0: 0x10,
  BAR2: 0x18,
  SUBSYS_VENDOR: 0x2c,
  CAP_PTR: 0x34,
  INT_LINE: 0x3c,
  INT_PIN: 0x3d,
  MSIX: 0x40,
  PM: 0x60,
  PCIE: 0x80,
  ARI: 0x100,
  SRIOV: 0x120,
} as const;

/** Command register bits (PCI 3.0 §6.2.2). */
export const CMD_MEMORY = 0x2;
export const CMD_BUS_MASTER = 0x4;
export const CMD_INTX_DISABLE = 0x400;

/** MSI-X Message Control bits (PCI 3.0 §6.8.2.3). */
export const MSIX_ENABLE = 0x8000;
export const MSIX_FUNCTION_MASK = 0x4000;

/** PCIe Device Control: Initiate Function Level Reset (bit 15, reads 0). */
export const DEVCTL_FLR = 0x8000;

/** SR-IOV capability registers, relative to Cfg.SRIOV (PCIe 4.0 §9.3.3). */
export const Sriov = {
  CTRL: 0x08,
  INITIAL_VFS: 0x0c,
  TOTAL_VFS: 0x0e,
  NUM_VFS: 0x10,
  VF_OFFSET: 0x14,
  VF_STRIDE: 0x16,
  VF_DEVICE: 0x1a,
  SUPPORTED_PAGE_SIZES: 0x1c,
  SYSTEM_PAGE_SIZE: 0x20,
  VF_BAR0: 0x24,
} as const;
export const SRIOV_VF_ENABLE = 0x1;
export const SRIOV_VF_MSE = 0x8;

export interface NvmeConfigOptions {
  readonly useIntelId: boolean;
  readonly isVf: boolean;
  /** MSI-X table entries the BAR holds (the table size field is reprogrammed at reset). */
  readonly msixVectors: number;
  readonly msixTableOffset: number;
  readonly msixPbaOffset: number;
  readonly bar0Size: number;
  /** BAR2 (CMB) size in bytes, 0 = none. */
  readonly cmbSize: number;
  /** PF SR-IOV: TotalVFs and the VF BAR0 size. */
  readonly sriov?: { readonly maxVfs: number; readonly vfBar0Size: number };
  /**
   * DevCap Extended Tag Field Supported and ARI Next Function Number 1: QEMU 10.0's machine
   * types set the first and clear the second (`x-pcie-ext-tag`, `x-pcie-ari-nextfn-1`), the
   * 7.2 types the opposite (the default here).
   */
  readonly extTag?: boolean;
  readonly ariNextFn1?: boolean;
}

/**
 * A configuration space: bytes plus a write mask (bits software may change) and a
 * write-1-to-clear mask. Side effects of writes belong to the owner (function.ts).
 */
export class PciConfig {
  readonly bytes = new Uint8Array(CFG_SIZE);
  readonly wmask = new Uint8Array(CFG_SIZE);
  readonly w1cmask = new Uint8Array(CFG_SIZE);

  /** Little-endian read of 1, 2 or 4 bytes; outside the space reads all ones. */
  read(off: number, size: 1 | 2 | 4): number {
    if (off < 0 || off + size > CFG_SIZE) return size === 4 ? 0xffff_ffff : (1 << (8 * size)) - 1;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.bytes[off + i]!;
    return v >>> 0;
  }

  /** Applies a guest write through the masks (read-only bits keep their value). */
  write(off: number, size: 1 | 2 | 4, value: number): void {
    if (off < 0 || off + size > CFG_SIZE) return;
    for (let i = 0; i < size; i++) {
      const b = (value >>> (8 * i)) & 0xff;
      const a = off + i;
      const w = this.wmask[a]!;
      const c = this.w1cmask[a]!;
      this.bytes[a] = ((this.bytes[a]! & ~w) | (b & w)) & ~(b & c) & 0xff;
    }
  }

  u16(off: number): number {
    return readU16le(this.bytes, off);
  }
  u32(off: number): number {
    return readU32le(this.bytes, off);
  }
  setU16(off: number, v: number, wmask = 0): void {
    writeU16le(this.bytes, off, v);
    writeU16le(this.wmask, off, wmask);
  }
  setU32(off: number, v: number, wmask = 0): void {
    writeU32le(this.bytes, off, v >>> 0);
    writeU32le(this.wmask, off, wmask >>> 0);
  }
  setU8(off: number, v: number, wmask = 0): void {
    this.bytes[off] = v;
    this.wmask[off] = wmask;
  }

  /** A 64-bit memory BAR of `size` bytes (power of two) at `off`; `flags` low bits. */
  initBar64(off: number, size: number, flags: number): void {
    const lowMask = size >= 0x1_0000_0000 ? 0 : ~(size - 1) & 0xffff_fff0;
    this.setU32(off, flags, lowMask);
    this.setU32(off + 4, 0, size > 0x1_0000_0000 ? ~(size / 0x1_0000_0000 - 1) : 0xffff_ffff);
  }

  /** The address a 64-bit BAR at `off` decodes (flag bits dropped). */
  bar64(off: number): bigint {
    return (BigInt(this.u32(off + 4)) << 32n) | BigInt((this.u32(off) & 0xffff_fff0) >>> 0);
  }
}

/** Smallest power of two >= n (QEMU's pow2ceil). */
export function pow2ceil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * nvme_bar_size: registers (4 KiB) + 2 doorbells of 4 bytes per queue, 4 KiB aligned; MSI-X
 * table (16 B per vector), 4 KiB aligned; PBA (one bit per vector, 8-byte units); the whole
 * rounded up to a power of two.
 */
export function nvmeBarLayout(
  queues: number,
  vectors: number,
): { size: number; tableOffset: number; pbaOffset: number } {
  const align = (n: number): number => Math.ceil(n / 4096) * 4096;
  const tableOffset = align(0x1000 + 2 * queues * 4);
  const pbaOffset = align(tableOffset + 16 * vectors);
  const size = pow2ceil(pbaOffset + Math.ceil(vectors / 64) * 8);
  return { size, tableOffset, pbaOffset };
}

/** Builds the configuration space QEMU 7.2 presents (see the header). */
export function buildNvmeConfig(o: NvmeConfigOptions): PciConfig {
  const c = new PciConfig();
  const vendor = o.useIntelId ? 0x8086 : 0x1b36;
  const device = o.useIntelId ? 0x5845 : 0x0010;
  c.setU16(Cfg.VENDOR, o.isVf ? 0xffff : vendor);
  c.setU16(Cfg.DEVICE, o.isVf ? 0xffff : device);
  // I/O and memory space, bus master, SERR and INTx disable are the guest's (measured 0x507;
  // a VF's BAR decodes through the PF's VF MSE instead of its own memory bit).
  c.setU16(Cfg.COMMAND, 0, 0x0507);
  c.setU16(Cfg.STATUS, 0x0010); // capabilities list
  c.setU32(Cfg.REVISION, 0x0108_0202);
  c.setU8(0x0c, 0, 0xff); // cache line size
  if (!o.isVf) {
    c.initBar64(Cfg.BAR0, o.bar0Size, 0x4);
    if (o.cmbSize > 0) c.initBar64(Cfg.BAR2, o.cmbSize, 0xc);
  }
  c.setU32(Cfg.SUBSYS_VENDOR, 0x1100_1af4);
  c.setU8(Cfg.CAP_PTR, Cfg.MSIX);
  c.setU8(Cfg.INT_LINE, 0, 0xff);
  c.setU8(Cfg.INT_PIN, 1);

  // MSI-X: id 0x11, next PCIe; table size (N-1), enable + function mask writable.
  c.setU8(Cfg.MSIX, 0x11);
  c.setU8(Cfg.MSIX + 1, Cfg.PCIE);
  c.setU16(Cfg.MSIX + 2, o.msixVectors - 1, MSIX_ENABLE | MSIX_FUNCTION_MASK);
  c.setU32(Cfg.MSIX + 4, o.msixTableOffset);
  c.setU32(Cfg.MSIX + 8, o.msixPbaOffset);

  // Power management 1.2: D0/D3hot writable, No_Soft_Reset.
  c.setU32(Cfg.PM, 0x0003_0001);
  c.setU16(Cfg.PM + 4, 0x0008, 0x0003);

  // PCIe v2 root-complex integrated endpoint (QEMU on a q35 root bus); DevCap: role-based
  // error reporting and FLR; DevCtl writable (bit 15 starts an FLR and reads 0).
  c.setU32(Cfg.PCIE, 0x0092_6010);
  c.setU32(Cfg.PCIE + 4, 0x1000_8000 | (o.extTag === true ? 0x20 : 0));
  c.setU16(Cfg.PCIE + 8, 0, 0xffff);
  c.setU32(Cfg.PCIE + 0x0c, 0x0000_0411);
  c.setU32(Cfg.PCIE + 0x10, 0x0011_0000, 0x0000_0fff);
  c.setU32(Cfg.PCIE + 0x24, 0x0030_0000);

  // ARI (next function 1, or 0 at QEMU 10.0) on VFs and on a PF with SR-IOV, which chains to
  // SR-IOV.
  const sriov = o.sriov !== undefined && !o.isVf;
  if (sriov || o.isVf) {
    c.setU32(Cfg.ARI, sriov ? 0x1201_000e : 0x0001_000e);
    c.setU32(Cfg.ARI + 4, (o.ariNextFn1 ?? true) ? 0x0000_0100 : 0);
  }
  if (sriov) {
    const s = Cfg.SRIOV;
    c.setU32(s, 0x0001_0010);
    c.setU16(s + Sriov.CTRL, 0, SRIOV_VF_ENABLE | SRIOV_VF_MSE | 0x10);
    c.setU16(s + Sriov.INITIAL_VFS, o.sriov.maxVfs);
    c.setU16(s + Sriov.TOTAL_VFS, o.sriov.maxVfs);
    c.setU16(s + Sriov.NUM_VFS, 0, 0xffff);
    c.setU16(s + Sriov.VF_OFFSET, 1);
    c.setU16(s + Sriov.VF_STRIDE, 1);
    c.setU16(s + Sriov.VF_DEVICE, device);
    c.setU32(s + Sriov.SUPPORTED_PAGE_SIZES, 0x553);
    c.setU32(s + Sriov.SYSTEM_PAGE_SIZE, 1, 0xffff_ffff);
    c.initBar64(s + Sriov.VF_BAR0, o.sriov.vfBar0Size, 0x4);
  }
  return c;
}
