// Malformed PDUs and the exact fatal error a receiver reports (reference nvme-tcp.md §1.10):
// FES 01h with FEI = byte offset of the offending field, 02h sequence errors, 03h header digest
// errors, 05h data limit exceeded. Each row is a valid encoded PDU with one field broken (the
// header digest, when present, is recomputed so only that field is wrong).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readU32le, writeU32le } from '../../util/bytes.js';
import { writeDigest } from '../digest.js';
import type { FramerOptions } from '../framer.js';
import { encodePdu, parsePdu } from './codec.js';
import { concat, recordingFramer } from './fixtures.js';
import { DEFAULT_LIMITS, PDU_INFO, PduFatal, PduType } from './types.js';
import type { DigestSelection, Pdu } from './types.js';

const SQE = new Uint8Array(64).fill(0x11);
const CQE = new Uint8Array(16).fill(0x22);
const D4 = new Uint8Array([1, 2, 3, 4]);
const NONE: DigestSelection = { hdgst: false, ddgst: false };
const HD: DigestSelection = { hdgst: true, ddgst: false };
const DD: DigestSelection = { hdgst: false, ddgst: true };

const icReq = (dgst: DigestSelection): Pdu => ({
  type: PduType.ICReq,
  pfv: 0,
  hpda: 0,
  dgst,
  maxr2t: 0,
});
const icResp = (dgst: DigestSelection): Pdu => ({
  type: PduType.ICResp,
  pfv: 0,
  cpda: 0,
  dgst,
  maxh2cdata: 131072,
});
const cmd = (data = new Uint8Array(0)): Pdu => ({ type: PduType.CapsuleCmd, sqe: SQE, data });
const resp: Pdu = { type: PduType.CapsuleResp, cqe: CQE };
const h2c: Pdu = { type: PduType.H2CData, cccid: 1, ttag: 2, datao: 0, lastPdu: true, data: D4 };
const c2h: Pdu = {
  type: PduType.C2HData,
  cccid: 1,
  datao: 0,
  lastPdu: true,
  success: false,
  data: D4,
};
const r2t: Pdu = { type: PduType.R2T, cccid: 1, ttag: 2, r2to: 0, r2tl: 4 };
const term: Pdu = { type: PduType.H2CTermReq, fes: 1, fei: 0, data: new Uint8Array(8) };

/** Encode, then overwrite bytes (u8 edits and an optional PLEN), then refresh HDGST. */
function broken(
  pdu: Pdu,
  dgst: DigestSelection,
  edits: [number, number][],
  opts: { plen?: number; pda?: number; keepHdgst?: boolean } = {},
): Uint8Array {
  const b = concat(encodePdu(pdu, { ...dgst, pda: opts.pda ?? 0 }));
  for (const [off, v] of edits) b[off] = v;
  if (opts.plen !== undefined) writeU32le(b, 4, opts.plen);
  const info = PDU_INFO[pdu.type];
  if (info.digests && dgst.hdgst && opts.keepHdgst !== true) {
    writeDigest(b, info.hlen, b.subarray(0, info.hlen));
  }
  return b;
}

interface Row {
  name: string;
  role: 'target' | 'host';
  /** DGST of the IC PDU fed first; 'none' feeds no IC PDU. */
  init: DigestSelection | 'none';
  bytes: Uint8Array;
  fes: number;
  fei: number | undefined;
  message: string;
  /** Bytes of the offending header echoed for the TermReq: 8 if the CH was rejected, else HLEN. */
  echoed: number;
  options?: Partial<FramerOptions>;
}

const T = 'target' as const;
const H = 'host' as const;

