// Read, Write, Compare, Verify and Write Zeroes of the NVM command set (NVM Command Set Spec 1.0
// §3.2-§3.3; reference qemu-nvme.md §4.2, §9), each written once for every format. Checks run in
// QEMU 7.2's order: MDTS (data plus interleaved metadata) -> LBA range -> protection information
// rules -> zone rules -> DULBE -> uncorrectable blocks; then the data moves in store-sized pieces:
//   read:  image -> deallocated blocks read as zeros -> PI step (unwritten tuples, PRCHK) -> host
//   write: host -> PI step (PRACT generates, else PRCHK checks) -> image
// A piece that fails a check is neither transferred nor written.
//
// Protection information is a step of the one path, taken when the active format has PI (DPS
// type 1-3). How the blocks travel between the host buffers and the image follows §9.1:
// extended LBAs interleave each block's metadata after its data in the data buffer, otherwise
// metadata travels in the separate buffer (MPTR); with PRACT and metadata that is exactly the
// tuple only data travels (the controller inserts / strips the tuple). A PI write that needs the
// host's tuples but has no metadata buffer (NVMe/TCP has none) is a Data Transfer Error + DNR.
//
// FUA, and a disabled volatile write cache (write through), make exactly the command's own
// blocks durable before the completion (NVM Command Set 1.0 §3.2.6): Flush of the drive, and in
// the write cache model (write-cache.ts) only those blocks, on every kind of namespace.

import { DNR, Status, withDnr } from '../spec/status.js';
import type { Completion, HostData } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { then, type MaybePromise } from '../../util/maybe.js';
import * as io from './io.js';
import type { NsCore, RwRange } from './io.js';
import type { Geometry } from './lbaf.js';
import { deinterleave, interleave, type Blocks } from './store.js';
import {
  checkBlocks,
  checkPrInfo,
  generate,
  markUnwritten,
  pract,
  PRCHK_MASK,
  rwPrInfo,
  type PrInfo,
} from './pi/protect.js';
import { reftagMask, tupleOffset, tupleOnly, tupleSize, type PiFormat } from './pi/tuple.js';

const { done, OK } = io;
/** Write Zeroes DEAC: cdw12 bit 25. */
const DEAC = 1 << 25;
/** Zone Append PIREMAP: cdw12 bit 25 (ZNS 1.1 Figure 38). */
const PIREMAP = 1 << 25;
/** A transfer failure on the Read/Write path carries DNR (QEMU's `invalid:` exit). */
const mapErr = (s: number): number => (s === 0 ? 0 : s | DNR);

/** How one command's blocks travel between the host buffers and the image (§9.1). */
interface Transfer {
  readonly core: NsCore;
  readonly ctx: CommandContext;
  readonly g: Geometry;
  /** The active format's protection and the command's PRINFO (both set, or neither). */
  readonly pi: PiFormat | undefined;
  readonly p: PrInfo | undefined;
  /** PRACT with tuple-only metadata: only data travels. */
  readonly strip: boolean;
  /** Metadata travels after each block in the data buffer (extended LBA, not stripped). */
  readonly interleaved: boolean;
  /** The separate metadata buffer, when metadata travels there. */
  readonly meta: HostData | undefined;
}

function transfer(core: NsCore, ctx: CommandContext, p?: PrInfo): Transfer {
  const g = core.geometry;
  const pi = core.pi;
  const pr = pi === undefined ? undefined : (p ?? rwPrInfo(ctx.cmd, pi));
  const strip = pi !== undefined && pract(pr!) && tupleOnly(pi);
  const interleaved = g.extended && !strip;
  const separate = g.ms > 0 && !g.extended && !strip;
  return {
    core,
    ctx,
    g,
    pi,
    p: pr,
    strip,
    interleaved,
    meta: separate ? ctx.meta : undefined,
  };
}

/** Host bytes of `nlb` blocks (the MDTS rule): data, plus interleaved metadata. */
function hostBytes(t: Transfer, nlb: number): number {
  return nlb * (t.g.lbaSize + (t.interleaved ? t.g.ms : 0));
}

