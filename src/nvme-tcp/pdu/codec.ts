// Encode PDUs into iovec-style pieces and parse them in three phases that the framer runs as the
// bytes arrive: checkCommonHeader (8 bytes, header.ts) → parsePduHeader (HLEN + HDGST) →
// completePdu (padding, data, DDGST). parsePdu runs all three over one complete PDU.

import assert from 'node:assert/strict';
import { digestBytes, digestMatches, writeDigest } from '../digest.js';
import { parseCapsuleCmd, parseCapsuleResp, writeCapsuleCmd, writeCapsuleResp } from './capsule.js';
import {
  parseC2HData,
  parseH2CData,
  parseR2T,
  writeC2HData,
  writeH2CData,
  writeR2T,
} from './data.js';
import { EMPTY } from './empty.js';
import { alignedPdo, checkCommonHeader, readCommonHeader, writeCommonHeader } from './header.js';
import type { FrameLayout } from './header.js';
import { parseICReq, parseICResp, writeICReq, writeICResp } from './ic.js';
import { parseTermReq, writeTermReq } from './term.js';
import {
  CH_LEN,
  ChOff,
  DIGEST_LEN,
  Fes,
  MAX_PDA,
  PDU_INFO,
  PduFatal,
  PduFlag,
  PduType,
  TERM_MAX_DATA,
} from './types.js';
import type { ParsedPdu, Pdu, ReceiveContext } from './types.js';

export interface EncodeOptions {
  /** Header digest negotiated: HDGST on CapsuleCmd/CapsuleResp/H2CData/C2HData/R2T (§1.5). */
  readonly hdgst: boolean;
  /** Data digest negotiated: DDGST on those PDUs when they carry data (§1.5). */
  readonly ddgst: boolean;
  /**
   * The receiver's data alignment, 0's based dwords (§1.6): the controller's CPDA when a host
   * sends, the host's HPDA when a target sends. Default 0 (no padding).
   */
  readonly pda?: number;
}

/**
 * V8 keeps typed arrays of at most 64 bytes on its heap; anything longer gets its own off-heap
 * ArrayBuffer (~0.3 µs plus GC work), and every CapsuleCmd head is 72 bytes. Longer heads are
 * therefore carved, never reused, from a shared zeroed pool.
 */
const HEAD_POOL_BYTES = 64 * 1024;
let headPool = new ArrayBuffer(HEAD_POOL_BYTES);
let headPoolUsed = 0;

function headBuffer(length: number): Uint8Array {
  if (length <= 64) return new Uint8Array(length);
  if (headPoolUsed + length > HEAD_POOL_BYTES) {
    headPool = new ArrayBuffer(HEAD_POOL_BYTES);
    headPoolUsed = 0;
  }
  const view = new Uint8Array(headPool, headPoolUsed, length);
  headPoolUsed += (length + 7) & ~7;
  return view;
}

/** The data bytes a PDU carries (empty for PDUs without data). */
export function pduData(p: Pdu): Uint8Array {
  switch (p.type) {
    case PduType.ICReq:
    case PduType.ICResp:
    case PduType.CapsuleResp:
    case PduType.R2T:
      return EMPTY;
    case PduType.H2CTermReq:
    case PduType.C2HTermReq:
    case PduType.CapsuleCmd:
    case PduType.H2CData:
    case PduType.C2HData:
      return p.data;
  }
}

function typeFlags(p: Pdu): number {
  switch (p.type) {
    case PduType.H2CData:
      return p.lastPdu ? PduFlag.LAST_PDU : 0;
    case PduType.C2HData:
      assert(!p.success || p.lastPdu, 'C2HData SUCCESS requires LAST_PDU (§1.9)');
      return (p.lastPdu ? PduFlag.LAST_PDU : 0) | (p.success ? PduFlag.SUCCESS : 0);
    default:
      return 0;
  }
}

