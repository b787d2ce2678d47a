// The device catalogue: registers every object and device type of the machine registry once.
// It sits above the device modules (machine/ knows no device) and the NVMe/TCP target (whose
// `x-nvmemu-host` objects subsystems name); the CLI and the public entry points call it before
// building a machine (module imports do no work on their own).

import { registerType } from './machine/registry.js';
import { SECRET_TYPE } from './machine/secret.js';
import { registerNvmeTypes } from './nvme/index.js';
import { registerNvmeTcpTypes } from './nvme-tcp/config/index.js';
import { registerPmemTypes } from './pmem/index.js';

let done = false;

export function registerAllTypes(): void {
  if (done) return;
  done = true;
  registerPmemTypes();
  registerNvmeTypes();
  // QEMU's `secret` (machine/secret.ts) and the NVMe/TCP hosts that use it.
  registerType(SECRET_TYPE);
  registerNvmeTcpTypes();
}
