// The NVM command set's shared I/O steps (reference qemu-nvme.md §4.1 step 6, §4.2): the state a
// command works on (NsCore), the checks every block command makes in QEMU 7.2's order (MDTS ->
// LBA range -> zone rules -> DULBE), accounting, Flush, Dataset Management and Write
// Uncorrectable. Read, Write, Compare, Verify and Write Zeroes are in rw.ts, written once for
// every format (protection information is a step there, not a second implementation).
//
// Every step completes synchronously when nothing has to wait (util/maybe.ts) and returns a
// promise only when it must (fdatasync, aio=threads). Validation failures carry DNR; backend
// errors are Write Fault (0x280) / Unrecovered Read Error (0x281) without DNR.

import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { Status, withDnr } from '../spec/status.js';
import { readU32le, readU64le } from '../../util/bytes.js';
import type { RangeSet } from './ranges.js';
import type { BlockStore, Blocks } from './store.js';
import type { Geometry } from './lbaf.js';
import type { ZonedIo } from './zoned/zoned-ns.js';
import type { PiFormat } from './pi/tuple.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import type { NsFdp } from './fdp/placement.js';
import { attempt, then, walk, type MaybePromise } from '../../util/maybe.js';
import type { LbaRange } from './ranges.js';
import type { Reservations } from './resv/reservations.js';
import type { ModelTicket } from '../model/model.js';

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
  /** Protection information of the active format (DPS type 1-3): a step of rw.ts. */
  readonly pi?: PiFormat | undefined;
  /** The I/O core of another namespace of the controller (cross-namespace Copy). */
  readonly peer?: (ns: NamespaceApi) => NsCore | undefined;
  /** FDP placement and reclaim unit accounting of writes (fdp/placement.ts). */
  readonly fdp?: NsFdp | undefined;
  /** I/O Management MO 0 (no operation) succeeds without FDP (QEMU 10.0, spec/levels.ts). */
  readonly ioMgmtNoOp?: boolean;
  /**
   * The image is served by other nvmemu processes too (`--instance`, docs/multipath.md): what
   * this process alone would remember of a block (deallocated, uncorrectable) would be wrong
   * in the others, so deallocation writes zeros instead of being remembered.
   */
  readonly sharedImage?: boolean;
  /** The namespace's reservations (resv/): the reservation commands work on them. */
  readonly resv?: Reservations | undefined;
  /** The device model's ticket for this command (model/model.ts); absent with x-model=none. */
  readonly model?: ModelTicket | undefined;
}

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

export interface IoStats {
  bytesRead: bigint;
  bytesWritten: bigint;
  readCommands: bigint;
  writeCommands: bigint;
}

const NONE: readonly LbaRange[] = [];

/** A completion with only a status. */
export const done = (status: number): Completion => ({ status });
export const OK: Completion = { status: Status.SUCCESS };

/** The LBA range of a Read/Write-family command: SLBA cdw10-11, NLB cdw12 15:0 (0's based). */
export interface RwRange {
  readonly slba: bigint;
  readonly nlb: number;
}

export function rwRange(ctx: CommandContext): RwRange {
  const { cdw10, cdw11, cdw12 } = ctx.cmd;
  // One BigInt rather than three when the upper dword is zero (every LBA below 2^32).
  const slba = cdw11 === 0 ? BigInt(cdw10) : (BigInt(cdw11) << 32n) | BigInt(cdw10);
  return { slba, nlb: (cdw12 & 0xffff) + 1 };
}

/** FUA: cdw12 bit 30. */
export const FUA = 1 << 30;
/** DSM attribute Deallocate (AD): cdw11 bit 2. */
const DSM_AD = 1 << 2;
const DSM_RANGE_SIZE = 16;

/** 0x080+DNR unless [slba, slba + nlb) lies inside the namespace; else the start as a number. */
export function checkBounds(core: NsCore, r: RwRange): number | Completion {
  // In numbers, exactly: NSZE is below 2^53 (a byte-addressed image), and an SLBA of 2^53 or
  // more converts to at least 2^53 (rounding is monotonic), so it still fails the check.
  const slba = Number(r.slba);
  if (slba + r.nlb > core.geometry.nsze) {
    return rejected(withDnr(Status.LBA_RANGE), 'slba');
  }
  return slba;
}

/** Host bytes a transfer of `nlb` blocks takes: data, plus metadata when interleaved. */
export function hostBytes(g: Geometry, nlb: number): number {
  return nlb * (g.lbaSize + (g.extended ? g.ms : 0));
}

export function checkMdts(ctx: CommandContext, bytes: number): Completion | undefined {
  const mdts = ctx.ctrl.mdtsBytes;
  return mdts !== 0 && bytes > mdts ? rejected(withDnr(Status.INVALID_FIELD), 'nlb') : undefined;
}

/** DULBE: any deallocated block -> 0x287+DNR. */
export function checkDulbe(core: NsCore, slba: number, nlb: number): Completion | undefined {
  if (core.dulbe && core.dealloc.intersects(slba, slba + nlb)) {
    return rejected(withDnr(Status.DULB), 'slba');
  }
  return undefined;
}

/**
 * Reads blocks as the host sees them: deallocated ranges are zeros (DLFEAT = 1); the data goes
 * into `into` when given (the host's buffer). A backend error is Unrecovered Read Error.
 */
export function readBlocks(
  core: NsCore,
  lba: number,
  nlb: number,
  into?: Uint8Array,
): MaybePromise<Blocks | number> {
  core.model?.read(lba, nlb);
  const got = attempt(
    () => core.store.read(lba, nlb, into),
    () => Status.UNRECOVERED_READ,
  );
  if (got instanceof Promise) {
    return got.then((b) => (typeof b === 'number' ? b : zeroDeallocated(core, lba, nlb, b)));
  }
  return typeof got === 'number' ? got : zeroDeallocated(core, lba, nlb, got);
}

