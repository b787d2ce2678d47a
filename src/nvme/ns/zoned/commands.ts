// The Zoned Namespace Command Set's own I/O commands (ZNS 1.1 §3.4; reference qemu-nvme.md
// §6.2-§6.5): Zone Management Send (0x79), Zone Management Receive (0x7A), Zone Append
// (0x7D). Every validation failure carries DNR, as QEMU's.

import { Status, withDnr } from '../../spec/status.js';
import type { Completion } from '../../spec/transfer.js';
import type { CommandContext } from '../../spec/namespace-api.js';
import * as io from '../io.js';
import type { NsCore } from '../io.js';
import { isZero } from '../store.js';
import { appendBlocks, appendHostBytes } from '../rw.js';
import { then, type MaybePromise } from '../../../util/maybe.js';
import {
  putZoneDescriptor,
  REPORT_HEADER_SIZE,
  ReportHeaderLayout,
  ZONE_DESCRIPTOR_SIZE,
} from './layout.js';
import { ZA_ZRWAV, ZoneState, ZoneTable, type Zone, type ZoneStateValue } from './state.js';
import type { ZonedNs } from './zoned-ns.js';

/** Zone Send Actions (ZNS 1.1 Figure 32). */
export const Zsa = {
  CLOSE: 0x01,
  FINISH: 0x02,
  OPEN: 0x03,
  RESET: 0x04,
  OFFLINE: 0x05,
  SET_ZDE: 0x10,
  ZRWA_FLUSH: 0x11,
} as const;

/** Zone Receive Actions (Figure 34) and Reporting Options (ZRASF, Figure 35). */
export const Zra = { REPORT: 0x00, EXTENDED_REPORT: 0x01 } as const;
const ZRASF_STATE: readonly (ZoneStateValue | undefined)[] = [
  undefined,
  ZoneState.EMPTY,
  ZoneState.IMPLICITLY_OPEN,
  ZoneState.EXPLICITLY_OPEN,
  ZoneState.CLOSED,
  ZoneState.FULL,
  ZoneState.READ_ONLY,
  ZoneState.OFFLINE,
];

/** cdw13 of Zone Management Send: Select All bit 8, ZRWA Allocation bit 9. */
const ZMS_SELECT_ALL = 1 << 8;
const ZMS_ZRWAA = 1 << 9;
/** cdw13 of Zone Management Receive: Partial Report bit 16. */
const ZMR_PARTIAL = 1 << 16;

const done = (status: number): Completion => ({ status });
const bad = (s: number): Completion => ({ status: withDnr(s) });

function slbaOf(ctx: CommandContext): bigint {
  return (BigInt(ctx.cmd.cdw11) << 32n) | BigInt(ctx.cmd.cdw10);
}

/** The zone a non-Select-All command addresses: SLBA in range, else 0x080+DNR. */
function addressedZone(zns: ZonedNs, slba: bigint): Zone | Completion {
  if (slba >= BigInt(zns.nsze)) return bad(Status.LBA_RANGE);
  return zns.zoneOf(Number(slba));
}

/** Applies `op` to each zone in order, stopping at the first failure (QEMU: no undo). */
async function each(
  zones: readonly Zone[],
  op: (z: Zone) => number | Promise<number>,
): Promise<number> {
  for (const z of zones) {
    const s = await op(z);
    if (s !== Status.SUCCESS) return s;
  }
  return Status.SUCCESS;
}

/** Zeroes the blocks of `z` that may hold data, skipping chunks already zero (sparse images). */
async function zeroZone(zns: ZonedNs, core: NsCore, z: Zone): Promise<void> {
  const n = zns.dirtyBlocks(z);
  const step = core.store.chunkBlocks;
  for (let off = 0; off < n; off += step) {
    const lba = z.zslba + off;
    const len = Math.min(step, n - off);
    const b = await core.store.read(lba, len);
    if (!isZeroFast(b.data) || !isZero(b.meta)) await core.store.zero(lba, len);
  }
  core.dealloc.remove(z.zslba, z.zslba + zns.zsze);
  core.uncorrectable.remove(z.zslba, z.zslba + zns.zsze);
  zns.markClean(z);
}

const ZERO_PAGE = new Uint8Array(64 * 1024);
function isZeroFast(buf: Uint8Array): boolean {
  for (let off = 0; off < buf.length; off += ZERO_PAGE.length) {
    const part = buf.subarray(off, Math.min(buf.length, off + ZERO_PAGE.length));
    if (Buffer.compare(part, ZERO_PAGE.subarray(0, part.length)) !== 0) return false;
  }
  return true;
}

