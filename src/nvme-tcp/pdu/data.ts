// H2CData, C2HData and R2T PDU-specific headers (§1.3, §1.8). Offsets are from PDU start and
// double as FEI values. Semantic checks that need command state (TTAG known, DATAO sequential,
// DATAO+DATAL within the command) belong to the target/host, not to this codec.

import { readU16le, readU32le, writeU16le, writeU32le } from '../../util/bytes.js';
import { EMPTY } from './empty.js';
import { Fes, PduFatal, PduFlag, PduType } from './types.js';
import type { C2HDataPdu, H2CDataPdu, R2TPdu } from './types.js';
import type { FrameLayout } from './header.js';

export const DataOff = { cccid: 8, ttag: 10, datao: 12, datal: 16 } as const;
export const R2tOff = { cccid: 8, ttag: 10, r2to: 12, r2tl: 16 } as const;

/** DATAL must describe exactly the data that PLEN/PDO frame (§1.1, §1.3). */
function checkDatal(h: Uint8Array, layout: FrameLayout): PduFatal | undefined {
  const datal = readU32le(h, DataOff.datal);
  if (datal === layout.dataLen) return undefined;
  return new PduFatal(
    Fes.InvalidHeaderField,
    DataOff.datal,
    `${layout.info.name} DATAL ${datal} but PLEN/PDO frame ${layout.dataLen} data bytes`,
  );
}

export function parseH2CData(h: Uint8Array, layout: FrameLayout): H2CDataPdu | PduFatal {
  const bad = checkDatal(h, layout);
  if (bad !== undefined) return bad;
  return {
    type: PduType.H2CData,
    cccid: readU16le(h, DataOff.cccid),
    ttag: readU16le(h, DataOff.ttag),
    datao: readU32le(h, DataOff.datao),
    lastPdu: (layout.flags & PduFlag.LAST_PDU) !== 0,
    data: EMPTY,
  };
}

export function parseC2HData(h: Uint8Array, layout: FrameLayout): C2HDataPdu | PduFatal {
  const bad = checkDatal(h, layout);
  if (bad !== undefined) return bad;
  return {
    type: PduType.C2HData,
    cccid: readU16le(h, DataOff.cccid),
    datao: readU32le(h, DataOff.datao),
    lastPdu: (layout.flags & PduFlag.LAST_PDU) !== 0,
    success: (layout.flags & PduFlag.SUCCESS) !== 0,
    data: EMPTY,
  };
}

export function parseR2T(h: Uint8Array): R2TPdu | PduFatal {
  const r2tl = readU32le(h, R2tOff.r2tl);
  // A zero-length R2T solicits nothing; Linux treats it as a protocol error (§1.8).
  if (r2tl === 0) return new PduFatal(Fes.InvalidHeaderField, R2tOff.r2tl, 'R2T R2TL is 0');
  return {
    type: PduType.R2T,
    cccid: readU16le(h, R2tOff.cccid),
    ttag: readU16le(h, R2tOff.ttag),
    r2to: readU32le(h, R2tOff.r2to),
    r2tl,
  };
}

export function writeH2CData(p: H2CDataPdu, h: Uint8Array): void {
  writeU16le(h, DataOff.cccid, p.cccid);
  writeU16le(h, DataOff.ttag, p.ttag);
  writeU32le(h, DataOff.datao, p.datao);
  writeU32le(h, DataOff.datal, p.data.length);
}

export function writeC2HData(p: C2HDataPdu, h: Uint8Array): void {
  writeU16le(h, DataOff.cccid, p.cccid);
  writeU32le(h, DataOff.datao, p.datao);
  writeU32le(h, DataOff.datal, p.data.length);
}

export function writeR2T(p: R2TPdu, h: Uint8Array): void {
  writeU16le(h, R2tOff.cccid, p.cccid);
  writeU16le(h, R2tOff.ttag, p.ttag);
  writeU32le(h, R2tOff.r2to, p.r2to);
  writeU32le(h, R2tOff.r2tl, p.r2tl);
}
