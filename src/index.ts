// The `nvmemu` entry point: an emulated machine built in-process from QEMU-style arguments,
// with typed device handles, fault injection and power cuts (docs/library.md). The other entry
// points are `nvmemu/nvme-tcp`, `nvmemu/pmem2`, `nvmemu/faults`, `nvmemu/scenario` and
// `nvmemu/monitor` (src/entries/).

export { Machine, type StartOptions, type DeviceEntry } from './api/machine.js';
export {
  NvmeController,
  NvmeNamespace,
  type NamespaceInfo,
  type WriteOptions,
  type ZoneInfo,
  type ZoneStateName,
} from './api/nvme.js';
export { Nvdimm, VirtioPmem } from './api/pmem.js';
export {
  NvmemuError,
  NvmeCommandError,
  NvmemuErrorCode,
  isNvmemuError,
  type NvmemuErrorCodeName,
} from './api/errors.js';
export {
  ConfigError,
  AdminOpc,
  IoOpc,
  Status,
  statusName,
  type CmdInit,
  type Cqe,
  type PowerCutOptions,
  type PowerCutReport,
  type FaultInjector,
} from './api/spec.js';