async function reset(zns: ZonedNs, core: NsCore, z: Zone): Promise<number> {
  const s = zns.table.canReset(z);
  if (s !== Status.SUCCESS || z.state === ZoneState.EMPTY) return s;
  try {
    await zeroZone(zns, core, z);
    core.model?.resetZone(z.zslba); // the device model: a reset erases the zone's blocks
  } catch {
    return Status.WRITE_FAULT;
  }
  return zns.table.reset(z);
}

/** Zone Management Send (§6.2): every error carries DNR. */
export async function zoneMgmtSend(
  zns: ZonedNs,
  core: NsCore,
  ctx: CommandContext,
): Promise<Completion> {
  const s = await send(zns, core, ctx);
  return done(s === Status.SUCCESS ? s : withDnr(s));
}

async function send(zns: ZonedNs, core: NsCore, ctx: CommandContext): Promise<number> {
  const { cdw13 } = ctx.cmd;
  const zsa = cdw13 & 0xff;
  const all = (cdw13 & ZMS_SELECT_ALL) !== 0;
  const t = zns.table;
  const auto = ctx.ctrl.zonedAutoTransition;
  let zone: Zone | undefined;
  if (!all) {
    const slba = slbaOf(ctx);
    const z = addressedZone(zns, slba);
    if (!('index' in z)) return z.status;
    // The ZRWA flush addresses its last LBA, not a zone start.
    if (BigInt(z.zslba) !== slba && zsa !== Zsa.ZRWA_FLUSH) return Status.INVALID_FIELD;
    zone = z;
  }
  const pick = (...states: ZoneStateValue[]): Zone[] =>
    zone !== undefined ? [zone] : states.flatMap((st) => t.inState(st));
  switch (zsa) {
    case Zsa.CLOSE:
      return each(pick(ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN), (z) => t.close(z));
    case Zsa.FINISH:
      return each(
        pick(ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN, ZoneState.CLOSED),
        (z) => t.finish(z),
      );
    case Zsa.OPEN: {
      const zrwa = (cdw13 & ZMS_ZRWAA) !== 0;
      if (zrwa) {
        if (zone === undefined) return Status.INVALID_FIELD;
        if (zns.zrwasBlocks === 0) return Status.ZONE_INVALID_OP;
        if (zone.wptr % zns.zrwafgBlocks !== 0) return Status.ZONE_NO_ZRWA;
      }
      return each(pick(ZoneState.CLOSED), (z) => t.open(z, 'explicit', zrwa, auto));
    }
    case Zsa.RESET: {
      const targets =
        zone !== undefined
          ? [zone]
          : t.zones.filter(
              (z) =>
                z.state === ZoneState.IMPLICITLY_OPEN ||
                z.state === ZoneState.EXPLICITLY_OPEN ||
                z.state === ZoneState.CLOSED ||
                z.state === ZoneState.FULL,
            );
      return each(targets, (z) => reset(zns, core, z));
    }
    case Zsa.OFFLINE:
      return each(pick(ZoneState.READ_ONLY), (z) => t.offline(z));
    case Zsa.SET_ZDE: {
      const size = zns.params.descrExtSize;
      if (zone === undefined || size === 0) return Status.INVALID_FIELD;
      const ext = ctx.data.fromHost(0, size);
      if (typeof ext === 'number') return ext;
      return t.setExtension(zone, ext);
    }
    case Zsa.ZRWA_FLUSH:
      if (zone === undefined) return Status.INVALID_FIELD;
      return zrwaFlush(zns, zone, Number(slbaOf(ctx)), auto);
    default:
      return Status.INVALID_FIELD;
  }
}

/** §6.5 explicit ZRWA flush: commit [WP, ELBA]. */
function zrwaFlush(zns: ZonedNs, z: Zone, elba: number, auto: boolean): number {
  if (zns.zrwasBlocks === 0) return Status.ZONE_INVALID_OP;
  if (!hasZrwa(z)) return Status.INVALID_FIELD;
  if (elba < z.wp || elba > z.wp + zns.zrwasBlocks) return Status.ZONE_BOUNDARY_ERROR;
  const nlb = elba - z.wp + 1;
  if (nlb % zns.zrwafgBlocks !== 0) return Status.INVALID_FIELD;
  const s = zns.table.open(z, 'implicit', false, auto);
  if (s !== Status.SUCCESS) return s;
  zns.table.commitZrwa(z, Math.min(nlb, ZoneTable.writeEnd(z) - z.wptr));
  return Status.SUCCESS;
}

