// qom-list / qom-get / qom-set over nvmemu's object tree (QEMU qapi/qom.json):
//   /objects/ID                         -object and object-add
//   /machine/peripheral/ID              devices with an id
//   /machine/peripheral-anon/device[N]  devices without one
// A bare id is accepted where it names exactly one object or device (QEMU's partial paths).
// Values are the realized configuration; memory devices report their assigned addr/slot/size.
// Properties that change at run time: the device model's `x-model*` of an nvme-ns (nvmemu,
// docs/models.md) and, as in QEMU, the nvme controller's
// `smart_critical_warning` (error injection, reference qemu-nvme.md §3.6).

import { REDACTED } from '../../config/redact.js';
import { typeLabel } from '../../config/schema.js';
import type { Args } from '../args.js';
import { genericError, QmpError } from '../errors.js';
import { entries, resolvedProps, smartCriticalWarning, typeOf, type Entry } from '../inspect.js';
import type { MachineView, QmpCommand } from '../monitor.js';
import { modelQomGet, modelQomSet } from './models.js';

type Node =
  | { kind: 'container'; path: string; children: { name: string; type: string }[] }
  | {
      kind: 'entry';
      entry: Entry;
    };

const SCW = 'smart_critical_warning';

export function resolvePath(machine: MachineView, path: string): Node {
  const all = entries(machine);
  const devices = all.filter((e) => e.plan.kind === 'device');
  const child = (e: Entry) => ({
    name: e.path.slice(e.path.lastIndexOf('/') + 1),
    type: `child<${e.plan.typeName}>`,
  });
  const containers: Record<string, { name: string; type: string }[]> = {
    '/': [
      { name: 'machine', type: `child<${machine.settings.type}-machine>` },
      { name: 'objects', type: 'child<container>' },
    ],
    '/objects': all.filter((e) => e.plan.kind === 'object').map(child),
    '/machine': [
      { name: 'peripheral', type: 'child<container>' },
      { name: 'peripheral-anon', type: 'child<container>' },
    ],
    '/machine/peripheral': devices.filter((e) => e.plan.id !== undefined).map(child),
    '/machine/peripheral-anon': devices.filter((e) => e.plan.id === undefined).map(child),
  };
  const norm = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const kids = containers[norm];
  if (kids !== undefined) return { kind: 'container', path: norm, children: kids };
  const exact = all.find((e) => e.path === norm);
  if (exact !== undefined) return { kind: 'entry', entry: exact };
  if (!norm.startsWith('/')) {
    const matches = all.filter((e) => e.plan.id === norm);
    if (matches.length === 1) return { kind: 'entry', entry: matches[0] as Entry };
  }
  throw new QmpError('DeviceNotFound', `Device '${path}' not found`);
}

function placement(e: Entry): Record<string, unknown> | undefined {
  const p = (e.plan.config as { placement?: unknown } | null)?.placement;
  return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : undefined;
}

/** [name, QOM type] of every property of a component. */
export function listProps(e: Entry): { name: string; type: string }[] {
  const out = [{ name: 'type', type: 'string' }];
  if (e.plan.kind === 'device') {
    out.push({ name: 'hotplugged', type: 'bool' }, { name: 'hotpluggable', type: 'bool' });
  }
  for (const def of typeOf(e)?.schema.props ?? []) {
    out.push({ name: def.name, type: def.label ?? typeLabel(def.type) });
  }
  if (smartCriticalWarning(e.component) !== undefined && !out.some((p) => p.name === SCW)) {
    out.push({ name: SCW, type: 'uint8' });
  }
  return out;
}

export function getProp(e: Entry, name: string): unknown {
  const type = typeOf(e);
  const notFound = () => genericError(`Property '${e.plan.typeName}.${name}' not found`);
  if (name === 'type') return e.plan.typeName;
  if (e.plan.kind === 'device' && name === 'hotplugged') {
    return (e.plan.config as { hotplugged?: unknown } | null)?.hotplugged === true;
  }
  if (e.plan.kind === 'device' && name === 'hotpluggable') return type?.hotpluggable === true;
  if (name === SCW) {
    const v = smartCriticalWarning(e.component)?.get();
    if (v !== undefined) return v;
  }
  // A device model's properties read their current value (they change at run time).
  const model = modelQomGet(e.component, name);
  if (model !== undefined) return model;
  const p = placement(e);
  if (p !== undefined) {
    const key = name === 'memaddr' ? 'addr' : name;
    if (['addr', 'size', 'slot'].includes(key) && p[key] !== undefined) return p[key];
  }
  const def = type?.schema.props.find((d) => d.name === name);
  if (def === undefined) throw notFound();
  // A secret's value never leaves the process (machine/secret.ts).
  if (def.sensitive === true) return REDACTED;
  const v = resolvedProps(e)?.entries();
  for (const [k, x] of v ?? []) if (k === name) return x;
  switch (def.type.kind) {
    case 'str':
    case 'link':
    case 'uuid':
    case 'enum':
      return '';
    case 'bool':
      return false;
    case 'uint':
    case 'uint64':
    case 'int32':
    case 'size':
      return 0;
  }
}

export function setProp(e: Entry, name: string, value: unknown): void {
  const t = e.plan.typeName;
  const known = listProps(e).some((p) => p.name === name);
  if (!known) throw genericError(`Property '${t}.${name}' not found`);
  if (name === SCW) {
    const access = smartCriticalWarning(e.component);
    if (access === undefined) {
      throw genericError(
        `qom-set of '${SCW}' is not available: this ${t} device does not expose SMART injection`,
      );
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw genericError(`Parameter '${SCW}' expects uint64`);
    }
    if (value > 0xff) throw genericError(`Parameter '${SCW}' expects uint8_t`);
    access.set(value);
    return;
  }
  // The device model's `x-model*` properties of an nvme-ns (commands/models.ts).
  if (modelQomSet(e.component, name, value)) return;
  if (e.plan.kind === 'device' && typeOf(e)?.schema.props.some((d) => d.name === name)) {
    throw genericError(
      `Attempt to set property '${name}' on device '${e.plan.id ?? '(null)'}' (type '${t}') after it was realized`,
    );
  }
  throw genericError(`Property '${t}.${name}' is not writable`);
}

export const qomCommands: readonly QmpCommand[] = [
  {
    name: 'qom-list',
    args: [{ name: 'path', type: 'string' }],
    run: ({ machine }, args: Args) => {
      const node = resolvePath(machine, args.path as string);
      if (node.kind === 'entry') return listProps(node.entry);
      return [{ name: 'type', type: 'string' }, ...node.children];
    },
  },
  {
    name: 'qom-get',
    args: [
      { name: 'path', type: 'string' },
      { name: 'property', type: 'string' },
    ],
    run: ({ machine }, args: Args) => {
      const node = resolvePath(machine, args.path as string);
      const prop = args.property as string;
      if (node.kind === 'entry') return getProp(node.entry, prop);
      if (prop === 'type') return 'container';
      throw genericError(`Property 'container.${prop}' not found`);
    },
  },
  {
    name: 'qom-set',
    args: [
      { name: 'path', type: 'string' },
      { name: 'property', type: 'string' },
      { name: 'value', type: 'any' },
    ],
    run: ({ machine }, args: Args) => {
      const node = resolvePath(machine, args.path as string);
      const prop = args.property as string;
      if (node.kind === 'container') {
        throw genericError(
          prop === 'type'
            ? `Property 'container.type' is not writable`
            : `Property 'container.${prop}' not found`,
        );
      }
      setProp(node.entry, prop, args.value);
      return {};
    },
  },
];
