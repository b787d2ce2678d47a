// One injected fault at run time: its spec, its random stream, and the trigger arithmetic that
// decides, per opportunity (a matching command, a flush request), whether it fires.

import type { FaultSpec } from './catalogue.js';
import { SeededRng } from '../util/rng.js';

export type FaultPhase = 'armed' | 'active' | 'ended';

export class ActiveFault {
  readonly id: number;
  readonly spec: FaultSpec;
  readonly seed: number;
  readonly #rng: SeededRng;
  /** Opportunities seen (matching commands or flushes), fired or not. */
  seen = 0;
  /** Times the fault fired. */
  fired = 0;
  /** When the fault first fired (ms, the injector's clock). */
  firstFiredAt: number | undefined;
  phase: FaultPhase = 'armed';
  /** Undo of a state fault once applied (restores what the fault changed). */
  undo: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(id: number, spec: FaultSpec, seed: number) {
    this.id = id;
    this.spec = spec;
    this.seed = seed;
    this.#rng = new SeededRng(seed);
  }

  /** True when the trigger has no condition: the fault acts as soon as it is injected. */
  get immediate(): boolean {
    const t = this.spec.trigger;
    return t.after === 0 && t.probability === 1;
  }

  /** One opportunity: counts it and says whether the fault fires on it. */
  fires(): boolean {
    if (this.phase === 'ended') return false;
    const t = this.spec.trigger;
    this.seen++;
    if (this.seen <= t.after) return false;
    if (t.times !== undefined && this.fired >= t.times) return false;
    // The stream is consumed only by probabilistic faults, so adding a certain fault to a
    // scenario does not shift the sequence of the others.
    if (t.probability < 1 && this.#rng.next() >= t.probability) return false;
    this.fired++;
    return true;
  }

  /** No further firing is possible (times reached). */
  get exhausted(): boolean {
    const t = this.spec.trigger.times;
    return t !== undefined && this.fired >= t;
  }
}
