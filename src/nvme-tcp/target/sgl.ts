// Where a command's data travels (reference nvme-tcp.md §1.7, §2.7): NVMe/TCP uses exactly one
// SGL descriptor in SGL1 — 0x5A (transport data block: data moves by C2HData or R2T/H2CData) or
// 0x01 (data block with offset: in-capsule data at ICDOFF 0). Everything else is refused with the
// status nvmet uses, before any data is solicited.

import { readU32le, readU8 } from '../../util/bytes.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';

/** SGL identifier byte (type << 4 | subtype, byte 15 of the descriptor). */
export const SglId = {
  TRANSPORT_DATA_BLOCK: 0x5a,
  DATA_BLOCK_OFFSET: 0x01,
} as const;

/** Data direction from opcode bits 1:0 (Fabrics: from FCTYPE bits 1:0, §2.1). */
export type DataDir = 'none' | 'h2c' | 'c2h';

export function dataDirection(sqe: Uint8Array): DataDir | 'bidi' {
  const opcode = readU8(sqe, 0);
  const bits = (opcode === AdminOpc.FABRICS ? readU8(sqe, 4) : opcode) & 3;
  switch (bits) {
    case 0:
      return 'none';
    case 1:
      return 'h2c';
    case 2:
      return 'c2h';
    default:
      return 'bidi';
  }
}

/** How the data of one command arrives or leaves. */
export type DataPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'inCapsule'; readonly length: number }
  | { readonly kind: 'r2t'; readonly length: number }
  | { readonly kind: 'c2h'; readonly length: number };

/**
 * Checks SGL1 of `sqe` against the direction and the in-capsule bytes that came with it.
 * Returns the plan or an NVMe status (with DNR) to answer with a CapsuleResp only.
 * `maxTransfer` caps what the target will buffer for one command (MDTS).
 */
export function planData(
  sqe: Uint8Array,
  inCapsule: number,
  maxTransfer: number,
): DataPlan | number {
  const dir = dataDirection(sqe);
  const id = readU8(sqe, 24 + 15);
  const length = readU32le(sqe, 24 + 8);
  // The address is only ever compared with 0: two dwords, no BigInt per command.
  const addressZero = readU32le(sqe, 24) === 0 && readU32le(sqe, 28) === 0;
  if (dir === 'bidi') return withDnr(Status.INVALID_FIELD);
  if (id === SglId.DATA_BLOCK_OFFSET) {
    // In-capsule: the descriptor must describe exactly the bytes that came (§2.7: nvmet 16h for
    // a bad offset, 0Fh for a bad length).
    if (dir !== 'h2c') return withDnr(Status.SGL_DESCR_TYPE_INVALID);
    if (!addressZero) return withDnr(0x016);
    if (length !== inCapsule || length === 0) return withDnr(Status.DATA_SGL_LEN_INVALID);
    return { kind: 'inCapsule', length };
  }
  if (inCapsule > 0) return withDnr(Status.SGL_DESCR_TYPE_INVALID);
  if (id !== SglId.TRANSPORT_DATA_BLOCK) {
    // A command without data may leave SGL1 zeroed (PSDT 0 / PRP 0).
    if (length === 0 && dir === 'none') return { kind: 'none' };
    return withDnr(Status.SGL_DESCR_TYPE_INVALID);
  }
  if (length === 0) return { kind: 'none' };
  if (dir === 'none') return withDnr(Status.DATA_SGL_LEN_INVALID);
  if (length > maxTransfer) return withDnr(Status.DATA_SGL_LEN_INVALID);
  return dir === 'h2c' ? { kind: 'r2t', length } : { kind: 'c2h', length };
}
