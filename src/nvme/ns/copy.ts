// Simple Copy (I/O opcode 0x19; NVM Command Set 1.0 §3.2.2, TP 4065 / TP 4130; reference
// qemu-nvme.md §7): copies up to MSRC+1 source ranges to a consecutive destination in this
// namespace, zoned or not, with metadata and protection information.
//
// Statuses follow QEMU after 7.2, which fixed 7.2's error reporting (7.2 completes range
// errors with Internal Device Error 0x006 and does not enforce MCL; reference §7, §12.2):
//   NR+1 > MSRC+1 -> 0x183+DNR; unsupported format -> 0x002+DNR; format not matching the guard
//   size -> 0x10a+DNR; a range longer than MSSRL or a total above MCL -> 0x183+DNR (checked
//   before any data moves); destination PI rule (type 1: cdw14 = SDLBA) -> 0x181+DNR; then
//   per range, in order: source namespace (formats 2/3: SNSID invalid 0x00b+DNR, not attached
//   0x002+DNR, incompatible 0x185+DNR, overlapping the destination 0x187+DNR), source PI rule,
//   source bounds 0x080+DNR, zone read rules, DULBE, destination bounds and zone write rules,
//   then per block the PRINFOR / PRINFOW checks (pi/copy.ts). Ranges before a failing one stay
//   copied and DW0 of the completion is the failing range's index.
//
// Source range formats 0/1 (32/40 bytes) copy within the namespace; formats 2/3 name a source
// namespace (SNSID) attached to the same controller. OCFS advertises 0xf (ctrl/identify.ts).
// nvmemu does not require the Host Behavior Support CDFE bits for formats 2/3 (docs/pi.md).

