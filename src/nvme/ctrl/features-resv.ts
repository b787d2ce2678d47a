// The reservation features (NVMe Base Spec 2.0 §5.27.1.25-§5.27.1.27): Host Identifier (81h),
// Reservation Notification Mask (82h, per namespace) and Reservation Persistence (83h, per
// namespace: PTPL). Called by features.ts after its common checks (support, NSID, SV).

import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { NSID_BROADCAST } from './nsid.js';
import { RESV_MASK_BITS } from './resv-log.js';
import { OK, type ControllerState } from './state.js';
import { Fid } from './features-state.js';

const bad = (s: number, field: string): Completion => rejected(withDnr(s), field);

/** Get Features of a reservation FID (the NSID was checked for the per-namespace ones). */
export function getResvFeature(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  switch (cdw10 & 0xff) {
    case Fid.HOST_IDENTIFIER: {
      const exhid = (cdw11 & 1) === 1;
      const id = c.host.id;
      // The identifier comes back in the size the host asks for, which must be its size.
      if (exhid !== (id.length === 16)) return bad(Status.INVALID_FIELD, 'cdw11');
      return { status: ctx.data.toHost(0, id.slice()) };
    }
    case Fid.RESV_NOTIFICATION_MASK:
      return { status: 0, dw0: c.resvLog.mask(nsid) };
    case Fid.RESV_PERSISTENCE: {
      const r = c.namespaces.get(nsid)?.reservations;
      if (r === undefined) return bad(Status.INVALID_FIELD, 'nsid');
      return { status: 0, dw0: r.ptpl ? 1 : 0 };
    }
    default:
      return bad(Status.INVALID_FIELD, 'cdw10.fid');
  }
}

/** Set Features of a reservation FID. */
export function setResvFeature(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const targets = (): number[] => (nsid === NSID_BROADCAST ? [...c.namespaces.keys()] : [nsid]);
  switch (cdw10 & 0xff) {
    case Fid.HOST_IDENTIFIER: {
      // Over fabrics the host identifier is Connect's (NVMe-oF 1.1 §3.3).
      if (c.fabrics !== undefined) return bad(Status.COMMAND_SEQUENCE_ERROR, 'cdw10.fid');
      // A registered host keeps its identifier (§5.27.1.25).
      const key = c.host.key;
      for (const ns of c.namespaces.values()) {
        if (ns.reservations?.registered(key) === true) {
          return bad(Status.COMMAND_SEQUENCE_ERROR, 'cdw10.fid');
        }
      }
      const got = ctx.data.fromHost(0, (cdw11 & 1) === 1 ? 16 : 8);
      if (typeof got === 'number') return { status: got };
      c.features.hostId = got.slice();
      return OK;
    }
    case Fid.RESV_NOTIFICATION_MASK: {
      if ((cdw11 & ~RESV_MASK_BITS) !== 0) return bad(Status.INVALID_FIELD, 'cdw11');
      for (const id of targets()) c.resvLog.setMask(id, cdw11 & RESV_MASK_BITS);
      return OK;
    }
    case Fid.RESV_PERSISTENCE:
      for (const id of targets()) c.namespaces.get(id)?.reservations?.setPtpl((cdw11 & 1) === 1);
      return OK;
    default:
      return bad(Status.INVALID_FIELD, 'cdw10.fid');
  }
}
