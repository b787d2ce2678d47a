// What the monitor reads from a running machine. The machine keeps typed plans (one per
// option, in order, with the kind-specific config) and realized components in the same order;
// device and object modules own their config types, so this module reads them structurally and
// degrades to "not available" when a module does not expose something.
//
// Data contracts read here (written by other modules):
// - memory devices: a device plan's config has `placement: {kind: 'nvdimm'|'virtio-pmem', id,
//   addr, size, slot, memdev}` (machine/device-memory.ts), plus `node` (nvdimm) and
//   `hotplugged`;
// - backend users: any plan whose config names a backend in a `memdev`/`pmrdev` string or holds
//   its plan (`{tag: 'memory-backend', id}`);
// - run-time setters: `setSmartCriticalWarning(n)` / `smartCriticalWarning` on an nvme component
//   (or its `controller`).

import { flattenKeyval, parseKeyval } from '../config/keyval.js';
import { resolveProps, type Front, type Props, type RawValue } from '../config/schema.js';
import type { Machine } from '../machine/machine.js';
import { findType, type Component, type ComponentType, type Planned } from '../machine/registry.js';

export interface Entry {
  readonly plan: Planned;
  readonly component: Component;
  /** QOM path: /objects/ID, /machine/peripheral/ID, /machine/peripheral-anon/device[N]. */
  readonly path: string;
}

/** Plans and components are recorded in the same order (Machine.create / Machine.add). */
export function entries(machine: Pick<Machine, 'plans' | 'components'>): Entry[] {
  const plans = machine.plans();
  const comps = machine.components();
  const out: Entry[] = [];
  let anon = 0;
  const n = Math.min(plans.length, comps.length);
  for (let i = 0; i < n; i++) {
    const plan = plans[i] as Planned;
    const component = comps[i] as Component;
    if (plan.kind === 'drive') continue;
    let path: string;
    if (plan.kind === 'object') path = `/objects/${plan.id ?? ''}`;
    else if (plan.id !== undefined) path = `/machine/peripheral/${plan.id}`;
    else path = `/machine/peripheral-anon/device[${anon++}]`;
    out.push({ plan, component, path });
  }
  return out;
}

export function typeOf(e: Entry): ComponentType | undefined {
  return findType(e.plan.kind === 'object' ? 'object' : 'device', e.plan.typeName);
}

// ---- memory devices (query-memory-devices, info memory-devices) ---------------------------

export type MemoryDeviceInfo =
  | {
      readonly type: 'nvdimm';
      readonly data: {
        readonly id?: string;
        readonly addr: bigint;
        readonly slot: number;
        readonly node: number;
        readonly size: bigint;
        readonly memdev: string;
        readonly hotplugged: boolean;
        readonly hotpluggable: boolean;
      };
    }
  | {
      readonly type: 'virtio-pmem';
      readonly data: {
        readonly id?: string;
        readonly memaddr: bigint;
        readonly size: bigint;
        readonly memdev: string;
      };
    };

interface PlacementLike {
  kind: unknown;
  addr: unknown;
  size: unknown;
  slot: unknown;
  memdev: unknown;
}

function placementOf(config: unknown): PlacementLike | undefined {
  if (typeof config !== 'object' || config === null || !('placement' in config)) return undefined;
  const p = config.placement;
  if (typeof p !== 'object' || p === null) return undefined;
  return p as PlacementLike;
}

/** Memory devices in plug order, as QEMU's query-memory-devices lists them. */
export function memoryDevices(machine: Pick<Machine, 'plans'>): MemoryDeviceInfo[] {
  const out: MemoryDeviceInfo[] = [];
  for (const plan of machine.plans()) {
    if (plan.kind !== 'device') continue;
    const p = placementOf(plan.config);
    if (p === undefined || typeof p.addr !== 'bigint' || typeof p.size !== 'bigint') continue;
    const cfg = plan.config as { node?: unknown; hotplugged?: unknown };
    const memdev = `/objects/${String(p.memdev)}`;
    const idPart = plan.id === undefined ? {} : { id: plan.id };
    if (p.kind === 'nvdimm') {
      out.push({
        type: 'nvdimm',
        data: {
          ...idPart,
          addr: p.addr,
          slot: typeof p.slot === 'number' ? p.slot : 0,
          node: typeof cfg.node === 'number' ? cfg.node : 0,
          size: p.size,
          memdev,
          hotplugged: cfg.hotplugged === true,
          // pc-dimm devices are hotpluggable (unplug is refused later, at device_del).
          hotpluggable: true,
        },
      });
    } else if (p.kind === 'virtio-pmem') {
      out.push({ type: 'virtio-pmem', data: { ...idPart, memaddr: p.addr, size: p.size, memdev } });
    }
  }
  return out;
}

