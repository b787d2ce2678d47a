// The userspace NVMe driver library (docs/pci.md): one driver, two machines (nvmemu's PCI
// front end in-process, or QEMU through qtest).

export { InProcessBus, type PlatformBus, type Size } from './bus.js';
export { QtestBus, type QtestOptions } from './qtest.js';
export {
  DmaAllocator,
  NvmeDriver,
  type AttachOptions,
  type DataBuffer,
  type QueuePair,
} from './driver.js';