// prettier-ignore
const ROWS: Row[] = [
  // ---- PDU type (FEI 0) ----
  { name: 'unknown type 08h', role: T, init: NONE, bytes: broken(resp, NONE, [[0, 0x08]]), fes: 1, fei: 0, message: 'invalid PDU type 0x08', echoed: 8 },
  { name: 'unknown type FFh', role: H, init: NONE, bytes: broken(resp, NONE, [[0, 0xff]]), fes: 1, fei: 0, message: 'invalid PDU type 0xff', echoed: 8 },
  { name: 'a CapsuleResp sent to a target', role: T, init: NONE, bytes: broken(resp, NONE, []), fes: 1, fei: 0, message: 'invalid PDU type 0x05 (CapsuleResp) for a target', echoed: 8 },
  { name: 'a CapsuleCmd sent to a host', role: H, init: NONE, bytes: broken(cmd(), NONE, []), fes: 1, fei: 0, message: 'invalid PDU type 0x04 (CapsuleCmd) for a host', echoed: 8 },
  { name: 'an ICResp sent to a target before anything else', role: T, init: 'none', bytes: broken(icResp(NONE), NONE, []), fes: 1, fei: 0, message: 'invalid PDU type 0x01 (ICResp) for a target', echoed: 8 },
  // ---- sequence (FES 02h) ----
  { name: 'CapsuleCmd before ICReq', role: T, init: 'none', bytes: broken(cmd(), NONE, []), fes: 2, fei: undefined, message: 'CapsuleCmd before ICReq', echoed: 8 },
  { name: 'a second ICReq', role: T, init: NONE, bytes: broken(icReq(NONE), NONE, []), fes: 2, fei: undefined, message: 'second ICReq', echoed: 8 },
  { name: 'R2T before ICResp', role: H, init: 'none', bytes: broken(r2t, NONE, []), fes: 2, fei: undefined, message: 'R2T before ICResp', echoed: 8 },
  { name: 'a second ICResp', role: H, init: HD, bytes: broken(icResp(HD), NONE, []), fes: 2, fei: undefined, message: 'second ICResp', echoed: 8 },
  // ---- HLEN (FEI 2) ----
  { name: 'CapsuleCmd HLEN 24', role: T, init: NONE, bytes: broken(cmd(), NONE, [[2, 24]]), fes: 1, fei: 2, message: 'CapsuleCmd HLEN 24 (must be 72)', echoed: 8 },
  { name: 'ICReq HLEN 127', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[2, 127]]), fes: 1, fei: 2, message: 'ICReq HLEN 127 (must be 128)', echoed: 8 },
  { name: 'C2HData HLEN 28', role: H, init: NONE, bytes: broken(c2h, NONE, [[2, 28]]), fes: 1, fei: 2, message: 'C2HData HLEN 28 (must be 24)', echoed: 8 },
  // ---- FLAGS (FEI 1) ----
  { name: 'LAST_PDU on a CapsuleCmd', role: T, init: NONE, bytes: broken(cmd(), NONE, [[1, 0x04]]), fes: 1, fei: 1, message: 'CapsuleCmd FLAGS 0x04 has reserved bits set', echoed: 8 },
  { name: 'reserved bit 4 on H2CData', role: T, init: NONE, bytes: broken(h2c, NONE, [[1, 0x14]]), fes: 1, fei: 1, message: 'H2CData FLAGS 0x14 has reserved bits set', echoed: 8 },
  { name: 'SUCCESS on H2CData', role: T, init: NONE, bytes: broken(h2c, NONE, [[1, 0x0c]]), fes: 1, fei: 1, message: 'H2CData FLAGS 0x0c has reserved bits set', echoed: 8 },
  { name: 'HDGSTF on an ICReq', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[1, 0x01]]), fes: 1, fei: 1, message: 'ICReq FLAGS 0x01 has reserved bits set', echoed: 8 },
  { name: 'DDGSTF on an R2T', role: H, init: DD, bytes: broken(r2t, DD, [[1, 0x02]]), fes: 1, fei: 1, message: 'R2T FLAGS 0x02 has reserved bits set', echoed: 8 },
  { name: 'HDGSTF set without a negotiated header digest', role: T, init: NONE, bytes: broken(cmd(), NONE, [[1, 0x01]]), fes: 1, fei: 1, message: 'CapsuleCmd HDGSTF set but header digest was not negotiated', echoed: 8 },
  { name: 'HDGSTF clear with a negotiated header digest', role: T, init: HD, bytes: broken(cmd(), HD, [[1, 0x00]]), fes: 1, fei: 1, message: 'CapsuleCmd HDGSTF clear but header digest was negotiated', echoed: 8 },
  { name: 'SUCCESS without LAST_PDU on C2HData', role: H, init: NONE, bytes: broken(c2h, NONE, [[1, 0x08]]), fes: 1, fei: 1, message: 'C2HData SUCCESS set without LAST_PDU', echoed: 8 },
  { name: 'DDGSTF on a CapsuleCmd without data', role: T, init: DD, bytes: broken(cmd(), DD, [[1, 0x02]]), fes: 1, fei: 1, message: 'CapsuleCmd DDGSTF set on a PDU without data', echoed: 8 },
  { name: 'DDGSTF clear on data with a negotiated data digest', role: T, init: DD, bytes: broken(cmd(D4), DD, [[1, 0x00]]), fes: 1, fei: 1, message: 'CapsuleCmd DDGSTF clear but data digest was negotiated', echoed: 8 },
  { name: 'DDGSTF set without a negotiated data digest', role: T, init: NONE, bytes: broken(h2c, NONE, [[1, 0x06]]), fes: 1, fei: 1, message: 'H2CData DDGSTF set but data digest was not negotiated', echoed: 8 },
  // ---- PLEN (FEI 4) ----
  { name: 'ICReq PLEN 132', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [], { plen: 132 }), fes: 1, fei: 4, message: 'ICReq PLEN 132 (must be 128)', echoed: 8 },
  { name: 'ICResp PLEN 256', role: H, init: 'none', bytes: broken(icResp(NONE), NONE, [], { plen: 256 }), fes: 1, fei: 4, message: 'ICResp PLEN 256 (must be 128)', echoed: 8 },
  { name: 'CapsuleResp PLEN 28 without header digest', role: H, init: NONE, bytes: broken(resp, NONE, [], { plen: 28 }), fes: 1, fei: 4, message: 'CapsuleResp PLEN 28 (must be 24)', echoed: 8 },
  { name: 'R2T PLEN 24 with header digest', role: H, init: HD, bytes: broken(r2t, HD, [], { plen: 24 }), fes: 1, fei: 4, message: 'R2T PLEN 24 (must be 28)', echoed: 8 },
  { name: 'H2CTermReq PLEN 153', role: T, init: NONE, bytes: broken(term, NONE, [], { plen: 153 }), fes: 1, fei: 4, message: 'H2CTermReq PLEN 153 (must be 24..152)', echoed: 8 },
  { name: 'H2CTermReq PLEN 23', role: T, init: NONE, bytes: broken(term, NONE, [], { plen: 23 }), fes: 1, fei: 4, message: 'H2CTermReq PLEN 23 (must be 24..152)', echoed: 8 },
  { name: 'CapsuleCmd PLEN 71', role: T, init: NONE, bytes: broken(cmd(), NONE, [], { plen: 71 }), fes: 1, fei: 4, message: 'CapsuleCmd PLEN 71 (must be at least 72)', echoed: 8 },
  { name: 'H2CData with PLEN = header (no data)', role: T, init: NONE, bytes: broken(h2c, NONE, [], { plen: 24 }), fes: 1, fei: 4, message: 'H2CData PLEN 24 (must be more than 24)', echoed: 8 },
  { name: 'H2CData whose PLEN covers only the DDGST', role: T, init: DD, bytes: broken(h2c, DD, [], { plen: 28 }), fes: 1, fei: 4, message: 'H2CData PLEN 28 leaves no data after PDO 24', echoed: 8 },
  // ---- PDO (FEI 3) ----
  { name: 'R2T PDO 24', role: H, init: NONE, bytes: broken(r2t, NONE, [[3, 24]]), fes: 1, fei: 3, message: 'R2T PDO 24 (must be 0)', echoed: 8 },
  { name: 'ICReq PDO 128', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[3, 128]]), fes: 1, fei: 3, message: 'ICReq PDO 128 (must be 0)', echoed: 8 },
  { name: 'CapsuleCmd PDO 72 without data', role: T, init: NONE, bytes: broken(cmd(), NONE, [[3, 72]]), fes: 1, fei: 3, message: 'CapsuleCmd PDO 72 without data (must be 0)', echoed: 8 },
  { name: 'CapsuleCmd PDO 76 where data must follow the header at 72', role: T, init: NONE, bytes: broken(cmd(D4), NONE, [[3, 76]]), fes: 1, fei: 3, message: 'CapsuleCmd PDO 76 (must be 72)', echoed: 8 },
  { name: 'H2CData PDO 28 ignoring CPDA 3 (must pad to 32)', role: T, init: HD, bytes: broken(h2c, HD, [[3, 28]], { plen: 32 }), fes: 1, fei: 3, message: 'H2CData PDO 28 (must be 32)', echoed: 8, options: { pda: 3 } },
  { name: 'C2HTermReq PDO 24 without data', role: H, init: NONE, bytes: broken({ type: PduType.C2HTermReq, fes: 2, fei: 0, data: new Uint8Array(0) }, NONE, [[3, 24]]), fes: 1, fei: 3, message: 'C2HTermReq PDO 24 (must be 0)', echoed: 8 },
  { name: 'H2CTermReq PDO 8', role: T, init: NONE, bytes: broken(term, NONE, [[3, 8]]), fes: 1, fei: 3, message: 'H2CTermReq PDO 8 (must be 0 or 24)', echoed: 8 },
  // ---- limits (FES 05h), decided from the CH alone ----
  { name: 'in-capsule data beyond maxInCapsuleData', role: T, init: NONE, bytes: broken(cmd(new Uint8Array(8193)), NONE, []), fes: 5, fei: undefined, message: 'CapsuleCmd carries 8193 data bytes (limit 8192)', echoed: 8 },
  { name: 'H2CData beyond MAXH2CDATA', role: T, init: NONE, bytes: broken(h2c, NONE, [], { plen: 24 + 4097 }), fes: 5, fei: undefined, message: 'H2CData carries 4097 data bytes (limit 4096)', echoed: 8, options: { limits: { maxH2CData: 4096 } } },
  { name: 'C2HData PLEN 4 GiB−1', role: H, init: NONE, bytes: broken(c2h, NONE, [], { plen: 0xffffffff }), fes: 5, fei: undefined, message: `C2HData carries ${0xffffffff - 24} data bytes (limit ${DEFAULT_LIMITS.maxC2HData})`, echoed: 8 },
  // ---- header digest (FES 03h) ----
  { name: 'CapsuleCmd with a wrong header digest', role: T, init: HD, bytes: broken(cmd(), HD, [[20, 0x99]], { keepHdgst: true }), fes: 3, fei: undefined, message: 'CapsuleCmd header digest error', echoed: 72 },
  { name: 'C2HData with a wrong header digest', role: H, init: HD, bytes: broken(c2h, HD, [[8, 0x99]], { keepHdgst: true }), fes: 3, fei: undefined, message: 'C2HData header digest error', echoed: 24 },
  { name: 'R2T whose HDGST bytes are zeroed', role: H, init: HD, bytes: broken(r2t, HD, [[24, 0], [25, 0], [26, 0], [27, 0]], { keepHdgst: true }), fes: 3, fei: undefined, message: 'R2T header digest error', echoed: 24 },
  // ---- PDU-specific header fields (FES 01h, FEI = field offset) ----
  { name: 'ICReq PFV 1', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[8, 1]]), fes: 1, fei: 8, message: 'ICReq PFV 1 (only 0 is supported)', echoed: 128 },
  { name: 'ICReq HPDA 32', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[10, 32]]), fes: 1, fei: 10, message: 'ICReq HPDA 32 (must be 0..31)', echoed: 128 },
  { name: 'ICReq DGST bit 2', role: T, init: 'none', bytes: broken(icReq(NONE), NONE, [[11, 0x04]]), fes: 1, fei: 11, message: 'ICReq DGST 0x4 has reserved bits set', echoed: 128 },
  { name: 'ICResp PFV 256', role: H, init: 'none', bytes: broken(icResp(NONE), NONE, [[9, 1]]), fes: 1, fei: 8, message: 'ICResp PFV 256 (only 0 is supported)', echoed: 128 },
  { name: 'ICResp CPDA 40', role: H, init: 'none', bytes: broken(icResp(NONE), NONE, [[10, 40]]), fes: 1, fei: 10, message: 'ICResp CPDA 40 (must be 0..31)', echoed: 128 },
  { name: 'ICResp MAXH2CDATA 4094 (not a dword multiple)', role: H, init: 'none', bytes: broken(icResp(NONE), NONE, [[12, 0xfe], [13, 0x0f], [14, 0], [15, 0]]), fes: 1, fei: 12, message: 'ICResp MAXH2CDATA 4094 (must be a multiple of 4 and >= 4096)', echoed: 128 },
  { name: 'ICResp MAXH2CDATA 2048 (below 4096)', role: H, init: 'none', bytes: broken(icResp(NONE), NONE, [[12, 0x00], [13, 0x08], [14, 0], [15, 0]]), fes: 1, fei: 12, message: 'ICResp MAXH2CDATA 2048 (must be a multiple of 4 and >= 4096)', echoed: 128 },
  { name: 'H2CData DATAL 5 for 4 framed bytes', role: T, init: NONE, bytes: broken(h2c, NONE, [[16, 5]]), fes: 1, fei: 16, message: 'H2CData DATAL 5 but PLEN/PDO frame 4 data bytes', echoed: 24 },
  { name: 'C2HData DATAL 0 with header digest', role: H, init: HD, bytes: broken(c2h, HD, [[16, 0]]), fes: 1, fei: 16, message: 'C2HData DATAL 0 but PLEN/PDO frame 4 data bytes', echoed: 24 },
  { name: 'R2T R2TL 0', role: H, init: NONE, bytes: broken(r2t, NONE, [[16, 0]]), fes: 1, fei: 16, message: 'R2T R2TL is 0', echoed: 24 },
];

