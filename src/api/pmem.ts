// Typed handles of the persistent-memory devices for the public API. A handle looks its device
// up on every call, so it stays valid when a power cut or a restart rebuilds the machine.

import { NvdimmDevice, VirtioPmemDevice } from '../pmem/index.js';
import { Pmem2Source } from '../pmem2/source.js';

/** What a pmem handle needs from its machine. */
export interface PmemSource<T> {
  /** The live device (throws when the machine is stopped). */
  device(): T;
  /** The machine's data folder (where its pmem state is published for libpmem2). */
  readonly dataDir: string;
}

/**
 * An `-device nvdimm` of a running machine: its PMEM (without the label area) as bytes, with
 * the CPU's persistence steps (flush a range, drain) made explicit.
 */
export class Nvdimm {
  /** The device's `id=`. */
  readonly id: string;
  readonly #src: PmemSource<NvdimmDevice>;

  /** @internal Use `machine.nvdimm(id)`. */
  constructor(id: string, src: PmemSource<NvdimmDevice>) {
    this.id = id;
    this.#src = src;
  }

  /** PMEM bytes (the backend's size less the label area). */
  get size(): number {
    return this.#src.device().pmemSize;
  }

  /** Label area bytes (`label-size=`; 0 without labels). */
  get labelSize(): number {
    return this.#src.device().labelSize;
  }

  /** Unsafe (dirty) shutdowns counted for this DIMM so far. */
  get dirtyShutdowns(): number {
    return this.#src.device().dirtyShutdown;
  }

  /** Reads `length` bytes at `offset` (throws on a bad block in the range). */
  read(offset: number, length: number): Uint8Array {
    return this.#src.device().read(offset, length);
  }

  /** Stores `data` at `offset`: visible at once, durable only after {@link persist}. */
  write(offset: number, data: Uint8Array): void {
    this.#src.device().write(offset, data);
  }

  /** Flushes the cache lines of a range and drains: the range is durable afterwards. */
  persist(offset: number, length: number): void {
    const d = this.#src.device();
    d.flush(offset, length);
    d.drain();
  }

  /**
   * A libpmem2 source on this DIMM's region (import `Pmem2Map` and friends from
   * `nvmemu/pmem2`). Call `delete()` on it when done.
   */
  pmem2Source(): Pmem2Source {
    return Pmem2Source.fromNvmemu({ dataDir: this.#src.dataDir, device: this.id });
  }
}

/** A `-device virtio-pmem-pci` of a running machine: stores, then a flush request makes them durable. */
export class VirtioPmem {
  /** The device's `id=`. */
  readonly id: string;
  readonly #src: PmemSource<VirtioPmemDevice>;

  /** @internal Use `machine.virtioPmem(id)`. */
  constructor(id: string, src: PmemSource<VirtioPmemDevice>) {
    this.id = id;
    this.#src = src;
  }

  /** Device memory bytes. */
  get size(): number {
    return this.#src.device().size;
  }

  /** Reads `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array {
    return this.#src.device().read(offset, length);
  }

  /** Stores `data` at `offset`: durable only after {@link flush}. */
  write(offset: number, data: Uint8Array): void {
    this.#src.device().write(offset, data);
  }

  /**
   * A virtio-pmem flush request (an fsync of the backing file). Resolves with the device's
   * answer: 0 success (everything stored before is durable), 1 the host flush failed.
   */
  flush(): Promise<number> {
    return this.#src.device().flush();
  }

  /** A libpmem2 source on this device's region. Call `delete()` on it when done. */
  pmem2Source(): Pmem2Source {
    return Pmem2Source.fromNvmemu({ dataDir: this.#src.dataDir, device: this.id });
  }
}
