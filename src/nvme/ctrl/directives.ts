// Directive Send (admin 19h) and Directive Receive (admin 1Ah), NVMe Base Spec 2.0 §8.7, as
// QEMU 10.0 answers them (the admin table lists them at that level only, spec/levels.ts):
// Receive supports only the Identify directive's Return Parameters (DOPER 01h), whose data is
// three 256-bit maps (Figure 323): directives supported, enabled, and persistent across
// controller level resets. Identify is always supported and enabled; Data Placement (type 2)
// also, and persistent, when the namespace's endurance group has FDP. Send changes nothing:
// every directive state here is fixed, so it is Invalid Field (as QEMU 10.0).

import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { ControllerState } from './state.js';
import { NSID_BROADCAST } from './nsid.js';

/** Directive types (Figure 318). */
export const DirectiveType = { IDENTIFY: 0x00, STREAMS: 0x01, DATA_PLACEMENT: 0x02 } as const;
/** Identify directive operation "Return Parameters". */
const DOPER_RETURN_PARAMS = 0x01;
const IDENTIFY_PARAMS_SIZE = 4096;
/** Byte offsets of the three maps in the Return Parameters data. */
const SUPPORTED = 0;
const ENABLED = 32;
const PERSISTENT = 64;

const fail = (field: string): Completion => rejected(withDnr(Status.INVALID_FIELD), field);

/** Directive Receive: the Identify directive's parameters of an attached namespace. */
export function directiveReceive(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const doper = cdw11 & 0xff;
  const dtype = (cdw11 >>> 8) & 0xff;
  if (nsid === NSID_BROADCAST) return fail('nsid');
  if (dtype !== DirectiveType.IDENTIFY || doper !== DOPER_RETURN_PARAMS) return fail('cdw11');
  if (c.namespaces.get(nsid) === undefined) return fail('nsid');
  const params = new Uint8Array(IDENTIFY_PARAMS_SIZE);
  const identify = 1 << DirectiveType.IDENTIFY;
  const placement = c.subsys.fdp !== undefined ? 1 << DirectiveType.DATA_PLACEMENT : 0;
  params[SUPPORTED] = identify | placement;
  params[ENABLED] = identify | placement;
  params[PERSISTENT] = placement;
  // NUMD (cdw10) is 0's based dwords; the transfer is the smaller of it and the structure.
  const len = Math.min(IDENTIFY_PARAMS_SIZE, (cdw10 + 1) * 4);
  return { status: ctx.data.toHost(0, params.subarray(0, len)) };
}

/** Directive Send: no directive state can be changed. */
export function directiveSend(_c: ControllerState, _ctx: CommandContext): Completion {
  return fail('cdw11');
}