/** The plans that reference backend `id` (object-del refuses while there is one). */
export function backendUsers(machine: Pick<Machine, 'plans'>, id: string): Planned[] {
  const refers = (v: unknown, depth: number): boolean => {
    if (typeof v !== 'object' || v === null || depth > 3) return false;
    const o = v as Record<string, unknown>;
    if (o.tag === 'memory-backend' && o.id === id) return true;
    for (const [k, x] of Object.entries(o)) {
      if ((k === 'memdev' || k === 'pmrdev') && x === id) return true;
      if (typeof x === 'object' && refers(x, depth + 1)) return true;
    }
    return false;
  };
  return machine.plans().filter((p) => p.kind === 'device' && refers(p.config, 0));
}

// ---- properties (qom-list / qom-get, info qtree) ------------------------------------------

/** Raw values of components the monitor added, keyed by plan (their location is not a CLI text). */
const hotplugValues = new WeakMap<
  Planned,
  { values: ReadonlyMap<string, RawValue>; front: Front }
>();

export function rememberValues(plan: Planned, values: ReadonlyMap<string, RawValue>, front: Front) {
  hotplugValues.set(plan, { values, front });
}

/** The option's properties, resolved against the type's schema (defaults filled in). */
export function resolvedProps(e: Entry): Props | undefined {
  const type = typeOf(e);
  if (type === undefined) return undefined;
  const implied = e.plan.kind === 'object' ? 'qom-type' : 'driver';
  let raw = hotplugValues.get(e.plan);
  if (raw === undefined) {
    const text = e.plan.location.replace(/^-(?:device|object) /, '');
    try {
      if (text.trimStart().startsWith('{')) {
        raw = { values: flattenJson(JSON.parse(text) as unknown), front: 'qmp' };
      } else {
        const tree = parseKeyval(text, { impliedKey: implied, bareKeysAreOn: true }).tree;
        raw = {
          values: flattenKeyval(tree),
          front: e.plan.kind === 'object' ? 'object' : 'device',
        };
      }
    } catch {
      return undefined;
    }
  }
  const values = new Map(raw.values);
  values.delete(implied);
  values.delete('id');
  try {
    return resolveProps(type.schema, values, raw.front);
  } catch {
    return undefined;
  }
}

function flattenJson(v: unknown, prefix = '', out = new Map<string, RawValue>()) {
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v)) {
    const key = prefix + k;
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out.set(key, x);
    else flattenJson(x, `${key}.`, out);
  }
  return out;
}

// ---- run-time accessors -------------------------------------------------------------------

const hasFn = (o: unknown, name: string): boolean =>
  typeof o === 'object' && o !== null && typeof (o as Record<string, unknown>)[name] === 'function';

/** The object that carries SMART critical-warning injection: the component or its controller. */
function smartHolder(c: Component): Record<string, unknown> | undefined {
  if (hasFn(c, 'setSmartCriticalWarning')) return c as unknown as Record<string, unknown>;
  const ctrl = (c as unknown as { controller?: unknown }).controller;
  if (hasFn(ctrl, 'setSmartCriticalWarning')) return ctrl as Record<string, unknown>;
  return undefined;
}

export interface SmartAccess {
  get(): number | undefined;
  set(value: number): void;
}

export function smartCriticalWarning(c: Component): SmartAccess | undefined {
  const h = smartHolder(c);
  if (h === undefined) return undefined;
  return {
    get: () => {
      const direct = h.smartCriticalWarning;
      if (typeof direct === 'number') return direct;
      const smart = h.smart as { criticalWarning?: unknown } | undefined;
      return typeof smart?.criticalWarning === 'number' ? smart.criticalWarning : undefined;
    },
    set: (value) => void (h.setSmartCriticalWarning as (v: number) => unknown)(value),
  };
}
