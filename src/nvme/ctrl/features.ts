// Get Features / Set Features (reference §3.3, QEMU 7.2 behaviour): the feature table is
// declared once (support, capabilities, defaults) and both commands derive from it.

import { readU64le, writeU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import type { Controller } from './controller.js';
import { NSID_BROADCAST, nsidValid } from './io.js';
import { nsFdpOf } from '../ns/fdp/placement.js';

export const Fid = {
  ARBITRATION: 0x01,
  POWER_MANAGEMENT: 0x02,
  TEMPERATURE_THRESHOLD: 0x04,
  ERROR_RECOVERY: 0x05,
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  INTERRUPT_COALESCING: 0x08,
  INTERRUPT_VECTOR_CONF: 0x09,
  WRITE_ATOMICITY: 0x0a,
  ASYNC_EVENT_CONF: 0x0b,
  TIMESTAMP: 0x0e,
  HOST_BEHAVIOR_SUPPORT: 0x16,
  COMMAND_SET_PROFILE: 0x19,
  FDP_MODE: 0x1d,
  FDP_EVENTS: 0x1e,
} as const;

/** Capability bits returned by SEL=3 (Base Spec 2.0 Figure 329). */
const CAP_NS = 0x2;
const CAP_CHANGE = 0x4;

/** Supported FIDs -> capabilities [7.2]; nothing is saveable. */
export const FEATURE_CAPS: ReadonlyMap<number, number> = new Map([
  [Fid.ARBITRATION, 0],
  [Fid.POWER_MANAGEMENT, 0],
  [Fid.TEMPERATURE_THRESHOLD, CAP_CHANGE],
  [Fid.ERROR_RECOVERY, CAP_CHANGE | CAP_NS],
  [Fid.VOLATILE_WRITE_CACHE, CAP_CHANGE],
  [Fid.NUMBER_OF_QUEUES, CAP_CHANGE],
  [Fid.INTERRUPT_COALESCING, 0],
  [Fid.INTERRUPT_VECTOR_CONF, 0],
  [Fid.WRITE_ATOMICITY, 0],
  [Fid.ASYNC_EVENT_CONF, CAP_CHANGE],
  [Fid.TIMESTAMP, CAP_CHANGE],
  [Fid.HOST_BEHAVIOR_SUPPORT, CAP_CHANGE],
  [Fid.COMMAND_SET_PROFILE, CAP_CHANGE],
  // Flexible Data Placement (ns/fdp): the mode of endurance group 1, events per handle.
  [Fid.FDP_MODE, CAP_CHANGE],
  [Fid.FDP_EVENTS, CAP_CHANGE | CAP_NS],
]);

/** Arbitration Burst "no limit" (7) is the only non-zero plain default. */
const DEFAULTS: ReadonlyMap<number, number> = new Map([[Fid.ARBITRATION, 7]]);

/** Composite temperature warning threshold, Kelvin (WCTEMP). */
export const TEMP_WARNING = 0x157;
export const TEMP_CRITICAL = 0x175;

/** Controller-wide feature values; survive controller reset (reference §2.4). */
export class Features {
  tempOver = TEMP_WARNING;
  tempUnder = 0;
  asyncEventConfig = 0;
  hostTimestamp = 0n;
  timestampSetAtMs = 0;
  /** Host Behavior Support structure (512 bytes; byte 2 = LBAFEE). */
  readonly hbs = new Uint8Array(512);

  get lbafee(): boolean {
    return this.hbs[2] !== 0;
  }

  resetTimestamp(nowMs: number): void {
    this.hostTimestamp = 0n;
    this.timestampSetAtMs = nowMs;
  }

  /** Timestamp feature data: 48-bit ms, Synch 0, Origin (51:49) 1 once the host set one. */
  timestamp(nowMs: number): bigint {
    const elapsed = BigInt(Math.max(0, Math.floor(nowMs - this.timestampSetAtMs)));
    const ts = (this.hostTimestamp + elapsed) & 0xffff_ffff_ffffn;
    return ts | (this.hostTimestamp !== 0n ? 1n << 49n : 0n);
  }
}

export async function getFeatures(c: Controller, ctx: CommandContext): Promise<Completion> {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const fid = cdw10 & 0xff;
  const sel = (cdw10 >>> 8) & 0x7;
  const caps = FEATURE_CAPS.get(fid);
  if (caps === undefined) return { status: withDnr(Status.INVALID_FIELD) };
  if ((caps & CAP_NS) !== 0) {
    if (!nsidValid(nsid) || nsid === NSID_BROADCAST)
      return { status: withDnr(Status.INVALID_NSID) };
    if (!c.namespaces.has(nsid)) return { status: withDnr(Status.INVALID_FIELD) };
  }
  const ok = (dw0: number): Completion => ({ status: 0, dw0 });
  if (sel === 3) return ok(caps);
  if (sel === 0) {
    switch (fid) {
      case Fid.TEMPERATURE_THRESHOLD: {
        if (((cdw11 >>> 16) & 0xf) !== 0) return ok(0);
        const thsel = (cdw11 >>> 20) & 0x3;
        if (thsel === 0) return ok(c.features.tempOver);
        if (thsel === 1) return ok(c.features.tempUnder);
        return { status: withDnr(Status.INVALID_FIELD) };
      }
      case Fid.ERROR_RECOVERY:
        return ok(c.namespaces.get(nsid)!.errorRecovery);
      case Fid.VOLATILE_WRITE_CACHE:
        return ok([...c.namespaces.values()].some((ns) => ns.writeCache) ? 1 : 0);
      case Fid.ASYNC_EVENT_CONF:
        return ok(c.features.asyncEventConfig);
      case Fid.TIMESTAMP: {
        const buf = new Uint8Array(8);
        writeU64le(buf, 0, c.features.timestamp(c.params.clock.nowMs()));
        return { status: await ctx.data.toHost(0, buf) };
      }
      case Fid.HOST_BEHAVIOR_SUPPORT:
        return { status: await ctx.data.toHost(0, c.features.hbs.slice()) };
      default:
        break;
    }
  }
  if (fid === Fid.FDP_MODE) {
    // FDPE (bit 0) with configuration index 0, for endurance group 1 (cdw11 15:0).
    if ((cdw11 & 0xffff) !== 1) return { status: withDnr(Status.INVALID_FIELD) };
    return ok(c.subsys.fdp !== undefined ? 1 : 0);
  }
  if (fid === Fid.FDP_EVENTS) return fdpEventsGet(c, ctx);
  // SEL 1 (default), 2 (saved: nothing is saveable, so defaults) and the remaining FIDs.
  const nq = c.params.maxIoqpairs - 1;
  switch (fid) {
    case Fid.TEMPERATURE_THRESHOLD:
      if (((cdw11 >>> 16) & 0xf) !== 0) return ok(0);
      return ok(((cdw11 >>> 20) & 0x3) === 0 ? TEMP_WARNING : 0);
    case Fid.NUMBER_OF_QUEUES:
      return ok(((nq << 16) | nq) >>> 0);
    case Fid.INTERRUPT_VECTOR_CONF: {
      const iv = cdw11 & 0xffff;
      if (iv >= c.params.maxIoqpairs + 1) return { status: withDnr(Status.INVALID_FIELD) };
      // CD (no coalescing) is reported for the admin CQ's vector (0).
      return ok(iv === 0 ? iv | 0x10000 : iv);
    }
    default:
      return ok(DEFAULTS.get(fid) ?? 0);
  }
}

export async function setFeatures(c: Controller, ctx: CommandContext): Promise<Completion> {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const fid = cdw10 & 0xff;
  const save = (cdw10 >>> 31) & 1;
  const caps = FEATURE_CAPS.get(fid);
  const fail = (s: number): Completion => ({ status: withDnr(s) });
  if (save !== 0) return fail(Status.FID_NOT_SAVEABLE);
  if (caps === undefined) return fail(Status.INVALID_FIELD);
  if ((caps & CAP_NS) !== 0) {
    if (nsid !== NSID_BROADCAST) {
      if (!nsidValid(nsid)) return fail(Status.INVALID_NSID);
      if (!c.namespaces.has(nsid)) return fail(Status.INVALID_FIELD);
    }
  } else if (nsid !== 0 && nsid !== NSID_BROADCAST) {
    return fail(nsidValid(nsid) ? Status.FEAT_NOT_NS_SPEC : Status.INVALID_NSID);
  }
  if ((caps & CAP_CHANGE) === 0) return fail(Status.FEAT_NOT_CHANGEABLE);
  switch (fid) {
    case Fid.TEMPERATURE_THRESHOLD: {
      if (((cdw11 >>> 16) & 0xf) !== 0) return { status: 0 };
      const thsel = (cdw11 >>> 20) & 0x3;
      if (thsel === 0) c.features.tempOver = cdw11 & 0xffff;
      else if (thsel === 1) c.features.tempUnder = cdw11 & 0xffff;
      else return fail(Status.INVALID_FIELD);
      c.smart.checkTemperature();
      return { status: 0 };
    }
    case Fid.ERROR_RECOVERY: {
      const targets =
        nsid === NSID_BROADCAST ? [...c.namespaces.values()] : [c.namespaces.get(nsid)!];
      for (const ns of targets) if (ns.dulbeCapable) ns.errorRecovery = cdw11;
      return { status: 0 };
    }
    case Fid.VOLATILE_WRITE_CACHE:
      for (const ns of c.namespaces.values()) await ns.setWriteCache((cdw11 & 1) !== 0);
      return { status: 0 };
    case Fid.NUMBER_OF_QUEUES: {
      if (c.qsCreated) return fail(Status.COMMAND_SEQUENCE_ERROR);
      if ((cdw11 & 0xffff) === 0xffff || cdw11 >>> 16 === 0xffff) return fail(Status.INVALID_FIELD);
      const nq = c.params.maxIoqpairs - 1;
      return { status: 0, dw0: ((nq << 16) | nq) >>> 0 };
    }
    case Fid.ASYNC_EVENT_CONF:
      c.features.asyncEventConfig = cdw11;
      return { status: 0 };
    case Fid.TIMESTAMP: {
      const got = await ctx.data.fromHost(0, 8);
      if (typeof got === 'number') return { status: got };
      c.features.hostTimestamp = readU64le(got, 0);
      c.features.timestampSetAtMs = c.params.clock.nowMs();
      return { status: 0 };
    }
    case Fid.HOST_BEHAVIOR_SUPPORT: {
      const got = await ctx.data.fromHost(0, 512);
      if (typeof got === 'number') return { status: got };
      c.features.hbs.set(got);
      return { status: 0 };
    }
    case Fid.COMMAND_SET_PROFILE:
      if ((cdw11 & 0x1ff) !== 0) return fail(Status.IOCS_COMBINATION_REJECTED);
      return { status: 0 };
    case Fid.FDP_MODE:
      // The configuration is fixed by the nvme-subsys properties (QEMU: Command Sequence Error).
      return fail(Status.COMMAND_SEQUENCE_ERROR);
    case Fid.FDP_EVENTS: {
      const fdp = nsFdpOf(c.namespaces.get(nsid));
      if (fdp === undefined) return fail(Status.FDP_DISABLED);
      const noet = (cdw11 >>> 16) & 0xff;
      if (noet === 0) return { status: 0 };
      const types = await ctx.data.fromHost(0, noet);
      if (typeof types === 'number') return { status: types };
      if (!fdp.setEvents(cdw11 & 0xffff, types, (ctx.cmd.cdw12 & 1) !== 0)) {
        return fail(Status.INVALID_FIELD);
      }
      return { status: 0 };
    }
    default:
      return fail(Status.FEAT_NOT_CHANGEABLE);
  }
}

/** FDP Events (FID 1Eh) Get: NOET {type, enabled} descriptors of placement handle cdw11 15:0. */
async function fdpEventsGet(c: Controller, ctx: CommandContext): Promise<Completion> {
  const { cdw11, nsid } = ctx.cmd;
  const fdp = nsFdpOf(c.namespaces.get(nsid));
  if (fdp === undefined) return { status: withDnr(Status.FDP_DISABLED) };
  const noet = (cdw11 >>> 16) & 0xff;
  const list = noet === 0 ? undefined : fdp.eventConfig(cdw11 & 0xffff, noet);
  if (list === undefined) return { status: withDnr(Status.INVALID_FIELD) };
  const status = await ctx.data.toHost(0, list);
  return { status, dw0: list.length / 2 };
}