function writePsh(p: Pdu, h: Uint8Array): void {
  switch (p.type) {
    case PduType.ICReq:
      assert(p.hpda <= MAX_PDA, `ICReq HPDA ${p.hpda} > ${MAX_PDA}`);
      return writeICReq(p, h);
    case PduType.ICResp:
      assert(p.cpda <= MAX_PDA, `ICResp CPDA ${p.cpda} > ${MAX_PDA}`);
      return writeICResp(p, h);
    case PduType.H2CTermReq:
    case PduType.C2HTermReq:
      return writeTermReq(p, h);
    case PduType.CapsuleCmd:
      assert.equal(p.sqe.length, 64, 'CapsuleCmd SQE must be 64 bytes');
      return writeCapsuleCmd(p, h);
    case PduType.CapsuleResp:
      assert.equal(p.cqe.length, 16, 'CapsuleResp CQE must be 16 bytes');
      return writeCapsuleResp(p, h);
    case PduType.H2CData:
      return writeH2CData(p, h);
    case PduType.C2HData:
      return writeC2HData(p, h);
    case PduType.R2T:
      return writeR2T(p, h);
  }
}

/** Memory for a PDU's head (header, HDGST, padding): `length` zeroed bytes. */
export type HeadAllocator = (length: number) => Uint8Array;

/**
 * Encode one PDU as [header (+HDGST +padding), data, DDGST] — data is passed through by reference,
 * never copied; pieces that would be empty are omitted. HLEN, PDO, PLEN and FLAGS are derived.
 * The head is written into memory from `alloc` (default: a fresh buffer; a send queue passes its
 * arena, so the head is encoded where it will be sent from, pdu/batch.ts).
 * Invalid values (e.g. a 65 KiB TermReq) are our own bugs and fail an assertion.
 */
export function encodePdu(
  pdu: Pdu,
  opts: EncodeOptions,
  alloc: HeadAllocator = headBuffer,
): Uint8Array[] {
  const info = PDU_INFO[pdu.type];
  const data = pduData(pdu);
  const pda = opts.pda ?? 0;
  // (if/fail rather than assert(cond, `...`): the message would be built for every PDU.)
  if (!Number.isInteger(pda) || pda < 0 || pda > MAX_PDA) assert.fail(`PDA ${pda} out of range`);
  const hd = info.digests && opts.hdgst ? DIGEST_LEN : 0;
  const headerLen = info.hlen + hd;
  let headLen = headerLen;
  let pdo = 0;
  let dd = 0;
  let plen = headerLen;
  switch (info.data) {
    case 'none':
      break;
    case 'term':
      // TermReq data follows the header directly; PDO stays 0 as SPDK sends it (§1.3).
      if (data.length > TERM_MAX_DATA) {
        assert.fail(`${info.name} data ${data.length} > ${TERM_MAX_DATA}`);
      }
      plen = info.hlen + data.length;
      break;
    case 'optional':
    case 'required':
      if (info.data === 'required' && data.length === 0)
        assert.fail(`${info.name} must carry data`);
      if (data.length > 0) {
        pdo = alignedPdo(headerLen, pda);
        dd = info.digests && opts.ddgst ? DIGEST_LEN : 0;
        headLen = pdo;
        plen = pdo + data.length + dd;
      }
      break;
  }
  const flags = (hd > 0 ? PduFlag.HDGSTF : 0) | (dd > 0 ? PduFlag.DDGSTF : 0) | typeFlags(pdu);
  const head = alloc(headLen);
  writeCommonHeader(head, { type: pdu.type, flags, hlen: info.hlen, pdo, plen });
  writePsh(pdu, head);
  if (hd > 0) writeDigest(head, info.hlen, head.subarray(0, info.hlen));
  const out: Uint8Array[] = [head];
  if (data.length > 0) out.push(data);
  if (dd > 0) out.push(digestBytes(data));
  return out;
}

/**
 * Phase 2: `header` holds HLEN (+4 HDGST) bytes. Verifies the header digest (mismatch is fatal,
 * FES 03h) and every PDU-specific field. The result's data fields are still empty.
 */
