// Simple Copy (I/O opcode 0x19; NVM Command Set 1.0 §3.2.2, TP 4065; reference qemu-nvme.md
// §7): copies up to MSRC+1 source ranges of one namespace to a consecutive destination in the
// same namespace, zoned or not, with metadata.
//
// Statuses follow QEMU after 7.2, which fixed 7.2's error reporting (7.2 completes range
// errors with Internal Device Error 0x006 and does not enforce MCL; reference §7, §12.2):
//   NR+1 > MSRC+1 -> 0x183+DNR; unsupported format -> 0x002+DNR; format not matching the guard
//   size -> 0x10a+DNR; a range longer than MSSRL or a total above MCL -> 0x183+DNR (checked
//   before any data moves); then per range, in order: source bounds 0x080+DNR, zone read
//   rules, DULBE, destination bounds and zone write rules. Ranges before a failing one stay
//   copied and DW0 of the completion is the failing range's index.
//
// Source range formats 0 (32 bytes) and 1 (40 bytes) are supported; OCFS advertises 0x3.
// Formats 2 and 3 name a source namespace (cross-namespace copy) and carry protection
// information for 16/64-bit guards; protection information is not implemented yet, so they
// are not advertised and answer Invalid Field, like any format OCFS lacks.

import assert from 'node:assert/strict';
import { readU16le, readU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import * as io from './io.js';
import type { NsCore } from './io.js';

/** Copy limits and the guard format of the namespace (Identify NS MSSRL, MCL, MSRC; pif). */
export interface CopyLimits {
  /** Maximum single source range length in blocks. */
  readonly mssrl: number;
  /** Maximum copy length in blocks. */
  readonly mcl: number;
  /** Maximum source range count, 0's based. */
  readonly msrc: number;
  /** Protection information format: 0 = 16-bit guard, 2 = 64-bit guard. */
  readonly pif: number;
}

/** OCFS: copy formats 0 and 1 (identify.ts advertises it when Copy is in the I/O table). */
export const COPY_FORMATS = 0x3;

/** Source range entry size per descriptor format. */
const ENTRY_SIZE: readonly number[] = [32, 40];

interface SourceRange {
  readonly slba: bigint;
  /** 1's based. */
  readonly nlb: number;
}

const bad = (s: number, dw0 = 0): Completion => ({ status: withDnr(s), dw0 });

/** Decodes the descriptor list: SLBA at 8, NLB (0's based) at 16 in both formats. */
export function parseRanges(buf: Uint8Array, format: number, count: number): SourceRange[] {
  const size = ENTRY_SIZE[format]!;
  const out: SourceRange[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ slba: readU64le(buf, i * size + 8), nlb: readU16le(buf, i * size + 16) + 1 });
  }
  return out;
}

export async function copy(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const limits = core.copyLimits;
  assert(limits !== undefined, 'a namespace that executes Copy provides its limits');
  const { cdw10, cdw11, cdw12 } = ctx.cmd;
  const nr = (cdw12 & 0xff) + 1;
  const format = (cdw12 >>> 8) & 0xf;
  if (nr > limits.msrc + 1) return bad(Status.CMD_SIZE_LIMIT);
  if (((COPY_FORMATS >>> format) & 1) === 0) return bad(Status.INVALID_FIELD);
  // The descriptor format must match the namespace's guard size (16-bit: 0, 64-bit: 1).
  if (format !== (limits.pif === 2 ? 1 : 0)) return bad(Status.INVALID_FORMAT);
  const list = await ctx.data.fromHost(0, nr * ENTRY_SIZE[format]!);
  if (typeof list === 'number') return { status: list };
  const ranges = parseRanges(list, format, nr);
  let dest = (BigInt(cdw11) << 32n) | BigInt(cdw10);
  let total = 0;
  for (const r of ranges) {
    if (r.nlb > limits.mssrl) return bad(Status.CMD_SIZE_LIMIT);
    total += r.nlb;
  }
  if (total > limits.mcl) return bad(Status.CMD_SIZE_LIMIT);
  const g = core.geometry;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const src = io.checkBounds(core, r);
    if (typeof src !== 'number') return { ...src, dw0: i };
    const zr = core.zoned?.checkRead(src, r.nlb) ?? Status.SUCCESS;
    if (zr !== Status.SUCCESS) return { status: zr, dw0: i };
    const dulbe = io.checkDulbe(core, src, r.nlb);
    if (dulbe) return { ...dulbe, dw0: i };
    if (core.uncorrectable.intersects(src, src + r.nlb)) {
      return { status: Status.UNRECOVERED_READ, dw0: i };
    }
    const dst = io.checkBounds(core, { slba: dest, nlb: r.nlb });
    if (typeof dst !== 'number') return { ...dst, dw0: i };
    const zone = core.zoned?.admitWrite(dst, r.nlb, ctx.ctrl.zonedAutoTransition);
    if (zone !== undefined && zone.status !== Status.SUCCESS)
      return { status: zone.status, dw0: i };
    const s = await copyBlocks(core, src, dst, r.nlb);
    zone?.commit();
    if (s !== Status.SUCCESS) return { status: s, dw0: i };
    dest += BigInt(r.nlb);
  }
  if (!core.writeCache || (cdw12 & (1 << 30)) !== 0) {
    const f = await io.flushStatus(core);
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

/** Moves data and metadata chunk by chunk (source and destination may overlap, forwards). */
async function copyBlocks(core: NsCore, src: number, dst: number, nlb: number): Promise<number> {
  const step = core.store.chunkBlocks;
  // Overlap with the destination after the source: copy from the end so nothing is
  // overwritten before it is read.
  const backwards = dst > src && dst < src + nlb;
  for (let done = 0; done < nlb; done += step) {
    const n = Math.min(step, nlb - done);
    const off = backwards ? nlb - done - n : done;
    let b;
    try {
      b = await io.readBlocks(core, src + off, n);
    } catch {
      return Status.UNRECOVERED_READ;
    }
    try {
      await core.store.write(dst + off, b.data, core.geometry.ms > 0 ? b.meta : undefined);
    } catch {
      return Status.WRITE_FAULT;
    }
    core.dealloc.remove(dst + off, dst + off + n);
    core.uncorrectable.remove(dst + off, dst + off + n);
  }
  return Status.SUCCESS;
}
