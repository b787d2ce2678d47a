// End-to-end protection semantics (NVM Command Set Spec 1.0 §5.2.2-§5.2.3; reference
// qemu-nvme.md §9.4): the PRINFO field of a command, the command-level reference tag rule,
// the per-block guard / application tag / reference tag checks with their escapes, tuple
// generation (PRACT) and the all-ones tuples of blocks never written.
//
// Statuses, as QEMU: a command-level problem is Invalid Protection Information 0x181 (with DNR,
// except type 3 asking for a reference tag check, which QEMU 7.2 answers without DNR); a failed
// block check is End-to-end Guard 0x282 / Application Tag 0x283 / Reference Tag 0x284 Check
// Error without DNR (the data may read correctly on a retry after repair).

import { Status, withDnr } from '../../spec/status.js';
import {
  guardOf,
  readTuple,
  reftagMask,
  tupleOffset,
  tupleSize,
  writeTuple,
  type PiFormat,
} from './tuple.js';

/** PRINFO bits as a 4-bit field (cdw12 29:26 of Read/Write, PRINFOR/PRINFOW of Copy). */
export const PRINFO_PRACT = 0x8;
export const PRCHK_GUARD = 0x4;
export const PRCHK_APP = 0x2;
export const PRCHK_REF = 0x1;
export const PRCHK_MASK = 0x7;

/** What a command says about protection information. */
export interface PrInfo {
  /** PRINFO (4 bits): PRACT | PRCHK guard / apptag / reftag. */
  readonly prinfo: number;
  /** Initial logical block reference tag (ILBRT / EILBRT), masked to 32 or 48 bits. */
  readonly reftag: bigint;
  /** Logical block application tag (LBAT). */
  readonly apptag: number;
  /** Logical block application tag mask (LBATM): 1 bits are compared. */
  readonly appmask: number;
}

export const pract = (p: PrInfo): boolean => (p.prinfo & PRINFO_PRACT) !== 0;

/**
 * PRINFO of a Read/Write-family command (cdw12 29:26), reference tag from cdw14 (lower 32 bits)
 * and, with a 64-bit guard and storage tag size 0, cdw3 15:0 (upper 16 bits); LBAT cdw15 15:0,
 * LBATM cdw15 31:16.
 */
export function rwPrInfo(
  cmd: { cdw3: number; cdw12: number; cdw14: number; cdw15: number },
  f: PiFormat,
): PrInfo {
  return commandPrInfo((cmd.cdw12 >>> 26) & 0xf, cmd, f);
}

/** A PrInfo from a PRINFO field and the tag dwords (Copy uses PRINFOW with cdw14/cdw15). */
export function commandPrInfo(
  prinfo: number,
  cmd: { cdw3: number; cdw14: number; cdw15: number },
  f: PiFormat,
): PrInfo {
  const upper = f.pif === 2 ? BigInt(cmd.cdw3 & 0xffff) << 32n : 0n;
  return {
    prinfo,
    reftag: (upper | BigInt(cmd.cdw14 >>> 0)) & reftagMask(f.pif),
    apptag: cmd.cdw15 & 0xffff,
    appmask: cmd.cdw15 >>> 16,
  };
}

/**
 * The command-level rule (§9.4): type 1 with a reference tag check needs ILBRT equal to the
 * (masked) starting LBA; type 3 has no reference tag to check. Type 2 accepts any ILBRT.
 * Returns 0 or the status.
 */
export function checkPrInfo(f: PiFormat, p: PrInfo, slba: bigint): number {
  if ((p.prinfo & PRCHK_REF) === 0) return Status.SUCCESS;
  switch (f.type) {
    case 1:
      return p.reftag !== (slba & reftagMask(f.pif))
        ? withDnr(Status.INVALID_PROT_INFO)
        : Status.SUCCESS;
    case 2:
      return Status.SUCCESS;
    case 3:
      // [7.2 measured] without DNR.
      return Status.INVALID_PROT_INFO;
  }
}

