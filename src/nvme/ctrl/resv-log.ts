// The reservation notifications of one controller (NVMe Base Spec 2.0 §8.19.2, §5.16.1.18
// Reservation Notification log page 80h, §5.27.1.26 Reservation Notification Mask 82h): each
// unmasked notification for a namespace attached to the controller becomes a log page, queued
// until the host reads it, announced by an I/O Command Specific asynchronous event (type 6,
// information 0: Reservation Log Page Available).

import { defineLayout } from '../../util/layout.js';
import type { AerState } from './aer.js';

export const LID_RESV_NOTIFICATION = 0x80;
/** AER type 110b: I/O Command specific status; information 00h: reservation log available. */
export const AER_TYPE_IO_SPECIFIC = 6;
/** The mask bits of feature 82h: 1 registration preempted, 2 released, 3 preempted. */
export const RESV_MASK_BITS = 0x0e;
/** Log pages kept unread; older ones are lost (the Log Page Count shows the gap). */
const MAX_QUEUED = 64;

/** Reservation Notification log page (64 bytes). */
export const ResvNotificationLayout = defineLayout('reservation-notification', 64, [
  { name: 'count', offset: 0, type: 'u64le' },
  { name: 'type', offset: 8, type: 'u8' },
  { name: 'available', offset: 9, type: 'u8' },
  { name: 'nsid', offset: 12, type: 'u32le' },
]);

interface Page {
  readonly count: bigint;
  readonly type: number;
  readonly nsid: number;
}

export class ResvNotificationLog {
  readonly #queue: Page[] = [];
  readonly #masks = new Map<number, number>();
  #count = 0n;

  constructor(readonly aer: AerState) {}

  /** Feature 82h value of `nsid`. */
  mask(nsid: number): number {
    return this.#masks.get(nsid) ?? 0;
  }

  setMask(nsid: number, mask: number): void {
    if (mask === 0) this.#masks.delete(nsid);
    else this.#masks.set(nsid, mask);
  }

  /** A notification of `type` (1..3) for namespace `nsid`. */
  add(nsid: number, type: number): void {
    if ((this.mask(nsid) & (1 << type)) !== 0) return;
    // The count wraps to 1, never 0 (0 is the empty page's).
    this.#count = this.#count === 0xffff_ffff_ffff_ffffn ? 1n : this.#count + 1n;
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push({ count: this.#count, type, nsid });
    this.aer.enqueue(AER_TYPE_IO_SPECIFIC, 0, LID_RESV_NOTIFICATION);
  }

  /** Pages waiting. */
  get pending(): number {
    return this.#queue.length;
  }

  /** The oldest unread page, or the empty page (all zeros) when none is queued. */
  page(): Uint8Array {
    const p = this.#queue[0];
    if (p === undefined) return new Uint8Array(64);
    return ResvNotificationLayout.encode({
      count: p.count,
      type: p.type,
      // Pages left after this one.
      available: Math.min(255, this.#queue.length - 1),
      nsid: p.nsid,
    });
  }

  /** The host read the oldest page. */
  consume(): void {
    this.#queue.shift();
  }
}