import assert from 'node:assert/strict';
import { readU16le, readU32le, readU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import * as io from './io.js';
import type { NsCore } from './io.js';
import { markUnwritten } from './pi/protect.js';
import {
  checkDestination,
  checkPair,
  checkSourceRange,
  transformPiece,
  type CopyPi,
  type RangeTags,
} from './pi/copy.js';

/** OCFS: copy formats 0-3 (ctrl/identify.ts advertises it when Copy is in the I/O table). */
export const COPY_FORMATS = 0xf;

/** Source range entry size per descriptor format. */
const ENTRY_SIZE: readonly number[] = [32, 40, 32, 40];
const NSID_MAX = 256;

interface SourceRange extends RangeTags {
  /** Formats 2/3: the source namespace; undefined for formats 0/1 (this namespace). */
  readonly snsid: number | undefined;
  readonly slba: bigint;
  /** 1's based. */
  readonly nlb: number;
}

const bad = (s: number, dw0 = 0): Completion => ({ status: withDnr(s), dw0 });

/**
 * Decodes the descriptor list: SNSID at 0 (formats 2/3), SLBA at 8, NLB (0's based) at 16;
 * 16b-guard formats 0/2: EILBRT u32 at 24, ELBAT 28, ELBATM 30; 64b-guard formats 1/3: the
 * 48-bit reference tag big-endian in bytes 30..35 (storage tag size 0), ELBAT 36, ELBATM 38.
 */
export function parseRanges(buf: Uint8Array, format: number, count: number): SourceRange[] {
  const size = ENTRY_SIZE[format]!;
  const wide = format === 1 || format === 3;
  const out: SourceRange[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * size;
    let reftag = 0n;
    if (wide) for (let k = 0; k < 6; k++) reftag = (reftag << 8n) | BigInt(buf[at + 30 + k]!);
    else reftag = BigInt(readU32le(buf, at + 24));
    out.push({
      snsid: format >= 2 ? readU32le(buf, at) : undefined,
      slba: readU64le(buf, at + 8),
      nlb: readU16le(buf, at + 16) + 1,
      reftag,
      apptag: readU16le(buf, at + (wide ? 36 : 28)),
      appmask: readU16le(buf, at + (wide ? 38 : 30)),
    });
  }
  return out;
}

/** The source namespace core of a range, or the status that refuses it. */
function sourceOf(core: NsCore, ctx: CommandContext, r: SourceRange): NsCore | number {
  if (r.snsid === undefined) return core;
  if (r.snsid === ctx.cmd.nsid && ctx.ctrl.namespace(r.snsid) !== undefined) return core;
  if (r.snsid === 0 || r.snsid > NSID_MAX) return withDnr(Status.INVALID_NSID);
  const ns = ctx.ctrl.namespace(r.snsid);
  if (ns === undefined) return withDnr(Status.INVALID_FIELD);
  // A source namespace is read: its path and reservation are checked as for a Read.
  const refused = ctx.ctrl.admits(ns, 'read');
  if (refused !== 0) return refused;
  return core.peer?.(ns) ?? withDnr(Status.INVALID_FIELD);
}

export async function copy(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const limits = core.copyLimits;
  assert(limits !== undefined, 'a namespace that executes Copy provides its limits');
  const { cdw10, cdw11, cdw12 } = ctx.cmd;
  const nr = (cdw12 & 0xff) + 1;
  const format = (cdw12 >>> 8) & 0xf;
  if (nr > limits.msrc + 1) return bad(Status.CMD_SIZE_LIMIT);
  if (((COPY_FORMATS >>> format) & 1) === 0) return bad(Status.INVALID_FIELD);
  // The descriptor format must match the namespace's guard size (16-bit: 0/2, 64-bit: 1/3).
  if ((format & 1) !== (limits.pif === 2 ? 1 : 0)) return bad(Status.INVALID_FORMAT);
  const list = ctx.data.fromHost(0, nr * ENTRY_SIZE[format]!);
  if (typeof list === 'number') return { status: list };
  const ranges = parseRanges(list, format, nr);
  const sdlba = (BigInt(cdw11) << 32n) | BigInt(cdw10);
  let dest = sdlba;
  let total = 0;
  for (const r of ranges) {
    if (r.nlb > limits.mssrl) return bad(Status.CMD_SIZE_LIMIT);
    total += r.nlb;
  }
  if (total > limits.mcl) return bad(Status.CMD_SIZE_LIMIT);
  const g = core.geometry;
  const pi: CopyPi = {
    prinfor: (cdw12 >>> 12) & 0xf,
    prinfow: (cdw12 >>> 26) & 0xf,
    cdw3: ctx.cmd.cdw3,
    cdw14: ctx.cmd.cdw14,
    cdw15: ctx.cmd.cdw15,
  };
  const destRule = checkDestination(core, pi, dest);
  if (destRule !== Status.SUCCESS) return { status: destRule };
  let copied = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const srcCore = sourceOf(core, ctx, r);
    if (typeof srcCore === 'number') return { status: srcCore, dw0: i };
    if (srcCore !== core || r.snsid !== undefined) {
      const pair = checkPair(srcCore, core, pi);
      if (pair !== Status.SUCCESS) return { status: pair, dw0: i };
      if (srcCore === core && overlaps(r.slba, r.nlb, dest, r.nlb)) {
        return { status: withDnr(Status.OVERLAPPING_IO_RANGE), dw0: i };
      }
    }
    const srcRule = checkSourceRange(srcCore, pi, r, r.slba);
    if (srcRule !== Status.SUCCESS) return { status: srcRule, dw0: i };
    const src = io.checkBounds(srcCore, r);
    if (typeof src !== 'number') return { status: src.status, dw0: i };
    const zr = srcCore.zoned?.checkRead(src, r.nlb) ?? Status.SUCCESS;
    if (zr !== Status.SUCCESS) return { status: zr, dw0: i };
    const dulbe = io.checkDulbe(srcCore, src, r.nlb);
    if (dulbe) return { status: dulbe.status, dw0: i };
    if (srcCore.uncorrectable.intersects(src, src + r.nlb)) {
      return { status: Status.UNRECOVERED_READ, dw0: i };
    }
    const dst = io.checkBounds(core, { slba: dest, nlb: r.nlb });
    if (typeof dst !== 'number') return { status: dst.status, dw0: i };
    const zone = core.zoned?.admitWrite(dst, r.nlb, ctx.ctrl.zonedAutoTransition);
    if (zone !== undefined && zone.status !== Status.SUCCESS)
      return { status: zone.status, dw0: i };
    const s = await copyBlocks(srcCore, core, src, dst, r.nlb, (data, meta, first) =>
      srcCore.pi === undefined && core.pi === undefined
        ? meta
        : transformPiece(srcCore, core, pi, r, data, meta, src, first, copied + first),
    );
    zone?.commit();
    if (s !== Status.SUCCESS) return { status: s, dw0: i };
    dest += BigInt(r.nlb);
    copied += r.nlb;
  }
  // FUA / write through: exactly the destination blocks become durable (as for Write).
  if (!core.writeCache || (cdw12 & io.FUA) !== 0) {
    const f = await io.flushStatus(core, { lba: Number(sdlba), nlb: copied });
    if (f !== Status.SUCCESS) return { status: f };
  }
  // Accounted like a read of the sources and a write of the destination (LID 02h).
  const bytes = BigInt(total * g.lbaSize);
  core.stats.readCommands++;
  core.stats.bytesRead += bytes;
  core.stats.writeCommands++;
  core.stats.bytesWritten += bytes;
  return { status: Status.SUCCESS };
}

/** [a, a + n) and [b, b + m) share a block. */
function overlaps(a: bigint, n: number, b: bigint, m: number): boolean {
  return a < b + BigInt(m) && b < a + BigInt(n);
}

/** Produces the metadata to store for a piece (or a status): PI checks and generation. */
type PieceFn = (data: Uint8Array, meta: Uint8Array, first: number) => Uint8Array | number;

/**
 * Moves data and metadata chunk by chunk from `from` to `to` (the same namespace for formats
 * 0/1, where source and destination may overlap: then it copies from the end so nothing is
 * overwritten before it is read).
 */
async function copyBlocks(
  from: NsCore,
  to: NsCore,
  src: number,
  dst: number,
  nlb: number,
  piece: PieceFn,
): Promise<number> {
  const step = Math.min(from.store.chunkBlocks, to.store.chunkBlocks);
  const backwards = from === to && dst > src && dst < src + nlb;
  for (let done = 0; done < nlb; done += step) {
    const n = Math.min(step, nlb - done);
    const off = backwards ? nlb - done - n : done;
    const b = await io.readBlocks(from, src + off, n);
    if (typeof b === 'number') return b;
    if (from.pi !== undefined) markUnwritten(from.pi, b.meta);
    const meta = piece(b.data, b.meta, off);
    if (typeof meta === 'number') return meta;
    const s = await io.storeBlocks(to, dst + off, b.data, to.geometry.ms > 0 ? meta : undefined);
    if (s !== Status.SUCCESS) return s;
  }
  return Status.SUCCESS;
}