function run(row: Row): ReturnType<typeof recordingFramer>['rec'] {
  const { framer, rec } = recordingFramer({ role: row.role, ...row.options });
  if (row.init !== 'none') {
    const ic = row.role === 'target' ? icReq(row.init) : icResp(row.init);
    for (const piece of encodePdu(ic, NONE)) framer.push(piece);
  }
  framer.push(row.bytes);
  return rec;
}

describe('malformed PDUs yield exactly one fatal error with the expected FES/FEI (§1.10)', () => {
  for (const row of ROWS) {
    it(`reports ${row.name}`, () => {
      const rec = run(row);
      assert.deepEqual(rec.order, row.init === 'none' ? ['fatal'] : ['pdu', 'fatal']);
      const f = rec.fatal[0]!;
      assert.deepEqual(
        { fes: f.fes, fei: f.fei, message: f.message },
        { fes: row.fes, fei: row.fei, message: row.message },
      );
      assert.deepEqual(f.header, row.bytes.slice(0, row.echoed));
    });
  }

  // parsePdu (stateless, whole PDU) agrees wherever the row holds exactly one complete PDU and
  // the error is not about the stream position.
  for (const row of ROWS.filter((r) => r.fes !== 2 && r.bytes.length === readU32le(r.bytes, 4))) {
    it(`parsePdu reports ${row.name} the same way`, () => {
      const dg = row.init === 'none' ? NONE : row.init;
      const r = parsePdu(row.bytes, {
        role: row.role,
        ...dg,
        pda: row.options?.pda ?? 0,
        limits: { ...DEFAULT_LIMITS, ...row.options?.limits },
      });
      assert.ok(r instanceof PduFatal);
      assert.deepEqual(
        { fes: r.fes, fei: r.fei, message: r.message },
        { fes: row.fes, fei: row.fei, message: row.message },
      );
    });
  }
});
