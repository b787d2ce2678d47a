// The realized `nvdimm`: a PMEM region over backend bytes [0, P) and a label area over the last
// L bytes (reference qemu-pmem-ndctl.md §3.2), with its platform persistence domain, injected
// bad blocks and a dirty-shutdown counter (§11).

import type { Component } from '../../machine/registry.js';
import type { Granularity, InFlightChooser } from '../../memory/persistence.js';
import type { MemoryBackend } from '../../memory/backend.js';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { toSafeNumber } from '../../util/u64.js';
import type { NvdimmPlan } from './config.js';
import {
  DimmState,
  addRange,
  currentBootId,
  markerAlive,
  removeRange,
  type BadRange,
} from './state.js';

export const SECTOR = 512;

/** sysfs `persistence_domain` of the region ('' = unknown; ndctl prints "unknown"). */
export type PersistenceDomain = 'cpu_cache' | 'memory_controller' | '';

/** One entry of QMP query-memory-devices (HMP `info memory-devices`). */
export type MemoryDeviceInfo =
  | {
      readonly type: 'nvdimm';
      readonly data: {
        readonly id?: string;
        readonly addr: bigint;
        readonly size: bigint;
        readonly slot: number;
        readonly node: number;
        readonly memdev: string;
        readonly hotplugged: boolean;
        readonly hotpluggable: boolean;
      };
    }
  | {
      readonly type: 'virtio-pmem';
      readonly data: {
        readonly id?: string;
        readonly memaddr: bigint;
        readonly size: bigint;
        readonly memdev: string;
      };
    };

/** A read touched poisoned media (an injected bad block): what EIO/SIGBUS is to a program. */
export class PmemMediaError extends EmuError {
  readonly offset: number;
  readonly length: number;
  constructor(offset: number, length: number) {
    super(ErrorCode.EMU_ERR_BACKEND_IO, `Input/output error: bad block in [${offset}, +${length})`);
    this.offset = offset;
    this.length = length;
  }
}

/** The durability granularity of a pmem region backed by `backend` (persistence.ts). */
export function regionGranularity(
  backend: MemoryBackend,
  domain: 'cpu' | 'mem-ctrl' | undefined,
): Granularity {
  if (!backend.plan.share || backend.plan.file === undefined) return 'none';
  if (!backend.mapSync) return 'page';
  return domain === 'cpu' ? 'byte' : 'cache-line';
}

export class NvdimmDevice implements Component {
  readonly typeName = 'nvdimm';
  readonly id: string | undefined;
  readonly plan: NvdimmPlan;
  readonly backend: MemoryBackend;
  /** PMEM size P and label size L, in bytes. */
  readonly pmemSize: number;
  readonly labelSize: number;
  /** Set by the machine when the device came from `device_add`. */
  hotplugged: boolean;
  readonly #state: DimmState;
  /** Called after bad blocks or the dirty-shutdown count change (state folder refresh). */
  onChange: (() => void) | undefined;
  #closed = false;

  private constructor(plan: NvdimmPlan, backend: MemoryBackend, state: DimmState) {
    this.plan = plan;
    this.id = plan.id;
    this.backend = backend;
    this.pmemSize = toSafeNumber(plan.pmemSize, 'pmem size');
    this.labelSize = toSafeNumber(plan.labelSize, 'label-size');
    this.hotplugged = plan.hotplugged;
    this.#state = state;
  }

  /**
   * Realizes the device on its (already mapped) backend. Detects an unclean stop of the
   * previous run (its "mapped" marker is still there and its process is gone) and counts it.
   */
  static realize(
    plan: NvdimmPlan,
    backend: MemoryBackend,
    dataDir: string,
    onRollback?: (undo: () => void) => void,
  ): NvdimmDevice {
    const file = backend.plan.file;
    const identity =
      file !== undefined && file.target.kind !== 'temp-in-dir' ? file.absPath : undefined;
    const state = DimmState.load(dataDir, identity, backend.plan.offset);
    if (state.mapped !== null && !markerAlive(state.mapped)) {
      state.dirtyShutdown++;
      state.mapped = null;
    }
    if (!backend.plan.rom) state.mapped = { pid: process.pid, bootId: currentBootId() };
    state.save();
    onRollback?.(() => state.discard());
    backend.persistence.setGranularity(regionGranularity(backend, plan.persistence));
    return new NvdimmDevice(plan, backend, state);
  }

  get addr(): bigint {
    return this.plan.placement.addr;
  }

  get slot(): number {
    return this.plan.placement.slot ?? 0;
  }

  get persistenceDomain(): PersistenceDomain {
    switch (this.plan.persistence) {
      case 'cpu':
        return 'cpu_cache';
      case 'mem-ctrl':
        return 'memory_controller';
      case undefined:
        return '';
    }
  }

  get granularity(): Granularity {
    return this.backend.persistence.granularity;
  }

  /** ndctl's DIMM "id": vendor 0x8086 and serial 0x123456+slot as little-endian bytes (§3.4). */
  get unitId(): string {
    const le = (v: number, n: number): string =>
      Array.from({ length: n }, (_, i) =>
        ((v >>> (8 * i)) & 0xff).toString(16).padStart(2, '0'),
      ).join('');
    return `${le(0x8086, 2)}-${le(0x123456 + this.slot, 4)}`;
  }