export function parsePduHeader(header: Uint8Array, layout: FrameLayout): Pdu | PduFatal {
  const hlen = layout.info.hlen;
  // (A view only when there is a digest after the header: a subarray per PDU is a visible cost.)
  const h = header.length === hlen ? header : header.subarray(0, hlen);
  if (layout.hasHdgst && !digestMatches(h, header, hlen)) {
    return new PduFatal(
      Fes.HeaderDigestError,
      undefined,
      `${layout.info.name} header digest error`,
    );
  }
  switch (layout.type) {
    case PduType.ICReq:
      return parseICReq(h);
    case PduType.ICResp:
      return parseICResp(h);
    case PduType.H2CTermReq:
    case PduType.C2HTermReq:
      return parseTermReq(h, layout.type);
    case PduType.CapsuleCmd:
      return parseCapsuleCmd(h);
    case PduType.CapsuleResp:
      return parseCapsuleResp(h);
    case PduType.H2CData:
      return parseH2CData(h, layout);
    case PduType.C2HData:
      return parseC2HData(h, layout);
    case PduType.R2T:
      return parseR2T(h);
  }
}

function withData(p: Pdu, data: Uint8Array): Pdu {
  switch (p.type) {
    case PduType.ICReq:
    case PduType.ICResp:
    case PduType.CapsuleResp:
    case PduType.R2T:
      return p;
    // Spelled out rather than { ...p, data }: a spread clone per data PDU was a visible cost.
    case PduType.H2CTermReq:
    case PduType.C2HTermReq:
      return { type: p.type, fes: p.fes, fei: p.fei, data };
    case PduType.CapsuleCmd:
      return { type: p.type, sqe: p.sqe, data };
    case PduType.H2CData:
      return {
        type: p.type,
        cccid: p.cccid,
        ttag: p.ttag,
        datao: p.datao,
        lastPdu: p.lastPdu,
        data,
      };
    case PduType.C2HData:
      return {
        type: p.type,
        cccid: p.cccid,
        datao: p.datao,
        lastPdu: p.lastPdu,
        success: p.success,
        data,
      };
  }
}

/**
 * Phase 3: `body` is the PLEN − headerLen bytes after the header (padding, data, DDGST). The data
 * is a subarray of `body` (no copy). Padding content is ignored (§1.6: not covered by digests).
 */
export function completePdu(
  head: Pdu,
  layout: FrameLayout,
  body: Uint8Array,
): { pdu: Pdu; dataDigestError: boolean } {
  if (body.length !== layout.plen - layout.headerLen) assert.fail('PDU body length');
  if (layout.dataLen === 0) return { pdu: head, dataDigestError: false };
  const start = layout.dataOffset - layout.headerLen;
  const data =
    start === 0 && layout.dataLen === body.length
      ? body
      : body.subarray(start, start + layout.dataLen);
  const dataDigestError = layout.hasDdgst && !digestMatches(data, body, start + layout.dataLen);
  return { pdu: withData(head, data), dataDigestError };
}

/**
 * Parse exactly one complete PDU held in `bytes` (PLEN must equal bytes.length). Returns the PDU
 * or the fatal error a receiver must report; never throws for malformed input.
 */
export function parsePdu(bytes: Uint8Array, ctx: ReceiveContext): ParsedPdu | PduFatal {
  if (bytes.length < CH_LEN) {
    return new PduFatal(
      Fes.InvalidHeaderField,
      ChOff.plen,
      `PDU truncated at ${bytes.length} bytes`,
    );
  }
  const layout = checkCommonHeader(readCommonHeader(bytes), ctx);
  if (layout instanceof PduFatal) return layout;
  if (layout.plen !== bytes.length) {
    return new PduFatal(
      Fes.InvalidHeaderField,
      ChOff.plen,
      `${layout.info.name} PLEN ${layout.plen} but ${bytes.length} bytes given`,
    );
  }
  const header = bytes.subarray(0, layout.headerLen);
  const head = parsePduHeader(header, layout);
  if (head instanceof PduFatal) return head;
  const { pdu, dataDigestError } = completePdu(head, layout, bytes.subarray(layout.headerLen));
  return { pdu, dataDigestError, header: header.subarray(0, layout.info.hlen) };
}
