// Mem functions and persist functions of a map in power-failure simulation mode. Stores land in
// the live view exactly as in the real path; what differs is that flush/drain/persist update the
// simulator's media image instead of (only) issuing cache flushes, so a crash can be simulated.
// NT stores bypass the cache: they are modelled as captured ("flushed") at the store and become
// certain at the next drain, which is what SFENCE guarantees for write-combining buffers.

import type { Granularity } from './config.js';
import { memPlan } from './mem.js';
import type { PowerFailSim } from './power-fail.js';

export class SimMemOps {
  readonly #g: Granularity;
  readonly #base: number;
  readonly #bytes: Uint8Array;
  readonly #sim: PowerFailSim;

  constructor(g: Granularity, base: number, bytes: Uint8Array, sim: PowerFailSim) {
    this.#g = g;
    this.#base = base;
    this.#bytes = bytes;
    this.#sim = sim;
  }

  /** persist_fn / flush_fn / drain_fn on addresses, as MemOps offers them. */
  persist(addr: number, len: number): void {
    this.#sim.persist(addr - this.#base, len);
  }
  flush(addr: number, len: number): void {
    this.#sim.flush(addr - this.#base, len);
  }
  drain(): void {
    this.#sim.drain();
  }

  #after(seq: number, off: number, len: number, flags: number): void {
    const plan = memPlan(this.#g, len, flags);
    if (plan.flush || plan.nt) this.#sim.flush(off, len, seq);
    if (plan.drain && this.#g !== 2) this.#sim.drain(seq);
  }

  copy(off: number, src: Uint8Array, flags: number): void {
    if (src.length === 0) return;
    this.#bytes.set(src, off);
    this.#after(this.#sim.record('memcpy', off, src.length, flags), off, src.length, flags);
  }

  move(dst: number, src: number, len: number, flags: number): void {
    if (len === 0 || dst === src) return;
    this.#bytes.copyWithin(dst, src, src + len);
    const seq = this.#sim.record('memmove', dst, len, flags, `from offset ${src}`);
    this.#after(seq, dst, len, flags);
  }

  set(off: number, c: number, len: number, flags: number): void {
    if (len === 0) return;
    this.#bytes.fill(c & 0xff, off, off + len);
    const seq = this.#sim.record('memset', off, len, flags, `byte 0x${(c & 0xff).toString(16)}`);
    this.#after(seq, off, len, flags);
  }
}
