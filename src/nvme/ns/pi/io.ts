// Read, Write, Compare, Verify and Write Zeroes of a namespace formatted with protection
// information (DPS type 1-3; reference qemu-nvme.md §9). The namespace dispatches here instead
// of ../io.ts while its active format has PI. Validation order follows ../io.ts (MDTS, LBA
// range, zone rules, DULBE) with the PRINFO checks before any data moves; then per store chunk:
// image -> unwritten tuples -> PRCHK checks -> host (reads), host -> PRACT insert or PRCHK
// checks -> image (writes). A chunk that fails a check is neither transferred nor written.
//
// Host buffer layouts (§9.1): with PRACT and metadata that is exactly the tuple, only data
// moves (the controller inserts/strips the tuple); otherwise extended LBAs interleave the
// metadata after each block and separate metadata travels in the MPTR buffer. A PI write that
// needs the host's tuples but has no metadata buffer (NVMe/TCP has none) is a Data Transfer
// Error with DNR.

import { Status, withDnr, DNR } from '../../spec/status.js';
import type { CommandContext, Completion, HostData } from '../../spec/transfer.js';
import * as io from '../io.js';
import type { NsCore } from '../io.js';
import { deinterleave, interleave, type Blocks } from '../store.js';
import {
  checkBlocks,
  checkPrInfo,
  generate,
  markUnwritten,
  pract,
  PRCHK_MASK,
  rwPrInfo,
  type PrInfo,
} from './protect.js';
import { tupleOffset, tupleOnly, tupleSize, type PiFormat } from './tuple.js';

const done = (status: number): Completion => ({ status });
const FUA = 1 << 30;
const DEAC = 1 << 25;
const mapErr = (s: number): number => s | DNR;

function piOf(core: NsCore): PiFormat {
  const f = core.pi;
  if (f === undefined) throw new TypeError('PI handler on a namespace without protection');
  return f;
}

/** True when the host transfers data only (PRACT with tuple-only metadata). */
function strips(f: PiFormat, p: PrInfo): boolean {
  return pract(p) && tupleOnly(f);
}

/** Host bytes of `nlb` blocks: data, plus interleaved metadata unless stripped. */
function piHostBytes(core: NsCore, f: PiFormat, p: PrInfo, nlb: number): number {
  const g = core.geometry;
  return nlb * (g.lbaSize + (g.extended && !strips(f, p) ? g.ms : 0));
}

/**
 * Stored blocks (never-written tuples shown as all ones) of piece `i` of a command from `slba`,
 * checked as PRCHK asks: the blocks, or the status that ends the command.
 */
async function checkedBlocks(
  core: NsCore,
  f: PiFormat,
  p: PrInfo,
  lba: number,
  n: number,
  i: number,
  slba: number,
): Promise<Blocks | number> {
  let b: Blocks;
  try {
    b = await io.readBlocks(core, lba, n);
  } catch {
    return Status.UNRECOVERED_READ;
  }
  markUnwritten(f, b.meta);
  return checkBlocks(f, p, b.data, b.meta, i, slba)?.status ?? b;
}

/** The data and metadata of `n` blocks from the host buffers (piece `i` of the command). */
async function fromHost(
  core: NsCore,
  ctx: CommandContext,
  f: PiFormat,
  p: PrInfo,
  i: number,
  n: number,
): Promise<Blocks | number> {
  const g = core.geometry;
  const strip = strips(f, p);
  if (g.extended && !strip) {
    const stride = g.lbaSize + g.ms;
    const buf = await ctx.data.fromHost(i * stride, n * stride);
    return typeof buf === 'number' ? mapErr(buf) : deinterleave(buf, g.lbaSize, g.ms);
  }
  const data = await ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
  if (typeof data === 'number') return mapErr(data);
  if (strip) return { data, meta: new Uint8Array(n * g.ms) };
  if (ctx.meta === undefined) return withDnr(Status.DATA_TRANSFER_ERROR);
  const meta = await ctx.meta.fromHost(i * g.ms, n * g.ms);
  return typeof meta === 'number' ? mapErr(meta) : { data, meta };
}

