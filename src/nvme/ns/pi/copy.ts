// Protection information in Simple Copy (reference qemu-nvme.md §7, NVM Command Set Spec 1.0
// §3.3.1 / TP 4130): which namespace pairs may be copied between, and what happens to each
// block's metadata on the way.
//
// - Source with PI: blocks are checked with PRINFOR (cdw12 15:12) and the range's EILBRT /
//   ELBAT / ELBATM; PRACT there strips the tuple (allowed only towards a metadata-less side).
// - Destination with PI: PRACT in PRINFOW (cdw12 29:26) regenerates tuples with LBAT cdw15 and
//   the reference tag cdw14 (+cdw3), incrementing across ranges for types 1/2; without PRACT
//   the copied tuples are checked against PRINFOW.
// - Cross-namespace pairs (formats 2/3) must agree on LBA size and metadata size (and on DPS
//   when both have PI), or PI is on one side only with PRACT on that side, the other side
//   without metadata and the PI side's metadata exactly the tuple: else 0x185+DNR.

import { Status, withDnr } from '../../spec/status.js';
import type { NsCore } from '../io.js';
import { checkBlocks, checkPrInfo, generate, pract, reftagAt, type PrInfo } from './protect.js';
import { reftagMask, tupleOnly, type PiFormat } from './tuple.js';

/** The protection side of one Copy command: PRINFOR/PRINFOW and the destination tags. */
export interface CopyPi {
  readonly prinfor: number;
  readonly prinfow: number;
  readonly cdw3: number;
  readonly cdw14: number;
  readonly cdw15: number;
}

/** The expected tags of one source range entry. */
export interface RangeTags {
  readonly reftag: bigint;
  readonly apptag: number;
  readonly appmask: number;
}

/** 0 when `src` may be copied to `dst`, else the status (0x185+DNR or 0x002+DNR). */
export function checkPair(src: NsCore, dst: NsCore, p: CopyPi): number {
  const s = src.geometry;
  const d = dst.geometry;
  const sp = src.pi;
  const dp = dst.pi;
  if (sp !== undefined && dp !== undefined) {
    if ((p.prinfor & 0x8) !== (p.prinfow & 0x8)) return withDnr(Status.INVALID_FIELD);
  }
  if ((sp === undefined) === (dp === undefined)) {
    const dpsEqual =
      sp === undefined || (sp.type === dp!.type && sp.pif === dp!.pif && sp.first === dp!.first);
    return s.lbaSize === d.lbaSize && s.ms === d.ms && dpsEqual
      ? Status.SUCCESS
      : withDnr(Status.INCOMPATIBLE_NS_OR_FORMAT);
  }
  // PI on one side only.
  const [pi, piPrinfo, other] = sp !== undefined ? [sp, p.prinfor, d] : [dp!, p.prinfow, s];
  const ok = s.lbaSize === d.lbaSize && (piPrinfo & 0x8) !== 0 && other.ms === 0 && tupleOnly(pi);
  return ok ? Status.SUCCESS : withDnr(Status.INCOMPATIBLE_NS_OR_FORMAT);
}

/** PRINFOR with a range's expected tags, for checking source blocks. */
export function sourcePrInfo(f: PiFormat, p: CopyPi, t: RangeTags): PrInfo {
  return {
    prinfo: p.prinfor,
    reftag: t.reftag & reftagMask(f.pif),
    apptag: t.apptag,
    appmask: t.appmask,
  };
}

/** PRINFOW with cdw14 (+cdw3) and cdw15, for the destination. */
export function destPrInfo(f: PiFormat, p: CopyPi): PrInfo {
  const upper = f.pif === 2 ? BigInt(p.cdw3 & 0xffff) << 32n : 0n;
  return {
    prinfo: p.prinfow,
    reftag: (upper | BigInt(p.cdw14 >>> 0)) & reftagMask(f.pif),
    apptag: p.cdw15 & 0xffff,
    appmask: p.cdw15 >>> 16,
  };
}

/** Command-level rules of a range's source side: 0 or the status. */
export function checkSourceRange(src: NsCore, p: CopyPi, t: RangeTags, slba: bigint): number {
  if (src.pi === undefined) return Status.SUCCESS;
  return checkPrInfo(src.pi, sourcePrInfo(src.pi, p, t), slba);
}

/**
 * Transforms one piece of copied blocks: checks the source tuples, then produces the
 * destination metadata. `done` is the number of blocks the command copied before this piece
 * (the destination reference tag index); `first` is the piece's index within its range.
 * Returns the metadata to write or a status.
 */
export function transformPiece(
  src: NsCore,
  dst: NsCore,
  p: CopyPi,
  t: RangeTags,
  data: Uint8Array,
  meta: Uint8Array,
  srcSlba: number,
  first: number,
  done: number,
): Uint8Array | number {
  const sf = src.pi;
  if (sf !== undefined) {
    const fail = checkBlocks(sf, sourcePrInfo(sf, p, t), data, meta, first, srcSlba);
    if (fail) return fail.status;
  }
  const df = dst.pi;
  if (df === undefined) return dst.geometry.ms === 0 ? new Uint8Array(0) : meta;
  const dpr = destPrInfo(df, p);
  const out = meta.length === 0 ? new Uint8Array((data.length / df.lbaSize) * df.ms) : meta;
  if (pract(dpr)) {
    generate(df, dpr, data, out, done);
    return out;
  }
  // Copied tuples checked against PRINFOW, reference tags continuing across ranges.
  const shifted: PrInfo = { ...dpr, reftag: reftagAt(df, dpr, done) };
  const fail = checkBlocks(df, shifted, data, out, 0, 0);
  return fail ? fail.status : out;
}

/** Command-level rule of the destination (type 1: cdw14 must equal SDLBA). */
export function checkDestination(dst: NsCore, p: CopyPi, sdlba: bigint): number {
  if (dst.pi === undefined) return Status.SUCCESS;
  return checkPrInfo(dst.pi, destPrInfo(dst.pi, p), sdlba);
}