  get dirtyShutdown(): number {
    return this.#state.dirtyShutdown;
  }

  info(): MemoryDeviceInfo {
    return {
      type: 'nvdimm',
      data: {
        ...(this.id === undefined ? {} : { id: this.id }),
        addr: this.addr,
        size: this.plan.pmemSize,
        slot: this.slot,
        node: this.plan.node,
        memdev: `/objects/${this.plan.memdev}`,
        hotplugged: this.hotplugged,
        hotpluggable: true,
      },
    };
  }

  // --- PMEM region: offsets are DPAs in [0, P) = backend offsets -------------------------

  read(offset: number, length: number): Uint8Array {
    this.#range(offset, length, this.pmemSize);
    const first = Math.floor(offset / SECTOR);
    const last = Math.floor((offset + length - 1) / SECTOR);
    for (const r of this.#state.badblocks) {
      if (length > 0 && r.sector <= last && r.sector + r.count > first)
        throw new PmemMediaError(offset, length);
    }
    return this.backend.read(offset, length);
  }

  write(offset: number, data: Uint8Array): void {
    this.#range(offset, data.length, this.pmemSize);
    this.backend.write(offset, data);
  }

  /** Cache-line flush of a range (clwb); durable after drain() on 'cache-line' regions. */
  flush(offset: number, length: number): void {
    this.#range(offset, length, this.pmemSize);
    this.backend.persistence.flush(offset, length);
  }

  drain(): void {
    this.backend.persistence.drain();
  }

  /** Makes the range durable the way this region needs (pmem2_get_persist_fn's choice). */
  persist(offset: number, length: number): void {
    this.#range(offset, length, this.pmemSize);
    switch (this.granularity) {
      case 'byte':
        return;
      case 'cache-line':
        this.flush(offset, length);
        this.drain();
        return;
      case 'page':
        this.backend.msync(offset, length);
        return;
      case 'none':
        return; // nothing makes a private or anonymous mapping durable
    }
  }

  // --- Label area: offsets in [0, L), backend bytes [B − L, B) ----------------------------

  readLabel(offset: number, length: number): Uint8Array {
    this.#range(offset, length, this.labelSize);
    return this.backend.read(this.backend.size - this.labelSize + offset, length);
  }

  /** Label writes go into the mapped backend, under the same persistence rules as data. */
  writeLabel(offset: number, data: Uint8Array): void {
    this.#range(offset, data.length, this.labelSize);
    const at = this.backend.size - this.labelSize + offset;
    this.backend.write(at, data);
    if (this.granularity === 'page') this.backend.msync(at, data.length);
    else if (this.granularity === 'cache-line') {
      this.backend.persistence.flush(at, data.length);
      this.backend.persistence.drain();
    }
  }

  // --- Faults ------------------------------------------------------------------------------

  /** Bad blocks in 512-byte sectors relative to the region start (sysfs region badblocks). */
  badBlocks(): readonly BadRange[] {
    return this.#state.badblocks;
  }

  /** Poisons sectors (as `ndctl inject-error --block=S --count=N`); persisted. */
  injectBadBlocks(sector: number, count: number): void {
    this.#sectors(sector, count);
    this.#state.badblocks = addRange(this.#state.badblocks, sector, count);
    this.#changed();
  }

  /** Clears poison (Clear Uncorrectable Error / `ndctl clear-errors`); persisted. */
  clearBadBlocks(sector: number, count: number): void {
    this.#sectors(sector, count);
    this.#state.badblocks = removeRange(this.#state.badblocks, sector, count);
    this.#changed();
  }

  /**
   * Simulated power failure, device side: a DIMM that was mapped writable counts an unsafe
   * shutdown. The backend's powerFail() then discards what did not persist.
   */
  powerFail(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#state.mapped !== null) {
      this.#state.dirtyShutdown++;
      this.#state.mapped = null;
      this.#state.save();
      this.onChange?.();
    }
  }

  /** Also runs the backend's model with `keep` (convenience for in-process tests). */
  async powerFailWithBackend(keep?: InFlightChooser): Promise<void> {
    this.powerFail();
    await this.backend.powerFail(keep);
  }

  /** Clean shutdown: the "mapped" marker is removed, so the next start counts nothing. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#state.mapped = null;
      this.#state.save();
    }
    return Promise.resolve();
  }

  describe(): string {
    return `nvdimm ${this.id ?? '""'}: slot ${this.slot}, addr 0x${this.addr.toString(16)}, ${this.pmemSize} bytes PMEM, label area ${this.labelSize} bytes, persistence ${this.granularity}`;
  }

  #changed(): void {
    this.#state.save();
    this.onChange?.();
  }

  #range(offset: number, length: number, limit: number): void {
    if (this.#closed)
      throw new EmuError(ErrorCode.EMU_ERR_STATE, `nvdimm ${this.id ?? ''} is stopped`);
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > limit
    ) {
      throw new RangeError(`range [${offset}, +${length}) outside [0, ${limit})`);
    }
  }

  #sectors(sector: number, count: number): void {
    const max = Math.floor(this.pmemSize / SECTOR);
    if (
      !Number.isSafeInteger(sector) ||
      !Number.isSafeInteger(count) ||
      sector < 0 ||
      count <= 0 ||
      sector + count > max
    ) {
      throw new RangeError(`sectors [${sector}, +${count}) outside the region's ${max} sectors`);
    }
  }
}
