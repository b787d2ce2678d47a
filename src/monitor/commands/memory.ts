// query-memory-devices and query-memory-size-summary (reference qemu-pmem-ndctl.md §5; QEMU
// qapi/machine.json MemoryDeviceInfo, MemoryInfo).

import { memoryDevices } from '../inspect.js';
import type { MachineView, QmpCommand } from '../monitor.js';

/** base-memory is the initial RAM; plugged-memory the sum of the memory devices' sizes. */
export function memorySizeSummary(machine: MachineView): {
  'base-memory': bigint;
  'plugged-memory': bigint;
} {
  let plugged = 0n;
  for (const d of memoryDevices(machine)) plugged += d.data.size;
  return { 'base-memory': machine.settings.ramSize, 'plugged-memory': plugged };
}

export const memoryCommands: readonly QmpCommand[] = [
  { name: 'query-memory-devices', args: [], run: ({ machine }) => memoryDevices(machine) },
  { name: 'query-memory-size-summary', args: [], run: ({ machine }) => memorySizeSummary(machine) },
];
