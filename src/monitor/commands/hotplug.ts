// object-add / object-del / device_add / device_del (reference qemu-pmem-ndctl.md §3.5, §4.3,
// §5). Properties are checked by the machine against the same schemas as the command line
// (Machine.add plans every constraint before it realizes anything), with QEMU's front-end
// wording: object-add is typed JSON (QAPI ObjectOptions, front 'qmp'); QMP device_add goes
// through QemuOpts in QEMU 7.2 (values become strings, booleans on/off), so it words errors
// like -device.

import type { RawValue } from '../../config/schema.js';
import type { Args } from '../args.js';
import { genericError, QmpError } from '../errors.js';
import { backendUsers, entries, rememberValues, typeOf } from '../inspect.js';
import type { CommandContext, MachineView, QmpCommand } from '../monitor.js';

/** QMP arguments → flat property values (nested objects become dotted keys, as keyval does). */
export function argsToValues(args: Args, stringify: boolean): Map<string, RawValue> {
  const out = new Map<string, RawValue>();
  const walk = (node: Args, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix + k;
      if (typeof v === 'string') out.set(key, v);
      else if (typeof v === 'number' || typeof v === 'boolean') {
        out.set(key, !stringify ? v : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v));
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        walk(v as Args, `${key}.`);
      } else {
        throw genericError(`Invalid parameter type for '${key}', expected: scalar`);
      }
    }
  };
  walk(args, '');
  return out;
}

/** Adds an object or device and remembers its values (qom-get, info qtree). */
export async function hotplug(
  machine: MachineView,
  kind: 'object' | 'device',
  values: Map<string, RawValue>,
  front: 'qmp' | 'device' | 'object',
  location: string,
): Promise<void> {
  const before = machine.plans().length;
  await machine.add(kind, values, front, location);
  const plan = machine.plans()[before];
  if (plan !== undefined) rememberValues(plan, values, front);
}

/** Finds a device by id or QOM path; DeviceNotFound otherwise (QEMU find_device_state). */
export function findDevice(machine: MachineView, idOrPath: string) {
  const e = entries(machine).find(
    (x) => x.plan.kind === 'device' && (x.plan.id === idOrPath || x.path === idOrPath),
  );
  if (e === undefined) throw new QmpError('DeviceNotFound', `Device '${idOrPath}' not found`);
  return e;
}

export async function deviceDel(ctx: CommandContext, id: string): Promise<void> {
  const { machine, monitor } = ctx;
  const e = findDevice(machine, id);
  const type = typeOf(e);
  if (type?.unplugRefusal !== undefined) throw genericError(type.unplugRefusal);
  if (type === undefined || !type.hotpluggable) {
    throw genericError(`Device '${e.plan.typeName}' does not support hotplugging`);
  }
  if (machine.remove === undefined || e.plan.id === undefined) {
    throw genericError(`device_del of '${id}' is not available: nvmemu cannot remove devices yet`);
  }
  const paths = new Map(entries(machine).map((x) => [x.plan, x.path]));
  // The devices on its bus go with it (QEMU unrealizes them first and reports each).
  for (const plan of await machine.remove('device', e.plan.id)) {
    const path = paths.get(plan) ?? '';
    monitor.emit('DEVICE_DELETED', plan.id === undefined ? { path } : { device: plan.id, path });
  }
}

export async function objectDel(ctx: CommandContext, id: string): Promise<void> {
  const { machine } = ctx;
  if (machine.component(id, 'object') === undefined) {
    throw genericError(`object '${id}' not found`);
  }
  if (backendUsers(machine, id).length > 0) {
    throw genericError(`object '${id}' is in use, can not be deleted`);
  }
  if (machine.remove === undefined) {
    throw genericError(`object-del of '${id}' is not available: nvmemu cannot remove objects yet`);
  }
  await machine.remove('object', id);
}

export const hotplugCommands: readonly QmpCommand[] = [
  {
    name: 'object-add',
    args: [
      { name: 'qom-type', type: 'string' },
      { name: 'id', type: 'string' },
    ],
    open: true,
    run: async ({ machine }, args) => {
      await hotplug(machine, 'object', argsToValues(args, false), 'qmp', 'object-add');
      return {};
    },
  },
  {
    name: 'object-del',
    args: [{ name: 'id', type: 'string' }],
    run: async (ctx, args) => {
      await objectDel(ctx, args.id as string);
      return {};
    },
  },
  {
    name: 'device_add',
    args: [{ name: 'driver', type: 'string' }],
    open: true,
    run: async ({ machine }, args) => {
      await hotplug(machine, 'device', argsToValues(args, true), 'device', 'device_add');
      return {};
    },
  },
  {
    name: 'device_del',
    args: [{ name: 'id', type: 'string' }],
    run: async (ctx, args) => {
      await deviceDel(ctx, args.id as string);
      return {};
    },
  },
];
