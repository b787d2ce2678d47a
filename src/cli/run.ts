// `nvmemu run [QEMU-style options]`: build the machine, print how to reach it, serve until
// SIGINT/SIGTERM (or a monitor `quit`), then shut down cleanly.

import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { parseArgs, type ParsedArgs } from '../config/options.js';
import { formatHelp } from '../config/schema.js';
import { Machine } from '../machine/machine.js';
import { machineSettings, listMachines } from '../machine/settings.js';
import { findType, listTypes } from '../machine/registry.js';
import { registerAllTypes } from '../devices.js';
import { isEmuError } from '../util/errors.js';
import type { CliIo } from './io.js';
import { defaultMachineArgs } from './default-machine.js';
import { publishPmemState, removePmemState } from '../pmem/state-folder.js';
import { startMonitors, type MonitorHooks } from '../monitor/index.js';
import type { PowerCutHooks } from '../monitor/commands/faults.js';
import { machineFaults } from '../faults/injector.js';
import { powerCutMachine, trackWrites } from '../faults/power-cut.js';
import { MachineSwitch } from '../faults/machine-switch.js';
import { startNvmeTcp, type NvmeTcpService } from '../nvme-tcp/target/index.js';
import { LegacyPmem, planLegacyPmem, type LegacyPlan } from '../pmem/legacy/index.js';

/** NVMe/TCP's IANA port on loopback only: never another interface unless the user asks. */
const DEFAULT_LISTEN = '127.0.0.1:4420';
import { version } from './version.js';

/** Formats an error the way QEMU prints it: `nvmemu: [-device ...: ]message`. */
export function formatError(e: unknown): string {
  if (e instanceof ConfigError) {
    return `nvmemu: ${e.location ? `${e.location}: ` : ''}${e.message}\n`;
  }
  if (isEmuError(e) || e instanceof Error) return `nvmemu: ${e.message}\n`;
  return `nvmemu: ${String(e)}\n`;
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const started = await startMachine(argv, io);
  if (typeof started === 'number') return started;
  const { dataDir, args, legacy } = started;
  // The monitor and the NVMe/TCP target outlive a power cut, which replaces the machine.
  const view = new MachineSwitch(started.machine);
  // Listen for signals (and a monitor `quit`) before telling anyone we run: a signal that
  // arrived in between would meet the default disposition and kill the process uncleanly.
  const stop = stopTrigger();
  let monitors: Awaited<ReturnType<typeof startMonitors>> | undefined;
  let tcp: NvmeTcpService | undefined;
  let e820: LegacyPmem | undefined;
  // Consumers in other processes (libpmem2, ndctl) find the pmem devices in the state folder.
  const publishState = (): void =>
    publishPmemState(dataDir, [...view.current.components(), ...(e820?.regions ?? [])]);
  try {
    // memmap= regions live as long as the machine (volatile, like its RAM).
    e820 = LegacyPmem.create(legacy, dataDir);
    if (args.listen !== 'none') {
      // The target reads the switch: after a power cut it serves the new machine's controllers
      // (the old ones were removed with their machine, which ended their associations).
      tcp = await startNvmeTcp(view, {
        listen: args.listen ?? DEFAULT_LISTEN,
        discoveryPort: args.discovery === 'none' ? null : Number(args.discovery ?? 8009),
        ...(args.advertise === undefined ? {} : { advertise: args.advertise }),
      });
      machineFaults(view).attachNvmeTcp(tcp.target);
    }
    const served = tcp;
    const hooks: MonitorHooks & PowerCutHooks = {
      quit: () => stop.fire('quit'),
      version: version(),
      ...(served ? { nvmeTcp: served } : {}),
      // x-nvmemu-power-cut: cut, then run the rebuilt machine behind the same endpoints.
      powerCut: async (opts) => {
        const { machine: next, report } = await powerCutMachine(view.current, opts);
        view.current = next;
        // Write tracking continues on the new machine if it was on.
        if (report.namespaces.some((n) => n.tracked)) trackWrites(next);
        publishState();
        next.onComponentsChanged(publishState);
        return report;
      },
    };
    monitors = await startMonitors(
      view,
      { qmp: args.qmp, monitor: args.monitor, defaultSocket: join(dataDir, 'qmp.sock') },
      hooks,
    );
  } catch (e) {
    stop.cancel();
    io.err(formatError(e));
    await tcp?.close();
    await e820?.close();
    await view.current.shutdown();
    return 1;
  }
  view.current.onComponentsChanged(publishState);
  publishState();
  io.out(
    summary(view.current, dataDir, [
      ...e820.describe(),
      ...(tcp?.describe() ?? []),
      ...monitors.describe(),
    ]),
  );
  const reason = await stop.promise;
  io.out(`nvmemu: ${reason}: shutting down\n`);
  try {
    await monitors.close();
    await tcp?.close();
    if (view.current.state !== 'stopped') await view.current.shutdown();
  } catch (e) {
    io.err(formatError(e));
    return 1;
  } finally {
    removePmemState(dataDir);
    await e820.close();
  }
  return 0;
}

/**
 * Everything `run` does before serving: parse, print help listings, build the machine.
 * Returns an exit status when there is nothing to run (help, or an error already printed).
 */
