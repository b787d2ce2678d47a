// The machine: what `nvmemu run` hosts and what tests build in-process.
//
// Life cycle: plan (parse + check every option, no side effects) → realize (create files, map
// memory, open images, start devices; undo on failure) → run → shutdown (devices, then
// drives, then objects, each flushed and closed). QEMU realizes `-object`s first, then
// `-drive`s, then `-device`s, each group in command-line order; so do we.

import { statSync } from 'node:fs';
import { ConfigError, at } from '../config/errors.js';
import { resolveProps, type Front, type RawValue } from '../config/schema.js';
import type { OptionItem } from '../config/options.js';
import { checkDrive, type DrivePlan } from '../block/config.js';
import { Drive } from '../block/drive.js';
import {
  findType,
  type Component,
  type ComponentKind,
  type HostProbe,
  type MachineSettings,
  type PlanContext,
  type Planned,
  type RealizeContext,
} from './registry.js';

export interface MachineOptions {
  readonly settings: MachineSettings;
  /** Folder for nvmemu's state files. */
  readonly dataDir: string;
  /** Receives QEMU-style warnings (`-object ...: warning: ...`). */
  readonly warn?: (line: string) => void;
  readonly host?: HostProbe;
}

const ID_RE = /^[A-Za-z][A-Za-z0-9._-]*$/;
const ORDER: readonly ComponentKind[] = ['object', 'drive', 'device'];

export const defaultHost: HostProbe = {
  pageSize: 4096,
  stat(path) {
    try {
      const st = statSync(path, { bigint: true });
      if (st.isDirectory()) return { kind: 'dir' };
      if (st.isFile()) return { kind: 'file', size: st.size };
      return { kind: 'other' };
    } catch {
      return undefined;
    }
  },
};

/** A realized component with the plan it came from. */
interface Realized {
  readonly kind: ComponentKind;
  readonly id: string | undefined;
  readonly plan: Planned;
  readonly component: Component;
}

export class Machine {
  readonly settings: MachineSettings;
  readonly dataDir: string;
  readonly #host: HostProbe;
  readonly #warn: (line: string) => void;
  readonly #plans: Planned[] = [];
  /** Unique resources (memdev:ID, drive:ID) → the option token that holds them. */
  readonly #claims = new Map<string, object>();
  /** Token of the option being checked; a plan inherits it so claims follow the plan. */
  #checking: object = {};
  /** The option being checked, for warnings (`-device nvme,...: warning: ...`). */
  #checkingLocation = '';
  readonly #components: Realized[] = [];
  #state: 'building' | 'running' | 'stopped' = 'building';
  readonly #opts: MachineOptions;
  /** The option item each plan came from (rebuild() builds the machine from them). */
  readonly #itemOf = new Map<Planned, OptionItem>();

  private constructor(opts: MachineOptions) {
    this.#opts = opts;
    this.settings = opts.settings;
    this.dataDir = opts.dataDir;
    this.#host = opts.host ?? defaultHost;
    this.#warn = opts.warn ?? ((line) => process.stderr.write(`nvmemu: ${line}\n`));
  }

  /**
   * Builds a machine from option items. On any error nothing is left behind: checks have no
   * side effects, and realize failures run every registered undo in reverse order.
   */
  static async create(items: readonly OptionItem[], opts: MachineOptions): Promise<Machine> {
    const m = new Machine(opts);
    const planned: Planned[] = [];
    for (const kind of ORDER) {
      for (const item of items) {
        if (item.kind !== kind) continue;
        const front = item.json ? 'qmp' : kind === 'object' ? 'object' : 'device';
        const plan = m.#plan(item.kind, item.values, front, item.location);
        m.#itemOf.set(plan, item);
        planned.push(plan);
      }
    }
    await m.#realizeAll(planned);
    m.#state = 'running';
    return m;
  }

