// The `nvmemu/pmem2` entry point: libpmem2 for TypeScript (docs/pmem2.md) — sources, maps,
// persist functions, bad blocks, the 1:1 `pmem2_*` layer and the power-failure simulation.

export * from '../pmem2/index.js';
