// The device catalogue: registers every object and device type of the machine registry once.
// It sits above the device modules (machine/ knows no device); the CLI and the public entry
// points call it before building a machine (module imports do no work on their own).

import { registerNvmeTypes } from './nvme/index.js';
import { registerPmemTypes } from './pmem/index.js';

let done = false;

export function registerAllTypes(): void {
  if (done) return;
  done = true;
  registerPmemTypes();
  registerNvmeTypes();
}
