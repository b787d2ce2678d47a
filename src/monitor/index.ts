// The monitor of a running machine: QMP servers (`-qmp`), HMP terminals (`-monitor`) and the
// default QMP socket of the data folder. See docs/monitor.md.

import { ALL_COMMANDS } from './commands/all.js';
import { Monitor, type MachineView, type MonitorHooks } from './monitor.js';

export { Monitor, QEMU_VERSION } from './monitor.js';
export type { MachineView, MonitorHooks, QmpEvent } from './monitor.js';
export { Hmp, HMP_COMMAND_NAMES, HMP_INFO_NAMES } from './hmp.js';
export { completeHmp, PROMPT } from './hmp-session.js';
export { parseChardev, type ChardevSpec } from './chardev.js';
export { QmpError } from './errors.js';
export {
  DEFAULT_HMP_LINE_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_QMP_MESSAGE_BYTES,
  MonitorCounters,
  type EndpointLimits,
} from './limits.js';
export { ALL_COMMANDS } from './commands/all.js';
export { startMonitors, type MonitorSpecs, type RunningMonitors } from './serve.js';

/** A monitor over `machine` with every command; for in-process use and tests. */
export function createMonitor(machine: MachineView, hooks: MonitorHooks): Monitor {
  return new Monitor(machine, hooks, ALL_COMMANDS);
}
