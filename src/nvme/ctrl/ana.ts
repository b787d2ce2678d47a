// Asymmetric Namespace Access as one controller reports it (NVMe Base Spec 2.0 §8.20): the
// state of each ANA group through this controller (its "port": every controller of an nvmemu
// process is a path of its own), the change counts, the ANA log page (LID 0Ch) and the ANA
// Change notice. A group nobody has changed is optimized.
//
// A state set with a transition time first reads as the change state (0Fh, ANA Transition
// 0x303 for commands) and becomes the target state when the time is up, each step with its
// notice, as a controller moving a group between ports does within ANATT.

import { writeU32le } from '../../util/bytes.js';
import {
  AER_INFO_ANA_CHANGE,
  AnaGroupDescLayout,
  AnaLogHeaderLayout,
  ANAGRPMAX,
  AnaState,
  LID_ANA,
  OAES_ANA_CHANGE,
  type AnaStateValue,
} from '../spec/ana.js';
import { Status } from '../spec/status.js';
import { AerType, type AerState } from './aer.js';
import { MAX_NSID } from './nsid.js';

/** The ANA log's size: the header, NANAGRPID descriptors and MNAN (= NN) NSIDs (§5.16.1.13). */
export const ANA_LOG_MAX = 16 + ANAGRPMAX * 32 + MAX_NSID * 4;

/** One group in the log: its ID and the NSIDs of its namespaces attached to the controller. */
export interface AnaGroupMembers {
  readonly grpid: number;
  readonly nsids: readonly number[];
}

/** The status an I/O command gets on a path in `state`, 0 when the path is accessible. */
export function anaStatus(state: AnaStateValue): number {
  switch (state) {
    case AnaState.OPTIMIZED:
    case AnaState.NON_OPTIMIZED:
      return 0;
    case AnaState.INACCESSIBLE:
      return Status.ANA_INACCESSIBLE;
    case AnaState.PERSISTENT_LOSS:
      return Status.ANA_PERSISTENT_LOSS;
    case AnaState.CHANGE:
      return Status.ANA_TRANSITION;
  }
}

export class ControllerAna {
  readonly #states = new Map<number, AnaStateValue>();
  readonly #groupChanges = new Map<number, bigint>();
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** Incremented whenever the ANA log changes (header Change Count). */
  changeCount = 0n;

  constructor(
    readonly aer: AerState,
    /** The Asynchronous Event Configuration value (bit 11 enables ANA change notices). */
    readonly asyncEventConfig: () => number,
  ) {}

  /** The state of `grpid` through this controller. */
  state(grpid: number): AnaStateValue {
    return this.#states.get(grpid) ?? AnaState.OPTIMIZED;
  }

  /**
   * Sets the state of `grpid`. With `transitionMs` > 0 the group reports the change state
   * until then. Each change raises the ANA Change notice (when the host enabled it).
   */
  set(grpid: number, state: AnaStateValue, transitionMs = 0): void {
    clearTimeout(this.#timers.get(grpid));
    this.#timers.delete(grpid);
    if (transitionMs > 0 && state !== AnaState.CHANGE) {
      this.#apply(grpid, AnaState.CHANGE);
      const t = setTimeout(() => {
        this.#timers.delete(grpid);
        this.#apply(grpid, state);
      }, transitionMs);
      t.unref();
      this.#timers.set(grpid, t);
      return;
    }
    this.#apply(grpid, state);
  }

  /** Groups whose state differs from optimized (the monitor's view). */
  states(): ReadonlyMap<number, AnaStateValue> {
    return this.#states;
  }

  /** Pending transitions end (the controller leaves its machine). */
  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #apply(grpid: number, state: AnaStateValue): void {
    if (this.state(grpid) === state) return;
    if (state === AnaState.OPTIMIZED) this.#states.delete(grpid);
    else this.#states.set(grpid, state);
    this.changeCount++;
    this.#groupChanges.set(grpid, (this.#groupChanges.get(grpid) ?? 0n) + 1n);
    if ((this.asyncEventConfig() & OAES_ANA_CHANGE) !== 0) {
      this.aer.enqueue(AerType.NOTICE, AER_INFO_ANA_CHANGE, LID_ANA);
    }
  }

  /**
   * The ANA log page (Figures 227-228); `rgo`: Return Groups Only (no NSID lists). Its size is
   * the largest it may be (the header, NANAGRPID descriptors and MNAN NSIDs), zero padded: hosts
   * read that much (libnvme in 4 KiB pieces with offsets), and a shorter log would refuse their
   * later offsets.
   */
  log(groups: readonly AnaGroupMembers[], rgo: boolean): Uint8Array {
    const buf = new Uint8Array(ANA_LOG_MAX);
    AnaLogHeaderLayout.encode({ changeCount: this.changeCount, ngrps: groups.length }, buf, 0);
    let off = 16;
    for (const g of groups) {
      const nsids = rgo ? [] : g.nsids;
      AnaGroupDescLayout.encode(
        {
          grpid: g.grpid,
          nnsids: nsids.length,
          changeCount: this.#groupChanges.get(g.grpid) ?? 0n,
          state: this.state(g.grpid),
        },
        buf,
        off,
      );
      off += 32;
      for (const nsid of nsids) {
        writeU32le(buf, off, nsid);
        off += 4;
      }
    }
    return buf;
  }
}
