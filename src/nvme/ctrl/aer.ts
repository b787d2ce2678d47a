// Asynchronous Event Requests (reference §3.6, Base Spec 2.0 §5.2): up to aerl+1 outstanding
// requests completed LIFO, events queued FIFO (at most aer_max_queued, extra dropped), and a
// per-type mask set when an event is reported and cleared when the host reads the log with
// RAE=0. Events queued while their type was masked are then reported: measured on QEMU 7.2
// through its qtest socket (tests/qtest-differential.test.ts), although reference §3.6 says
// they are discarded.

import { Status } from '../spec/status.js';
import type { Completion } from '../spec/transfer.js';

/** An outstanding AER command: its CID and how to complete it. */
interface Outstanding {
  readonly cid: number;
  readonly complete: (c: Completion) => void;
}

/** Event types (Base Spec 2.0 Figure 146). */
export const AerType = { ERROR: 0, SMART: 1, NOTICE: 2 } as const;

interface AerEvent {
  readonly type: number;
  readonly info: number;
  readonly log: number;
}

export class AerState {
  /** Outstanding AER commands; the most recent one completes first. */
  #outstanding: Outstanding[] = [];
  readonly #queue: AerEvent[] = [];
  #mask = 0;

  constructor(
    readonly aerl: number,
    readonly maxQueued: number,
  ) {}

  get outstandingCount(): number {
    return this.#outstanding.length;
  }
  get queuedCount(): number {
    return this.#queue.length;
  }
  get mask(): number {
    return this.#mask;
  }

  /**
   * An AER command: 0x105 beyond aerl+1 outstanding, else held until an event (the promise
   * settles then, or with Abort; a reset drops it unsettled, as its queue is gone).
   */
  submit(cid: number): Completion | Promise<Completion> {
    if (this.#outstanding.length > this.aerl) return { status: Status.AER_LIMIT_EXCEEDED };
    // An event waiting already completes this request at once (it is the most recent one).
    const ev = this.#take();
    if (ev !== undefined) return ev;
    return new Promise((complete) => this.#outstanding.push({ cid, complete }));
  }

  enqueue(type: number, info: number, log: number): void {
    if (this.#queue.length >= this.maxQueued) return;
    this.#queue.push({ type, info, log });
    this.#process();
  }

  /** The host read the log of `type` with RAE=0: unmask it and report what was queued. */
  clear(type: number): void {
    this.#mask &= ~(1 << type);
    this.#process();
  }

  /** Abort of an outstanding AER by CID: it completes with 0x007. */
  abort(cid: number): boolean {
    const i = this.#outstanding.findIndex((r) => r.cid === cid);
    if (i < 0) return false;
    const [req] = this.#outstanding.splice(i, 1);
    req!.complete({ status: Status.ABORT_REQUESTED });
    return true;
  }

  /** Controller reset: everything dropped (the requests themselves are cancelled). */
  reset(): void {
    this.#outstanding = [];
    this.#queue.length = 0;
    this.#mask = 0;
  }

  #process(): void {
    while (this.#outstanding.length > 0) {
      const c = this.#take();
      if (c === undefined) return;
      this.#outstanding.pop()!.complete(c);
    }
  }

  /** The completion of the oldest unmasked event, which is dequeued and masks its type. */
  #take(): Completion | undefined {
    const i = this.#queue.findIndex((ev) => (this.#mask & (1 << ev.type)) === 0);
    if (i < 0) return undefined;
    const [ev] = this.#queue.splice(i, 1);
    this.#mask |= 1 << ev!.type;
    return { status: 0, dw0: ev!.type | (ev!.info << 8) | (ev!.log << 16) };
  }
}
