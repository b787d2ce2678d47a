// What a configured component is to the machine (DESIGN: one schema, two phases): the typed
// plan a check produces, the realized component, and the contract of a component type. Declared
// here, below block/ and memory/, so that drives and memory backends can implement it without
// knowing the machine; machine/registry.ts keeps the table of types.
//
// Creating a machine is two phases so that a bad command line never touches the disk:
//  1. check: every option is resolved against its schema and every constraint QEMU checks
//     is checked, in command-line order, with read-only looks at the host (stat of a backing
//     file). A `check` never creates, truncates or opens a file for writing.
//  2. realize: side effects (create/extend files, mmap, open images, start controllers), in
//     the same order. Every realize registers an undo so that a failure (an I/O error) rolls
//     the host back to where it was.

import type { Props, TypeSchema } from './schema.js';

/** One element of the machine: a memory backend, a drive or a device, after realize. */
export interface Component {
  /** QOM type name. */
  readonly typeName: string;
  /** User id (`id=`), if any. */
  readonly id: string | undefined;
  /** Clean shutdown: flush what must be durable, release host resources. Idempotent. */
  close(): Promise<void>;
  /** One line for `nvmemu run`'s start-up summary (what it is, how to reach it). */
  describe?(): string;
}

/** Read-only facts about the host, so that checks need no file descriptors. */
export interface HostProbe {
  /** Size of a regular file, 'dir' for a directory, or undefined when it does not exist. */
  stat(
    path: string,
  ): { kind: 'file'; size: bigint } | { kind: 'dir' } | { kind: 'other' } | undefined;
  /** The host page size (4096 on x86-64 Linux). */
  readonly pageSize: number;
}

/**
 * The QEMU release whose device answers a machine reproduces (issue 21, docs/qemu-10.md).
 * QEMU's versioned machine types pin guest-visible defaults to a release; nvmemu reads the
 * version of the type the same way (machine/settings.ts): `pc-q35-10.0` and `pc-i440fx-10.0`
 * select QEMU 10.0's answers, the 7.2 types and the unversioned aliases `pc` and `q35` keep
 * QEMU 7.2's.
 */
export type QemuCompat = '7.2' | '10.0';

/** The compatibility levels nvmemu offers, oldest first. */
export const QEMU_COMPATS: readonly QemuCompat[] = ['7.2', '10.0'];

/** Machine-level settings from `-machine` and `-m`. */
export interface MachineSettings {
  readonly type: 'pc' | 'q35';
  /** The QEMU release whose device answers the machine gives (from the machine type). */
  readonly compat: QemuCompat;
  readonly nvdimm: boolean;
  readonly nvdimmPersistence: 'cpu' | 'mem-ctrl' | undefined;
  /** Initial RAM in bytes (after QEMU's rounding to 8 KiB). */
  readonly ramSize: bigint;
  /** Hotplug slots; 0 when `slots` was not given. */
  readonly slots: number;
  /** Maximum memory; equal to ramSize when `maxmem` was not given. */
  readonly maxMem: bigint;
  /**
   * nvmemu `run --instance NAME`: this process is one of several serving the same data folder
   * and images (paths of the same NVM subsystems, docs/multipath.md). Only the component types
   * that declare `multiProcess` may then be configured.
   */
  readonly instance?: string;
}

/**
 * What a check can see of the machine being planned. Entries planned earlier on the command
 * line are visible; later ones are not (QEMU realizes in order too).
 */
export interface PlanContext {
  readonly settings: MachineSettings;
  readonly host: HostProbe;
  /** Folder for nvmemu's own state files (zone metadata, shutdown counters, ...). */
  readonly dataDir: string;
  /**
   * Looks up an earlier plan by id. Ids are separate namespaces per kind in QEMU (a drive and
   * a device may both be called `nvm`), so pass the kind you mean: 'object' for `memdev=`,
   * 'drive' for `drive=`, 'device' for `subsys=` and `bus=`.
   */
  lookup(id: string, kind: ComponentKind): Planned | undefined;
  /** All earlier plans, in order. */
  planned(): readonly Planned[];
  /**
   * Claims a unique resource (e.g. `memdev:mem1`) for the option being checked; false when an
   * earlier option holds it. Claims of an option whose check fails are released. (`_owner` is
   * accepted for convenience and ignored: the claim always belongs to the current option.)
   */
  claim(resource: string, _owner?: unknown): boolean;
  /** Prints a QEMU-style warning for the current option (`warning: ...`). */
  warn(message: string): void;
  /** True while checking a `device_add`/`object-add` on a running machine. */
  readonly hotplug?: boolean;
}

/** The result of a successful check: typed configuration, ready to realize. */
export interface Planned {
  readonly kind: ComponentKind;
  readonly typeName: string;
  readonly id: string | undefined;
  /** The option text as typed, for messages. */
  readonly location: string;
  /** The kind-specific typed configuration. */
  readonly config: unknown;
}

/** Side-effect context for realize. */
export interface RealizeContext {
  readonly settings: MachineSettings;
  readonly dataDir: string;
  /** The realized component for an earlier plan (by id and kind, as in PlanContext.lookup). */
  component(id: string, kind: ComponentKind): Component | undefined;
  /** All realized components so far, in order. */
  components(): readonly Component[];
  /** Registers an undo action run (in reverse order) if the machine fails to start. */
  onRollback(undo: () => Promise<void> | void): void;
}

export type ComponentKind = 'object' | 'drive' | 'device';

/** An `-object` or `-device` type. */
export interface ComponentType {
  readonly kind: 'object' | 'device';
  readonly schema: TypeSchema;
  /** `-device help` line: bus and description, as QEMU lists them. */
  readonly bus?: string;
  readonly description: string;
  /** Whether `device_add` / `object-add` may add it to a running machine. */
  readonly hotpluggable: boolean;
  /**
   * True when several nvmemu processes may configure it on one data folder (`--instance`):
   * its state lives in the shared images and state files, not in one process. Other types are
   * refused in an instance (their check may refuse options too).
   */
  readonly multiProcess?: boolean;
  /**
   * When set, `device_del` is refused with this message (QEMU's wording), e.g.
   * "nvdimm device hot unplug is not supported yet."
   */
  readonly unplugRefusal?: string;
  /**
   * Run-time removal (device_del), before close: take the component out of the running
   * machine (e.g. an nvme-ns detaches from its controllers with a namespace-changed notice).
   */
  unplug?(component: Component): Promise<void> | void;
  /**
   * The plan of the device whose bus this one sits on (an nvme-ns: its controller). Removing a
   * device removes the devices on its bus first, as QEMU unrealizes a bus's children with it.
   */
  parentOf?(config: unknown): Planned | undefined;
  /** Phase 1: validate (no side effects). Throws ConfigError with QEMU's message. */
  check(props: Props, id: string | undefined, ctx: PlanContext): unknown;
  /** Phase 2: create the component. */
  realize(plan: Planned, ctx: RealizeContext): Promise<Component>;
}
