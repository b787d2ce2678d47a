// The monitor core shared by every front end (QMP sessions, HMP terminals, human-monitor-
// command): one command table, one execution queue, one event fan-out.
//
// Commands run one at a time across all clients, in arrival order (QEMU runs in-band commands
// under its big lock; hotplug must see the machine one change at a time). Arguments are
// checked before a handler runs, and handlers check everything before their first side effect
// (QMP spec: validation errors come before side effects).

import type { Machine } from '../machine/machine.js';
import type { ComponentKind, Planned } from '../machine/registry.js';
import type { TcpTarget } from '../nvme-tcp/target/port.js';
import { checkArgs, type ArgSpec, type Args } from './args.js';
import { QmpError, toQmpError } from './errors.js';
import { MonitorCounters, stderrLog } from './limits.js';

/**
 * What the monitor needs of a machine: Machine itself. Two operations it does not have yet
 * are optional here and used when present (see docs/monitor.md "Limits").
 */
export type MachineView = Pick<
  Machine,
  'settings' | 'plans' | 'components' | 'component' | 'add' | 'state'
> & {
  /** Removes a realized component (object-del, device_del). */
  /** Removes a component and the devices on its bus; the plans removed, children first. */
  remove?: (kind: ComponentKind, id: string) => Promise<readonly Planned[]>;
};

export interface MonitorHooks {
  /** Asks the host to shut the machine down cleanly (QMP `quit`, `system_powerdown`). */
  quit(): void;
  /** nvmemu's version, e.g. "0.1.0". */
  readonly version: string;
  /** Wall clock in milliseconds since the epoch (event timestamps); default Date.now. */
  readonly now?: () => number;
  /** The machine's NVMe/TCP service, when `nvmemu run` serves one (x-nvmemu-query-nvme-tcp). */
  readonly nvmeTcp?: { readonly target: TcpTarget };
  /** Where the monitor's log lines go (a limit that bit); default: one line on stderr. */
  readonly log?: (line: string) => void;
  /**
   * Work the host finishes before the first session is served (serve.ts), e.g. `nvmemu run`
   * loading its fault injector and recorder, which it leaves out of its start.
   */
  readonly prepare?: () => Promise<void>;
}

export interface CommandContext {
  readonly machine: MachineView;
  readonly monitor: Monitor;
}

export interface QmpCommand {
  readonly name: string;
  readonly args: readonly ArgSpec[];
  /** Takes further arguments checked by the handler (device/object properties). */
  readonly open?: boolean;
  run(ctx: CommandContext, args: Args): unknown;
}

export interface QmpEvent {
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
  readonly event: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The QEMU release whose behaviour nvmemu reproduces (reported by query-version). */
export const QEMU_VERSION = { micro: 0, minor: 2, major: 7 } as const;

export class Monitor {
  readonly machine: MachineView;
  readonly hooks: MonitorHooks;
  /** Limits that bit and sessions served, over every endpoint (limits.ts). */
  readonly counters = new MonitorCounters();
  readonly #commands = new Map<string, QmpCommand>();
  readonly #listeners = new Set<(e: QmpEvent) => void>();
  #queue: Promise<unknown> = Promise.resolve();
  #shutdownSent = false;
  #quitting = false;

  constructor(machine: MachineView, hooks: MonitorHooks, commands: readonly QmpCommand[]) {
    this.machine = machine;
    this.hooks = hooks;
    this.addCommands(commands);
  }

  /**
   * Registers commands; `nvmemu run` adds its table when the first session arrives
   * (serve.ts: the command modules load only when someone can use them).
   */
  addCommands(commands: readonly QmpCommand[]): void {
    for (const c of commands) {
      if (this.#commands.has(c.name)) throw new Error(`command ${c.name} registered twice`);
      this.#commands.set(c.name, c);
    }
  }

  /** One log line (never a secret: callers pass endpoint names and numbers only). */
  log(line: string): void {
    (this.hooks.log ?? stderrLog)(`nvmemu: ${line}`);
  }

  commandNames(): string[] {
    return [...this.#commands.keys()];
  }

  has(name: string): boolean {
    return this.#commands.has(name);
  }

  /** Runs a command after the ones already queued. Rejects with a QmpError only. */
  execute(name: string, args: Args): Promise<unknown> {
    const run = () => this.executeNow(name, args);
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Runs `fn` after the queued commands (HMP commands that are not one QMP command). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = async () => await fn();
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /** Runs a command at once; only for commands nested in a queued one (human-monitor-command). */
  async executeNow(name: string, args: Args): Promise<unknown> {
    const cmd = this.#commands.get(name);
    if (cmd === undefined) {
      throw new QmpError('CommandNotFound', `The command ${name} has not been found`);
    }
    try {
      checkArgs(cmd.args, args, cmd.open === true);
      return await cmd.run({ machine: this.machine, monitor: this }, args);
    } catch (e) {
      throw toQmpError(e);
    }
  }

  onEvent(listener: (e: QmpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  emit(event: string, data?: Record<string, unknown>): void {
    const ms = (this.hooks.now ?? Date.now)();
    const seconds = Math.floor(ms / 1000);
    const microseconds = Math.floor((ms - seconds * 1000) * 1000);
    const e: QmpEvent = { timestamp: { seconds, microseconds }, event, ...(data ? { data } : {}) };
    if (event === 'SHUTDOWN') this.#shutdownSent = true;
    for (const l of [...this.#listeners]) l(e);
  }

  /**
   * Emits SHUTDOWN (once) and asks the host to quit after the current reply has been written
   * (setImmediate runs after the reply's write was queued).
   */
  requestQuit(data: { guest: boolean; reason: string }): void {
    if (!this.#shutdownSent) this.emit('SHUTDOWN', data);
    if (this.#quitting) return;
    this.#quitting = true;
    setImmediate(() => this.hooks.quit());
  }

  /** For close(): a host-side stop (signal) still tells clients why they are disconnected. */
  announceHostShutdown(): void {
    if (!this.#shutdownSent) this.emit('SHUTDOWN', { guest: false, reason: 'host-signal' });
  }
}
