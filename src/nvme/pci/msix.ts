// MSI-X table and Pending Bit Array in BAR0 (PCI 3.0 §6.8.2). Each entry is 16 bytes: message
// address (64-bit), message data, vector control (bit 0 mask; entries start masked, as QEMU's
// msix_init leaves them). A notification on a masked vector (entry mask or function mask) sets
// its pending bit; unmasking delivers it. Without MSI-X enabled nothing is sent (QEMU
// msix_notify), and the controller falls back to INTx (function.ts).

import { readU32le, readU64le, writeU32le } from '../../util/bytes.js';

export interface MsiMessage {
  readonly vector: number;
  readonly address: bigint;
  readonly data: number;
}

export class MsixState {
  readonly table: Uint8Array;
  readonly pba: Uint8Array;
  enabled = false;
  functionMask = false;
  /** msix_vector_use counts: a vector never used sends nothing (QEMU msix_notify). */
  readonly #used: number[];

  constructor(
    /** Table entries (the BAR's capacity, not the advertised table size). */
    readonly vectors: number,
    readonly send: (m: MsiMessage) => void,
  ) {
    this.table = new Uint8Array(16 * vectors);
    this.pba = new Uint8Array(Math.ceil(vectors / 64) * 8);
    this.#used = new Array<number>(vectors).fill(0);
    this.reset();
  }

  /** Entries masked, messages and pending bits cleared. */
  reset(): void {
    this.#used.fill(0);
    this.table.fill(0);
    this.pba.fill(0);
    for (let v = 0; v < this.vectors; v++) writeU32le(this.table, 16 * v + 12, 1);
  }

  masked(vector: number): boolean {
    return this.functionMask || (readU32le(this.table, 16 * vector + 12) & 1) === 1;
  }

  pending(vector: number): boolean {
    return ((this.pba[vector >>> 3]! >>> (vector & 7)) & 1) === 1;
  }

  #setPending(vector: number, on: boolean): void {
    const bit = 1 << (vector & 7);
    const i = vector >>> 3;
    this.pba[i] = on ? this.pba[i]! | bit : this.pba[i]! & ~bit;
  }

  use(vector: number): void {
    if (vector < this.vectors) this.#used[vector]!++;
  }

  /** msix_vector_unuse: the last user clears the pending bit. */
  unuse(vector: number): void {
    if (vector >= this.vectors || this.#used[vector] === 0) return;
    if (--this.#used[vector]! === 0) this.#setPending(vector, false);
  }

  /** msix_notify. */
  notify(vector: number): void {
    if (!this.enabled || vector >= this.vectors || this.#used[vector] === 0) return;
    if (this.masked(vector)) {
      this.#setPending(vector, true);
      return;
    }
    this.#deliver(vector);
  }

  #deliver(vector: number): void {
    this.send({
      vector,
      address: readU64le(this.table, 16 * vector),
      data: readU32le(this.table, 16 * vector + 8),
    });
  }

  /** Delivers pending vectors that are no longer masked (after an unmask or enable). */
  #flush(): void {
    if (!this.enabled) return;
    for (let v = 0; v < this.vectors; v++) {
      if (this.pending(v) && !this.masked(v)) {
        this.#setPending(v, false);
        this.#deliver(v);
      }
    }
  }

  /** Message Control changed (config space). */
  setControl(enabled: boolean, functionMask: boolean): void {
    this.enabled = enabled;
    this.functionMask = functionMask;
    this.#flush();
  }

  /** A dword read of the table (`off` relative to the table); beyond it reads 0. */
  readTable(off: number): number {
    if (off < 0 || off + 4 > this.table.length) return 0;
    return readU32le(this.table, off & ~3);
  }

  writeTable(off: number, value: number): void {
    if (off < 0 || off + 4 > this.table.length) return;
    writeU32le(this.table, off & ~3, value >>> 0);
    if ((off & 15) === 12) this.#flush();
  }

  readPba(off: number): number {
    if (off < 0 || off + 4 > this.pba.length) return 0;
    return readU32le(this.pba, off & ~3);
  }
}
