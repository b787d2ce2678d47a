// The realized `virtio-pmem-pci` (reference qemu-pmem-ndctl.md §4): the 16-byte config space
// (start, size), and flush requests answered after an fsync of the backing file in the thread
// pool. The region is asynchronous (ND_REGION_ASYNC): consumers may not use MAP_SYNC and must
// flush; durability is 'page' granularity on a shared file: what a completed flush covered.

import type { Component } from '../../machine/registry.js';
import type { MemoryBackend } from '../../memory/backend.js';
import { readU32le, writeU32le, writeU64le } from '../../util/bytes.js';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { toSafeNumber } from '../../util/u64.js';
import type { MemoryDeviceInfo } from '../nvdimm/device.js';
import type { VirtioPmemPlan } from './config.js';

/** Virtio ids (§4.1). */
export const VIRTIO_ID_PMEM = 27;
export const VIRTIO_PMEM_PCI_VENDOR = 0x1af4;
export const VIRTIO_PMEM_PCI_DEVICE = 0x1040 + VIRTIO_ID_PMEM;
export const VIRTIO_PMEM_REQ_TYPE_FLUSH = 0;
/** Response `ret`: 0 = success, 1 = the host flush failed (QEMU's values). */
export type FlushStatus = 0 | 1;

/** A malformed request: QEMU puts the device into the error state with this message. */
export interface VirtioPmemFault {
  readonly fault: 'virtio-pmem missing request data' | 'virtio-pmem request not proper';
}

export class VirtioPmemDevice implements Component {
  readonly typeName = 'virtio-pmem-pci';
  readonly id: string | undefined;
  readonly plan: VirtioPmemPlan;
  readonly backend: MemoryBackend;
  readonly size: number;
  /** ND_REGION_ASYNC: MAP_SYNC is refused to consumers of this region. */
  readonly synchronous = false;
  hotplugged: boolean;
  #inflight = 0;
  #closed = false;

  constructor(plan: VirtioPmemPlan, backend: MemoryBackend) {
    this.plan = plan;
    this.id = plan.id;
    this.backend = backend;
    this.size = toSafeNumber(plan.backend.size, 'size');
    this.hotplugged = plan.hotplugged;
    backend.persistence.setGranularity(
      backend.plan.share && backend.plan.file !== undefined ? 'page' : 'none',
    );
  }

  get memaddr(): bigint {
    return this.plan.placement.addr;
  }

  /** struct virtio_pmem_config: le64 start, le64 size. */
  config(): Uint8Array {
    const b = new Uint8Array(16);
    writeU64le(b, 0, this.memaddr);
    writeU64le(b, 8, this.plan.backend.size);
    return b;
  }

  info(): MemoryDeviceInfo {
    return {
      type: 'virtio-pmem',
      data: {
        ...(this.id === undefined ? {} : { id: this.id }),
        memaddr: this.memaddr,
        size: this.plan.backend.size,
        memdev: `/objects/${this.plan.memdev}`,
      },
    };
  }

  read(offset: number, length: number): Uint8Array {
    return this.backend.read(offset, length);
  }

  /** A guest store (tracked by the persistence model). */
  write(offset: number, data: Uint8Array): void {
    this.backend.write(offset, data);
  }

  /**
   * VIRTIO_PMEM_REQ_TYPE_FLUSH: fsync of the backing file off the event loop. Stores made
   * before the request are durable when it answers 0; a failed fsync answers 1 and makes
   * nothing durable. Requests are independent and may complete out of order.
   */
  async flush(): Promise<FlushStatus> {
    if (this.#closed)
      throw new EmuError(ErrorCode.EMU_ERR_STATE, `virtio-pmem ${this.id ?? ''} is stopped`);
    const token = this.backend.persistence.beginFlush();
    this.#inflight++;
    try {
      await this.backend.fsync();
      this.backend.persistence.completeFlush(token);
      return 0;
    } catch {
      return 1;
    } finally {
      this.#inflight--;
    }
  }

  /**
   * One request as the virtqueue carries it: `out` = the driver's buffer (le32 type), `inLen`
   * = room for the response. Returns the 4-byte response (le32 ret) or QEMU's fault.
   * QEMU does not look at `type`: every well-formed request is a flush.
   */
  async request(out: Uint8Array | undefined, inLen: number): Promise<Uint8Array | VirtioPmemFault> {
    if (out === undefined || inLen < 1) return { fault: 'virtio-pmem missing request data' };
    if (out.length !== 4 || inLen !== 4) return { fault: 'virtio-pmem request not proper' };
    readU32le(out, 0);
    const resp = new Uint8Array(4);
    writeU32le(resp, 0, await this.flush());
    return resp;
  }

  /** Flush requests not yet answered. */
  get inflight(): number {
    return this.#inflight;
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  describe(): string {
    return `virtio-pmem-pci ${this.id ?? '""'}: memaddr 0x${this.memaddr.toString(16)}, ${this.size} bytes, flush = fsync`;
  }
}
