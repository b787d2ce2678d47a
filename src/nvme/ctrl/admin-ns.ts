// Namespace Attachment (reference §3.7), Format NVM (§3.8) and Virtualization Management
// without SR-IOV (§10): QEMU 7.2's checks in QEMU's order.

import { readU16le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import type { Controller } from './controller.js';
import { MAX_NSID, NSID_BROADCAST, nsidValid } from './io.js';

const fail = (s: number): Completion => ({ status: withDnr(s) });

export async function nsAttachment(c: Controller, ctx: CommandContext): Promise<Completion> {
  const { nsid, cdw10 } = ctx.cmd;
  const sel = cdw10 & 0xf;
  if (!nsidValid(nsid)) return fail(Status.INVALID_NSID);
  const ns = c.subsys.explicit && nsid <= MAX_NSID ? c.subsys.namespaces.get(nsid) : undefined;
  if (ns === undefined) return fail(Status.INVALID_FIELD);
  const list = await ctx.data.fromHost(0, 4096);
  if (typeof list === 'number') return { status: list };
  const count = Math.min(readU16le(list, 0), 2047);
  if (count === 0) return fail(Status.NS_CTRL_LIST_INVALID);
  for (let i = 0; i < count; i++) {
    const target = c.subsys.controllers.get(readU16le(list, 2 + 2 * i));
    if (target === undefined) return fail(Status.NS_CTRL_LIST_INVALID);
    const ctrl = target as Controller;
    switch (sel) {
      case 0:
        if (ctrl.isAttached(nsid)) return fail(Status.NS_ALREADY_ATTACHED);
        if (!ns.shared && c.subsys.attachedCount(nsid) > 0) return fail(Status.NS_PRIVATE);
        ctrl.attachNamespace(ns);
        break;
      case 1:
        if (!ctrl.isAttached(nsid)) return fail(Status.NS_NOT_ATTACHED);
        ctrl.detachNamespace(nsid);
        break;
      default:
        return fail(Status.INVALID_FIELD);
    }
    ctrl.noteNamespaceChanged(nsid);
  }
  return { status: 0 };
}

export async function formatNvm(c: Controller, ctx: CommandContext): Promise<Completion> {
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
    if (!nsidValid(nsid)) return fail(Status.INVALID_NSID);
    const ns = c.namespaces.get(nsid);
    if (ns === undefined) return fail(Status.INVALID_FIELD);
    targets = [ns];
  }
  // Broadcast formats sequentially and stops at the first failure.
  for (const ns of targets) {
    const r = await ns.format(lbaf, ses, pi, pil, mset);
    if (r.status !== 0) return r;
  }
  return { status: 0 };
}

/** Virtualization Management without SR-IOV: no secondary controllers, no flexible resources. */
export function virtMgmt(c: Controller, ctx: CommandContext): Completion {
  const { cdw10, cdw11 } = ctx.cmd;
  const act = cdw10 & 0xf;
  const rt = (cdw10 >>> 8) & 0x7;
  const cntlid = cdw10 >>> 16;
  const nr = cdw11 & 0xffff;
  if (rt !== 0 && rt !== 1) return fail(Status.INVALID_RESOURCE_ID);
  switch (act) {
    case 0x1: // Primary Flexible Allocation: 0 flexible resources exist.
      if (cntlid !== c.cntlid) return fail(Status.INVALID_CTRL_ID);
      if (nr > 0) return fail(Status.INVALID_NUM_RESOURCES);
      return { status: 0, dw0: 0 };
    case 0x7: // Secondary Offline
    case 0x8: // Secondary Assign
    case 0x9: // Secondary Online
      return fail(Status.INVALID_CTRL_ID);
    default:
      return fail(Status.INVALID_FIELD);
  }
}
