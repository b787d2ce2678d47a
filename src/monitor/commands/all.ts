// Every QMP command of the monitor, in one table (HMP commands map onto these). Loaded by
// `nvmemu run` when its first monitor session arrives (serve.ts), by createMonitor otherwise.

import { Hmp } from '../hmp.js';
import type { QmpCommand } from '../monitor.js';
import { blockCommands } from './block.js';
import { coreCommands } from './core.js';
import { faultCommands } from './faults.js';
import { recordCommands } from './record.js';
import { hotplugCommands } from './hotplug.js';
import { memoryCommands } from './memory.js';
import { nvmeCommands } from './nvme.js';
import { nvmeTcpCommands } from './nvme-tcp.js';
import { nvmePathCommands } from './nvme-paths.js';
import { nvmemuCommands } from './nvmemu.js';
import { modelCommands } from './models.js';
import { qomCommands } from './qom.js';
import { statsCommands } from './stats.js';
import { pciCommands } from './pci.js';

/** `human-monitor-command`: HMP through QMP (what `nvmemu monitor` uses). CRLF as QEMU. */
const humanMonitorCommand: QmpCommand = {
  name: 'human-monitor-command',
  args: [
    { name: 'command-line', type: 'string' },
    { name: 'cpu-index', type: 'integer', optional: true },
  ],
  run: async ({ monitor }, args) => {
    const text = await new Hmp(monitor, true).execute(args['command-line'] as string);
    return text.replace(/\r?\n/g, '\r\n');
  },
};

export const ALL_COMMANDS: readonly QmpCommand[] = [
  ...coreCommands,
  humanMonitorCommand,
  ...hotplugCommands,
  ...memoryCommands,
  ...qomCommands,
  ...blockCommands,
  ...nvmemuCommands,
  ...nvmeCommands,
  ...modelCommands,
  ...nvmeTcpCommands,
  ...nvmePathCommands,
  ...statsCommands,
  ...pciCommands,
  ...faultCommands,
  ...recordCommands,
];