/** Sends `b` to the host buffers, stripping the tuples when the host gets data only. */
async function toHost(
  core: NsCore,
  ctx: CommandContext,
  f: PiFormat,
  p: PrInfo,
  i: number,
  b: Blocks,
): Promise<number> {
  const g = core.geometry;
  const strip = strips(f, p);
  if (g.extended && !strip) {
    const s = await ctx.data.toHost(i * (g.lbaSize + g.ms), interleave(b, g.lbaSize, g.ms));
    return s === 0 ? 0 : mapErr(s);
  }
  const s = await ctx.data.toHost(i * g.lbaSize, b.data);
  if (s !== 0) return mapErr(s);
  const meta: HostData | undefined = strip ? undefined : ctx.meta;
  if (meta === undefined) return 0;
  const m = await meta.toHost(i * g.ms, b.meta);
  return m === 0 ? 0 : mapErr(m);
}

/** Checks shared by the commands that read stored blocks: DULBE, uncorrectable. */
function readable(core: NsCore, slba: number, nlb: number): Completion | undefined {
  const dulbe = io.checkDulbe(core, slba, nlb);
  if (dulbe) return dulbe;
  if (core.uncorrectable.intersects(slba, slba + nlb)) return done(Status.UNRECOVERED_READ);
  return undefined;
}

export async function piRead(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const f = piOf(core);
  const r = io.rwRange(ctx);
  const p = rwPrInfo(ctx.cmd, f);
  const bad = io.checkMdts(ctx, piHostBytes(core, f, p, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const zs = core.zoned?.checkRead(slba, r.nlb) ?? Status.SUCCESS;
  if (zs !== Status.SUCCESS) return done(zs);
  const unreadable = readable(core, slba, r.nlb);
  if (unreadable) return unreadable;
  const pi = checkPrInfo(f, p, r.slba);
  if (pi !== Status.SUCCESS) return done(pi);
  const status = await io.eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    const b = await checkedBlocks(core, f, p, lba, n, i, slba);
    return typeof b === 'number' ? b : toHost(core, ctx, f, p, i, b);
  });
  if (status === Status.SUCCESS) io.countRead(core, r.nlb);
  return done(status);
}

export async function piWrite(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const f = piOf(core);
  const r = io.rwRange(ctx);
  const p = rwPrInfo(ctx.cmd, f);
  const bad = io.checkMdts(ctx, piHostBytes(core, f, p, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const pi = checkPrInfo(f, p, r.slba);
  if (pi !== Status.SUCCESS) return done(pi);
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone !== undefined && zone.status !== Status.SUCCESS) return done(zone.status);
  const c = await piWriteData(core, ctx, slba, r.nlb, p);
  zone?.commit();
  return c;
}

/**
 * The data part of a PI write (Write, Zone Append): PRACT generates tuples, otherwise the
 * host's tuples are checked per PRCHK before anything of the piece is written. `p.reftag` is
 * the reference tag of block `slba`.
 */
export async function piWriteData(
  core: NsCore,
  ctx: CommandContext,
  slba: number,
  nlb: number,
  p: PrInfo,
): Promise<Completion> {
  const f = piOf(core);
  const status = await io.eachChunk(core, slba, nlb, async (lba, n, i) => {
    const b = await fromHost(core, ctx, f, p, i, n);
    if (typeof b === 'number') return b;
    if (pract(p)) generate(f, p, b.data, b.meta, i);
    else {
      const fail = checkBlocks(f, p, b.data, b.meta, i, slba);
      if (fail) return fail.status;
    }
    try {
      await core.store.write(lba, b.data, b.meta);
    } catch {
      return Status.WRITE_FAULT;
    }
    core.dealloc.remove(lba, lba + n);
    core.uncorrectable.remove(lba, lba + n);
    return 0;
  });
  if (status !== Status.SUCCESS) return done(status);
  if ((ctx.cmd.cdw12 & FUA) !== 0 || !core.writeCache) {
    const fl = await io.flushStatus(core);
    if (fl !== Status.SUCCESS) return done(fl);
  }
  io.countWrite(core, ctx, nlb);
  return done(Status.SUCCESS);
}

/** Compare: PRACT is refused; the stored tuples are checked, then data and metadata compared. */
export async function piCompare(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const f = piOf(core);
  const g = core.geometry;
  const r = io.rwRange(ctx);
  const p = rwPrInfo(ctx.cmd, f);
  if (pract(p)) return done(withDnr(Status.INVALID_PROT_INFO));
  const bad = io.checkMdts(ctx, io.hostBytes(g, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const unreadable = readable(core, slba, r.nlb);
  if (unreadable) return unreadable;
  const pi = checkPrInfo(f, p, r.slba);
  if (pi !== Status.SUCCESS) return done(pi);
  const status = await io.eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    const stored = await checkedBlocks(core, f, p, lba, n, i, slba);
    if (typeof stored === 'number') return stored;
    if (!g.extended && ctx.meta === undefined) {
      // No metadata buffer: the data alone is compared (as with MPTR 0 on a non-PI namespace).
      const data = await ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
      if (typeof data === 'number') return data;
      return equal(data, stored.data) ? 0 : Status.CMP_FAILURE;
    }
    const host = await fromHost(core, ctx, f, p, i, n);
    if (typeof host === 'number') return host;
    if (!equal(host.data, stored.data)) return Status.CMP_FAILURE;
    return metaEqualOutsideTuple(f, host.meta, stored.meta) ? 0 : Status.CMP_FAILURE;
  });
  if (status === Status.SUCCESS || status === Status.CMP_FAILURE) io.countRead(core, r.nlb);
  return done(status);
}

/** Verify: PRACT is refused; blocks are read and checked per PRCHK, nothing is transferred. */
export async function piVerify(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const f = piOf(core);
  const g = core.geometry;
  const r = io.rwRange(ctx);
  const p = rwPrInfo(ctx.cmd, f);
  const pi = checkPrInfo(f, p, r.slba);
  if (pi !== Status.SUCCESS) return done(pi);
  if (pract(p)) return done(withDnr(Status.INVALID_PROT_INFO));
  if (io.hostBytes(g, r.nlb) > ctx.ctrl.vslBytes) return done(withDnr(Status.INVALID_FIELD));
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const unreadable = readable(core, slba, r.nlb);
  if (unreadable) return unreadable;
  const status = await io.eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    const b = await checkedBlocks(core, f, p, lba, n, i, slba);
    return typeof b === 'number' ? b : Status.SUCCESS;
  });
  if (status === Status.SUCCESS) io.countRead(core, r.nlb);
  return done(status);
}

