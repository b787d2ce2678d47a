// A namespace's view of its FDP endurance group (TP 4146; reference qemu-nvme.md §8): its
// placement handles, placement of writes through DTYPE/DSPEC, I/O Management Receive (RUH
// Status) and Send (RUH Update), and the FDP Events feature of its handles.
//
// Writes: DTYPE (cdw12 23:20) = 2 (Data Placement) with DSPEC (cdw13 31:16) a valid placement
// identifier selects (reclaim group, placement handle); anything else uses placement handle 0
// in reclaim group 0 (QEMU: silently; nvmemu also logs "Invalid Placement Identifier" for a
// DTYPE 2 write whose DSPEC names no handle, when that event is enabled). QEMU decodes DSPEC
// with a mask one bit narrower than it encodes; nvmemu uses the spec's 16 - RGIF bits.

import { ByteWriter } from '../../../util/bytes.js';
import { readU16le } from '../../../util/bytes.js';
import { Status, withDnr } from '../../spec/status.js';
import type { NvmeCmd } from '../../spec/command.js';
import type { Completion } from '../../spec/transfer.js';
import type { CommandContext } from '../../spec/namespace-api.js';
import { FdpEvent, SUPPORTED_EVENTS, type FdpEnduranceGroup } from './group.js';
import { FDP_MAX_PIDS } from '../../subsys/fdp-config.js';

/** Directive Type "Data Placement". */
const DTYPE_DATA_PLACEMENT = 2;
const NSID_BROADCAST = 0xffff_ffff;

export class NsFdp {
  constructor(
    readonly group: FdpEnduranceGroup,
    readonly nsid: number,
    /** RUH id per placement handle index. */
    readonly phs: readonly number[],
    readonly lbaSize: number,
  ) {}

  /** (reclaim group, placement handle index) of a write, or undefined when invalid. */
  #placement(cmd: NvmeCmd): { rg: number; ph: number; pid: number } | undefined {
    if (((cmd.cdw12 >>> 20) & 0xf) !== DTYPE_DATA_PLACEMENT) return undefined;
    const pid = cmd.cdw13 >>> 16;
    const [rg, ph] = this.group.decodePid(pid);
    if (rg >= this.group.params.nrg || ph >= this.phs.length) return undefined;
    return { rg, ph, pid };
  }

  /**
   * Accounts a completed write of `nlb` blocks (Write, Write Zeroes, Zone Append). Events are
   * stamped with the controller's Timestamp feature value (QEMU 10.0).
   */
  onWrite(ctx: CommandContext, nlb: number): void {
    const { cmd } = ctx;
    const timestamp = ctx.ctrl.timestamp?.();
    const at = timestamp !== undefined ? { timestamp } : {};
    const p = this.#placement(cmd);
    if (p === undefined && ((cmd.cdw12 >>> 20) & 0xf) === DTYPE_DATA_PLACEMENT) {
      // The identifier names no handle: the event has no location (LV clear).
      const ruh = this.group.ruhs[this.phs[0]!]!;
      this.group.event(ruh, FdpEvent.INVALID_PID, 0, {
        pid: cmd.cdw13 >>> 16,
        nsid: this.nsid,
        location: false,
        ...at,
      });
    }
    const rg = p?.rg ?? 0;
    const ph = p?.ph ?? 0;
    this.group.write(this.phs[ph]!, rg, nlb, this.lbaSize, {
      pid: this.group.pid(rg, ph),
      nsid: this.nsid,
      ...at,
    });
  }

  /** RUH Status (I/O Management Receive MO 1): one 32-byte descriptor per (RG, PH). */
  ruhStatus(): Uint8Array {
    const { nrg } = this.group.params;
    const n = nrg * this.phs.length;
    const w = new ByteWriter(16 + 32 * n);
    w.offset = 14;
    w.u16le(n);
    for (let rg = 0; rg < nrg; rg++) {
      this.phs.forEach((ruhid, ph) => {
        const start = w.offset;
        w.u16le(this.group.pid(rg, ph));
        w.u16le(ruhid);
        w.u32le(0); // EARUTR: no active time limit
        w.u64le(BigInt(this.group.ruhs[ruhid]!.rus[rg]!.ruamw));
        w.offset = start + 32;
      });
    }
    return w.buf;
  }

  /** RUH Update (I/O Management Send MO 1) of `pids`; a status (0 or 0x002+DNR). */
  update(pids: readonly number[], timestamp?: bigint): number {
    const places: [number, number][] = [];
    for (const pid of pids) {
      const [rg, ph] = this.group.decodePid(pid);
      if (rg >= this.group.params.nrg || ph >= this.phs.length) {
        return withDnr(Status.INVALID_FIELD);
      }
      places.push([rg, ph]);
    }
    for (const [rg, ph] of places) {
      this.group.update(this.phs[ph]!, rg, this.lbaSize, {
        pid: this.group.pid(rg, ph),
        nsid: this.nsid,
        ...(timestamp !== undefined ? { timestamp } : {}),
      });
    }
    return Status.SUCCESS;
  }

  /** FDP Events Get: NOET descriptors {type, enabled} of handle `ph`; undefined if invalid. */
  eventConfig(ph: number, noet: number): Uint8Array | undefined {
    const ruhid = this.phs[ph];
    if (ruhid === undefined) return undefined;
    const ruh = this.group.ruhs[ruhid]!;
    const types = SUPPORTED_EVENTS.slice(0, noet);
    const out = new Uint8Array(types.length * 2);
    types.forEach((t, i) => {
      out[2 * i] = t;
      out[2 * i + 1] = ruh.events.has(t) ? 1 : 0;
    });
    return out;
  }

  /** FDP Events Set: enables/disables `types` of handle `ph`; unsupported types are ignored. */
  setEvents(ph: number, types: Uint8Array, enable: boolean): boolean {
    const ruhid = this.phs[ph];
    if (ruhid === undefined) return false;
    const ruh = this.group.ruhs[ruhid]!;
    for (const t of types) {
      if (!SUPPORTED_EVENTS.includes(t)) continue;
      if (enable) ruh.events.add(t);
      else ruh.events.delete(t);
    }
    return true;
  }
}

