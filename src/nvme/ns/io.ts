// NVM command set I/O commands (reference qemu-nvme.md §4.1 step 6, §4.2), executed against a
// namespace core. Checks run in QEMU 7.2's order: MDTS (data + interleaved metadata) ->
// LBA range -> DULBE -> data mapping; every such validation failure carries DNR. Backend
// errors are Write Fault (0x280) / Unrecovered Read Error (0x281) without DNR.
//
// nvmemu additions (the lead documents them in docs/): FUA and a disabled volatile write cache flush the
// drive before the completion; Write Zeroes DEAC marks blocks deallocated; Write Uncorrectable
// (opt-in, QEMU 7.2 answers Invalid Opcode) marks blocks that then fail reads with 0x281.

import type { CommandContext, Completion, HostData } from '../spec/transfer.js';
import { Status, withDnr, DNR } from '../spec/status.js';
import { readU32le, readU64le } from '../../util/bytes.js';
import type { RangeSet } from './ranges.js';
import type { BlockStore, Blocks } from './store.js';
import { deinterleave, interleave } from './store.js';
import type { Geometry } from './lbaf.js';
import type { ZonedIo } from './zoned/zoned-ns.js';
import type { CopyLimits } from './copy.js';
import type { PiFormat } from './pi/tuple.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import type { NsFdp } from './fdp/placement.js';

/** The namespace state the handlers work on. */
export interface NsCore {
  readonly store: BlockStore;
  readonly geometry: Geometry;
  /** Deallocated blocks (read as zeros, data and metadata). */
  readonly dealloc: RangeSet;
  /** Blocks marked with Write Uncorrectable. */
  readonly uncorrectable: RangeSet;
  readonly writeCache: boolean;
  /** Error Recovery DULBE is on (and NSFEAT advertises it). */
  readonly dulbe: boolean;
  readonly stats: IoStats;
  /** Zone rules of a zoned namespace (reference §6.3): checked after the LBA range. */
  readonly zoned?: ZonedIo | undefined;
  /** Simple Copy limits (Identify NS MSSRL/MCL/MSRC) of the namespace. */
  readonly copyLimits?: CopyLimits | undefined;
  /** Protection information of the active format (DPS type 1-3); pi/io.ts handles its I/O. */
  readonly pi?: PiFormat | undefined;
  /** The I/O core of another namespace of the controller (cross-namespace Copy). */
  readonly peer?: (ns: NamespaceApi) => NsCore | undefined;
  /** FDP placement and reclaim unit accounting of writes (fdp/placement.ts). */
  readonly fdp?: NsFdp | undefined;
}

export interface IoStats {
  bytesRead: bigint;
  bytesWritten: bigint;
  readCommands: bigint;
  writeCommands: bigint;
}

const NO_META = new Uint8Array(0);

/** A completion with only a status. */
const done = (status: number): Completion => ({ status });
const OK: Completion = { status: Status.SUCCESS };

/** The LBA range of a Read/Write-family command: SLBA cdw10-11, NLB cdw12 15:0 (0's based). */
export interface RwRange {
  readonly slba: bigint;
  readonly nlb: number;
}

export function rwRange(ctx: CommandContext): RwRange {
  const { cdw10, cdw11, cdw12 } = ctx.cmd;
  return { slba: (BigInt(cdw11) << 32n) | BigInt(cdw10), nlb: (cdw12 & 0xffff) + 1 };
}

/** FUA: cdw12 bit 30. */
export const FUA = 1 << 30;
/** Write Zeroes DEAC: cdw12 bit 25. */
const DEAC = 1 << 25;
/** DSM attribute Deallocate (AD): cdw11 bit 2. */
const DSM_AD = 1 << 2;
const DSM_RANGE_SIZE = 16;

/** 0x080+DNR unless [slba, slba + nlb) lies inside the namespace; else the start as a number. */
export function checkBounds(core: NsCore, r: RwRange): number | Completion {
  if (r.slba + BigInt(r.nlb) > BigInt(core.geometry.nsze)) return done(withDnr(Status.LBA_RANGE));
  return Number(r.slba);
}

/** Host bytes a transfer of `nlb` blocks takes: data, plus metadata when interleaved. */
export function hostBytes(g: Geometry, nlb: number): number {
  return nlb * (g.lbaSize + (g.extended ? g.ms : 0));
}

export function checkMdts(ctx: CommandContext, bytes: number): Completion | undefined {
  const mdts = ctx.ctrl.mdtsBytes;
  return mdts !== 0 && bytes > mdts ? done(withDnr(Status.INVALID_FIELD)) : undefined;
}

