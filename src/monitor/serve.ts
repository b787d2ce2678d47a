// The monitor endpoints of `nvmemu run`: QMP servers (`-qmp`), HMP terminals (`-monitor`) and
// the default QMP socket of the data folder (docs/monitor.md).
//
// The endpoints listen before the machine reports that it runs, but the command table, the
// HMP interpreter and the session code load when the first session arrives (or at once for a
// stdio monitor): most machines are never asked anything, and those modules are a fifth of what
// a start would load otherwise (docs/architecture.md "Module loading"). A client sees the
// greeting once they have loaded; what it sent meanwhile waits in its socket.

import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Machine } from '../machine/machine.js';
import { parseChardev, type ChardevSpec } from './chardev.js';
import { wireNvmeEvents } from './nvme-events.js';
import { defaultLimits, type EndpointLimits } from './limits.js';
import { listen, type Listener } from './listen.js';
import { Monitor, type MachineView, type MonitorHooks } from './monitor.js';
import { qmpStringify } from './json.js';

/** The session code and the command table (loaded once, by the first session). */
async function loadSessions(hooks: MonitorHooks) {
  const [all, faults, qmp, hmp] = await Promise.all([
    import('./commands/all.js'),
    import('./commands/faults.js'),
    import('./qmp-session.js'),
    import('./hmp-session.js'),
    hooks.prepare?.(),
  ]);
  return {
    commands: all.ALL_COMMANDS,
    wireFaultEvents: faults.wireFaultEvents,
    QmpSession: qmp.QmpSession,
    serveHmpSocket: hmp.serveHmpSocket,
    serveHmpStdio: hmp.serveHmpStdio,
  };
}

type Sessions = Awaited<ReturnType<typeof loadSessions>>;

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
  const monitor = new Monitor(machine, hooks, []);
  const unwireNvme = wireNvmeEvents(monitor);
  let unwireFaults = (): void => undefined;
  // Fault events reach sessions only, so they are wired with the commands: before the first
  // session there is nobody to tell.
  let sessions: Promise<Sessions> | undefined;
  const load = (): Promise<Sessions> =>
    (sessions ??= loadSessions(hooks).then((k) => {
      monitor.addCommands(k.commands);
      unwireFaults = k.wireFaultEvents(monitor);
      return k;
    }));
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
        case 'stdio': {
          const { QmpSession, serveHmpStdio } = await load();
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
        }
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
              serveWhenLoaded(monitor, load(), sock, (k) => {
                if (proto === 'QMP') {
                  new k.QmpSession(monitor, sock, { maxMessageBytes, endpoint: name });
                } else {
                  k.serveHmpSocket(monitor, sock, { maxLine: maxMessageBytes, endpoint: name });
                }
              });
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
 * Starts a session on `sock` once the session code has loaded; a client that left meanwhile
 * is not served (its socket's close already counted it out). Until the session listens, an
 * error on the socket (a reset) only ends it.
 */
function serveWhenLoaded(
  monitor: Monitor,
  loaded: Promise<Sessions>,
  sock: Socket,
  serve: (k: Sessions) => void,
): void {
  const early = (): void => void sock.destroy();
  sock.on('error', early);
  void loaded.then(
    (k) => {
      sock.off('error', early);
      if (!sock.destroyed) serve(k);
    },
    (e: unknown) => {
      // The build is broken (a module missing): say so on the console, turn the client away.
      monitor.log(`monitor: cannot serve a session: ${String(e)}`);
      sock.destroy();
    },
  );
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