export async function startMachine(
  argv: readonly string[],
  io: CliIo,
): Promise<
  { machine: Machine; dataDir: string; args: ParsedArgs; legacy: LegacyPlan | undefined } | number
> {
  registerAllTypes();
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(formatError(e));
    return 1;
  }
  if (args.listHelp !== undefined) {
    io.out(listHelpText(args.listHelp));
    return 0;
  }
  const helpItem = args.items.find((i) => i.help);
  if (helpItem !== undefined && helpItem.kind !== 'drive') {
    const typeName = String(
      helpItem.values.get(helpItem.kind === 'object' ? 'qom-type' : 'driver'),
    );
    const type = findType(helpItem.kind, typeName);
    if (type === undefined) {
      const what = helpItem.kind === 'device' ? 'device model' : 'object type';
      io.err(
        formatError(
          new ConfigError(
            `'${typeName}' is not a valid ${what} name`,
            undefined,
            helpItem.location,
          ),
        ),
      );
      return 1;
    }
    io.out(formatHelp(type.schema));
    return 0;
  }
  for (const w of args.warnings) io.err(`nvmemu: ${w}\n`);
  for (const opt of args.ignored) {
    io.err(`nvmemu: ${opt}: warning: ignored (nvmemu emulates devices, not a guest)\n`);
  }

  const dataDir = resolve(args.dataDir ?? process.env.NVMEMU_DATA ?? 'data');
  const useDefault =
    args.items.length === 0 && args.memory === undefined && args.machine.values.size === 0;
  const createdDataDir = !existsSync(dataDir);
  const created: string[] = [];
  try {
    if (createdDataDir) mkdirSync(dataDir, { recursive: true });
    if (useDefault) {
      // The default machine replaces only the device options; the user's --listen, -qmp and
      // -monitor still apply.
      const d = await defaultMachineArgs(dataDir, created);
      args = { ...args, machine: d.machine, memory: d.memory, items: d.items };
    }
    const settings = machineSettings(args);
    const legacy = planLegacyPmem(settings, args.append);
    for (const w of legacy?.warnings ?? []) io.err(`nvmemu: -append: warning: ${w}\n`);
    const machine = await Machine.create(args.items, {
      settings,
      dataDir,
      warn: (line) => io.err(`nvmemu: ${line}\n`),
    });
    return { machine, dataDir, args, legacy };
  } catch (e) {
    // A failed start leaves the data folder as it was.
    for (const f of created.reverse()) rmSync(f, { force: true });
    if (createdDataDir) rmSync(dataDir, { recursive: true, force: true });
    io.err(formatError(e));
    return 1;
  }
}

function summary(machine: Machine, dataDir: string, extra: readonly string[]): string {
  const s = machine.settings;
  const mib = (v: bigint) => `${v >> 20n} MiB`;
  const lines = [
    `nvmemu ${version()}: machine ${s.type}, ${mib(s.ramSize)} RAM` +
      (s.slots > 0 ? `, device memory ${s.slots} slots up to ${mib(s.maxMem)}` : '') +
      (s.nvdimm
        ? `, nvdimm on${s.nvdimmPersistence ? ` (persistence ${s.nvdimmPersistence})` : ''}`
        : ''),
    `  data folder: ${dataDir}`,
  ];
  for (const c of machine.components()) {
    lines.push(`  ${c.describe?.() ?? `${c.typeName}${c.id ? ` '${c.id}'` : ''}`}`);
  }
  for (const line of extra) lines.push(`  ${line}`);
  lines.push('Running; stop with Ctrl-C (SIGINT) or SIGTERM.');
  return lines.join('\n') + '\n';
}

/** Resolves on SIGINT, SIGTERM or `fire()` (monitor quit) with the reason. */
function stopTrigger(): { promise: Promise<string>; fire(reason: string): void; cancel(): void } {
  let resolveStop: (reason: string) => void = () => undefined;
  const promise = new Promise<string>((r) => (resolveStop = r));
  // Signal listeners do not keep Node's event loop alive; a machine without sockets would
  // otherwise exit at once (status 13, "unsettled top-level await").
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const cancel = () => {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const fire = (reason: string) => {
    cancel();
    resolveStop(reason);
  };
  const onSignal = (sig: NodeJS.Signals) => fire(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { promise, fire, cancel };
}

function listHelpText(kind: 'machine' | 'device' | 'object'): string {
  if (kind === 'machine') return listMachines();
  if (kind === 'object') {
    return `List of user creatable objects:\n${listTypes('object')
      .map((t) => `  ${t.schema.typeName}\n`)
      .join('')}`;
  }
  // QEMU groups device types by category; all of ours are storage except virtio-pmem-pci.
  const line = (name: string) => {
    const t = findType('device', name);
    if (t === undefined) return '';
    return `name "${name}"${t.bus ? `, bus ${t.bus}` : ''}${t.description ? `, desc "${t.description}"` : ''}\n`;
  };
  const all = listTypes('device').map((t) => t.schema.typeName);
  const misc: string[] = all.filter((n) => n === 'virtio-pmem-pci');
  const storage = all.filter((n) => !misc.includes(n));
  return (
    `Storage devices:\n${storage.map(line).join('')}` +
    (misc.length > 0 ? `\nMisc devices:\n${misc.map(line).join('')}` : '')
  );
}
