// The Fabrics commands a bound controller executes (opcode 7Fh, FCTYPE in SQE byte 4;
// NVMe-oF 1.1 §3.3-§3.5, reference nvme-tcp.md §2.1-§2.5): Property Get and Set onto CAP, VS,
// CC and CSTS, and Disconnect. Connect binds a queue to a controller, so the transport handles it
// before a controller is known; one that reaches a bound queue is a Command Sequence Error.
// In-band authentication (Authentication Send/Receive, NVMe Base Spec 2.0 §8.13) belongs to the
// front end, which keeps the state of each queue (FabricsAuth, state.ts): the controller hands
// both commands to it on any queue, and refuses the other commands of a queue that has not
// authenticated yet with Authentication Required (91h, DNR), before any other check, as nvmet
// does (nvmet_check_auth_status). A front end without authentication answers Invalid Opcode.

import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { then, type MaybePromise } from '../../util/maybe.js';
import { OK, type ControllerState } from './state.js';

/** FCTYPE values (NVMe-oF 1.1 Figure 19). */
export const FcType = {
  PROPERTY_SET: 0x00,
  CONNECT: 0x01,
  PROPERTY_GET: 0x04,
  AUTH_SEND: 0x05,
  AUTH_RECV: 0x06,
  DISCONNECT: 0x08,
} as const;

/** Fabrics command status (NVMe Base Spec 2.0 Figure 103, SCT 1): the queue must authenticate. */
export const AUTHENTICATION_REQUIRED = 0x191;

/** Property offsets (NVMe-oF 1.1 Figure 33: the controller registers). */
export const Prop = { CAP: 0x00, VS: 0x08, CC: 0x14, CSTS: 0x1c, NSSR: 0x20 } as const;

const fail = (s: number, field: string): Completion => rejected(s, field);

export function fabricsCommand(c: ControllerState, ctx: CommandContext): MaybePromise<Completion> {
  const { cmd, sqid } = ctx;
  const fctype = cmd.nsid & 0xff;
  const size8 = (cmd.cdw10 & 0x7) === 1;
  switch (fctype) {
    case FcType.CONNECT:
      return fail(withDnr(Status.COMMAND_SEQUENCE_ERROR), 'cdw10.fctype');
    case FcType.PROPERTY_GET:
      if (sqid !== 0) return fail(withDnr(Status.INVALID_OPCODE), 'cdw10.fctype');
      return propertyGet(c, cmd.cdw11 >>> 0, size8);
    case FcType.PROPERTY_SET: {
      if (sqid !== 0) return fail(withDnr(Status.INVALID_OPCODE), 'cdw10.fctype');
      if (cmd.cdw11 >>> 0 !== Prop.CC || size8) return fail(withDnr(Status.INVALID_FIELD), 'cdw11');
      // A shutdown completes the Property Set only once the namespaces are durable.
      return then(c.writeCc(cmd.cdw12 >>> 0), () => OK);
    }
    case FcType.DISCONNECT:
      // NVMe-oF 1.1: the queue (the association, for the admin queue) ends after the response.
      c.fabrics?.disconnect(sqid);
      return OK;
    case FcType.AUTH_SEND:
    case FcType.AUTH_RECV:
      return authCommand(c, ctx, fctype);
    default:
      return fail(withDnr(Status.INVALID_OPCODE), 'cdw10.fctype');
  }
}

/** Authentication Send/Receive, through the front end's per-queue state. */
function authCommand(c: ControllerState, ctx: CommandContext, fctype: number): Completion {
  const auth = c.fabrics?.auth;
  if (auth === undefined) return fail(withDnr(Status.INVALID_OPCODE), 'cdw10.fctype');
  return fctype === FcType.AUTH_SEND ? auth.send(ctx) : auth.receive(ctx);
}

/**
 * A Fabrics command on an I/O queue (nvmet_parse_fabrics_io_cmd): only the authentication
 * commands exist there; they run before the controller-ready check, like Connect.
 */
export function fabricsIoCommand(c: ControllerState, ctx: CommandContext): Completion {
  const fctype = ctx.cmd.nsid & 0xff;
  if (fctype === FcType.AUTH_SEND || fctype === FcType.AUTH_RECV) {
    return authCommand(c, ctx, fctype);
  }
  return fail(withDnr(Status.INVALID_OPCODE), 'cdw10.fctype');
}

/**
 * Authentication Required (DNR) for a command other than a Fabrics one on queue `sqid` while
 * the front end says the queue must still authenticate; undefined otherwise.
 */
export function authenticationGate(c: ControllerState, sqid: number): Completion | undefined {
  const auth = c.fabrics?.auth;
  if (auth === undefined || !auth.pending(sqid)) return undefined;
  return fail(withDnr(AUTHENTICATION_REQUIRED), 'opcode');
}

/**
 * Property Get: CAP as 8 bytes (or its low 4), VS/CC/CSTS/NSSR as 4. Unsupported offsets and
 * sizes answer Invalid Field *without* DNR: nvme-cli 2.3's show-regs walks every register from
 * CAP to CMBSZ and only skips a status equal to plain 02h; with DNR (0x4002, as nvmet answers)
 * it stops at INTMS and the command fails (seen in the Linux 6.1 guest). The kernel never reads
 * these offsets, so nothing retries on the missing DNR.
 */
function propertyGet(c: ControllerState, ofst: number, size8: boolean): Completion {
  const lo = (v: bigint): number => Number(v & 0xffff_ffffn);
  const hi = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
  if (ofst === Prop.CAP) {
    return size8 ? { status: 0, dw0: lo(c.cap), dw1: hi(c.cap) } : { status: 0, dw0: lo(c.cap) };
  }
  if (size8) return fail(Status.INVALID_FIELD, 'cdw10');
  switch (ofst) {
    case Prop.VS:
      return { status: 0, dw0: c.vs };
    case Prop.CC:
      return { status: 0, dw0: c.cc };
    case Prop.CSTS:
      return { status: 0, dw0: c.csts };
    case Prop.NSSR:
      return { status: 0, dw0: 0 };
    default:
      return fail(Status.INVALID_FIELD, 'cdw11');
  }
}
