// Get Features / Set Features (reference §3.3, QEMU 7.2 behaviour): the feature table is
// declared once (support, capabilities, defaults) and both commands derive from it.

import { readU64le, writeU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { MaybePromise } from '../../util/maybe.js';
import { OK, type ControllerState } from './state.js';
import { CAP_CHANGE, CAP_NS, DEFAULTS, featureCaps, Fid, TEMP_WARNING } from './features-state.js';
import { NSID_BROADCAST, nsidValid } from './nsid.js';
import { nsFdpOf } from '../ns/fdp/placement.js';
import { getResvFeature, setResvFeature } from './features-resv.js';

const RESV_FIDS: ReadonlySet<number> = new Set([
  Fid.HOST_IDENTIFIER,
  Fid.RESV_NOTIFICATION_MASK,
  Fid.RESV_PERSISTENCE,
]);

const ok = (dw0: number): Completion => ({ status: 0, dw0 });
const bad = (s: number, field: string): Completion => rejected(withDnr(s), field);

/** The NSID rule of a namespace-specific feature (Get: one namespace; Set: or broadcast). */
function checkNs(c: ControllerState, nsid: number, broadcast: boolean): Completion | undefined {
  if (broadcast && nsid === NSID_BROADCAST) return undefined;
  if (!nsidValid(nsid) || nsid === NSID_BROADCAST) return bad(Status.INVALID_NSID, 'nsid');
  if (!c.namespaces.has(nsid)) return bad(Status.INVALID_FIELD, 'nsid');
  return undefined;
}

export function getFeatures(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const fid = cdw10 & 0xff;
  const sel = (cdw10 >>> 8) & 0x7;
  const caps = featureCaps(fid, c.transport, c.type, c.level);
  if (caps === undefined) return bad(Status.INVALID_FIELD, 'cdw10.fid');
  if ((caps & CAP_NS) !== 0) {
    const nsBad = checkNs(c, nsid, false);
    if (nsBad) return nsBad;
  }
  if (sel === 3) return ok(caps);
  if (sel === 0) {
    switch (fid) {
      case Fid.TEMPERATURE_THRESHOLD: {
        if (((cdw11 >>> 16) & 0xf) !== 0) return ok(0);
        const thsel = (cdw11 >>> 20) & 0x3;
        if (thsel === 0) return ok(c.features.tempOver);
        if (thsel === 1) return ok(c.features.tempUnder);
        return bad(Status.INVALID_FIELD, 'cdw11.thsel');
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
        return { status: ctx.data.toHost(0, buf) };
      }
      case Fid.HOST_BEHAVIOR_SUPPORT:
        return { status: ctx.data.toHost(0, c.features.hbs.slice()) };
      case Fid.KEEP_ALIVE_TIMER:
        return ok(c.kato);
      case Fid.WRITE_ATOMICITY:
        return ok(c.features.writeAtomicityDn ? 1 : 0);
      default:
        break;
    }
  }
  if (fid === Fid.FDP_MODE) {
    // FDPE (bit 0) with configuration index 0, for endurance group 1 (cdw11 15:0). QEMU 10.0
    // answers only for an FDP endurance group; nvmemu's 7.2 level reports FDPE 0 otherwise.
    if ((cdw11 & 0xffff) !== 1) return bad(Status.INVALID_FIELD, 'cdw11.endgid');
    if (c.level.fdpModeNeedsFdp && c.subsys.fdp === undefined) {
      return bad(Status.INVALID_FIELD, 'cdw11.endgid');
    }
    return ok(c.subsys.fdp !== undefined ? 1 : 0);
  }
  if (fid === Fid.FDP_EVENTS) return fdpEventsGet(c, ctx);
  if (RESV_FIDS.has(fid)) return getResvFeature(c, ctx);
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
      if (iv >= c.params.maxIoqpairs + 1) return bad(Status.INVALID_FIELD, 'cdw11.iv');
      // CD (no coalescing) is reported for the admin CQ's vector (0).
      return ok(iv === 0 ? iv | 0x10000 : iv);
    }
    default:
      return ok(DEFAULTS.get(fid) ?? 0);
  }
}