/**
 * Write Zeroes: any PRCHK bit is Invalid Protection Information + DNR; with PRACT each block
 * gets a tuple (guard of the zero block, LBAT, reference tag), without it the metadata is
 * zeroed (the blocks then read with all-ones tuples).
 */
export async function piWriteZeroes(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const f = piOf(core);
  const g = core.geometry;
  const r = io.rwRange(ctx);
  const p = rwPrInfo(ctx.cmd, f);
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  if ((p.prinfo & PRCHK_MASK) !== 0) return done(withDnr(Status.INVALID_PROT_INFO));
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone !== undefined && zone.status !== Status.SUCCESS) return done(zone.status);
  let status: number;
  try {
    status = pract(p)
      ? await io.eachChunk(core, slba, r.nlb, async (lba, n, i) => {
          const data = new Uint8Array(n * g.lbaSize);
          const meta = new Uint8Array(n * g.ms);
          generate(f, p, data, meta, i);
          await core.store.write(lba, data, meta);
          return 0;
        })
      : (await core.store.zero(slba, r.nlb), Status.SUCCESS);
  } catch {
    status = Status.WRITE_FAULT;
  } finally {
    zone?.commit();
  }
  if (status !== Status.SUCCESS) return done(status);
  if ((ctx.cmd.cdw12 & DEAC) !== 0) core.dealloc.add(slba, slba + r.nlb);
  else core.dealloc.remove(slba, slba + r.nlb);
  core.uncorrectable.remove(slba, slba + r.nlb);
  core.fdp?.onWrite(ctx.cmd, r.nlb);
  if ((ctx.cmd.cdw12 & FUA) !== 0 || !core.writeCache) return done(await io.flushStatus(core));
  return done(Status.SUCCESS);
}

/** Metadata equality outside the PI tuple (the tuple is verified by PRCHK instead). */
function metaEqualOutsideTuple(f: PiFormat, a: Uint8Array, b: Uint8Array): boolean {
  const off = tupleOffset(f);
  const end = off + tupleSize(f.pif);
  for (let i = 0; i < a.length; i++) {
    const inBlock = i % f.ms;
    if (inBlock >= off && inBlock < end) continue;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
