// Common header (CH, §1.1) and the checks that need only its 8 bytes. The framer runs
// checkCommonHeader before buffering anything past the CH, so every length a peer announces
// (HLEN, PDO, PLEN) is validated and capped first (DESIGN.md rule 4).

import { readU8, readU32le, writeU8, writeU32le } from '../../util/bytes.js';
import {
  ChOff,
  DIGEST_LEN,
  Fes,
  PduFatal,
  PduFlag,
  PduType,
  TERM_MAX_DATA,
  pduInfo,
} from './types.js';
import type { PduInfo, PduTypeCode, ReceiveContext } from './types.js';

export interface CommonHeader {
  readonly type: number;
  readonly flags: number;
  readonly hlen: number;
  readonly pdo: number;
  readonly plen: number;
}

/** The CH at `off` of `b` (default its start). */
export function readCommonHeader(b: Uint8Array, off = 0): CommonHeader {
  return {
    type: readU8(b, off + ChOff.type),
    flags: readU8(b, off + ChOff.flags),
    hlen: readU8(b, off + ChOff.hlen),
    pdo: readU8(b, off + ChOff.pdo),
    plen: readU32le(b, off + ChOff.plen),
  };
}

export function writeCommonHeader(b: Uint8Array, ch: CommonHeader): void {
  writeU8(b, ChOff.type, ch.type);
  writeU8(b, ChOff.flags, ch.flags);
  writeU8(b, ChOff.hlen, ch.hlen);
  writeU8(b, ChOff.pdo, ch.pdo);
  writeU32le(b, ChOff.plen, ch.plen);
}

/** Bytes between PDU start and data for a PDA value n: (n+1) dwords (§1.6). */
export function pdaBytes(pda: number): number {
  return (pda + 1) * 4;
}

/** The smallest offset ≥ `headerLen` that is a multiple of the PDA alignment (§1.6). */
export function alignedPdo(headerLen: number, pda: number): number {
  const a = pdaBytes(pda);
  return Math.ceil(headerLen / a) * a;
}

/** Where everything lies inside one PDU, derived from a validated CH. */
export interface FrameLayout {
  readonly type: PduTypeCode;
  readonly info: PduInfo;
  readonly flags: number;
  readonly plen: number;
  /** HLEN (+4 when HDGST is present): bytes the framer collects as "the header". */
  readonly headerLen: number;
  readonly hasHdgst: boolean;
  /** Offset of the data from PDU start (meaningful only when dataLen > 0). */
  readonly dataOffset: number;
  readonly dataLen: number;
  readonly hasDdgst: boolean;
}

const hex = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

function invalid(field: number, message: string): PduFatal {
  return new PduFatal(Fes.InvalidHeaderField, field, message);
}

/** Receive limit on data bytes for a data-bearing type; the role already fixed the direction. */
function dataLimit(type: PduTypeCode, ctx: ReceiveContext): number {
  switch (type) {
    case PduType.CapsuleCmd:
      return ctx.limits.maxInCapsuleData;
    case PduType.H2CData:
      return ctx.limits.maxH2CData;
    case PduType.C2HData:
      return ctx.limits.maxC2HData;
    default:
      return TERM_MAX_DATA;
  }
}

/**
 * One object literal with every field (no spreads): every layout has the same hidden class, and
 * V8 spread-cloning here cost ~2.5 µs per PDU.
 */
function frameLayout(
  type: PduTypeCode,
  info: PduInfo,
  ch: CommonHeader,
  headerLen: number,
  hasHdgst: boolean,
  dataOffset: number,
  dataLen: number,
  hasDdgst: boolean,
): FrameLayout {
  return {
    type,
    info,
    flags: ch.flags,
    plen: ch.plen,
    headerLen,
    hasHdgst,
    dataOffset,
    dataLen,
    hasDdgst,
  };
}

/**
 * Validate a received CH against the PDU table and what was negotiated. Checks run in a fixed
 * order — type, HLEN, FLAGS, PLEN, DDGSTF, PDO, data limit — and the first failure is reported,
 * with FEI = the offset of the offending CH field (§1.10).
 */
