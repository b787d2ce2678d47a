// `nvmemu run [QEMU-style options]`: build the machine, print how to reach it, serve until
// SIGINT/SIGTERM (or a monitor `quit`), then shut down cleanly.

import { appendFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { startMonitors } from '../monitor/serve.js';
import type { MonitorHooks } from '../monitor/monitor.js';
import type { PowerCutHooks } from '../monitor/commands/faults.js';
import { MachineSwitch } from '../faults/machine-switch.js';
import { startNvmeTcp, type NvmeTcpService } from '../nvme-tcp/target/index.js';
import { LegacyPmem, planLegacyPmem, type LegacyPlan } from '../pmem/legacy/index.js';
import { NvmeDevice, NvmeSubsysDevice } from '../nvme/index.js';
import { claimCntlids, lockDataFolder, type CntlidClaim, type DataLock } from './lock.js';
import type { RecordingControl } from '../replay/control.js';
import { DATA_MODES, type DataMode } from '../replay/format.js';
import type { RecordHooks } from '../monitor/commands/record.js';
import type { LiveView } from '../http/index.js';
import { publishLiveViewUrl, removeLiveViewUrl } from './live-view-file.js';
import { reexecForTls } from './tls-reexec.js';

/** NVMe/TCP's IANA port on loopback only: never another interface unless the user asks. */
const DEFAULT_LISTEN = '127.0.0.1:4420';
import { version } from './version.js';

/** The default QMP socket: `qmp.sock`, or `qmp-NAME.sock` for `--instance NAME`. */
export function qmpSocketName(args: Pick<ParsedArgs, 'instance'>): string {
  return args.instance === undefined ? 'qmp.sock' : `qmp-${args.instance}.sock`;
}

/** The controller ID ranges an instance serves, per subsystem NQN. */
function cntlidClaims(machine: Machine): CntlidClaim[] {
  return machine.components().flatMap((c) => {
    if (!(c instanceof NvmeSubsysDevice)) return [];
    const r = c.subsystem.cntlids;
    return r === undefined ? [] : [{ nqn: c.subsystem.subnqn, min: r.min, max: r.max }];
  });
}

/** Formats an error the way QEMU prints it: `nvmemu: [-device ...: ]message`. */
export function formatError(e: unknown): string {
  if (e instanceof ConfigError) {
    return `nvmemu: ${e.location ? `${e.location}: ` : ''}${e.message}${hint(e)}\n`;
  }
  if (isEmuError(e) || e instanceof Error) return `nvmemu: ${e.message}${hint(e)}\n`;
  return `nvmemu: ${String(e)}\n`;
}

/** The fix for errors whose cause the user can act on (a port or socket in use). */
function hint(e: Error): string {
  const cause = (e.cause as NodeJS.ErrnoException | undefined)?.code;
  if (cause === 'EADDRINUSE') {
    return (
      '\n  another program listens there (another nvmemu run?): stop it, or give this machine' +
      ' free ports with --listen 127.0.0.1:PORT --discovery PORT (or --listen none)'
    );
  }
  if (cause === 'EACCES') return '\n  ports below 1024 need privileges: choose a port above 1023';
  return '';
}

export const RUN_USAGE = `Usage: nvmemu run [QEMU options] [nvmemu options]

Builds a machine from QEMU 7.2's options and serves it until SIGINT/SIGTERM or a monitor
'quit'. Without device options: the default machine (README "Set up").

QEMU options:
  -machine pc|q35[,nvdimm=on][,nvdimm-persistence=cpu|mem-ctrl]
  -m SIZE[,slots=N,maxmem=SIZE]
  -object memory-backend-file|memory-backend-ram,id=ID,...
  -drive file=IMG,if=none,id=ID,format=raw[,readonly=on]
  -device nvme|nvme-ns|nvme-subsys|nvdimm|virtio-pmem-pci,...
  -device help | -device TYPE,help | -object TYPE,help | -machine help
  -readconfig FILE, -qmp SPEC, -monitor SPEC, -append 'memmap=nn!ss'
  -daemonize             detach once the machine serves (stop it with the monitor's quit)
  Guest-only options (-smp, -cpu, -enable-kvm, ...) are accepted with a warning and ignored.

nvmemu options:
  --data DIR             state and default images (default $NVMEMU_DATA or ./data); one
                         machine per folder (locked while it runs)
  --listen HOST:PORT|none   NVMe/TCP (default 127.0.0.1:4420)
  --discovery PORT|none  discovery controller (default 8009)
  --advertise ADDR       address the discovery log names (e.g. 10.0.2.2)
  --record FILE          record every command, fault, power cut and hotplug into FILE
                         (docs/record-replay.md; nvmemu replay FILE re-runs it)
  --record-data MODE     hash (default: sent data whole, returned data hashed), whole,
                         or hash-all (compact; replay --diff only)
  --http [ADDR:]PORT     live view: web page, /metrics, /api (off by default; loopback unless
                         ADDR is given; docs/live-view.md); \`nvmemu top\` reads it
  --nvme-tcp KEY=VAL,... NVMe/TCP TLS and limits: tls=none|required|not-required,
                         connect-timeout=MS, max-connections=N, ... (docs/security.md)
  --instance NAME        one of several nvmemu processes serving the data folder and images
                         as paths of the same subsystems (docs/multipath.md); monitor socket
                         qmp-NAME.sock
  -o, --output-format normal|json   the start-up summary as text or one JSON document
  -h, --help             show this help
`;

/**
 * Whether `argv` asks for help (`-h`/`--help` anywhere before `--`). Here rather than in
 * options.ts, whose commander a starting machine does not load.
 */
function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

/** Set in the background process `-daemonize` starts: it talks to its parent over IPC. */
const DAEMON_CHILD = 'NVMEMU_DAEMON_CHILD';

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(RUN_USAGE);
    return 0;
  }
  // TLS needs OpenSSL's NumTickets = 0, which only a process start can set (tls-reexec.ts).
  const reexec = reexecForTls(argv);
  if (reexec !== undefined) return await reexec;
  let record: { file: string; data: DataMode } | undefined;
  try {
    ({ argv, record } = takeRecordOptions(argv));
  } catch (e) {
    io.err(`nvmemu: ${(e as Error).message}\n`);
    return 1;
  }
  const daemonChild = process.env[DAEMON_CHILD] === '1' && process.send !== undefined;
  if (!daemonChild && argv.some((a) => a === '-daemonize' || a === '--daemonize')) {
    const again =
      record === undefined ? [] : ['--record', record.file, '--record-data', record.data];
    return await daemonize([...argv, ...again], io);
  }
  if (daemonChild) io = ipcIo();
  const started = await startMachine(argv, io, { lock: true });
  if (typeof started === 'number') return started;
  const { dataDir, args, legacy, lock } = started;
  // The monitor and the NVMe/TCP target outlive a power cut, which replaces the machine.
  const view = new MachineSwitch(started.machine);
  // Listen for signals (and a monitor `quit`) before telling anyone we run: a signal that
  // arrived in between would meet the default disposition and kill the process uncleanly.
  const stop = stopTrigger();
  // Recording (--record, x-nvmemu-record-start): replay rebuilds the machine from these words.
  // The recorder and the fault injector it records load when a recording or the first monitor
  // session needs them (hooks.prepare), not at start (docs/architecture.md "Module loading").
  let recording: RecordingControl | undefined;
  const words = argv.filter((a) => a !== '-daemonize' && a !== '--daemonize');
  let prepared: Promise<RecordingControl> | undefined;
  const prepare = (): Promise<RecordingControl> =>
    (prepared ??= Promise.all([
      import('../faults/injector.js'),
      import('../replay/control.js'),
    ]).then(
      ([{ machineFaults }, { RecordingControl }]) =>
        (recording = new RecordingControl(
          () => view.current,
          () => machineFaults(view),
          words,
          version(),
        )),
    ));
  let monitors: Awaited<ReturnType<typeof startMonitors>> | undefined;
  let tcp: NvmeTcpService | undefined;
  let e820: LegacyPmem | undefined;
  let live: LiveView | undefined;
  // Consumers in other processes (libpmem2, ndctl) find the pmem devices in the state folder.
  // An instance has no pmem devices (refused) and must not touch the folder's pmem state,
  // which another process may publish.
  const publishState = (): void => {
    if (args.instance !== undefined) return;
    publishPmemState(dataDir, [...view.current.components(), ...(e820?.regions ?? [])]);
  };
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
        ...(args.nvmeTcp === undefined ? {} : { settings: args.nvmeTcp }),
      });
    }
    const served = tcp;
    if (record !== undefined) (await prepare()).start(record.file, record.data);
    const hooks: MonitorHooks & PowerCutHooks & RecordHooks = {
      // Sessions are served after prepare() (serve.ts), so commands always find it.
      get recording(): RecordingControl {
        if (recording === undefined) throw new Error('recording used before prepare()');
        return recording;
      },
      prepare: async () => void (await prepare()),
      quit: () => stop.fire('quit'),
      version: version(),
      ...(served ? { nvmeTcp: served } : {}),
      // x-nvmemu-power-cut: cut, then run the rebuilt machine behind the same endpoints.
      powerCut: async (opts) => {
        const rec = await prepare();
        const { powerCutMachine, trackWrites } = await import('../faults/power-cut.js');
        rec.beforePowerCut(opts);
        const { machine: next, report } = await powerCutMachine(view.current, opts);
        view.current = next;
        rec.afterPowerCut(next);
        // Write tracking continues on the new machine if it was on.
        if (report.namespaces.some((n) => n.tracked)) trackWrites(next);
        publishState();
        next.onComponentsChanged(publishState);
        return report;
      },
    };
    monitors = await startMonitors(
      view,
      { qmp: args.qmp, monitor: args.monitor, defaultSocket: join(dataDir, qmpSocketName(args)) },
      hooks,
    );
    if (args.http !== undefined) {
      // The live view (and prom-client) loads only when asked for.
      const { startLiveView } = await import('../http/index.js');
      live = await startLiveView(view, {
        ...args.http,
        host: args.http.host ?? '127.0.0.1',
        version: version(),
      });
      publishLiveViewUrl(dataDir, live.url);
    }
  } catch (e) {
    stop.cancel();
    io.err(formatError(e));
    if (recording?.active !== undefined) recording.stop();
    await live?.close();
    await monitors?.close();
    await tcp?.close();
    await e820?.close();
    await view.current.shutdown();
    lock?.release();
    return 1;
  }
  view.current.onComponentsChanged(publishState);
  publishState();
  const endpoints = [
    ...e820.describe(),
    ...(tcp?.describe() ?? []),
    ...monitors.describe(),
    ...(live === undefined ? [] : [`live view: ${live.url} (metrics ${live.url}metrics)`]),
  ];
  io.out(
    args.outputFormat === 'json'
      ? `${JSON.stringify(summaryJson(view.current, dataDir, tcp, endpoints, live?.url), null, 2)}\n`
      : summary(view.current, dataDir, endpoints),
  );
  if (daemonChild) {
    // The parent prints what came so far and exits; the rest goes to the data folder's log.
    process.send?.({ ready: true });
    process.disconnect?.();
    io = logIo(
      join(dataDir, args.instance === undefined ? 'nvmemu.log' : `nvmemu-${args.instance}.log`),
    );
  }
  const reason = await stop.promise;
  // With -o json, stdout holds one JSON document: the rest goes to stderr.
  const note = `nvmemu: ${reason}: shutting down\n`;
  if (args.outputFormat === 'json') io.err(note);
  else io.out(note);
  // Endpoints first, then the machine, then the lock; the monitors close last, so a client
  // that sent 'quit' sees the connection end only when the folder and ports are free again.
  let status = 0;
  try {
    if (recording?.active !== undefined) recording.stop();
    if (live !== undefined) {
      removeLiveViewUrl(dataDir);
      await live.close();
    }
    await tcp?.close();
    if (view.current.state !== 'stopped') await view.current.shutdown();
  } catch (e) {
    io.err(formatError(e));
    status = 1;
  } finally {
    if (args.instance === undefined) removePmemState(dataDir);
    await e820.close();
    lock?.release();
    await monitors.close();
  }
  return status;
}

