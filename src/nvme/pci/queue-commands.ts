// The admin commands that exist only on PCIe (reference §3.2, §3.6; NVMe-oF has Connect instead):
// Create/Delete I/O Submission and Completion Queue and Doorbell Buffer Config, with QEMU 7.2's
// checks in QEMU's order. The command table (ctrl/admin-table.ts) lists them for the PCIe
// personality; PcieController runs them on its rings (QueueSet).

import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { ControllerState } from '../ctrl/state.js';
import type { CompletionQueue, SubmissionQueue } from './rings.js';

/** The rings the commands act on (PcieController). */
export interface QueueSet {
  readonly ctrl: ControllerState;
  readonly sqs: readonly (SubmissionQueue | undefined)[];
  readonly cqs: readonly (CompletionQueue | undefined)[];
  hasSq(sqid: number): boolean;
  hasCq(cqid: number): boolean;
  addCq(cqid: number, size: number, vector: number, ien: boolean, addr: bigint): void;
  addSq(sqid: number, cqid: number, size: number, addr: bigint): void;
  removeSq(sqid: number): void;
  removeCq(cqid: number): void;
  setDbbuf(v: { readonly dbs: bigint; readonly eis: bigint }): void;
}

const fail = (s: number, field: string): Completion => rejected(withDnr(s), field);
const OK: Completion = { status: 0 };

export function createCq(p: QueueSet, ctx: CommandContext): Completion {
  const c = p.ctrl;
  const { cdw10, cdw11, prp1 } = ctx.cmd;
  const cqid = cdw10 & 0xffff;
  const qsize = cdw10 >>> 16;
  const flags = cdw11 & 0xffff;
  const vector = cdw11 >>> 16;
  if (cqid === 0 || cqid > c.params.maxIoqpairs || p.cqs[cqid] !== undefined) {
    return fail(Status.INVALID_QID, 'cdw10.qid');
  }
  if (qsize === 0 || qsize > c.params.mqes) return fail(Status.MAX_QSIZE_EXCEEDED, 'cdw10.qsize');
  if ((prp1 & BigInt(c.pageSize - 1)) !== 0n) return fail(Status.INVALID_PRP_OFFSET, 'dptr');
  if (!c.params.msixEnabled && vector !== 0) return fail(Status.INVALID_IRQ_VECTOR, 'cdw11.iv-cq');
  if (vector >= c.params.msixQsize) return fail(Status.INVALID_IRQ_VECTOR, 'cdw11.iv-cq');
  if ((flags & 1) === 0) return fail(Status.INVALID_FIELD, 'cdw11');
  p.addCq(cqid, qsize + 1, vector, (flags & 2) !== 0, prp1);
  return OK;
}

export function createSq(p: QueueSet, ctx: CommandContext): Completion {
  const c = p.ctrl;
  const { cdw10, cdw11, prp1 } = ctx.cmd;
  const sqid = cdw10 & 0xffff;
  const qsize = cdw10 >>> 16;
  const flags = cdw11 & 0xffff;
  const cqid = cdw11 >>> 16;
  if (cqid === 0 || !p.hasCq(cqid)) return fail(Status.CQ_INVALID, 'cdw11.cqid');
  if (sqid === 0 || sqid > c.params.maxIoqpairs || p.sqs[sqid] !== undefined) {
    return fail(Status.INVALID_QID, 'cdw10.qid');
  }
  if (qsize === 0 || qsize > c.params.mqes) return fail(Status.MAX_QSIZE_EXCEEDED, 'cdw10.qsize');
  if ((prp1 & BigInt(c.pageSize - 1)) !== 0n) return fail(Status.INVALID_PRP_OFFSET, 'dptr');
  if ((flags & 1) === 0) return fail(Status.INVALID_FIELD, 'cdw11');
  p.addSq(sqid, cqid, qsize + 1, prp1);
  return OK;
}

export function deleteSq(p: QueueSet, ctx: CommandContext): Completion {
  const qid = ctx.cmd.cdw10 & 0xffff;
  if (qid === 0 || !p.hasSq(qid)) return fail(Status.INVALID_QID, 'cdw10.qid');
  p.removeSq(qid);
  return OK;
}

export function deleteCq(p: QueueSet, ctx: CommandContext): Completion {
  const qid = ctx.cmd.cdw10 & 0xffff;
  if (qid === 0 || !p.hasCq(qid)) return fail(Status.CQ_INVALID, 'cdw10.qid');
  if (p.cqs[qid]!.sqs.size > 0) return rejected(Status.INVALID_QUEUE_DEL, 'cdw10.qid');
  p.removeCq(qid);
  return OK;
}

/** Doorbell Buffer Config: both buffers page aligned, else 0x002+DNR. */
export function dbbufConfig(p: QueueSet, ctx: CommandContext): Completion {
  const { prp1, prp2 } = ctx.cmd;
  const mask = BigInt(p.ctrl.pageSize - 1);
  if ((prp1 & mask) !== 0n || (prp2 & mask) !== 0n) return fail(Status.INVALID_FIELD, 'dptr');
  p.setDbbuf({ dbs: prp1, eis: prp2 });
  return OK;
}