/** DULBE: any deallocated block -> 0x287+DNR. */
export function checkDulbe(core: NsCore, slba: number, nlb: number): Completion | undefined {
  if (core.dulbe && core.dealloc.intersects(slba, slba + nlb)) return done(withDnr(Status.DULB));
  return undefined;
}

/** Reads blocks as the host sees them: deallocated ranges are zeros (DLFEAT = 1). */
export async function readBlocks(core: NsCore, lba: number, nlb: number): Promise<Blocks> {
  const b = await core.store.read(lba, nlb);
  zeroDeallocated(core, lba, nlb, b);
  return b;
}

/** Zeroes the deallocated blocks of `b`, which holds [lba, lba + nlb). */
function zeroDeallocated(core: NsCore, lba: number, nlb: number, b: Blocks): void {
  const { lbaSize, ms } = core.geometry;
  for (const r of core.dealloc.overlaps(lba, lba + nlb)) {
    b.data.fill(0, (r.start - lba) * lbaSize, (r.end - lba) * lbaSize);
    b.meta.fill(0, (r.start - lba) * ms, (r.end - lba) * ms);
  }
}

/** SMART/stats accounting of a command that read `nlb` blocks from the medium. */
export function countRead(core: NsCore, nlb: number): void {
  core.stats.readCommands++;
  core.stats.bytesRead += BigInt(nlb * core.geometry.lbaSize);
}

/** SMART/stats and FDP accounting of a Write of `nlb` blocks that completed. */
export function countWrite(core: NsCore, ctx: CommandContext, nlb: number): void {
  core.stats.writeCommands++;
  core.stats.bytesWritten += BigInt(nlb * core.geometry.lbaSize);
  core.fdp?.onWrite(ctx.cmd, nlb);
}

/** Visits [slba, slba + nlb) in store-sized chunks. Stops at the first non-zero status. */
export async function eachChunk(
  core: NsCore,
  slba: number,
  nlb: number,
  fn: (lba: number, n: number, index: number) => Promise<number>,
): Promise<number> {
  const step = core.store.chunkBlocks;
  for (let i = 0; i < nlb; i += step) {
    const status = await fn(slba + i, Math.min(step, nlb - i), i);
    if (status !== Status.SUCCESS) return status;
  }
  return Status.SUCCESS;
}

/** Host buffers of a transfer: the data buffer and, for separate metadata, MPTR's buffer. */
function metaBuffer(core: NsCore, ctx: CommandContext): HostData | undefined {
  return core.geometry.ms > 0 && !core.geometry.extended ? ctx.meta : undefined;
}

/** A transfer status (mapping failure) on the Read/Write path carries DNR (QEMU `invalid:`). */
const mapErr = (s: number): number => s | DNR;

/**
 * Read's checks in QEMU's order — MDTS, LBA range, zone, DULBE — then blocks marked
 * uncorrectable: the start LBA, or the completion that ends the command.
 */
function admitRead(core: NsCore, ctx: CommandContext, r: RwRange): number | Completion {
  const bad = checkMdts(ctx, hostBytes(core.geometry, r.nlb));
  if (bad) return bad;
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const zs = core.zoned?.checkRead(slba, r.nlb) ?? Status.SUCCESS;
  if (zs !== Status.SUCCESS) return done(zs);
  const dulbe = checkDulbe(core, slba, r.nlb);
  if (dulbe) return dulbe;
  if (core.uncorrectable.intersects(slba, slba + r.nlb)) return done(Status.UNRECOVERED_READ);
  return slba;
}

export async function read(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const g = core.geometry;
  const r = rwRange(ctx);
  const slba = admitRead(core, ctx, r);
  if (typeof slba !== 'number') return slba;
  const meta = metaBuffer(core, ctx);
  const status = await eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    let b: Blocks;
    try {
      b = await readBlocks(core, lba, n);
    } catch {
      return Status.UNRECOVERED_READ;
    }
    if (g.extended) {
      const s = await ctx.data.toHost(i * (g.lbaSize + g.ms), interleave(b, g.lbaSize, g.ms));
      return s === 0 ? 0 : mapErr(s);
    }
    const s = await ctx.data.toHost(i * g.lbaSize, b.data);
    if (s !== 0) return mapErr(s);
    if (meta === undefined) return 0;
    const m = await meta.toHost(i * g.ms, b.meta);
    return m === 0 ? 0 : mapErr(m);
  });
  if (status === Status.SUCCESS) countRead(core, r.nlb);
  return done(status);
}

/**
 * Read without a promise (the fast path of Namespace.executeNow): the checks and outcome of
 * read() for a namespace without metadata whose store reads on the event loop, the data going
 * straight into `into`, the host buffer, exactly nlb * lbaSize bytes long.
 */
