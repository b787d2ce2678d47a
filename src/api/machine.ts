// The public in-process machine (entry point `nvmemu`): build it from the same QEMU-style
// arguments `nvmemu run` takes, reach its devices through typed handles, cut its power, stop
// it. A facade over the core machine (machine/machine.ts), which stays internal: the core
// class is rebuilt by a power cut or a restart, while this object and its handles stay valid.

import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, type ParsedArgs } from '../config/options.js';
import { parseSize } from '../config/size.js';
import { machineFaults, type FaultInjector } from '../faults/injector.js';
import {
  powerCutMachine,
  restartMachine,
  trackWrites,
  type PowerCutOptions,
  type PowerCutReport,
} from '../faults/power-cut.js';
import { Machine as CoreMachine } from '../machine/machine.js';
import { machineSettings } from '../machine/settings.js';
import { registerAllTypes } from '../devices.js';
import { publishPmemState, removePmemState } from '../pmem/state-folder.js';
import { Host } from '../nvme/pci/local-host.js';
import { NvmeDevice } from '../nvme/index.js';
import { NvdimmDevice, VirtioPmemDevice } from '../pmem/index.js';
import type { Component } from '../machine/registry.js';
import { NvmemuError, NvmemuErrorCode } from './errors.js';
import { NvmeController } from './nvme.js';
import { Nvdimm, VirtioPmem } from './pmem.js';

/** Options of {@link Machine.start}. */
export interface StartOptions {
  /**
   * Folder for the machine's state files (zone journals, SMART counters, the pmem state folder
   * libpmem2 reads). Created when missing. Default: a new temporary folder, removed by stop().
   */
  readonly dataDir?: string;
  /**
   * Images to create (sparse, zero-filled) before the machine starts, when they do not exist:
   * path as written in `file=` / `mem-path=` (relative paths resolve against the current
   * directory, as they do there) → size in bytes or with a K/M/G/T suffix (`'64M'`).
   */
  readonly images?: Readonly<Record<string, number | bigint | string>>;
  /**
   * Model each namespace's volatile write cache (default true), so that {@link Machine.powerCut}
   * loses what was written but not flushed. Off, every completed write survives a cut.
   */
  readonly trackWrites?: boolean;
  /** Receives QEMU-style warnings (`-device nvme,...: warning: ...`). Default: ignored. */
  readonly warn?: (line: string) => void;
}

/** One device or backend of the machine, as {@link Machine.devices} lists it. */
export interface DeviceEntry {
  readonly id: string | undefined;
  /** QOM type: `nvme`, `nvme-ns`, `nvdimm`, `memory-backend-file`, `drive`, ... */
  readonly type: string;
}

/** The options only `nvmemu run` acts on: a machine built in-process serves no sockets. */
const RUN_ONLY: readonly [keyof ParsedArgs, string][] = [
  ['qmp', '-qmp'],
  ['monitor', '-monitor'],
  ['listen', '--listen'],
  ['discovery', '--discovery'],
  ['advertise', '--advertise'],
  ['dataDir', '--data'],
];

function runOnlyOption(p: ParsedArgs): string | undefined {
  for (const [key, name] of RUN_ONLY) {
    const v = p[key];
    if (Array.isArray(v) ? v.length > 0 : v !== undefined) return name;
  }
  return undefined;
}

const isNvme = (c: Component): c is NvmeDevice => c instanceof NvmeDevice;
const isNvdimm = (c: Component): c is NvdimmDevice => c instanceof NvdimmDevice;
const isVirtioPmem = (c: Component): c is VirtioPmemDevice => c instanceof VirtioPmemDevice;

function imageSize(path: string, size: number | bigint | string): bigint {
  const bytes =
    typeof size === 'string'
      ? parseSize(size)
      : typeof size === 'bigint'
        ? size
        : Number.isSafeInteger(size)
          ? BigInt(size)
          : -1n;
  if (bytes <= 0n) {
    throw new NvmemuError(
      NvmemuErrorCode.EMU_ERR_ARGUMENT,
      `images['${path}']: size must be a positive number of bytes, got ${String(size)}`,
    );
  }
  return bytes;
}

/**
 * An emulated machine running in this process.
 *
 * @example
 * ```ts
 * await using m = await Machine.start(
 *   ['-drive', 'file=a.img,if=none,id=d', '-device', 'nvme,id=c0,serial=s,drive=d'],
 *   { images: { 'a.img': '64M' } },
 * );
 * const ns = m.nvme('c0').namespace(1);
 * await ns.write(0, new Uint8Array(4096).fill(7));
 * ```
 */
export class Machine {
  /** The data folder in use (absolute). */
  readonly dataDir: string;
  #core: CoreMachine;
  readonly #tempDir: boolean;
  readonly #tracked: boolean;
  readonly #hosts = new WeakMap<NvmeDevice, Promise<Host>>();
  #stopped = false;

  private constructor(core: CoreMachine, dataDir: string, tempDir: boolean, tracked: boolean) {
    this.#core = core;
    this.dataDir = dataDir;
    this.#tempDir = tempDir;
    this.#tracked = tracked;
  }