/** Zeroes the deallocated blocks of `b`, which holds [lba, lba + nlb). */
function zeroDeallocated(core: NsCore, lba: number, nlb: number, b: Blocks): Blocks {
  const { lbaSize, ms } = core.geometry;
  for (const r of core.dealloc.overlaps(lba, lba + nlb)) {
    b.data.fill(0, (r.start - lba) * lbaSize, (r.end - lba) * lbaSize);
    b.meta.fill(0, (r.start - lba) * ms, (r.end - lba) * ms);
  }
  return b;
}

/**
 * Stores whole blocks and updates what the namespace knows of them (deallocated and
 * uncorrectable ranges): the one write step of Write, Zone Append and the Copy destination.
 * Metadata not given keeps its stored value, except that a deallocated block's metadata reads
 * as zero and must stay zero once the block is written again. 0 or Write Fault.
 */
export function storeBlocks(
  core: NsCore,
  lba: number,
  data: Uint8Array,
  meta: Uint8Array | undefined,
): MaybePromise<number> {
  const n = data.length / core.geometry.lbaSize;
  const written = (): number => {
    core.model?.program(lba, n);
    core.dealloc.remove(lba, lba + n);
    core.uncorrectable.remove(lba, lba + n);
    return Status.SUCCESS;
  };
  const put = (): MaybePromise<void> => {
    const stale =
      core.geometry.ms > 0 && meta === undefined ? core.dealloc.overlaps(lba, lba + n) : NONE;
    const zeroed = walk(0, stale.length, 1, (i) =>
      then(core.store.zeroMeta(stale[i]!.start, stale[i]!.end - stale[i]!.start), () => 0),
    );
    return then(zeroed, () => core.store.write(lba, data, meta));
  };
  const r = attempt(put, () => Status.WRITE_FAULT);
  if (r instanceof Promise) return r.then((v) => (typeof v === 'number' ? v : written()));
  return typeof r === 'number' ? r : written();
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
  core.fdp?.onWrite(ctx, nlb);
}

/**
 * Visits [slba, slba + nlb) in store-sized chunks: fn(lba, n, index of the chunk's first block in
 * the command). Stops at the first non-zero status; synchronous as long as fn is.
 */
export function eachChunk(
  core: NsCore,
  slba: number,
  nlb: number,
  fn: (lba: number, n: number, index: number) => MaybePromise<number>,
): MaybePromise<number> {
  const step = core.store.chunkBlocks;
  if (nlb <= step) return fn(slba, nlb, 0);
  return walk(0, nlb, step, (i) => fn(slba + i, Math.min(step, nlb - i), i));
}

/**
 * Flush of this namespace's drive; a host error is Write Fault. With `range` (FUA, write
 * through) only those blocks become durable in the write cache model (nvme/ns/write-cache.ts).
 */
export function flushStatus(
  core: NsCore,
  range?: { readonly lba: number; readonly nlb: number },
): Promise<number> {
  return core.store.flush(range).then(
    () => Status.SUCCESS,
    () => Status.WRITE_FAULT,
  );
}

/**
 * Dataset Management: only Deallocate acts. Ranges longer than DMRSL or outside the namespace
 * are silently skipped, as QEMU does (reference §4.2). Deallocation is kept in memory; the
 * image keeps its bytes (QEMU's default `discard=ignore` leaves them too), but the blocks read
 * as zeros until written.
 */
export function datasetManagement(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  if ((ctx.cmd.cdw11 & DSM_AD) === 0) return OK;
  const nr = (ctx.cmd.cdw10 & 0xff) + 1;
  const buf = ctx.data.fromHost(0, nr * DSM_RANGE_SIZE);
  if (typeof buf === 'number') return done(buf);
  const nsze = BigInt(core.geometry.nsze);
  const ranges: LbaRange[] = [];
  for (let i = 0; i < nr; i++) {
    const nlb = readU32le(buf, i * DSM_RANGE_SIZE + 4);
    const slba = readU64le(buf, i * DSM_RANGE_SIZE + 8);
    if (nlb > core.geometry.dmrsl || slba + BigInt(nlb) > nsze) continue;
    const start = Number(slba);
    ranges.push({ start, end: start + nlb });
  }
  if (core.sharedImage === true) return zeroRanges(core, ranges);
  for (const r of ranges) {
    core.dealloc.add(r.start, r.end);
    core.model?.trim(r.start, r.end - r.start);
    // A deallocated block holds no data, so it no longer holds an uncorrectable error either.
    core.uncorrectable.remove(r.start, r.end);
  }
  return OK;
}

/**
 * Deallocation of a shared image (NsCore.sharedImage): the blocks are written with zeros, which
 * every process serving the image reads back (DLFEAT: deallocated blocks read as zeros).
 */
function zeroRanges(core: NsCore, ranges: readonly LbaRange[]): MaybePromise<Completion> {
  const zeroed = walk(0, ranges.length, 1, (i) => {
    const r = ranges[i]!;
    return attempt(
      () => then(core.store.zero(r.start, r.end - r.start), () => Status.SUCCESS),
      () => Status.WRITE_FAULT,
    );
  });
  return then(zeroed, done);
}

/** Write Uncorrectable (0x04): marks blocks so that reads fail with 0x281 until rewritten. */
export function writeUncorrectable(core: NsCore, ctx: CommandContext): Completion {
  const r = rwRange(ctx);
  const slba = checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  core.uncorrectable.add(slba, slba + r.nlb);
  return OK;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