export function readNow(core: NsCore, ctx: CommandContext, into: Uint8Array): Completion {
  const r = rwRange(ctx);
  const slba = admitRead(core, ctx, r);
  if (typeof slba !== 'number') return slba;
  try {
    core.store.readNow(slba, r.nlb, into);
  } catch {
    return done(Status.UNRECOVERED_READ);
  }
  zeroDeallocated(core, slba, r.nlb, { data: into, meta: NO_META });
  countRead(core, r.nlb);
  return OK;
}

/**
 * Write without a promise (Namespace.executeNow): the checks and outcome of write() for a
 * namespace without metadata or zones, a store that writes on the event loop, a volatile write
 * cache that is on and no FUA — nothing to wait for — with `from`, the host buffer, exactly
 * nlb * lbaSize bytes and at most one store step (CHUNK_BYTES) long.
 */
export function writeNow(core: NsCore, ctx: CommandContext, from: Uint8Array): Completion {
  const r = rwRange(ctx);
  const bad = checkMdts(ctx, hostBytes(core.geometry, r.nlb));
  if (bad) return bad;
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  try {
    core.store.writeNow(slba, from);
  } catch {
    return done(Status.WRITE_FAULT);
  }
  core.dealloc.remove(slba, slba + r.nlb);
  core.uncorrectable.remove(slba, slba + r.nlb);
  countWrite(core, ctx, r.nlb);
  return OK;
}

export async function write(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const g = core.geometry;
  const r = rwRange(ctx);
  const bad = checkMdts(ctx, hostBytes(g, r.nlb));
  if (bad) return bad;
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  // Zoned: write pointer rules and implicit open at submission; the WP moves on completion.
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone !== undefined && zone.status !== Status.SUCCESS) return done(zone.status);
  const c = await writeData(core, ctx, slba, r.nlb);
  zone?.commit();
  return c;
}

/** The data part of Write (and Zone Append): host buffers to the image, then FUA. */
export async function writeData(
  core: NsCore,
  ctx: CommandContext,
  slba: number,
  nlb: number,
): Promise<Completion> {
  const g = core.geometry;
  const r = { nlb };
  const meta = metaBuffer(core, ctx);
  const status = await eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    let blocks: { data: Uint8Array; meta: Uint8Array | undefined };
    if (g.extended) {
      const buf = await ctx.data.fromHost(i * (g.lbaSize + g.ms), n * (g.lbaSize + g.ms));
      if (typeof buf === 'number') return mapErr(buf);
      blocks = deinterleave(buf, g.lbaSize, g.ms);
    } else {
      const data = await ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
      if (typeof data === 'number') return mapErr(data);
      let m: Uint8Array | undefined;
      if (meta !== undefined) {
        const got = await meta.fromHost(i * g.ms, n * g.ms);
        if (typeof got === 'number') return mapErr(got);
        m = got;
      }
      blocks = { data, meta: m };
    }
    try {
      // Metadata not transferred keeps its stored value, except that a deallocated block's
      // metadata reads as zero and must stay zero once the block is written again.
      if (g.ms > 0 && blocks.meta === undefined) {
        for (const d of core.dealloc.overlaps(lba, lba + n)) {
          await core.store.zeroMeta(d.start, d.end - d.start);
        }
      }
      await core.store.write(lba, blocks.data, blocks.meta);
    } catch {
      return Status.WRITE_FAULT;
    }
    core.dealloc.remove(lba, lba + n);
    core.uncorrectable.remove(lba, lba + n);
    return 0;
  });
  if (status !== Status.SUCCESS) return done(status);
  const fua = (ctx.cmd.cdw12 & FUA) !== 0;
  if (fua || !core.writeCache) {
    const f = await flushStatus(core, { lba: slba, nlb });
    if (f !== Status.SUCCESS) return done(f);
  }
  countWrite(core, ctx, r.nlb);
  return OK;
}

/** Write Zeroes: no MDTS limit (reference §4.2); zeroes data and metadata. */
export async function writeZeroes(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const r = rwRange(ctx);
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone !== undefined && zone.status !== Status.SUCCESS) return done(zone.status);
  try {
    await core.store.zero(slba, r.nlb);
  } catch {
    return done(Status.WRITE_FAULT);
  } finally {
    zone?.commit();
  }
  if ((ctx.cmd.cdw12 & DEAC) !== 0) core.dealloc.add(slba, slba + r.nlb);
  else core.dealloc.remove(slba, slba + r.nlb);
  core.uncorrectable.remove(slba, slba + r.nlb);
  core.fdp?.onWrite(ctx.cmd, r.nlb);
  if ((ctx.cmd.cdw12 & FUA) !== 0 || !core.writeCache) {
    return done(await flushStatus(core, { lba: slba, nlb: r.nlb }));
  }
  return OK;
}

