// nvmemu libpmem2: the idiomatic classes, the 1:1 `pmem2_*` layer (capi.ts) and the
// power-failure simulation (power-fail.ts, explore.ts). See docs/pmem2.md.

export * from './config.js';
export { Pmem2Error, PMEM2_E, errormsg, perror, errToErrno, type Pmem2Code } from './errors.js';
export { Pmem2Source, type SourceKind } from './source.js';
export { Pmem2Map } from './map.js';
export { Pmem2VmReservation } from './reservation.js';
export { Pmem2BadBlockContext, type Pmem2BadBlock } from './badblocks.js';
export {
  PMEM2_F_MEM_NODRAIN,
  PMEM2_F_MEM_NONTEMPORAL,
  PMEM2_F_MEM_TEMPORAL,
  PMEM2_F_MEM_WC,
  PMEM2_F_MEM_WB,
  PMEM2_F_MEM_NOFLUSH,
  PMEM2_F_MEM_VALID_FLAGS,
} from './mem.js';
export { PowerFailSim, type OpRecord, type UncertainUnit } from './power-fail.js';
export {
  exploreCrashStates,
  formatFailure,
  type CrashCheck,
  type CrashFailure,
  type ExploreOptions,
  type ExploreReport,
} from './explore.js';
export { setSysfsRoot } from './nd.js';
export {
  defaultDataDir,
  resolveNvmemu,
  type NvmemuSourceOptions,
  type NvmemuWindow,
} from './nvmemu.js';
export {
  clearNvmemuBadBlock,
  watchMachinePowerFail,
  type PowerFailWatch,
} from './nvmemu-monitor.js';
export {
  exploreTrace,
  crashImage,
  formatCounterexample,
  PERSISTENCE_MODELS,
  REORDER_ENGINES,
  type PersistenceModel,
  type ReorderEngine,
  type CrashView,
  type StoreCheck,
  type StoreExploreOptions,
  type StoreReport,
  type Counterexample,
  type BlamedStore,
} from './explore-stores.js';
export { exploreStores, traceStores, type RunExploreOptions } from './cross-media.js';
export type { StoreTrace, TraceEvent, NvmeState } from './store-trace.js';
export {
  encodeCounterexampleFile,
  parseCounterexampleFile,
  TraceFileError,
  TRACE_FILE_VERSION,
  type CounterexampleFile,
} from './trace-file.js';