/** DULBE, then blocks marked uncorrectable: the checks of every command that reads blocks. */
function readable(core: NsCore, slba: number, nlb: number): Completion | undefined {
  const dulbe = io.checkDulbe(core, slba, nlb);
  if (dulbe) return dulbe;
  if (core.uncorrectable.intersects(slba, slba + nlb)) return done(Status.UNRECOVERED_READ);
  return undefined;
}

/** The stored blocks of one piece, read and (with PI) checked per PRCHK; or the status. */
function checkedBlocks(
  t: Transfer,
  lba: number,
  n: number,
  i: number,
  slba: number,
  into?: Uint8Array,
): MaybePromise<Blocks | number> {
  const b = io.readBlocks(t.core, lba, n, into);
  if (t.pi === undefined) return b;
  return then(b, (x) => {
    if (typeof x === 'number') return x;
    markUnwritten(t.pi!, x.meta);
    return checkBlocks(t.pi!, t.p!, x.data, x.meta, i, slba)?.status ?? x;
  });
}

/** The data and metadata of `n` blocks from the host buffers (piece `i` of the command). */
function fromHost(t: Transfer, i: number, n: number): Blocks | number {
  const { g, ctx } = t;
  if (t.interleaved) {
    const stride = g.lbaSize + g.ms;
    const buf = ctx.data.fromHost(i * stride, n * stride);
    return typeof buf === 'number' ? mapErr(buf) : deinterleave(buf, g.lbaSize, g.ms);
  }
  const data = ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
  if (typeof data === 'number') return mapErr(data);
  if (t.strip) return { data, meta: new Uint8Array(n * g.ms) };
  if (t.meta === undefined) {
    if (t.pi !== undefined) return withDnr(Status.DATA_TRANSFER_ERROR);
    return { data, meta: NO_META };
  }
  const meta = t.meta.fromHost(i * g.ms, n * g.ms);
  return typeof meta === 'number' ? mapErr(meta) : { data, meta };
}

const NO_META = new Uint8Array(0);

/** Sends piece `i` to the host buffers; `inPlace` when its data already sits there. */
function toHost(t: Transfer, i: number, b: Blocks, inPlace: boolean): number {
  const { g, ctx } = t;
  if (t.interleaved) {
    return mapErr(ctx.data.toHost(i * (g.lbaSize + g.ms), interleave(b, g.lbaSize, g.ms)));
  }
  if (!inPlace) {
    const s = ctx.data.toHost(i * g.lbaSize, b.data);
    if (s !== 0) return mapErr(s);
  }
  return t.meta === undefined ? 0 : mapErr(t.meta.toHost(i * g.ms, b.meta));
}

// ---- Read ---------------------------------------------------------------------------------------

/**
 * Read's checks in QEMU's order — MDTS, LBA range, zone, DULBE (and uncorrectable blocks), then
 * the PI rule: the start LBA, or the completion that ends the command.
 */
