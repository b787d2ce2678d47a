// Queue management, Abort, AER, Keep Alive, Doorbell Buffer Config (reference §3.2, §3.6):
// QEMU 7.2's checks in QEMU's order.

import { Status, withDnr } from '../spec/status.js';
import type { CommandContext, Completion } from '../spec/transfer.js';
import type { Controller } from './controller.js';
import { MQES } from './regs.js';
import type { Deferred, Request } from './queues.js';

const fail = (s: number): Completion => ({ status: withDnr(s) });

function cqExists(c: Controller, cqid: number): boolean {
  return cqid <= c.params.maxIoqpairs && c.cqs[cqid] !== undefined;
}
function sqExists(c: Controller, sqid: number): boolean {
  return sqid <= c.params.maxIoqpairs && c.sqs[sqid] !== undefined;
}

export function createCq(c: Controller, ctx: CommandContext): Completion {
  const { cdw10, cdw11, prp1 } = ctx.cmd;
  const cqid = cdw10 & 0xffff;
  const qsize = cdw10 >>> 16;
  const flags = cdw11 & 0xffff;
  const vector = cdw11 >>> 16;
  if (cqid === 0 || cqid > c.params.maxIoqpairs || c.cqs[cqid] !== undefined) {
    return fail(Status.INVALID_QID);
  }
  if (qsize === 0 || qsize > MQES) return fail(Status.MAX_QSIZE_EXCEEDED);
  if ((prp1 & BigInt(c.pageSize - 1)) !== 0n) return fail(Status.INVALID_PRP_OFFSET);
  if (!c.params.msixEnabled && vector !== 0) return fail(Status.INVALID_IRQ_VECTOR);
  if (vector >= c.params.msixQsize) return fail(Status.INVALID_IRQ_VECTOR);
  if ((flags & 1) === 0) return fail(Status.INVALID_FIELD);
  c.addCq(cqid, qsize + 1, vector, (flags & 2) !== 0, prp1);
  return { status: 0 };
}

export function createSq(c: Controller, ctx: CommandContext): Completion {
  const { cdw10, cdw11, prp1 } = ctx.cmd;
  const sqid = cdw10 & 0xffff;
  const qsize = cdw10 >>> 16;
  const flags = cdw11 & 0xffff;
  const cqid = cdw11 >>> 16;
  if (cqid === 0 || !cqExists(c, cqid)) return fail(Status.CQ_INVALID);
  if (sqid === 0 || sqid > c.params.maxIoqpairs || c.sqs[sqid] !== undefined) {
    return fail(Status.INVALID_QID);
  }
  if (qsize === 0 || qsize > MQES) return fail(Status.MAX_QSIZE_EXCEEDED);
  if ((prp1 & BigInt(c.pageSize - 1)) !== 0n) return fail(Status.INVALID_PRP_OFFSET);
  if ((flags & 1) === 0) return fail(Status.INVALID_FIELD);
  c.addSq(sqid, cqid, qsize + 1, prp1);
  return { status: 0 };
}

export function deleteSq(c: Controller, ctx: CommandContext): Completion {
  const qid = ctx.cmd.cdw10 & 0xffff;
  if (qid === 0 || !sqExists(c, qid)) return fail(Status.INVALID_QID);
  c.deleteSq(qid);
  return { status: 0 };
}

export function deleteCq(c: Controller, ctx: CommandContext): Completion {
  const qid = ctx.cmd.cdw10 & 0xffff;
  if (qid === 0 || !cqExists(c, qid)) return fail(Status.CQ_INVALID);
  if (c.cqs[qid]!.sqs.size > 0) return { status: Status.INVALID_QUEUE_DEL };
  c.deleteCq(qid);
  return { status: 0 };
}

/**
 * Abort: dw0 bit0 = 1 ("not aborted") unless the CID is an outstanding AER, which then
 * completes with 0x007. In-flight I/O is never aborted (QEMU 7.2 cancels asynchronously and
 * still reports 1; here commands simply run to completion).
 */
export function abort(c: Controller, ctx: CommandContext): Completion {
  const sqid = ctx.cmd.cdw10 & 0xffff;
  const cid = ctx.cmd.cdw10 >>> 16;
  if (!sqExists(c, sqid)) return fail(Status.INVALID_FIELD);
  if (sqid === 0 && c.aer.abort(cid)) return { status: 0, dw0: 0 };
  return { status: 0, dw0: 1 };
}

export function asyncEventRequest(c: Controller, req: Request): Completion | Deferred {
  return c.aer.submit(req);
}

/** Doorbell Buffer Config (PCI personality): both buffers page aligned, else 0x002+DNR. */
export function dbbufConfig(c: Controller, ctx: CommandContext): Completion {
  const { prp1, prp2 } = ctx.cmd;
  const mask = BigInt(c.pageSize - 1);
  if ((prp1 & mask) !== 0n || (prp2 & mask) !== 0n) return fail(Status.INVALID_FIELD);
  c.dbbuf = { dbs: prp1, eis: prp2 };
  return { status: 0 };
}