/**
 * Flush of this namespace's drive; a host error is Write Fault. With `range` (FUA, write
 * through) only those blocks become durable in the write cache model (nvme/ns/write-cache.ts).
 */
export async function flushStatus(
  core: NsCore,
  range?: { readonly lba: number; readonly nlb: number },
): Promise<number> {
  try {
    await core.store.flush(range);
    return Status.SUCCESS;
  } catch {
    return Status.WRITE_FAULT;
  }
}

/**
 * Dataset Management: only Deallocate acts. Ranges longer than DMRSL or outside the namespace
 * are silently skipped, as QEMU does (reference §4.2). Deallocation is kept in memory; the
 * image keeps its bytes (QEMU's default `discard=ignore` leaves them too), but the blocks read
 * as zeros until written.
 */
export async function datasetManagement(core: NsCore, ctx: CommandContext): Promise<Completion> {
  if ((ctx.cmd.cdw11 & DSM_AD) === 0) return OK;
  const nr = (ctx.cmd.cdw10 & 0xff) + 1;
  const buf = await ctx.data.fromHost(0, nr * DSM_RANGE_SIZE);
  if (typeof buf === 'number') return done(buf);
  const nsze = BigInt(core.geometry.nsze);
  for (let i = 0; i < nr; i++) {
    const nlb = readU32le(buf, i * DSM_RANGE_SIZE + 4);
    const slba = readU64le(buf, i * DSM_RANGE_SIZE + 8);
    if (nlb > core.geometry.dmrsl || slba + BigInt(nlb) > nsze) continue;
    const start = Number(slba);
    core.dealloc.add(start, start + nlb);
    // A deallocated block holds no data, so it no longer holds an uncorrectable error either.
    core.uncorrectable.remove(start, start + nlb);
  }
  return OK;
}

/** Verify: checks readability, transfers nothing; limited by VSL instead of MDTS. */
export async function verify(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const g = core.geometry;
  const r = rwRange(ctx);
  if (hostBytes(g, r.nlb) > ctx.ctrl.vslBytes) return done(withDnr(Status.INVALID_FIELD));
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const dulbe = checkDulbe(core, slba, r.nlb);
  if (dulbe) return dulbe;
  if (core.uncorrectable.intersects(slba, slba + r.nlb)) return done(Status.UNRECOVERED_READ);
  const status = await eachChunk(core, slba, r.nlb, async (lba, n) => {
    try {
      await core.store.read(lba, n);
      return 0;
    } catch {
      return Status.UNRECOVERED_READ;
    }
  });
  if (status === Status.SUCCESS) countRead(core, r.nlb);
  return done(status);
}

/** Compare: 0x285 on the first mismatch of data or (transferred) metadata; [7.2] no DNR. */
export async function compare(core: NsCore, ctx: CommandContext): Promise<Completion> {
  const g = core.geometry;
  const r = rwRange(ctx);
  const bad = checkMdts(ctx, hostBytes(g, r.nlb));
  if (bad) return bad;
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const dulbe = checkDulbe(core, slba, r.nlb);
  if (dulbe) return dulbe;
  if (core.uncorrectable.intersects(slba, slba + r.nlb)) return done(Status.UNRECOVERED_READ);
  const meta = metaBuffer(core, ctx);
  const status = await eachChunk(core, slba, r.nlb, async (lba, n, i) => {
    let stored: Blocks;
    try {
      stored = await readBlocks(core, lba, n);
    } catch {
      return Status.UNRECOVERED_READ;
    }
    if (g.extended) {
      const host = await ctx.data.fromHost(i * (g.lbaSize + g.ms), n * (g.lbaSize + g.ms));
      if (typeof host === 'number') return host;
      return equal(host, interleave(stored, g.lbaSize, g.ms)) ? 0 : Status.CMP_FAILURE;
    }
    const host = await ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
    if (typeof host === 'number') return host;
    if (!equal(host, stored.data)) return Status.CMP_FAILURE;
    if (meta === undefined) return 0;
    const hm = await meta.fromHost(i * g.ms, n * g.ms);
    if (typeof hm === 'number') return hm;
    return equal(hm, stored.meta) ? 0 : Status.CMP_FAILURE;
  });
  // A miscompare still read every block.
  if (status === Status.SUCCESS || status === Status.CMP_FAILURE) countRead(core, r.nlb);
  return done(status);
}

/** Write Uncorrectable (0x04): marks blocks so that reads fail with 0x281 until rewritten. */
export function writeUncorrectable(core: NsCore, ctx: CommandContext): Completion {
  const r = rwRange(ctx);
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  core.uncorrectable.add(slba, slba + r.nlb);
  return OK;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
