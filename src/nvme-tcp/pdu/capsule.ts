// CapsuleCmd / CapsuleResp (§1.3): the 64-byte SQE at bytes 8–71 and the 16-byte CQE at bytes
// 8–23 stay opaque byte arrays here; the controller and host parse them (§2.1, §2.9).

import { readU16le } from '../../util/bytes.js';
import { EMPTY } from './empty.js';
import { PduType } from './types.js';
import type { CapsuleCmdPdu, CapsuleRespPdu } from './types.js';

export const SQE_LEN = 64;
export const CQE_LEN = 16;
const PSH_OFF = 8;

/** Command identifier of an SQE (bytes 2–3, §2.1). */
export function sqeCid(sqe: Uint8Array): number {
  return readU16le(sqe, 2);
}

/** Command identifier of a CQE (DW3 bits 15:0 = bytes 12–13, §2.9). */
export function cqeCid(cqe: Uint8Array): number {
  return readU16le(cqe, 12);
}

/** The SQE aliases the received header bytes (no copy). */
export function parseCapsuleCmd(h: Uint8Array): CapsuleCmdPdu {
  return { type: PduType.CapsuleCmd, sqe: h.subarray(PSH_OFF, PSH_OFF + SQE_LEN), data: EMPTY };
}

export function parseCapsuleResp(h: Uint8Array): CapsuleRespPdu {
  return { type: PduType.CapsuleResp, cqe: h.subarray(PSH_OFF, PSH_OFF + CQE_LEN) };
}

export function writeCapsuleCmd(p: CapsuleCmdPdu, h: Uint8Array): void {
  h.set(p.sqe, PSH_OFF);
}

export function writeCapsuleResp(p: CapsuleRespPdu, h: Uint8Array): void {
  h.set(p.cqe, PSH_OFF);
}
