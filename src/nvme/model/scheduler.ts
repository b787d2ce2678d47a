// Completions at a model time without blocking the event loop (docs/models.md "Timing"). A
// min-heap of deadlines in nanoseconds of the monotonic clock: a deadline more than a
// millisecond and a half away sleeps on a timer (whose granularity is a millisecond); the last
// stretch polls with setImmediate, which lets every other callback run between polls, so a
// completion lands within a few microseconds of its deadline. Completions due at the same time
// leave in the order they were scheduled.

import { performance } from 'node:perf_hooks';

/** Now on the model clock, nanoseconds (performance.now, monotonic). */
export const nowNs = (): number => performance.now() * 1e6;

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

const TIMER_SLACK_NS = 1.5e6;

export class DeadlineQueue {
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  get pending(): number {
    return this.#heap.length;
  }

  /** A promise of `value` that settles at `atNs` (at once when that has passed). */
  at<T>(atNs: number, value: T): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#push({ at: atNs, seq: this.#seq++, fire: () => resolve(value) });
      this.#arm();
    });
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first === undefined) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const wait = first.at - nowNs();
    if (wait > TIMER_SLACK_NS) {
      if (this.#immediate !== undefined) return; // already polling: it re-arms
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#poll();
        },
        (wait - TIMER_SLACK_NS) / 1e6,
      );
    } else if (this.#immediate === undefined) {
      this.#immediate = setImmediate(() => this.#poll());
    }
  }

  #poll(): void {
    this.#immediate = undefined;
    const now = nowNs();
    for (let e = this.#heap[0]; e !== undefined && e.at <= now; e = this.#heap[0]) {
      this.#pop();
      e.fire();
    }
    this.#arm();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** The process's one queue (every modelled namespace shares the clock). */
export const deadlines = new DeadlineQueue();
