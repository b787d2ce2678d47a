// Controller registers (NVMe Base Spec 2.0 §3.1.3, reference §2.2) with QEMU 7.2's values.

export const Reg = {
  CAP: 0x00,
  VS: 0x08,
  INTMS: 0x0c,
  INTMC: 0x10,
  CC: 0x14,
  CSTS: 0x1c,
  NSSR: 0x20,
  AQA: 0x24,
  ASQ: 0x28,
  ACQ: 0x30,
  CMBLOC: 0x38,
  CMBSZ: 0x3c,
  CMBMSC: 0x50,
  CMBSTS: 0x58,
  PMRCAP: 0xe00,
  PMRCTL: 0xe04,
  PMRSTS: 0xe08,
} as const;

/** Size of the register window; doorbells start here (DSTRD 0: stride 8 bytes). */
export const REG_WINDOW = 0x1000;
export const DOORBELL_BASE = 0x1000;

export const VERSION_1_4 = 0x00010400;
/** CAP.MQES: 0's based maximum queue entries (2048). */
export const MQES = 0x7ff;
/** CAP.CSS [7.2]: NVM (bit0), I/O command set specific (bit6), admin only (bit7). */
export const CAP_CSS = 0xc1;
export const CAP_MPSMIN = 0;
export const CAP_MPSMAX = 4;

export const CSTS_RDY = 0x1;
export const CSTS_CFS = 0x2;
/** CSTS.SHST = 2 (shutdown processing complete), bits 3:2. */
export const CSTS_SHST_COMPLETE = 0x8;

/**
 * CAP for a controller (reference §2.2: 0x004018200f0107ff by default); `css` and `mqes` are
 * the level's and the `mqes` property's (QEMU 10.0: CSS 0x41).
 */
export function capValue(pmr: boolean, cmb: boolean, css = CAP_CSS, mqes = MQES): bigint {
  return (
    BigInt(mqes) |
    (1n << 16n) | // CQR: queues must be physically contiguous
    (0x0fn << 24n) | // TO: 7.5 s
    (BigInt(css) << 37n) |
    (BigInt(CAP_MPSMIN) << 48n) |
    (BigInt(CAP_MPSMAX) << 52n) |
    (pmr ? 1n << 56n : 0n) |
    (cmb ? 1n << 57n : 0n)
  );
}

/** CC fields (Base Spec 2.0 Figure 41). */
export interface CcFields {
  readonly en: boolean;
  readonly css: number;
  readonly mps: number;
  readonly ams: number;
  readonly shn: number;
  readonly iosqes: number;
  readonly iocqes: number;
}

export function decodeCc(cc: number): CcFields {
  return {
    en: (cc & 1) !== 0,
    css: (cc >>> 4) & 0x7,
    mps: (cc >>> 7) & 0xf,
    ams: (cc >>> 11) & 0x7,
    shn: (cc >>> 14) & 0x3,
    iosqes: (cc >>> 16) & 0xf,
    iocqes: (cc >>> 20) & 0xf,
  };
}

/** A CC value from fields (host side helper): EN, CSS, MPS, IOSQES 6, IOCQES 4 by default. */
export function encodeCc(f: Partial<CcFields>): number {
  return (
    (((f.en ?? false) ? 1 : 0) |
      ((f.css ?? 0) << 4) |
      ((f.mps ?? 0) << 7) |
      ((f.ams ?? 0) << 11) |
      ((f.shn ?? 0) << 14) |
      ((f.iosqes ?? 6) << 16) |
      ((f.iocqes ?? 4) << 20)) >>>
    0
  );
}

/** AQA: ASQS bits 11:0, ACQS bits 27:16 (both 0's based). */
export function decodeAqa(aqa: number): { asqs: number; acqs: number } {
  return { asqs: aqa & 0xfff, acqs: (aqa >>> 16) & 0xfff };
}