/** `--record FILE` and `--record-data MODE` are the recorder's, not the machine's. */
function takeRecordOptions(argv: readonly string[]): {
  argv: string[];
  record: { file: string; data: DataMode } | undefined;
} {
  const rest: string[] = [];
  let file: string | undefined;
  let data: DataMode = 'hash';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--?(record|record-data)(?:=(.*))?$/.exec(a);
    if (m === null) {
      rest.push(a);
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    if (m[1] === 'record') file = resolve(v);
    else if (DATA_MODES.includes(v as DataMode)) data = v as DataMode;
    else throw new Error(`--record-data expects ${DATA_MODES.join(', ')}, not '${v}'`);
  }
  return { argv: rest, record: file === undefined ? undefined : { file, data } };
}

/** CliIo of a `-daemonize` child before it is ready: every line goes to the parent, in order. */
function ipcIo(): CliIo {
  return {
    out: (text) => void process.send?.({ out: text }),
    err: (text) => void process.send?.({ err: text }),
  };
}

/** CliIo of a detached machine: its data folder's `nvmemu.log`. */
function logIo(path: string): CliIo {
  const write = (text: string): void => {
    try {
      appendFileSync(path, text);
    } catch {
      // Nobody to tell: the log is the only output a detached machine has.
    }
  };
  return { out: write, err: write };
}