const hasZrwa = (z: Zone): boolean => (z.za & ZA_ZRWAV) !== 0;

/** Zone Management Receive (§6.4): report zones, filtered, partial or extended. */
export function zoneMgmtRecv(zns: ZonedNs, ctx: CommandContext): Completion {
  const { cdw12, cdw13 } = ctx.cmd;
  const z0 = addressedZone(zns, slbaOf(ctx));
  if (!('index' in z0)) return z0;
  const zra = cdw13 & 0xff;
  const zrasf = (cdw13 >>> 8) & 0xff;
  const partial = (cdw13 & ZMR_PARTIAL) !== 0;
  const extSize = zns.params.descrExtSize;
  if (zra !== Zra.REPORT && zra !== Zra.EXTENDED_REPORT) return bad(Status.INVALID_FIELD);
  if (zra === Zra.EXTENDED_REPORT && extSize === 0) return bad(Status.INVALID_FIELD);
  if (zrasf >= ZRASF_STATE.length) return bad(Status.INVALID_FIELD);
  const len = (cdw12 + 1) * 4;
  if (len < REPORT_HEADER_SIZE) return bad(Status.INVALID_FIELD);
  const mdts = ctx.ctrl.mdtsBytes;
  if (mdts !== 0 && len > mdts) return bad(Status.INVALID_FIELD);
  const want = ZRASF_STATE[zrasf];
  const entry = ZONE_DESCRIPTOR_SIZE + (zra === Zra.EXTENDED_REPORT ? extSize : 0);
  const room = Math.floor((len - REPORT_HEADER_SIZE) / entry);
  const buf = new Uint8Array(len);
  // Straight from the table's rows (a view per zone cost ~1 µs each at 100,000 zones).
  const t = zns.table;
  const n = zns.nrZones;
  let matched = 0;
  for (let i = z0.index; i < n; i++) {
    const state = t.stateOf(i);
    if (want !== undefined && state !== want) continue;
    if (matched < room) {
      const at = REPORT_HEADER_SIZE + matched * entry;
      const zslba = t.zslbaOf(i);
      putZoneDescriptor(buf, at, state, t.zaOf(i), t.writeEndOf(i) - zslba, zslba, t.wpOf(i));
      const ext = entry > ZONE_DESCRIPTOR_SIZE ? t.extOf(i) : undefined;
      if (ext !== undefined) buf.set(ext, at + ZONE_DESCRIPTOR_SIZE);
    } else if (partial) {
      break;
    } else if (want === undefined) {
      // Unfiltered: every zone left matches; NRZONES counts them all.
      matched += n - i;
      break;
    }
    matched++;
  }
  ReportHeaderLayout.encode({ nrZones: BigInt(matched) }, buf, 0);
  return done(ctx.data.toHost(0, buf));
}

/**
 * Zone Append (§6.3): SLBA names the zone (must be its ZSLBA); the data goes to the zone's
 * write pointer, which the completion returns in DW0 (low) / DW1 (high).
 */
export function zoneAppend(
  zns: ZonedNs,
  core: NsCore,
  ctx: CommandContext,
): MaybePromise<Completion> {
  const r = io.rwRange(ctx);
  const bytes = appendHostBytes(core, ctx, r.nlb);
  const mdts = io.checkMdts(ctx, bytes);
  if (mdts) return mdts;
  const start = io.checkBounds(core, r);
  if (typeof start !== 'number') return start;
  const z = zns.zoneOf(start);
  if (hasZrwa(z)) return bad(Status.ZONE_INVALID_OP);
  if (start !== z.zslba) return bad(Status.INVALID_FIELD);
  // ZASL only limits appends when set (zoned.zasl=0: MDTS, already checked).
  if (ctx.ctrl.zaslBytes !== 0 && bytes > ctx.ctrl.zaslBytes) return bad(Status.INVALID_FIELD);
  const slba = z.wptr;
  // Checked against the addressed zone: a Full zone's WP is the next zone's start.
  const rule = zns.checkWrite(z, slba, r.nlb);
  if (rule !== Status.SUCCESS) return done(rule);
  const admitted = zns.admitWrite(slba, r.nlb, ctx.ctrl.zonedAutoTransition);
  if (admitted.status !== Status.SUCCESS) return done(admitted.status);
  return then(appendBlocks(core, ctx, z.zslba, slba, r.nlb), (c) => {
    admitted.commit();
    if (c.status !== Status.SUCCESS) return c;
    return { status: Status.SUCCESS, dw0: slba % 2 ** 32, dw1: Math.floor(slba / 2 ** 32) };
  });
}