function admitRead(t: Transfer, r: RwRange): number | Completion {
  const bad = io.checkMdts(t.ctx, hostBytes(t, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(t.core, r);
  if (typeof slba !== 'number') return slba;
  const zs = t.core.zoned?.checkRead(slba, r.nlb) ?? Status.SUCCESS;
  if (zs !== Status.SUCCESS) return done(zs);
  const unreadable = readable(t.core, slba, r.nlb);
  if (unreadable) return unreadable;
  if (t.pi !== undefined) {
    const rule = checkPrInfo(t.pi, t.p!, r.slba);
    if (rule !== Status.SUCCESS) return done(rule);
  }
  return slba;
}

export function read(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  const t = transfer(core, ctx);
  const r = io.rwRange(ctx);
  const slba = admitRead(t, r);
  if (typeof slba !== 'number') return slba;
  const status = io.eachChunk(core, slba, r.nlb, (lba, n, i) => readPiece(t, lba, n, i, slba));
  return then(status, (s) => {
    if (s === Status.SUCCESS) io.countRead(core, r.nlb);
    return done(s);
  });
}

function readPiece(
  t: Transfer,
  lba: number,
  n: number,
  i: number,
  slba: number,
): MaybePromise<number> {
  // Plain data goes straight into the host's buffer when the front end holds it as memory; a
  // piece that must pass PI checks is read aside first so a failed check transfers nothing.
  const into =
    t.interleaved || t.pi !== undefined
      ? undefined
      : t.ctx.data.window?.(i * t.g.lbaSize, n * t.g.lbaSize);
  return then(checkedBlocks(t, lba, n, i, slba, into), (b) =>
    typeof b === 'number' ? b : toHost(t, i, b, into !== undefined),
  );
}

// ---- Write (and the data part of Zone Append) -----------------------------------------------------

export function write(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  const t = transfer(core, ctx);
  const r = io.rwRange(ctx);
  const bad = io.checkMdts(ctx, hostBytes(t, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  if (t.pi !== undefined) {
    const rule = checkPrInfo(t.pi, t.p!, r.slba);
    if (rule !== Status.SUCCESS) return done(rule);
  }
  // Zoned: write pointer rules and implicit open at submission; the WP moves on completion.
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone === undefined) return writeBlocks(t, slba, r.nlb);
  if (zone.status !== Status.SUCCESS) return done(zone.status);
  return then(writeBlocks(t, slba, r.nlb), (c) => {
    zone.commit();
    return c;
  });
}

/**
 * Zone Append's data at the LBA the zone assigned (`slba`): Write's piece loop and completion.
 * With PI type 1/2 and PIREMAP the reference tags follow the assigned LBA (QEMU: ILBRT +
 * (assigned LBA - ZSLBA)), so the blocks read back with the tags a Write there would have left.
 * The caller checked MDTS (appendHostBytes), the range and the zone rules.
 */
export function appendBlocks(
  core: NsCore,
  ctx: CommandContext,
  zslba: number,
  slba: number,
  nlb: number,
): MaybePromise<Completion> {
  const pi = core.pi;
  let p: PrInfo | undefined;
  if (pi !== undefined) {
    p = rwPrInfo(ctx.cmd, pi);
    if (pi.type !== 3 && (ctx.cmd.cdw12 & PIREMAP) !== 0) {
      p = { ...p, reftag: (p.reftag + BigInt(slba - zslba)) & reftagMask(pi.pif) };
    }
    const rule = checkPrInfo(pi, p, BigInt(slba));
    if (rule !== Status.SUCCESS) return done(rule);
  }
  return writeBlocks(transfer(core, ctx, p), slba, nlb);
}

/** Host bytes of a Zone Append of `nlb` blocks (MDTS and ZASL rules). */
export function appendHostBytes(core: NsCore, ctx: CommandContext, nlb: number): number {
  return hostBytes(transfer(core, ctx), nlb);
}

/** The piece loop and completion of a write of [slba, slba + nlb) after its checks passed. */
function writeBlocks(t: Transfer, slba: number, nlb: number): MaybePromise<Completion> {
  const status = io.eachChunk(t.core, slba, nlb, (lba, n, i) => writePiece(t, lba, n, i, slba));
  return then(status, (s) => (s !== Status.SUCCESS ? done(s) : finishWrite(t, slba, nlb)));
}

function writePiece(
  t: Transfer,
  lba: number,
  n: number,
  i: number,
  slba: number,
): MaybePromise<number> {
  const b = fromHost(t, i, n);
  if (typeof b === 'number') return b;
  if (t.pi !== undefined) {
    if (pract(t.p!)) generate(t.pi, t.p!, b.data, b.meta, i);
    else {
      const fail = checkBlocks(t.pi, t.p!, b.data, b.meta, i, slba);
      if (fail) return fail.status;
    }
  }
  return io.storeBlocks(t.core, lba, b.data, b.meta === NO_META ? undefined : b.meta);
}

/** FUA / write through makes the command's blocks durable; then the write is accounted. */
function finishWrite(t: Transfer, slba: number, nlb: number): MaybePromise<Completion> {
  const { core, ctx } = t;
  if ((ctx.cmd.cdw12 & io.FUA) === 0 && core.writeCache) {
    io.countWrite(core, ctx, nlb);
    return OK;
  }
  return io.flushStatus(core, { lba: slba, nlb }).then((f) => {
    if (f !== Status.SUCCESS) return done(f);
    io.countWrite(core, ctx, nlb);
    return OK;
  });
}

// ---- Compare -----------------------------------------------------------------------------------

/**
 * Compare: 0x285 on the first mismatch of data or transferred metadata ([7.2] no DNR, and
 * transfer errors are returned as they are). With PI, PRACT is refused and the stored tuples are
 * checked per PRCHK; the tuple itself is then not compared.
 */
export function compare(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  const t = transfer(core, ctx);
  const g = t.g;
  const r = io.rwRange(ctx);
  if (t.pi !== undefined && pract(t.p!)) return done(withDnr(Status.INVALID_PROT_INFO));
  const bad = io.checkMdts(ctx, io.hostBytes(g, r.nlb));
  if (bad) return bad;
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const unreadable = readable(core, slba, r.nlb);
  if (unreadable) return unreadable;
  if (t.pi !== undefined) {
    const rule = checkPrInfo(t.pi, t.p!, r.slba);
    if (rule !== Status.SUCCESS) return done(rule);
  }
  const status = io.eachChunk(core, slba, r.nlb, (lba, n, i) =>
    then(checkedBlocks(t, lba, n, i, slba), (stored) =>
      typeof stored === 'number' ? stored : comparePiece(t, i, n, stored),
    ),
  );
  return then(status, (s) => {
    // A miscompare still read every block.
    if (s === Status.SUCCESS || s === Status.CMP_FAILURE) io.countRead(core, r.nlb);
    return done(s);
  });
}

function comparePiece(t: Transfer, i: number, n: number, stored: Blocks): number {
  const { g, ctx } = t;
  if (g.extended) {
    const host = ctx.data.fromHost(i * (g.lbaSize + g.ms), n * (g.lbaSize + g.ms));
    if (typeof host === 'number') return host;
    const h = deinterleave(host, g.lbaSize, g.ms);
    return io.equal(h.data, stored.data) && metaEqual(t, h.meta, stored.meta)
      ? 0
      : Status.CMP_FAILURE;
  }
  const host = ctx.data.fromHost(i * g.lbaSize, n * g.lbaSize);
  if (typeof host === 'number') return host;
  if (!io.equal(host, stored.data)) return Status.CMP_FAILURE;
  // No metadata buffer: the data alone is compared.
  if (g.ms === 0 || ctx.meta === undefined) return 0;
  const hm = ctx.meta.fromHost(i * g.ms, n * g.ms);
  if (typeof hm === 'number') return hm;
  return metaEqual(t, hm, stored.meta) ? 0 : Status.CMP_FAILURE;
}

/** Metadata equality; with PI the tuple is verified by PRCHK instead and skipped here. */
function metaEqual(t: Transfer, a: Uint8Array, b: Uint8Array): boolean {
  const f = t.pi;
  if (f === undefined) return io.equal(a, b);
  if (a.length !== b.length) return false;
  const off = tupleOffset(f);
  const end = off + tupleSize(f.pif);
  for (let i = 0; i < a.length; i++) {
    const inBlock = i % f.ms;
    if (inBlock >= off && inBlock < end) continue;
    if (a[i] !== b[i]) return false;
  }
  return true;
}

// ---- Verify -------------------------------------------------------------------------------------

/**
 * Verify: reads (and with PI checks) the blocks, transfers nothing. QEMU's order: the PI rules
 * (PRACT refused) first, then the VSL limit on the data bytes, the LBA range, DULBE.
 */
export function verify(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  const t = transfer(core, ctx);
  const r = io.rwRange(ctx);
  if (t.pi !== undefined) {
    const rule = checkPrInfo(t.pi, t.p!, r.slba);
    if (rule !== Status.SUCCESS) return done(rule);
    if (pract(t.p!)) return done(withDnr(Status.INVALID_PROT_INFO));
  }
  if (io.hostBytes(t.g, r.nlb) > ctx.ctrl.vslBytes) return done(withDnr(Status.INVALID_FIELD));
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  const unreadable = readable(core, slba, r.nlb);
  if (unreadable) return unreadable;
  const status = io.eachChunk(core, slba, r.nlb, (lba, n, i) =>
    then(checkedBlocks(t, lba, n, i, slba), (b) => (typeof b === 'number' ? b : 0)),
  );
  return then(status, (s) => {
    if (s === Status.SUCCESS) io.countRead(core, r.nlb);
    return done(s);
  });
}

// ---- Write Zeroes -------------------------------------------------------------------------------

/**
 * Write Zeroes: no MDTS limit (reference §4.2); zeroes data and metadata, DEAC marks the blocks
 * deallocated. With PI any PRCHK bit is Invalid Protection Information + DNR; PRACT writes a
 * tuple per block (guard of the zero block, LBAT, reference tag), otherwise the metadata is
 * zeroed and the blocks read with all-ones tuples.
 */
export function writeZeroes(core: NsCore, ctx: CommandContext): MaybePromise<Completion> {
  const t = transfer(core, ctx);
  const r = io.rwRange(ctx);
  const slba = io.checkBounds(core, r);
  if (typeof slba !== 'number') return slba;
  if (t.pi !== undefined && (t.p!.prinfo & PRCHK_MASK) !== 0) {
    return done(withDnr(Status.INVALID_PROT_INFO));
  }
  const zone = core.zoned?.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (zone !== undefined && zone.status !== Status.SUCCESS) return done(zone.status);
  const zeroed =
    t.pi !== undefined && pract(t.p!) ? zeroWithTuples(t, slba, r.nlb) : zero(t, slba, r.nlb);
  return then(zeroed, (s) => {
    zone?.commit();
    if (s !== Status.SUCCESS) return done(s);
    // A shared image remembers no deallocation (NsCore.sharedImage): the zeros are the state.
    if ((ctx.cmd.cdw12 & DEAC) !== 0 && core.sharedImage !== true) {
      core.dealloc.add(slba, slba + r.nlb);
    } else core.dealloc.remove(slba, slba + r.nlb);
    // The device model keeps no flash pages for zeroes (docs/models.md).
    core.model?.trim(slba, r.nlb);
    core.uncorrectable.remove(slba, slba + r.nlb);
    core.fdp?.onWrite(ctx, r.nlb);
    if ((ctx.cmd.cdw12 & io.FUA) === 0 && core.writeCache) return OK;
    return io.flushStatus(core, { lba: slba, nlb: r.nlb }).then(done);
  });
}

function zero(t: Transfer, slba: number, nlb: number): MaybePromise<number> {
  let z: MaybePromise<void>;
  try {
    z = t.core.store.zero(slba, nlb);
  } catch {
    return Status.WRITE_FAULT;
  }
  return z instanceof Promise
    ? z.then(
        () => 0,
        () => Status.WRITE_FAULT,
      )
    : 0;
}

function zeroWithTuples(t: Transfer, slba: number, nlb: number): MaybePromise<number> {
  const { g } = t;
  return io.eachChunk(t.core, slba, nlb, (lba, n, i) => {
    const data = new Uint8Array(n * g.lbaSize);
    const meta = new Uint8Array(n * g.ms);
    generate(t.pi!, t.p!, data, meta, i);
    let w: MaybePromise<void>;
    try {
      w = t.core.store.write(lba, data, meta);
    } catch {
      return Status.WRITE_FAULT;
    }
    return w instanceof Promise
      ? w.then(
          () => 0,
          () => Status.WRITE_FAULT,
        )
      : 0;
  });
}
