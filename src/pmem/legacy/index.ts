// Emulated legacy pmem (e820 type 12) from `-append "memmap=nn!ss"` (docs/memmap.md).

export { machineE820, ramSplit, SEABIOS_HIGH_TABLES } from './machine-e820.js';
export {
  kernelParams,
  memmapParams,
  planLegacyPmem,
  userLines,
  type LegacyPlan,
  type LegacyRange,
} from './plan.js';
export {
  DEFAULT_SHM_DIR,
  LegacyPmem,
  LegacyPmemError,
  LegacyPmemRegion,
  filePrefix,
  humanBytes,
} from './region.js';
