// The store trace of the second-generation crash explorer (docs/pmem2.md "Store explorer"):
// every store, flush, fence and marker of a simulated map in program order, plus (cross-media
// runs) NVMe write-cache states, each with the stack of the code that did it.
//
// Stores made through the map's functions (memcpy/memmove/memset, `map.store`) are seen as they
// happen. Stores written straight into `map.bytes` cannot be: the tracer finds them at the next
// flush, fence or marker by comparing the live bytes with its shadow copy, and records them
// there (8-byte pieces, marked `direct`); their intermediate values between two such points are
// not seen. A trace is saved with its counterexample and parsed again by trace-file.ts
// (versioned JSON), which reproduces the counterexample without running the program.

import type { SimTracer } from './power-fail.js';

/** One event of a store trace: a store, a flush, a fence, a marker or an NVMe cache state. */
export type TraceEvent =
  | {
      readonly kind: 'store';
      readonly offset: number;
      readonly bytes: Uint8Array;
      /** memcpy/memmove/memset/store, or `direct` (found by comparison). */
      readonly via: string;
      readonly stack: string;
    }
  | { readonly kind: 'flush'; readonly offset: number; readonly length: number }
  | { readonly kind: 'fence' }
  | { readonly kind: 'mark'; readonly name: string }
  | {
      readonly kind: 'nvme';
      readonly state: NvmeState;
      readonly what: string;
      readonly stack: string;
    };

/** The NVMe side at one instant: what a power cut would do with each cached write. */
export interface NvmeState {
  /** Per namespace (`nsid`): blocks the cut would set back, and the cached writes in order. */
  readonly namespaces: readonly {
    readonly nsid: number;
    readonly lbaSize: number;
    /** Every block written during the run, as the host sees it now. */
    readonly current: ReadonlyMap<number, Uint8Array>;
    /** Durable content of blocks with cached writes (the write cache model's pre-images). */
    readonly durable: ReadonlyMap<number, Uint8Array>;
    /** Cached (volatile) writes in submission order: per block, its content or undefined. */
    readonly cached: readonly {
      readonly seq: number;
      readonly lba: number;
      readonly blocks: ReadonlyMap<number, Uint8Array>;
    }[];
  }[];
}

/** A traced run: the map's size, its bytes at the start and every event in program order. */
export interface StoreTrace {
  readonly size: number;
  /** The map's bytes when tracing began (what is durable at the start). */
  readonly initial: Uint8Array;
  readonly events: readonly TraceEvent[];
}

/** Frames of the explorer and of libpmem2 itself are not where a bug is. */
function callerStack(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  return lines
    .filter((l) => !/\/pmem2\/(store-trace|power-fail|sim-ops|map|mem|cross-media)\.[jt]s/.test(l))
    .slice(0, 4)
    .map((l) => l.trim())
    .join('\n');
}

/** Records a simulated map's stores (install with `sim.tracer = new StoreTracer(...)`). */
export class StoreTracer implements SimTracer {
  readonly events: TraceEvent[] = [];
  readonly initial: Uint8Array;
  readonly #shadow: Uint8Array;
  readonly #live: Uint8Array;
  readonly #stacks: boolean;

  constructor(live: Uint8Array, opts: { stacks?: boolean } = {}) {
    this.#live = live;
    this.initial = live.slice();
    this.#shadow = live.slice();
    this.#stacks = opts.stacks ?? true;
  }

  #stack(): string {
    return this.#stacks ? callerStack() : '';
  }

  /** Direct stores since the last look, as 8-byte pieces. */
  #direct(): void {
    const a = this.#live;
    const b = this.#shadow;
    for (let w = 0; w < a.length; w += 8) {
      const end = Math.min(w + 8, a.length);
      let same = true;
      for (let i = w; i < end; i++) if (a[i] !== b[i]) same = false;
      if (same) continue;
      const bytes = a.slice(w, end);
      b.set(bytes, w);
      this.events.push({ kind: 'store', offset: w, bytes, via: 'direct', stack: this.#stack() });
    }
  }

  store(offset: number, bytes: Uint8Array, via: string): void {
    // Direct stores made before this one happened first.
    const copy = bytes.slice();
    this.#shadow.set(copy, offset);
    this.#direct();
    this.events.push({ kind: 'store', offset, bytes: copy, via, stack: this.#stack() });
  }

  flush(offset: number, length: number): void {
    this.#direct();
    this.events.push({ kind: 'flush', offset, length });
  }

  fence(): void {
    this.#direct();
    this.events.push({ kind: 'fence' });
  }

  mark(name: string): void {
    this.#direct();
    this.events.push({ kind: 'mark', name });
  }

  /** An NVMe command completed (cross-media runs): the write cache state after it. */
  nvme(state: NvmeState, what: string): void {
    this.#direct();
    this.events.push({ kind: 'nvme', state, what, stack: this.#stack() });
  }

  /** Direct stores left at the end of the run. */
  finish(): StoreTrace {
    this.#direct();
    return { size: this.#live.length, initial: this.initial, events: this.events };
  }
}
