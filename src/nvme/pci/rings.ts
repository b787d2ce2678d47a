// Submission and completion queues of the PCIe personality (reference §2.5): rings with QEMU's
// semantics. An SQ holds `size` slots, head/tail indices and one request slot per entry (QEMU's
// req_list); a fetched command holds its slot until its CQE is posted, so a full CQ stalls
// fetching and lets the SQ fill up. A CQ is a ring of CQEs with a phase tag that starts at 1;
// completions that do not fit wait in `pending` until the host moves the head. Where the rings'
// bytes live is the QueueMemory's business: guest RAM or the CMB (the PCI function), or these
// objects themselves (the in-process host).

import type { HostData } from '../spec/transfer.js';
import type { Cqe } from '../spec/command.js';

export interface SqSlot {
  /** The 64-byte entry. */
  sqe: Uint8Array;
  data: HostData | undefined;
  meta: HostData | undefined;
}

/**
 * Where the rings live: guest memory (the PCI function, reference §2.5) or these objects
 * (the in-process host, pcie-controller.ts LOCAL_MEMORY).
 */
export interface QueueMemory {
  /** The PCI function itself (its resets take SR-IOV secondaries offline). */
  readonly ownsFunction: boolean;
  /** Fetches entry `index` of `sq` with its mapped data; undefined = fetch failure (CFS). */
  fetch(sq: SubmissionQueue, index: number): SqSlot | undefined;
  /** Writes the CQE just posted at `index` of `cq`; false = DMA failure (CFS). */
  writeCqe(cq: CompletionQueue, index: number, cqe: Cqe): boolean;
  /** CQEs were posted to `cq` (interrupt). */
  posted(cq: CompletionQueue): void;
  /** Shadow doorbells: refresh `sq.tail` / `cq.head` and publish EventIdx (Doorbell Buffer Config). */
  syncSq(sq: SubmissionQueue): void;
  syncCq(cq: CompletionQueue): void;
  /** Doorbell Buffer Config was accepted (or cleared by a reset). */
  dbbufChanged(): void;
  /** A CQ was created / deleted (QEMU msix_vector_use / msix_vector_unuse). */
  cqCreated(cq: CompletionQueue): void;
  cqDeleted(cq: CompletionQueue): void;
}

/** A fetched command, waiting for execution or for room in its CQ. */
export interface Request {
  readonly sq: SubmissionQueue;
  readonly cid: number;
  /** Set when the request is cancelled (queue deletion, reset): its completion is discarded. */
  cancelled: boolean;
  status: number;
  dw0: number;
  dw1: number;
}

export class SubmissionQueue {
  readonly slots: SqSlot[];
  head = 0;
  tail = 0;
  /** Free request slots (QEMU: one per SQ entry). */
  freeRequests: number;
  /** Fetched commands whose completion is not yet posted. */
  readonly outstanding = new Set<Request>();

  constructor(
    readonly sqid: number,
    readonly cqid: number,
    readonly size: number,
    readonly baseAddr: bigint,
  ) {
    this.slots = Array.from({ length: size }, () => ({
      sqe: new Uint8Array(64),
      data: undefined,
      meta: undefined,
    }));
    this.freeRequests = size;
  }

  get empty(): boolean {
    return this.head === this.tail;
  }

  /** True when the host cannot add another entry (one slot always stays empty). */
  get full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }
}

export class CompletionQueue {
  readonly ring: Cqe[];
  head = 0;
  tail = 0;
  phase = 1;
  /** Completed requests waiting for room (QEMU's cq->req_list). */
  readonly pending: Request[] = [];
  /** SQs bound to this CQ. */
  readonly sqs = new Set<SubmissionQueue>();

  constructor(
    readonly cqid: number,
    readonly size: number,
    readonly vector: number,
    readonly irqEnabled: boolean,
    readonly baseAddr: bigint,
  ) {
    const empty: Cqe = { dw0: 0, dw1: 0, sqhd: 0, sqid: 0, cid: 0, status: 0, phase: 0 };
    this.ring = Array.from({ length: size }, () => empty);
  }

  get full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }

  /** Posts one CQE at the tail (caller checked `full`). */
  post(req: Request): void {
    this.ring[this.tail] = {
      dw0: req.dw0,
      dw1: req.dw1,
      sqhd: req.sq.head,
      sqid: req.sq.sqid,
      cid: req.cid,
      status: req.status,
      phase: this.phase,
    };
    this.tail = (this.tail + 1) % this.size;
    if (this.tail === 0) this.phase ^= 1;
  }
}