/**
 * I/O Management Receive (0x12): MO 0 no-op, MO 1 RUH Status (reference §8). Without FDP:
 * FDP Disabled, except that QEMU 10.0 completes MO 0 (`noOpWithoutFdp`).
 */
export function ioMgmtRecv(
  fdp: NsFdp | undefined,
  ctx: CommandContext,
  noOpWithoutFdp = false,
): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  if (nsid === 0 || nsid === NSID_BROADCAST) return { status: withDnr(Status.INVALID_NSID) };
  if (fdp === undefined) {
    const noOp = noOpWithoutFdp && (cdw10 & 0xff) === 0;
    return { status: noOp ? Status.SUCCESS : withDnr(Status.FDP_DISABLED) };
  }
  const len = (cdw11 + 1) * 4;
  switch (cdw10 & 0xff) {
    case 0:
      return { status: Status.SUCCESS };
    case 1: {
      const buf = fdp.ruhStatus();
      return { status: ctx.data.toHost(0, buf.subarray(0, Math.min(len, buf.length))) };
    }
    default:
      return { status: withDnr(Status.INVALID_FIELD) };
  }
}

/**
 * I/O Management Send (0x1D): MO 0 no-op, MO 1 RUH Update of NPID (cdw10 31:16 + 1) PIDs;
 * without FDP as Receive.
 */
export function ioMgmtSend(
  fdp: NsFdp | undefined,
  ctx: CommandContext,
  noOpWithoutFdp = false,
): Completion {
  const { cdw10, nsid } = ctx.cmd;
  if (nsid === 0 || nsid === NSID_BROADCAST) return { status: withDnr(Status.INVALID_NSID) };
  if (fdp === undefined) {
    const noOp = noOpWithoutFdp && (cdw10 & 0xff) === 0;
    return { status: noOp ? Status.SUCCESS : withDnr(Status.FDP_DISABLED) };
  }
  switch (cdw10 & 0xff) {
    case 0:
      return { status: Status.SUCCESS };
    case 1: {
      const npid = (cdw10 >>> 16) + 1;
      const { nrg, nruh } = fdp.group.params;
      if (npid > Math.min(FDP_MAX_PIDS, nrg * nruh))
        return { status: withDnr(Status.INVALID_FIELD) };
      const buf = ctx.data.fromHost(0, npid * 2);
      if (typeof buf === 'number') return { status: buf };
      const pids = Array.from({ length: npid }, (_, i) => readU16le(buf, 2 * i));
      return { status: fdp.update(pids, ctx.ctrl.timestamp?.()) };
    }
    default:
      return { status: withDnr(Status.INVALID_FIELD) };
  }
}

/** The FDP view of a namespace (any NamespaceApi), when it has one. */
export function nsFdpOf(ns: unknown): NsFdp | undefined {
  const f = (ns as { fdp?: unknown } | undefined)?.fdp;
  return f instanceof NsFdp ? f : undefined;
}
