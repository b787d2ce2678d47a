// The `-object` types of the NVMe/TCP target (docs/security.md), registered by the device
// catalogue (src/devices.ts) with every other type.

import { registerType } from '../../machine/registry.js';
import { HOST_OBJECT } from './host-object.js';

export { FabricsHost, HOST_OBJECT, HOST_OBJECT_SCHEMA } from './host-object.js';
export type { HostDhchap, HostTls, HostObjectPlan } from './host-object.js';

let registered = false;

/** Registers `x-nvmemu-host`. Idempotent. */
export function registerNvmeTcpTypes(): void {
  if (registered) return;
  registered = true;
  registerType(HOST_OBJECT);
}
