// The reservation I/O commands (NVMe Base Spec 2.1 §7.5-§7.8): parse CDW10/CDW11 and the data
// structure, run the model under the store's lock, report the state. Parse errors are Invalid
// Field (DNR) naming the field; the model decides conflicts.

import { defineLayout } from '../../../util/layout.js';
import { readU64le } from '../../../util/bytes.js';
import { hostIdOfKey } from '../../spec/host-id.js';
import { Status, withDnr } from '../../spec/status.js';
import { rejected, type Completion } from '../../spec/transfer.js';
import type { CommandContext } from '../../spec/namespace-api.js';
import {
  acquire,
  isAllRegistrants,
  register,
  release,
  validRtype,
  type ResvData,
} from './model.js';
import type { Reservations } from './reservations.js';

const bad = (field: string): Completion => rejected(withDnr(Status.INVALID_FIELD), field);

/** Host data of `len` bytes, or the completion that refuses it. */
function dataOf(ctx: CommandContext, len: number): Uint8Array | Completion {
  const d = ctx.data.fromHost(0, len);
  return typeof d === 'number' ? { status: d, field: 'dptr' } : d;
}

/** Reservation Register (0Dh): RREGA 2:0, IEKEY 3, CPTPL 31:30; CRKEY, NRKEY (Figure 575). */
export function resvRegister(r: Reservations, ctx: CommandContext): Completion {
  const { cdw10 } = ctx.cmd;
  const rrega = cdw10 & 0x7;
  const cptpl = cdw10 >>> 30;
  if (rrega > 2) return bad('cdw10');
  if (cptpl === 1) return bad('cdw10');
  const d = dataOf(ctx, 16);
  if (!(d instanceof Uint8Array)) return d;
  const host = ctx.ctrl.host.key;
  const out = r.update((s) =>
    register(s, {
      host,
      cntlid: ctx.ctrl.cntlid,
      rrega,
      iekey: ((cdw10 >>> 3) & 1) === 1,
      crkey: readU64le(d, 0),
      nrkey: readU64le(d, 8),
      ptpl: cptpl === 0 ? undefined : cptpl === 3,
    }),
  );
  return out.status === 0 ? { status: 0 } : rejected(out.status, 'cdw10');
}

/** Reservation Acquire (11h): RACQA 2:0, IEKEY 3 (must be 0), RTYPE 15:8; CRKEY, PRKEY. */
export function resvAcquire(r: Reservations, ctx: CommandContext): Completion {
  const { cdw10 } = ctx.cmd;
  const racqa = cdw10 & 0x7;
  const rtype = (cdw10 >>> 8) & 0xff;
  if (racqa > 2 || ((cdw10 >>> 3) & 1) === 1 || !validRtype(rtype)) return bad('cdw10');
  const d = dataOf(ctx, 16);
  if (!(d instanceof Uint8Array)) return d;
  const host = ctx.ctrl.host.key;
  const out = r.update((s) =>
    acquire(s, { host, racqa, rtype, crkey: readU64le(d, 0), prkey: readU64le(d, 8) }),
  );
  // Preempt and Abort: commands of the preempted hosts complete as they run (nothing is held
  // queued in nvmemu), so there is nothing left to abort once the preemption is done.
  return out.status === 0 ? { status: 0 } : rejected(out.status, 'cdw10');
}

/** Reservation Release (15h): RRELA 2:0, IEKEY 3 (must be 0), RTYPE 15:8; CRKEY. */
export function resvRelease(r: Reservations, ctx: CommandContext): Completion {
  const { cdw10 } = ctx.cmd;
  const rrela = cdw10 & 0x7;
  if (rrela > 1 || ((cdw10 >>> 3) & 1) === 1) return bad('cdw10');
  const d = dataOf(ctx, 8);
  if (!(d instanceof Uint8Array)) return d;
  const host = ctx.ctrl.host.key;
  const out = r.update((s) =>
    release(s, { host, rrela, rtype: (cdw10 >>> 8) & 0xff, crkey: readU64le(d, 0) }),
  );
  return out.status === 0 ? { status: 0 } : rejected(out.status, 'cdw10');
}

/** Reservation Status header (Figure 582), 24 bytes; the extended one pads it to 64. */
export const ResvStatusLayout = defineLayout('reservation-status', 24, [
  { name: 'gen', offset: 0, type: 'u32le' },
  { name: 'rtype', offset: 4, type: 'u8' },
  { name: 'regstrnt', offset: 5, type: 'u16le' },
  { name: 'ptpls', offset: 9, type: 'u8' },
]);
/** Registered Controller data structure (Figure 584). */
export const RegCtrlLayout = defineLayout('registered-controller', 24, [
  { name: 'cntlid', offset: 0, type: 'u16le' },
  { name: 'rcsts', offset: 2, type: 'u8' },
  { name: 'hostid', offset: 8, type: { bytes: 8 } },
  { name: 'rkey', offset: 16, type: 'u64le' },
]);
/** Registered Controller Extended data structure (Figure 585). */
export const RegCtrlExtLayout = defineLayout('registered-controller-extended', 64, [
  { name: 'cntlid', offset: 0, type: 'u16le' },
  { name: 'rcsts', offset: 2, type: 'u8' },
  { name: 'rkey', offset: 8, type: 'u64le' },
  { name: 'hostid', offset: 16, type: { bytes: 16 } },
]);

/** The Reservation Status data structure, regular or extended (`eds`). */
export function reservationStatus(s: ResvData, eds: boolean): Uint8Array {
  const head = eds ? 64 : 24;
  const entry = eds ? 64 : 24;
  const out = new Uint8Array(head + entry * s.registrants.length);
  ResvStatusLayout.encode(
    { gen: s.gen, rtype: s.rtype, regstrnt: s.registrants.length, ptpls: s.ptpl ? 1 : 0 },
    out,
    0,
  );
  s.registrants.forEach((reg, i) => {
    const holds = s.rtype !== 0 && (isAllRegistrants(s.rtype) || s.holder === reg.host);
    const fields = {
      cntlid: reg.cntlid,
      rcsts: holds ? 1 : 0,
      rkey: reg.rkey,
      hostid: hostIdOfKey(reg.host, eds),
    };
    if (eds) RegCtrlExtLayout.encode(fields, out, head + entry * i);
    else RegCtrlLayout.encode(fields, out, head + entry * i);
  });
  return out;
}

/**
 * Reservation Report (0Eh): NUMD (0's based dwords) in CDW10, EDS in CDW11 bit 0. The data
 * structure must match the host identifier's size (Host Identifier Inconsistent Format).
 */
export function resvReport(r: Reservations, ctx: CommandContext): Completion {
  const { cdw10, cdw11 } = ctx.cmd;
  const eds = (cdw11 & 1) === 1;
  if (eds !== ctx.ctrl.host.extended) {
    return rejected(withDnr(Status.HOST_ID_INCONSISTENT), 'cdw11');
  }
  const len = Number((BigInt(cdw10 >>> 0) + 1n) * 4n);
  const all = reservationStatus(r.state, eds);
  const part = all.subarray(0, Math.min(len, all.length, ctx.data.length));
  return { status: ctx.data.toHost(0, part) };
}
