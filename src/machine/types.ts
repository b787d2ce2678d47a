// Registers every object and device type once. Called by the CLI and by in-process users
// before building a machine (module imports do no work on their own).

import { registerNvmeTypes } from '../nvme/index.js';
import { registerPmemTypes } from '../pmem/index.js';

let done = false;

export function registerAllTypes(): void {
  if (done) return;
  done = true;
  registerPmemTypes();
  registerNvmeTypes();
}