/**
 * QEMU's `-daemonize`: run the machine in a detached process and return once it serves,
 * after printing what it printed (or its errors and exit status if it fails to start).
 */
async function daemonize(argv: readonly string[], io: CliIo): Promise<number> {
  const { spawn } = await import('node:child_process');
  const rest = argv.filter((a) => a !== '-daemonize' && a !== '--daemonize');
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'run', ...rest], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [DAEMON_CHILD]: '1' },
  });
  return new Promise((done) => {
    child.on('message', (m: { out?: string; err?: string; ready?: boolean }) => {
      if (m.out !== undefined) io.out(m.out);
      if (m.err !== undefined) io.err(m.err);
      if (m.ready === true) {
        child.removeAllListeners('exit');
        child.unref();
        child.disconnect();
        done(0);
      }
    });
    child.once('exit', (code) => done(code ?? 1));
    child.once('error', (e) => {
      io.err(formatError(e));
      done(1);
    });
  });
}

/**
 * Everything `run` does before serving: parse, print help listings, build the machine.
 * Returns an exit status when there is nothing to run (help, or an error already printed).
 */
export async function startMachine(
  argv: readonly string[],
  io: CliIo,
  opts: { readonly lock?: boolean } = {},
): Promise<
  | {
      machine: Machine;
      dataDir: string;
      args: ParsedArgs;
      legacy: LegacyPlan | undefined;
      /** The data-folder lock (`opts.lock`), released by the caller at shutdown. */
      lock: DataLock | undefined;
    }
  | number
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
  // Only a command line with no machine options at all means the default machine: ignored
  // guest options (-smp 4) still say "this machine, not the default one".
  const useDefault =
    args.items.length === 0 &&
    args.memory === undefined &&
    args.machine.values.size === 0 &&
    args.ignored.length === 0 &&
    args.append === undefined;
  const createdDataDir = !existsSync(dataDir);
  const created: string[] = [];
  let lock: DataLock | undefined;
  try {
    if (createdDataDir) mkdirSync(dataDir, { recursive: true });
    if (opts.lock === true) lock = lockDataFolder(dataDir, args.instance);
    if (useDefault) {
      // The default machine replaces only the device options; the user's --listen, -qmp and
      // -monitor still apply.
      const d = await defaultMachineArgs(dataDir, created);
      args = { ...args, machine: d.machine, memory: d.memory, items: d.items };
    }
    const settings = {
      ...machineSettings(args),
      ...(args.instance !== undefined ? { instance: args.instance } : {}),
    };
    const legacy = planLegacyPmem(settings, args.append);
    for (const w of legacy?.warnings ?? []) io.err(`nvmemu: -append: warning: ${w}\n`);
    const machine = await Machine.create(args.items, {
      settings,
      dataDir,
      warn: (line) => io.err(`nvmemu: ${line}\n`),
    });
    if (lock !== undefined && args.instance !== undefined) {
      try {
        claimCntlids(lock, dataDir, args.instance, cntlidClaims(machine));
      } catch (e) {
        await machine.shutdown();
        throw e;
      }
    }
    return { machine, dataDir, args, legacy, lock };
  } catch (e) {
    // A failed start leaves the data folder as it was.
    lock?.release();
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

/** The start-up summary as one JSON document (`-o json`). */
function summaryJson(
  machine: Machine,
  dataDir: string,
  tcp: NvmeTcpService | undefined,
  endpoints: readonly string[],
  liveView: string | undefined,
): unknown {
  const s = machine.settings;
  const io = tcp?.target.ioPort;
  const disc = tcp?.target.discoveryPort;
  return {
    nvmemu: version(),
    pid: process.pid,
    machine: {
      type: s.type,
      ram_size: Number(s.ramSize),
      slots: s.slots,
      maxmem: Number(s.maxMem),
      nvdimm: s.nvdimm,
      nvdimm_persistence: s.nvdimmPersistence ?? null,
    },
    data_folder: dataDir,
    devices: machine.components().map((c) => ({
      type: c.typeName,
      id: c.id ?? null,
      ...(c instanceof NvmeDevice ? { subnqn: c.controller.subsys.subnqn } : {}),
      summary: c.describe?.() ?? null,
    })),
    nvme_tcp:
      io === undefined
        ? null
        : { address: io.address, port: io.port, discovery_port: disc?.port ?? null },
    endpoints,
    live_view: liveView ?? null,
  };
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