/** Reference tag expected for block `i` of a command: +1 per block for types 1/2. */
export function reftagAt(f: PiFormat, p: PrInfo, i: number): bigint {
  if (f.type === 3) return p.reftag;
  return (p.reftag + BigInt(i)) & reftagMask(f.pif);
}

/** A block-check failure: the status and the index of the block (from the command start). */
export interface PiFailure {
  readonly status: number;
  readonly index: number;
}

/**
 * Checks blocks [0, nlb) of `data`/`meta` (one command piece starting at block `first` of the
 * command, whose starting LBA is `slba`) per the PRCHK bits. Returns undefined when all pass.
 */
export function checkBlocks(
  f: PiFormat,
  p: PrInfo,
  data: Uint8Array,
  meta: Uint8Array,
  first: number,
  slba: number,
): PiFailure | undefined {
  const nlb = data.length / f.lbaSize;
  const off = tupleOffset(f);
  const allOnes = reftagMask(f.pif);
  for (let i = 0; i < nlb; i++) {
    const m = meta.subarray(i * f.ms, (i + 1) * f.ms);
    const t = readTuple(m, off, f.pif);
    // Escapes (§5.2.1.1 / §9.4): an application tag of FFFFh disables checking for types 1/2;
    // type 3 also needs the reference tag all ones.
    if (t.apptag === 0xffff && (f.type !== 3 || t.reftag === allOnes)) continue;
    const d = data.subarray(i * f.lbaSize, (i + 1) * f.lbaSize);
    const index = first + i;
    if ((p.prinfo & PRCHK_GUARD) !== 0 && guardOf(f, d, m) !== t.guard) {
      // QEMU (64b guard) forgives a guard mismatch of LBA 0 whose data is all zeros.
      if (!(f.pif === 2 && slba + index === 0 && isZero(d))) {
        return { status: Status.E2E_GUARD_ERROR, index };
      }
    }
    if ((p.prinfo & PRCHK_APP) !== 0 && ((t.apptag ^ p.apptag) & p.appmask) !== 0) {
      return { status: Status.E2E_APP_ERROR, index };
    }
    if ((p.prinfo & PRCHK_REF) !== 0 && f.type !== 3 && t.reftag !== reftagAt(f, p, index)) {
      return { status: Status.E2E_REF_ERROR, index };
    }
  }
  return undefined;
}

/**
 * PRACT on a write: writes a fresh tuple into each block's metadata (guard over the data and
 * the metadata before the tuple, LBAT, the block's reference tag). `first` is the index of the
 * piece's first block in the command.
 */
export function generate(
  f: PiFormat,
  p: PrInfo,
  data: Uint8Array,
  meta: Uint8Array,
  first: number,
): void {
  const nlb = data.length / f.lbaSize;
  const off = tupleOffset(f);
  for (let i = 0; i < nlb; i++) {
    const m = meta.subarray(i * f.ms, (i + 1) * f.ms);
    const d = data.subarray(i * f.lbaSize, (i + 1) * f.lbaSize);
    writeTuple(m, off, f.pif, {
      guard: guardOf(f, d, m),
      apptag: p.apptag,
      reftag: reftagAt(f, p, first + i),
    });
  }
}

/**
 * Blocks never written (their whole stored metadata reads as zero: a sparse or formatted
 * image, a deallocated block, Write Zeroes without PRACT) present an all-ones tuple, as QEMU
 * shows unallocated metadata, so every check escapes (§9.4).
 */
export function markUnwritten(f: PiFormat, meta: Uint8Array): void {
  const nlb = meta.length / f.ms;
  const off = tupleOffset(f);
  const size = tupleSize(f.pif);
  for (let i = 0; i < nlb; i++) {
    const m = meta.subarray(i * f.ms, (i + 1) * f.ms);
    if (isZero(m)) m.fill(0xff, off, off + size);
  }
}

function isZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}
