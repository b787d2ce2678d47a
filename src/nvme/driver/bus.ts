// What a userspace NVMe driver needs of a machine: PCI configuration accesses, CPU loads and
// stores (MMIO and RAM) by physical address, and bulk RAM access for queues and buffers. Two
// implementations: InProcessBus over nvmemu's PciHost, and QtestBus (qtest.ts) over a QEMU
// process's qtest socket, so the same driver code runs against both (differential tests).

import type { PciHost } from '../pci/host.js';

export type Size = 1 | 2 | 4 | 8;

export interface PlatformBus {
  /** Guest RAM size; the driver allocates queues and buffers below it. */
  readonly ramSize: bigint;
  cfgRead(slot: number, fn: number, off: number, size: 1 | 2 | 4): Promise<number>;
  cfgWrite(slot: number, fn: number, off: number, size: 1 | 2 | 4, value: number): Promise<void>;
  read(addr: bigint, size: Size): Promise<bigint>;
  write(addr: bigint, size: Size, value: bigint): Promise<void>;
  memRead(addr: bigint, len: number): Promise<Uint8Array>;
  memWrite(addr: bigint, data: Uint8Array): Promise<void>;
  /** Lets the device run (event loop turn in-process; nothing extra for QEMU). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** nvmemu's own machine: synchronous accesses, completions arrive on later event-loop turns. */
export class InProcessBus implements PlatformBus {
  constructor(readonly host: PciHost) {}

  get ramSize(): bigint {
    return this.host.memory.size;
  }
  cfgRead(slot: number, fn: number, off: number, size: 1 | 2 | 4): Promise<number> {
    return Promise.resolve(this.host.cfgRead(slot, fn, off, size));
  }
  cfgWrite(slot: number, fn: number, off: number, size: 1 | 2 | 4, value: number): Promise<void> {
    this.host.cfgWrite(slot, fn, off, size, value);
    return Promise.resolve();
  }
  read(addr: bigint, size: Size): Promise<bigint> {
    return Promise.resolve(this.host.read(addr, size));
  }
  write(addr: bigint, size: Size, value: bigint): Promise<void> {
    this.host.write(addr, size, value);
    return Promise.resolve();
  }
  memRead(addr: bigint, len: number): Promise<Uint8Array> {
    return Promise.resolve(this.host.memory.read(addr, len) ?? new Uint8Array(len));
  }
  memWrite(addr: bigint, data: Uint8Array): Promise<void> {
    this.host.memory.write(addr, data);
    return Promise.resolve();
  }
  idle(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
