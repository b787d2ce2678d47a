// Namespace Attachment (reference §3.7) and Format NVM (§3.8): QEMU 7.2's checks in QEMU's
// order.

import { readU16le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { ControllerState } from './state.js';
import { MAX_NSID, NSID_BROADCAST, nsidValid } from './nsid.js';

const fail = (s: number, field: string): Completion => rejected(withDnr(s), field);

export function nsAttachment(c: ControllerState, ctx: CommandContext): Completion {
  const { nsid, cdw10 } = ctx.cmd;
  const sel = cdw10 & 0xf;
  if (!nsidValid(nsid)) return fail(Status.INVALID_NSID, 'nsid');
  const ns = c.subsys.explicit && nsid <= MAX_NSID ? c.subsys.namespaces.get(nsid) : undefined;
  if (ns === undefined) return fail(Status.INVALID_FIELD, 'nsid');
  // Namespace Attachment is in the Write Command Group of the reservation rules (Figure 646).
  const refused = ns.reservations?.check(c.host.key, 'write') ?? 0;
  if (refused !== 0) return rejected(refused, 'nsid');
  const list = ctx.data.fromHost(0, 4096);
  if (typeof list === 'number') return { status: list };
  const count = Math.min(readU16le(list, 0), 2047);
  if (count === 0) return fail(Status.NS_CTRL_LIST_INVALID, 'dptr');
  for (let i = 0; i < count; i++) {
    const target = c.subsys.controllers.get(readU16le(list, 2 + 2 * i));
    if (target === undefined) return fail(Status.NS_CTRL_LIST_INVALID, 'dptr');
    const ctrl = target;
    switch (sel) {
      case 0:
        if (ctrl.isAttached(nsid)) return fail(Status.NS_ALREADY_ATTACHED, 'nsid');
        if (!ns.shared && c.subsys.attachedCount(nsid) > 0) return fail(Status.NS_PRIVATE, 'nsid');
        ctrl.attachNamespace(ns);
        break;
      case 1:
        if (!ctrl.isAttached(nsid)) return fail(Status.NS_NOT_ATTACHED, 'nsid');
        ctrl.detachNamespace(nsid);
        break;
      default:
        return fail(Status.INVALID_FIELD, 'cdw10.sel');
    }
    ctrl.noteNamespaceChanged(nsid);
  }
  // Created namespaces keep their attachments across restarts (subsys/ns-mgmt.ts).
  if (c.subsys.nsManagement?.manages(nsid) === true) c.subsys.nsManagement.attachmentsChanged();
  return { status: 0 };
}

export async function formatNvm(c: ControllerState, ctx: CommandContext): Promise<Completion> {
  const { nsid, cdw10 } = ctx.cmd;
  let lbaf = cdw10 & 0xf;
  const mset = (cdw10 >>> 4) & 1;
  const pi = (cdw10 >>> 5) & 0x7;
  const pil = (cdw10 >>> 8) & 1;
  const ses = (cdw10 >>> 9) & 0x7;
  const lbafu = (cdw10 >>> 12) & 0x3;
  if (c.features.lbafee) lbaf |= lbafu << 4;
  let targets;
  if (nsid === NSID_BROADCAST) {
    targets = [...c.namespaces.values()].sort((a, b) => a.nsid - b.nsid);
  } else {
    if (!nsidValid(nsid)) return fail(Status.INVALID_NSID, 'nsid');
    const ns = c.namespaces.get(nsid);
    if (ns === undefined) return fail(Status.INVALID_FIELD, 'nsid');
    targets = [ns];
  }
  // Format NVM writes the namespace: its path and the reservation rules apply (Figure 646).
  for (const ns of targets) {
    const refused = c.admits(ns, 'write');
    if (refused !== 0) return rejected(refused, 'nsid');
  }
  // Broadcast formats sequentially and stops at the first failure.
  for (const ns of targets) {
    const r = await ns.format(lbaf, ses, pi, pil, mset);
    if (r.status !== 0) return r;
  }
  return { status: 0 };
}
