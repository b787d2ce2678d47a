// Namespace Management (admin 0Dh; NVMe Base Spec 2.0 §5.22): SEL 0 creates a namespace from the
// host-specified fields of an Identify Namespace structure (Figure 300: NSZE, NCAP, FLBAS, DPS,
// NMIC, ANAGRPID) and returns its NSID in DW0; SEL 1 deletes one (NSID FFFFFFFFh: every
// namespace Namespace Management created). The subsystem's NsManagement (subsys/ns-mgmt.ts)
// owns the namespaces; this module parses the command.

import { readU32le, readU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { ControllerState } from './state.js';
import { NSID_BROADCAST, nsidValid } from './nsid.js';

/** Bytes of the structure holding the host-specified fields (Figure 300: bytes 0..383). */
const HOST_FIELDS = 384;

const fail = (s: number, field: string): Completion => rejected(withDnr(s), field);

export async function nsManagement(c: ControllerState, ctx: CommandContext): Promise<Completion> {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const mgmt = c.subsys.nsManagement;
  switch (cdw10 & 0xf) {
    case 0: {
      // Without a capacity (`nvm-capacity`) there is nothing to allocate from (UNVMCAP 0).
      if (mgmt === undefined) return fail(Status.NS_INSUFFICIENT_CAPACITY, 'cdw10.sel');
      if (cdw11 >>> 24 !== 0) return fail(Status.IOCS_NOT_SUPPORTED, 'cdw11.csi');
      const d = ctx.data.fromHost(0, HOST_FIELDS);
      if (typeof d === 'number') return { status: d, field: 'dptr' };
      const r = await mgmt.create({
        nsze: readU64le(d, 0),
        ncap: readU64le(d, 8),
        flbas: d[26]!,
        dps: d[29]!,
        nmic: d[30]!,
        anagrpid: readU32le(d, 92),
      });
      return r.status === 0 ? { status: 0, dw0: r.nsid! } : { status: r.status, field: 'dptr' };
    }
    case 1: {
      let targets: number[];
      if (nsid === NSID_BROADCAST) {
        targets = [...c.subsys.namespaces.keys()].filter((id) => mgmt?.manages(id) === true);
      } else {
        if (!nsidValid(nsid)) return fail(Status.INVALID_NSID, 'nsid');
        // Configured namespaces (-device nvme-ns) are the machine's, not the host's to delete.
        if (mgmt?.manages(nsid) !== true) return fail(Status.INVALID_FIELD, 'nsid');
        targets = [nsid];
      }
      // Namespace Management is in the Write Command Group of the reservation rules.
      for (const id of targets) {
        const refused = c.subsys.namespaces.get(id)?.reservations?.check(c.host.key, 'write');
        if (refused !== undefined && refused !== 0) return rejected(refused, 'nsid');
      }
      for (const id of targets) await mgmt!.delete(id);
      return { status: 0 };
    }
    default:
      return fail(Status.INVALID_FIELD, 'cdw10.sel');
  }
}
