// A small seeded pseudo-random generator for fault triggers and power cuts: the same seed gives
// the same sequence on every platform and Node version (Math.random cannot be seeded).
// SplitMix32-style mixing (a 32-bit variant of Steele, Lea and Flood's SplitMix) — statistical
// quality is ample for "fail about p of the commands", and it is a few integer operations.

export class SeededRng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next 32-bit unsigned value. */
  nextU32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** Derives the seed of one stream (a fault, a namespace's cut) from a base seed and a label. */
export function deriveSeed(base: number, label: string): number {
  let h = (base ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return new SeededRng(h).nextU32();
}
