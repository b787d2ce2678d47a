// ICReq / ICResp PDU-specific headers (§1.3, §1.4): 128-byte headers, no digests, no data.
// Bytes 16–127 are reserved: written as zero, ignored on receipt (NVMe reserved-field convention).

import { readU8, readU16le, readU32le, writeU8, writeU16le, writeU32le } from '../../util/bytes.js';
import { Fes, MAX_PDA, MIN_MAXH2CDATA, PduFatal, PduType } from './types.js';
import type { DigestSelection, ICReqPdu, ICRespPdu } from './types.js';

/** PSH field offsets (from PDU start); also the FEI values reported for them. */
export const IcOff = { pfv: 8, pda: 10, dgst: 11, maxr2t: 12, maxh2cdata: 12 } as const;

const DGST_HDGST = 0x01;
const DGST_DDGST = 0x02;

function dgstByte(d: DigestSelection): number {
  return (d.hdgst ? DGST_HDGST : 0) | (d.ddgst ? DGST_DDGST : 0);
}

function invalid(field: number, message: string): PduFatal {
  return new PduFatal(Fes.InvalidHeaderField, field, message);
}

/** Fields both IC PDUs share: PFV must be 0 (NVMe/TCP 1.0), PDA ≤ 31, DGST bits 7:2 reserved. */
function parseCommon(
  h: Uint8Array,
  name: string,
  pdaName: string,
): { pfv: number; pda: number; dgst: DigestSelection } | PduFatal {
  const pfv = readU16le(h, IcOff.pfv);
  if (pfv !== 0) return invalid(IcOff.pfv, `${name} PFV ${pfv} (only 0 is supported)`);
  const pda = readU8(h, IcOff.pda);
  if (pda > MAX_PDA) return invalid(IcOff.pda, `${name} ${pdaName} ${pda} (must be 0..${MAX_PDA})`);
  const dgst = readU8(h, IcOff.dgst);
  if ((dgst & ~(DGST_HDGST | DGST_DDGST)) !== 0) {
    return invalid(IcOff.dgst, `${name} DGST 0x${dgst.toString(16)} has reserved bits set`);
  }
  return {
    pfv,
    pda,
    dgst: { hdgst: (dgst & DGST_HDGST) !== 0, ddgst: (dgst & DGST_DDGST) !== 0 },
  };
}

export function parseICReq(h: Uint8Array): ICReqPdu | PduFatal {
  const c = parseCommon(h, 'ICReq', 'HPDA');
  if (c instanceof PduFatal) return c;
  const maxr2t = readU32le(h, IcOff.maxr2t);
  return { type: PduType.ICReq, pfv: c.pfv, hpda: c.pda, dgst: c.dgst, maxr2t };
}

export function parseICResp(h: Uint8Array): ICRespPdu | PduFatal {
  const c = parseCommon(h, 'ICResp', 'CPDA');
  if (c instanceof PduFatal) return c;
  const maxh2cdata = readU32le(h, IcOff.maxh2cdata);
  if (maxh2cdata % 4 !== 0 || maxh2cdata < MIN_MAXH2CDATA) {
    return invalid(
      IcOff.maxh2cdata,
      `ICResp MAXH2CDATA ${maxh2cdata} (must be a multiple of 4 and >= ${MIN_MAXH2CDATA})`,
    );
  }
  return { type: PduType.ICResp, pfv: c.pfv, cpda: c.pda, dgst: c.dgst, maxh2cdata };
}

export function writeICReq(p: ICReqPdu, h: Uint8Array): void {
  writeU16le(h, IcOff.pfv, p.pfv);
  writeU8(h, IcOff.pda, p.hpda);
  writeU8(h, IcOff.dgst, dgstByte(p.dgst));
  writeU32le(h, IcOff.maxr2t, p.maxr2t);
}

export function writeICResp(p: ICRespPdu, h: Uint8Array): void {
  writeU16le(h, IcOff.pfv, p.pfv);
  writeU8(h, IcOff.pda, p.cpda);
  writeU8(h, IcOff.dgst, dgstByte(p.dgst));
  writeU32le(h, IcOff.maxh2cdata, p.maxh2cdata);
}