  /**
   * The same machine built again from the options it runs now (its command line plus what was
   * hot-added, minus what was removed) after this one is shut down: what a restart or a power cut
   * (src/faults/power-cut.ts, which decides what the images keep) comes back to. This machine is
   * stopped; the returned one runs.
   */
  async rebuild(): Promise<Machine> {
    if (this.#state !== 'running') throw new ConfigError('machine is not running', undefined, '');
    const items = this.items;
    await this.shutdown();
    return Machine.create(items, this.#opts);
  }

  /** The options that build this machine as it runs now (see rebuild). */
  get items(): readonly OptionItem[] {
    return this.#plans.map((p) => this.#itemOf.get(p)).filter((i) => i !== undefined);
  }

  readonly #listeners: (() => void)[] = [];

  /** Calls `fn` whenever a component is hot-added (consumers republish what they show). */
  onComponentsChanged(fn: () => void): void {
    this.#listeners.push(fn);
  }

  /**
   * Adds one component to a running machine (monitor `object-add` / `device_add`, and
   * `blockdev-add` / HMP `drive_add` for a drive).
   */
  async add(
    kind: ComponentKind,
    values: ReadonlyMap<string, RawValue>,
    front: Front,
    location: string,
  ): Promise<Component> {
    if (this.#state !== 'running') throw new ConfigError('machine is not running', undefined, '');
    const plan = this.#plan(kind, values, front, location, true);
    await this.#realizeAll([plan]);
    const entry = this.#components.at(-1);
    if (entry === undefined) throw new Error('realize produced no component');
    this.#itemOf.set(plan, { kind, values, location, json: front === 'qmp', help: false });
    for (const fn of this.#listeners) fn();
    return entry.component;
  }

  /**
   * Removes a component from a running machine (monitor `object-del` / `device_del`): the
   * devices on its bus go first (an nvme controller's namespaces, as QEMU unrealizes a bus's
   * children), then it; each is closed cleanly and its id and claimed resources become free.
   * The caller has checked that the removal is allowed (unplug refusals, backends in use).
   * Returns the plans removed, in removal order (children first).
   */
  async remove(kind: ComponentKind, id: string): Promise<Planned[]> {
    const plan = this.#plans.find((x) => x.kind === kind && x.id === id);
    if (plan === undefined || this.#componentOf(plan) === undefined) {
      throw new ConfigError(
        kind === 'device' ? `Device '${id}' not found` : `${kind} '${id}' not found`,
        'id',
        '',
      );
    }
    const removed: Planned[] = [];
    await this.#removePlan(plan, removed);
    for (const fn of this.#listeners) fn();
    return removed;
  }

  /** The devices whose bus is `plan`'s device. */
  #children(plan: Planned): Planned[] {
    return this.#plans.filter(
      (p) => p.kind === 'device' && findType('device', p.typeName)?.parentOf?.(p.config) === plan,
    );
  }

  async #removePlan(plan: Planned, removed: Planned[]): Promise<void> {
    for (const child of this.#children(plan)) await this.#removePlan(child, removed);
    const entry = this.#componentOf(plan);
    if (entry === undefined) return;
    // The device leaves the running machine first (an nvme-ns detaches from its controllers
    // and tells them), then it is closed.
    const kind = plan.kind;
    if (kind !== 'drive') await findType(kind, entry.component.typeName)?.unplug?.(entry.component);
    this.#components.splice(this.#components.indexOf(entry), 1);
    this.#plans.splice(this.#plans.indexOf(plan), 1);
    this.#itemOf.delete(plan);
    const token = this.#owners.get(plan);
    for (const [k, v] of this.#claims) if (v === token) this.#claims.delete(k);
    removed.push(plan);
    await entry.component.close();
  }

  #componentOf(plan: Planned): Realized | undefined {
    return this.#components.find((c) => c.plan === plan);
  }

  /** The realized component with this id and kind. */
  component(id: string, kind: ComponentKind = 'device'): Component | undefined {
    return this.#components.find((c) => c.kind === kind && c.id === id)?.component;
  }

  components(): readonly Component[] {
    return this.#components.map((c) => c.component);
  }

  plans(): readonly Planned[] {
    return this.#plans;
  }

  get state(): 'building' | 'running' | 'stopped' {
    return this.#state;
  }

  /** Clean shutdown: devices, then drives, then objects, each flushed and closed. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    const errors: unknown[] = [];
    for (const kind of ['device', 'drive', 'object'] as const) {
      for (const c of [...this.#components].reverse()) {
        if (c.kind !== kind) continue;
        try {
          await c.component.close();
        } catch (e) {
          errors.push(e);
        }
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, 'errors while shutting down the machine');
  }

  #plan(
    kind: ComponentKind,
    values: ReadonlyMap<string, RawValue>,
    front: Front,
    location: string,
    hotplug = false,
  ): Planned {
    const token = {};
    this.#checking = token;
    this.#checkingLocation = location;
    try {
      const plan = this.#planOne(kind, values, front, location, hotplug);
      this.#owners.set(plan, token);
      return plan;
    } catch (e) {
      for (const [k, v] of this.#claims) if (v === token) this.#claims.delete(k);
      throw e;
    }
  }

  /** Which claim token belongs to which plan (to release claims when a hotplug fails). */
  readonly #owners = new WeakMap<Planned, object>();

  #planOne(
    kind: ComponentKind,
    values: ReadonlyMap<string, RawValue>,
    front: Front,
    location: string,
    hotplug: boolean,
  ): Planned {
    return at(location, () => {
      if (kind === 'drive') {
        const cfg: DrivePlan = checkDrive(values, this.#host);
        this.#checkId('drive', cfg.id);
        return this.#record({ kind, typeName: 'drive', id: cfg.id, location, config: cfg });
      }
      const typeKey = kind === 'object' ? 'qom-type' : 'driver';
      const typeName = values.get(typeKey);
      if (typeName === undefined)
        throw new ConfigError(`Parameter '${typeKey}' is missing`, typeKey);
      const type = findType(kind, String(typeName));
      if (type === undefined) {
        throw kind === 'device'
          ? new ConfigError(`'${String(typeName)}' is not a valid device model name`, 'driver')
          : new ConfigError(
              `Parameter 'qom-type' does not accept value '${String(typeName)}'`,
              'qom-type',
            );
      }
      if (hotplug && !type.hotpluggable) {
        throw new ConfigError(`Parameter 'driver' expects a pluggable device type`, 'driver');
      }
      if (this.settings.instance !== undefined && type.multiProcess !== true) {
        throw new ConfigError(
          `${type.schema.typeName} cannot be shared between nvmemu processes (--instance ${this.settings.instance}): ` +
            'only nvme, nvme-subsys and nvme-ns serve a data folder with other processes (docs/multipath.md)',
          typeKey,
        );
      }
      const idRaw = values.get('id');
      const id = idRaw === undefined ? undefined : String(idRaw);
      if (kind === 'object' && id === undefined)
        throw new ConfigError(`Parameter 'id' is missing`, 'id');
      if (id !== undefined) this.#checkId(kind, id);
      const props = resolveProps(type.schema, withoutKeys(values, [typeKey, 'id']), front);
      const config = type.check(props, id, this.#planContext());
      return this.#record({ kind, typeName: type.schema.typeName, id, location, config });
    });
  }

  #checkId(kind: ComponentKind, id: string): void {
    if (!ID_RE.test(id)) {
      throw new ConfigError(
        `Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.`,
        'id',
      );
    }
    if (this.#plans.some((p) => p.kind === kind && p.id === id)) {
      throw new ConfigError(`Duplicate ID '${id}' for ${kind}`, 'id');
    }
  }

  #record(p: Planned): Planned {
    this.#plans.push(p);
    return p;
  }

  #planContext(): PlanContext {
    return {
      settings: this.settings,
      host: this.#host,
      dataDir: this.dataDir,
      lookup: (id, kind) => this.#plans.find((p) => p.kind === kind && p.id === id),
      planned: () => this.#plans,
      claim: (resource) => {
        const holder = this.#claims.get(resource);
        if (holder !== undefined && holder !== this.#checking) return false;
        this.#claims.set(resource, this.#checking);
        return true;
      },
      warn: (message) => this.#warn(`${this.#checkingLocation}: warning: ${message}`),
      hotplug: this.#state === 'running',
    };
  }

  async #realizeAll(plans: readonly Planned[]): Promise<void> {
    const undo: (() => Promise<void> | void)[] = [];
    const before = this.#components.length;
    const ctx: RealizeContext = {
      settings: this.settings,
      dataDir: this.dataDir,
      component: (id, kind) => this.component(id, kind),
      components: () => this.components(),
      onRollback: (fn) => undo.push(fn),
    };
    try {
      for (const plan of plans) {
        const component =
          plan.kind === 'drive'
            ? await Drive.open(plan.config as DrivePlan)
            : await this.#realizeOne(plan, ctx);
        this.#components.push({ kind: plan.kind, id: plan.id, plan, component });
        undo.push(() => component.close());
      }
    } catch (e) {
      for (const fn of undo.reverse()) {
        try {
          await fn();
        } catch {
          // Best effort: the original error is what the user needs to see.
        }
      }
      this.#components.splice(before);
      for (const p of plans) {
        const i = this.#plans.indexOf(p);
        if (i >= 0) this.#plans.splice(i, 1);
        const token = this.#owners.get(p);
        for (const [k, v] of this.#claims) if (v === token) this.#claims.delete(k);
      }
      throw e;
    }
  }

  async #realizeOne(plan: Planned, ctx: RealizeContext): Promise<Component> {
    const type = findType(plan.kind === 'object' ? 'object' : 'device', plan.typeName);
    if (type === undefined) throw new Error(`type ${plan.typeName} vanished`);
    return await type.realize(plan, ctx);
  }
}

function withoutKeys(
  values: ReadonlyMap<string, RawValue>,
  keys: readonly string[],
): Map<string, RawValue> {
  const out = new Map(values);
  for (const k of keys) out.delete(k);
  return out;
}
