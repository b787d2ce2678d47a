// The monitor of a running machine: QMP servers (`-qmp`), HMP terminals (`-monitor`) and the
// default QMP socket of the data folder. See docs/monitor.md.

import { Duplex } from 'node:stream';
import type { Machine } from '../machine/machine.js';
import { parseChardev, type ChardevSpec } from './chardev.js';
import { blockCommands } from './commands/block.js';
import { coreCommands } from './commands/core.js';
import { faultCommands, wireFaultEvents } from './commands/faults.js';
import { recordCommands } from './commands/record.js';
import { hotplugCommands } from './commands/hotplug.js';
import { memoryCommands } from './commands/memory.js';
import { nvmeCommands } from './commands/nvme.js';
import { nvmeTcpCommands, wireNvmeEvents } from './commands/nvme-tcp.js';
import { nvmePathCommands } from './commands/nvme-paths.js';
import { nvmemuCommands } from './commands/nvmemu.js';
import { modelCommands } from './commands/models.js';
import { qomCommands } from './commands/qom.js';
import { statsCommands } from './commands/stats.js';
import { Hmp } from './hmp.js';
import { serveHmpSocket, serveHmpStdio } from './hmp-session.js';
import { defaultLimits, type EndpointLimits } from './limits.js';
import { listen, type Listener } from './listen.js';
import { Monitor, type MachineView, type MonitorHooks, type QmpCommand } from './monitor.js';
import { qmpStringify } from './json.js';
import { QmpSession } from './qmp-session.js';
import { pciCommands } from './commands/pci.js';

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

/** A monitor over `machine` with every command; for in-process use and tests. */
export function createMonitor(machine: MachineView, hooks: MonitorHooks): Monitor {
  return new Monitor(machine, hooks, ALL_COMMANDS);
}

export interface MonitorSpecs {
  readonly qmp: readonly string[];
  readonly monitor: readonly string[];
  /** A QMP unix socket to open as well (the data folder's, for `npm start`). */
  readonly defaultSocket?: string;
  /** Limits for endpoints whose spec sets none (`x-max-sessions`, `x-max-message-size`). */
  readonly limits?: Partial<EndpointLimits>;
}

export interface RunningMonitors {
  /** Says SHUTDOWN to clients that have not heard it, closes every listener and session. */
  close(): Promise<void>;
  /** One line per endpoint, for the start-up summary. */
  describe(): string[];
}

/**
 * Parses every spec first (nothing listens if one is wrong), then starts the listeners.
 * Throws ConfigError with the option as location (`-qmp ...: message`).
 */
export async function startMonitors(
  machine: Machine | MachineView,
  specs: MonitorSpecs,
  hooks: MonitorHooks,
): Promise<RunningMonitors> {
  const parsed: { proto: 'QMP' | 'HMP'; spec: ChardevSpec; location: string }[] = [];
  for (const text of specs.qmp) {
    parsed.push({ proto: 'QMP', spec: parseChardev('-qmp', text), location: `-qmp ${text}` });
  }
  for (const text of specs.monitor) {
    parsed.push({
      proto: 'HMP',
      spec: parseChardev('-monitor', text),
      location: `-monitor ${text}`,
    });
  }
  if (specs.defaultSocket !== undefined) {
    parsed.push({
      proto: 'QMP',
      spec: { kind: 'unix', path: specs.defaultSocket, wait: false },
      location: specs.defaultSocket,
    });
  }
  if (parsed.filter((p) => p.spec.kind === 'stdio').length > 1) {
    throw new Error('cannot use stdio by multiple character devices');
  }
  const monitor = createMonitor(machine, hooks);
  const unwireNvme = wireNvmeEvents(monitor);
  const unwireFaults = wireFaultEvents(monitor);
  const unwire = (): void => {
    unwireNvme();
    unwireFaults();
  };
  const listeners: Listener[] = [];
  const lines: string[] = [];
  const closers: (() => void)[] = [];
  try {
    for (const p of parsed) {
      const spec = p.spec;
      switch (spec.kind) {
        case 'none':
          break;
        case 'stdio':
          if (p.proto === 'QMP') {
            new QmpSession(monitor, stdioDuplex(), {
              maxMessageBytes:
                specs.limits?.maxMessageBytes ?? defaultLimits('QMP').maxMessageBytes,
              endpoint: 'stdio',
            });
          } else {
            const s = serveHmpStdio(monitor, process.stdin, process.stdout);
            closers.push(() => s.close());
          }
          lines.push(`${p.proto} monitor: stdio`);
          break;
        case 'unix':
        case 'tcp': {
          const base = defaultLimits(p.proto);
          const maxMessageBytes =
            spec.maxMessageBytes ?? specs.limits?.maxMessageBytes ?? base.maxMessageBytes;
          const maxSessions = spec.maxSessions ?? specs.limits?.maxSessions ?? base.maxSessions;
          const name = spec.kind === 'unix' ? `unix:${spec.path}` : `tcp:${spec.host}:${spec.port}`;
          const proto = p.proto;
          const l = await listen(
            spec,
            p.location,
            (sock) => {
              monitor.counters.sessionsAccepted++;
              monitor.counters.sessionsOpen++;
              if (proto === 'QMP') {
                new QmpSession(monitor, sock, { maxMessageBytes, endpoint: name });
              } else {
                serveHmpSocket(monitor, sock, { maxLine: maxMessageBytes, endpoint: name });
              }
            },
            {
              maxSessions,
              onClosed: () => void monitor.counters.sessionsOpen--,
              onRefused: (sock, open) => {
                monitor.counters.sessionsRefused++;
                monitor.log(
                  `monitor ${name}: refused a ${proto} session: ${open} open (x-max-sessions=${maxSessions})`,
                );
                refuseSession(sock, proto, maxSessions);
              },
            },
          );
          listeners.push(l);
          lines.push(`${p.proto} monitor: ${l.address}`);
          break;
        }
      }
    }
  } catch (e) {
    unwire();
    await Promise.all(listeners.map((l) => l.close()));
    throw e;
  }
  return {
    describe: () => [...lines],
    close: async () => {
      monitor.announceHostShutdown();
      unwire();
      for (const c of closers) c();
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

/**
 * Tells a client over the session cap why it is turned away, then closes: QMP gets a
 * GenericError in place of the greeting (a QMP client reports it), HMP a text line.
 */
function refuseSession(sock: Duplex, proto: 'QMP' | 'HMP', max: number): void {
  const desc = `too many monitor sessions on this endpoint (limit ${max})`;
  sock.end(
    proto === 'QMP'
      ? `${qmpStringify({ error: { class: 'GenericError', desc } })}\n`
      : `Error: ${desc}\r\n`,
  );
  // A client that keeps its side open is not kept: the server side goes away regardless.
  setTimeout(() => sock.destroy(), 1000).unref();
}

/** process.stdin + process.stdout as one duplex stream for a QMP session on stdio. */
function stdioDuplex(): Duplex {
  return Duplex.from({ readable: process.stdin, writable: process.stdout });
}
