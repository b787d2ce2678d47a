// H2CTermReq / C2HTermReq (§1.3, §1.10): 24-byte header, FES at 8–9, FEI at 10–13, 14–23
// reserved; data = the offending PDU header (≤ 128 bytes). Never digests. Any FES value is
// accepted on receipt: the connection ends either way and the value is only reported.

import { readU16le, readU32le, writeU16le, writeU32le } from '../../util/bytes.js';
import { EMPTY } from './empty.js';
import type { C2HTermReqPdu, H2CTermReqPdu, PduType } from './types.js';

export const TermOff = { fes: 8, fei: 10 } as const;

type TermType = typeof PduType.H2CTermReq | typeof PduType.C2HTermReq;

export function parseTermReq(h: Uint8Array, type: TermType): H2CTermReqPdu | C2HTermReqPdu {
  return { type, fes: readU16le(h, TermOff.fes), fei: readU32le(h, TermOff.fei), data: EMPTY };
}

export function writeTermReq(p: H2CTermReqPdu | C2HTermReqPdu, h: Uint8Array): void {
  writeU16le(h, TermOff.fes, p.fes);
  writeU32le(h, TermOff.fei, p.fei);
}