  /**
   * Builds and starts a machine from `nvmemu run`'s QEMU-style arguments (one argument per
   * element, as in a shell command line). A bad argument rejects with the error QEMU would
   * print (code `EMU_ERR_CONFIG`, `location` naming the option) and leaves nothing behind.
   */
  static async start(args: readonly string[], opts: StartOptions = {}): Promise<Machine> {
    registerAllTypes();
    const parsed = parseArgs(args);
    const runOnly = runOnlyOption(parsed);
    if (runOnly !== undefined) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_UNSUPPORTED,
        `${runOnly} is an option of 'nvmemu run': a machine started in-process serves no sockets` +
          (runOnly === '--data' ? ' (give StartOptions.dataDir)' : ''),
      );
    }
    if (parsed.listHelp !== undefined || parsed.items.some((i) => i.help)) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_ARGUMENT,
        "'help' listings are printed by 'nvmemu run', not by Machine.start",
      );
    }
    const warn = opts.warn ?? (() => undefined);
    for (const w of parsed.warnings) warn(w);
    for (const o of parsed.ignored)
      warn(`${o}: warning: ignored (nvmemu emulates devices, not a guest)`);
    const sizes = Object.entries(opts.images ?? {}).map(
      ([path, size]) => [resolve(path), imageSize(path, size)] as const,
    );
    const tempDir = opts.dataDir === undefined;
    const dataDir =
      opts.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'nvmemu-')) : resolve(opts.dataDir);
    const created: string[] = [];
    try {
      mkdirSync(dataDir, { recursive: true });
      for (const [path, bytes] of sizes) {
        if (existsSync(path)) continue;
        const fd = openSync(path, 'wx');
        created.push(path);
        try {
          ftruncateSync(fd, Number(bytes));
        } finally {
          closeSync(fd);
        }
      }
      const core = await CoreMachine.create(parsed.items, {
        settings: machineSettings(parsed),
        dataDir,
        warn,
      });
      const tracked = opts.trackWrites !== false;
      const m = new Machine(core, dataDir, tempDir, tracked);
      m.#started();
      return m;
    } catch (e) {
      for (const f of created.reverse()) rmSync(f, { force: true });
      if (tempDir) rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
  }

  /** After start, a power cut or a restart: attach the write model, publish pmem state. */
  #started(): void {
    if (this.#tracked) trackWrites(this.#core);
    const pmem = this.#core
      .components()
      .some((c) => c instanceof NvdimmDevice || c instanceof VirtioPmemDevice);
    if (pmem) publishPmemState(this.dataDir, this.#core.components());
  }

  get #live(): CoreMachine {
    if (this.#stopped) {
      throw new NvmemuError(NvmemuErrorCode.EMU_ERR_STATE, 'the machine is stopped');
    }
    return this.#core;
  }

  #find<T extends Component>(id: string, is: (c: Component) => c is T, what: string): T {
    const c = this.#live.component(id);
    if (c === undefined) {
      throw new NvmemuError(NvmemuErrorCode.EMU_ERR_NOT_FOUND, `no device with id '${id}'`);
    }
    if (!is(c)) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_WRONG_TYPE,
        `device '${id}' is a ${c.typeName}, not ${what}`,
      );
    }
    return c;
  }

  /** The `-device nvme` with this id. Throws `EMU_ERR_NOT_FOUND` / `EMU_ERR_WRONG_TYPE`. */
  nvme(id: string): NvmeController {
    this.#find(id, isNvme, 'an nvme controller');
    return new NvmeController(id, {
      host: () => this.#host(id),
      dropHost: () => this.#hosts.delete(this.#find(id, isNvme, 'an nvme controller')),
    });
  }

  /** The `-device nvdimm` with this id. */
  nvdimm(id: string): Nvdimm {
    this.#find(id, isNvdimm, 'an nvdimm');
    return new Nvdimm(id, {
      device: () => this.#find(id, isNvdimm, 'an nvdimm'),
      dataDir: this.dataDir,
    });
  }

  /** The `-device virtio-pmem-pci` with this id. */
  virtioPmem(id: string): VirtioPmem {
    this.#find(id, isVirtioPmem, 'a virtio-pmem-pci device');
    return new VirtioPmem(id, {
      device: () => this.#find(id, isVirtioPmem, 'a virtio-pmem-pci device'),
      dataDir: this.dataDir,
    });
  }

  /** Every realized component (backends, drives, devices) in realization order. */
  devices(): DeviceEntry[] {
    return this.#live.components().map((c) => ({ id: c.id, type: c.typeName }));
  }

  /**
   * The fault injector of the running machine (docs/faults.md): `inject({...})` returns a
   * fault id, `clear(id?)` removes faults. A power cut or restart starts with no faults.
   */
  faults(): FaultInjector {
    return machineFaults(this.#live);
  }

  /**
   * Simulated power cut (docs/faults.md): what was not durable is lost (each namespace's
   * volatile write cache, the pmem persistence domain), unsafe shutdowns are counted, and the
   * machine comes back up over the surviving images. Handles stay valid; commands in flight
   * never complete.
   */
  async powerCut(opts: PowerCutOptions = {}): Promise<PowerCutReport> {
    const { machine, report } = await powerCutMachine(this.#live, opts);
    this.#core = machine;
    this.#started();
    return report;
  }

  /** Clean restart: everything flushed, the machine built again from the same arguments. */
  async restart(): Promise<void> {
    this.#core = await restartMachine(this.#live);
    this.#started();
  }

  /** Whether {@link stop} was called. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Clean shutdown: devices, drives, then backends, each flushed and closed; a temporary data
   * folder is removed. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#core.shutdown();
    } finally {
      removePmemState(this.dataDir);
      if (this.#tempDir) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  /** `await using m = await Machine.start(...)` stops the machine at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The enabled in-process host of a controller: one per realized device, made on first use. */
  #host(id: string): Promise<Host> {
    const dev = this.#find(id, isNvme, 'an nvme controller');
    let h = this.#hosts.get(dev);
    if (h === undefined) {
      h = (async () => {
        const host = new Host(dev.controller);
        host.enable();
        await host.createIoQueues(1, 64);
        return host;
      })();
      // A failed set-up is not cached: the next command tries again.
      h.catch(() => this.#hosts.delete(dev));
      this.#hosts.set(dev, h);
    }
    return h;
  }
}
