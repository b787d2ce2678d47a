// Where a namespace's reservation state lives (model.ts is the logic). Every controller that
// serves the namespace reads and changes the same state through one store:
//  - MemoryResvStore: this process only (the in-process API, tests);
//  - the file store (nvme/persist/resv-file.ts): a lock-protected state file in the data folder
//    that every nvmemu process serving the namespace maps, so a reservation taken on one path
//    fences the hosts on every other path, and PTPL state survives restarts and power cuts.
//
// A store also carries the notifications (§8.19.2) an update causes to every process: each
// process delivers them to its own controllers of the host named (Reservations.notify).

import type { Notice, Outcome, ResvData } from './model.js';
import { EMPTY } from './model.js';

export interface ResvStore {
  /** The state now. Cheap: every I/O command's check calls it. */
  read(): ResvData;
  /**
   * Runs `op` on the current state, alone among every user of the store (all processes), and
   * stores `next` (durably) before anyone sees it. The notices are delivered, here and in the
   * other processes, through `onNotice`.
   */
  update(op: (d: ResvData) => Outcome): Outcome;
  /** Receives every notice of every update (set by the owner; see Reservations). */
  onNotice: ((n: Notice) => void) | undefined;
  /** Releases the store's host resources; idempotent. */
  close(): void;
}

export class MemoryResvStore implements ResvStore {
  #data: ResvData = EMPTY;
  onNotice: ((n: Notice) => void) | undefined;

  read(): ResvData {
    return this.#data;
  }

  update(op: (d: ResvData) => Outcome): Outcome {
    const out = op(this.#data);
    if (out.next !== undefined) this.#data = out.next;
    for (const n of out.notices ?? []) this.onNotice?.(n);
    return out;
  }

  close(): void {}
}