export function checkCommonHeader(ch: CommonHeader, ctx: ReceiveContext): FrameLayout | PduFatal {
  const info = pduInfo(ch.type);
  const accepted = ctx.role === 'target' ? 'h2c' : 'c2h';
  if (info === undefined) return invalid(ChOff.type, `invalid PDU type ${hex(ch.type)}`);
  if (info.dir !== accepted) {
    return invalid(ChOff.type, `invalid PDU type ${hex(ch.type)} (${info.name}) for a ${ctx.role}`);
  }
  const type = ch.type as PduTypeCode;
  if (ch.hlen !== info.hlen) {
    return invalid(ChOff.hlen, `${info.name} HLEN ${ch.hlen} (must be ${info.hlen})`);
  }

  let allowed = info.extraFlags;
  if (info.digests) allowed |= PduFlag.HDGSTF | (info.data === 'none' ? 0 : PduFlag.DDGSTF);
  if ((ch.flags & ~allowed) !== 0) {
    return invalid(ChOff.flags, `${info.name} FLAGS ${hex(ch.flags)} has reserved bits set`);
  }
  const hasHdgst = info.digests && ctx.hdgst;
  if (info.digests && ((ch.flags & PduFlag.HDGSTF) !== 0) !== ctx.hdgst) {
    return invalid(
      ChOff.flags,
      ctx.hdgst
        ? `${info.name} HDGSTF clear but header digest was negotiated`
        : `${info.name} HDGSTF set but header digest was not negotiated`,
    );
  }
  if ((ch.flags & PduFlag.SUCCESS) !== 0 && (ch.flags & PduFlag.LAST_PDU) === 0) {
    return invalid(ChOff.flags, `${info.name} SUCCESS set without LAST_PDU`);
  }

  const headerLen = info.hlen + (hasHdgst ? DIGEST_LEN : 0);
  switch (info.data) {
    case 'none':
      if (ch.plen !== headerLen) {
        return invalid(ChOff.plen, `${info.name} PLEN ${ch.plen} (must be ${headerLen})`);
      }
      if (ch.pdo !== 0) return invalid(ChOff.pdo, `${info.name} PDO ${ch.pdo} (must be 0)`);
      return frameLayout(type, info, ch, headerLen, hasHdgst, 0, 0, false);
    case 'term': {
      // Data (the offending header) follows the 24-byte header directly; senders put PDO 0
      // (SPDK) or 24, both accepted.
      const max = info.hlen + TERM_MAX_DATA;
      if (ch.plen < info.hlen || ch.plen > max) {
        return invalid(ChOff.plen, `${info.name} PLEN ${ch.plen} (must be ${info.hlen}..${max})`);
      }
      const hasData = ch.plen > info.hlen;
      if (ch.pdo !== 0 && !(hasData && ch.pdo === info.hlen)) {
        const allowed = hasData ? `0 or ${info.hlen}` : '0';
        return invalid(ChOff.pdo, `${info.name} PDO ${ch.pdo} (must be ${allowed})`);
      }
      return frameLayout(
        type,
        info,
        ch,
        headerLen,
        hasHdgst,
        info.hlen,
        ch.plen - info.hlen,
        false,
      );
    }
    case 'optional':
    case 'required':
      break;
  }

  const ddgstf = (ch.flags & PduFlag.DDGSTF) !== 0;
  if (ch.plen <= headerLen) {
    if (ch.plen < headerLen || info.data === 'required') {
      const what = info.data === 'required' ? `more than ${headerLen}` : `at least ${headerLen}`;
      return invalid(ChOff.plen, `${info.name} PLEN ${ch.plen} (must be ${what})`);
    }
    if (ddgstf) return invalid(ChOff.flags, `${info.name} DDGSTF set on a PDU without data`);
    if (ch.pdo !== 0) {
      return invalid(ChOff.pdo, `${info.name} PDO ${ch.pdo} without data (must be 0)`);
    }
    return frameLayout(type, info, ch, headerLen, hasHdgst, 0, 0, false);
  }
  if (ddgstf !== ctx.ddgst) {
    return invalid(
      ChOff.flags,
      ctx.ddgst
        ? `${info.name} DDGSTF clear but data digest was negotiated`
        : `${info.name} DDGSTF set but data digest was not negotiated`,
    );
  }
  const pdo = alignedPdo(headerLen, ctx.pda);
  if (ch.pdo !== pdo) return invalid(ChOff.pdo, `${info.name} PDO ${ch.pdo} (must be ${pdo})`);
  const trailer = ctx.ddgst ? DIGEST_LEN : 0;
  const dataLen = ch.plen - pdo - trailer;
  if (dataLen <= 0) {
    return invalid(ChOff.plen, `${info.name} PLEN ${ch.plen} leaves no data after PDO ${pdo}`);
  }
  const limit = dataLimit(type, ctx);
  if (dataLen > limit) {
    return new PduFatal(
      Fes.DataLimitExceeded,
      undefined,
      `${info.name} carries ${dataLen} data bytes (limit ${limit})`,
    );
  }
  return frameLayout(type, info, ch, headerLen, hasHdgst, pdo, dataLen, ctx.ddgst);
}