export function setFeatures(c: ControllerState, ctx: CommandContext): MaybePromise<Completion> {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const fid = cdw10 & 0xff;
  const save = (cdw10 >>> 31) & 1;
  const caps = featureCaps(fid, c.transport, c.type, c.level);
  if (save !== 0) return bad(Status.FID_NOT_SAVEABLE, 'cdw10.sv');
  if (caps === undefined) return bad(Status.INVALID_FIELD, 'cdw10.fid');
  if ((caps & CAP_NS) !== 0) {
    const nsBad = checkNs(c, nsid, true);
    if (nsBad) return nsBad;
  } else if (nsid !== 0 && nsid !== NSID_BROADCAST) {
    return bad(nsidValid(nsid) ? Status.FEAT_NOT_NS_SPEC : Status.INVALID_NSID, 'nsid');
  }
  if ((caps & CAP_CHANGE) === 0) return bad(Status.FEAT_NOT_CHANGEABLE, 'cdw10.fid');
  switch (fid) {
    case Fid.TEMPERATURE_THRESHOLD: {
      if (((cdw11 >>> 16) & 0xf) !== 0) return OK;
      const thsel = (cdw11 >>> 20) & 0x3;
      if (thsel === 0) c.features.tempOver = cdw11 & 0xffff;
      else if (thsel === 1) c.features.tempUnder = cdw11 & 0xffff;
      else return bad(Status.INVALID_FIELD, 'cdw11.thsel');
      c.smart.checkTemperature();
      return OK;
    }
    case Fid.ERROR_RECOVERY: {
      const targets =
        nsid === NSID_BROADCAST ? [...c.namespaces.values()] : [c.namespaces.get(nsid)!];
      for (const ns of targets) if (ns.dulbeCapable) ns.errorRecovery = cdw11;
      return OK;
    }
    case Fid.VOLATILE_WRITE_CACHE:
      return (async () => {
        for (const ns of c.namespaces.values()) await ns.setWriteCache((cdw11 & 1) !== 0);
        return OK;
      })();
    case Fid.NUMBER_OF_QUEUES: {
      if (c.qsCreated) return bad(Status.COMMAND_SEQUENCE_ERROR, 'cdw10.fid');
      if ((cdw11 & 0xffff) === 0xffff || cdw11 >>> 16 === 0xffff) {
        return bad(Status.INVALID_FIELD, 'cdw11');
      }
      const nq = c.params.maxIoqpairs - 1;
      return ok(((nq << 16) | nq) >>> 0);
    }
    case Fid.ASYNC_EVENT_CONF:
      c.features.asyncEventConfig = cdw11;
      return OK;
    case Fid.TIMESTAMP: {
      const got = ctx.data.fromHost(0, 8);
      if (typeof got === 'number') return { status: got };
      c.features.hostTimestamp = readU64le(got, 0);
      c.features.timestampSetAtMs = c.params.clock.nowMs();
      return OK;
    }
    case Fid.HOST_BEHAVIOR_SUPPORT: {
      const got = ctx.data.fromHost(0, 512);
      if (typeof got === 'number') return { status: got };
      c.features.hbs.set(got);
      return OK;
    }
    case Fid.COMMAND_SET_PROFILE:
      if ((cdw11 & 0x1ff) !== 0) return bad(Status.IOCS_COMBINATION_REJECTED, 'cdw11');
      return OK;
    case Fid.WRITE_ATOMICITY:
      // DN (bit 0); changeable at the QEMU 10.0 level only (featureCaps).
      c.features.writeAtomicityDn = (cdw11 & 1) !== 0;
      return OK;
    case Fid.KEEP_ALIVE_TIMER:
      // KATO in ms; the timer restarts with the new value (NVMe-oF 1.1 §3.2, Base §5.27.1.12).
      c.kato = cdw11 >>> 0;
      c.keepAlive();
      return OK;
    case Fid.FDP_MODE:
      // The configuration is fixed by the nvme-subsys properties (QEMU: Command Sequence Error).
      return bad(Status.COMMAND_SEQUENCE_ERROR, 'cdw10.fid');
    case Fid.HOST_IDENTIFIER:
    case Fid.RESV_NOTIFICATION_MASK:
    case Fid.RESV_PERSISTENCE:
      return setResvFeature(c, ctx);
    case Fid.FDP_EVENTS: {
      const fdp = nsFdpOf(c.namespaces.get(nsid));
      if (fdp === undefined) return bad(Status.FDP_DISABLED, 'nsid');
      const noet = (cdw11 >>> 16) & 0xff;
      if (noet === 0) return OK;
      const types = ctx.data.fromHost(0, noet);
      if (typeof types === 'number') return { status: types };
      if (!fdp.setEvents(cdw11 & 0xffff, types, (ctx.cmd.cdw12 & 1) !== 0)) {
        return bad(Status.INVALID_FIELD, 'cdw11.phndl');
      }
      return OK;
    }
    default:
      return bad(Status.FEAT_NOT_CHANGEABLE, 'cdw10.fid');
  }
}

/** FDP Events (FID 1Eh) Get: NOET {type, enabled} descriptors of placement handle cdw11 15:0. */
function fdpEventsGet(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw11, nsid } = ctx.cmd;
  const fdp = nsFdpOf(c.namespaces.get(nsid));
  if (fdp === undefined) return bad(Status.FDP_DISABLED, 'nsid');
  const noet = (cdw11 >>> 16) & 0xff;
  const list = noet === 0 ? undefined : fdp.eventConfig(cdw11 & 0xffff, noet);
  if (list === undefined) return bad(Status.INVALID_FIELD, 'cdw11');
  return { status: ctx.data.toHost(0, list), dw0: list.length / 2 };
}
