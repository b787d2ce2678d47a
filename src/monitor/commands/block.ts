// Drives at run time, so that an nvme-ns can be plugged into a running machine: QMP
// `blockdev-add` / `blockdev-del` and HMP `drive_add` (QEMU 7.2 qapi/block-core.json,
// blockdev.c, hmp-commands.hx). nvmemu drives are raw image files, so blockdev-add takes a
// `raw` node over a `file` node (or a bare `file` node); the node name becomes the drive id that
// `device_add nvme-ns,drive=NAME` links to, as QEMU resolves `drive=` by node name too.
//
// QEMU's rule that only nodes created by blockdev-add may be deleted by blockdev-del ("is not
// owned by the monitor") and that a node with a device attached is "in use" are kept.

import { flattenKeyval, parseKeyval } from '../../config/keyval.js';
import type { RawValue } from '../../config/schema.js';
import type { Args } from '../args.js';
import { genericError } from '../errors.js';
import type { MachineView, QmpCommand } from '../monitor.js';

/** Block drivers QEMU 7.2 knows that nvmemu does not emulate (raw images only). */
const FOREIGN_DRIVERS = new Set([
  'qcow2',
  'qcow',
  'qed',
  'vmdk',
  'vdi',
  'vhdx',
  'vpc',
  'luks',
  'null-co',
  'null-aio',
  'nbd',
  'nvme',
  'host_device',
  'iscsi',
  'throttle',
  'copy-on-read',
  'blkdebug',
  'blkverify',
  'quorum',
]);

/** QEMU id_wellformed plus the node-name length limit (31 characters). */
const NODE_NAME_RE = /^[A-Za-z][A-Za-z0-9._-]{0,30}$/;

/** Node names created by blockdev-add / drive_add, per machine (only those may be deleted). */
const owned = new WeakMap<object, Set<string>>();

function ownedBy(machine: MachineView): Set<string> {
  let s = owned.get(machine);
  if (s === undefined) {
    s = new Set();
    owned.set(machine, s);
  }
  return s;
}

/** Device plans whose configuration links drive `id` (an nvme-ns, a legacy nvme namespace). */
export function driveUsers(machine: MachineView, id: string): string[] {
  const refers = (v: unknown, depth: number): boolean => {
    if (typeof v !== 'object' || v === null || depth > 3) return false;
    const o = v as Record<string, unknown>;
    const d = o.drive as { id?: unknown } | undefined;
    if (typeof d === 'object' && d !== null && d.id === id) return true;
    return Object.values(o).some((x) => refers(x, depth + 1));
  };
  return machine
    .plans()
    .filter((p) => p.kind === 'device' && refers(p.config, 0))
    .map((p) => p.id ?? p.typeName);
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string')
    throw genericError(`Invalid parameter type for '${name}', expected: string`);
  return v;
}

/** blockdev-add arguments → -drive values (if=none, format=raw). Checks before any effect. */
export function blockdevValues(machine: MachineView, args: Args): Map<string, RawValue> {
  const driver = str(args.driver, 'driver');
  let filename: string;
  const known = new Set(['driver', 'node-name', 'read-only', 'file', 'filename', 'cache']);
  const inert = new Set(['discard', 'auto-read-only', 'detect-zeroes', 'force-share', 'aio']);
  for (const key of Object.keys(args)) {
    if (!known.has(key) && !inert.has(key)) throw genericError(`Parameter '${key}' is unexpected`);
  }
  if (driver === 'raw') {
    const file = args.file;
    if (file === undefined) throw genericError(`Parameter 'file' is missing`);
    if (typeof file === 'string') {
      throw genericError(
        `blockdev-add: a 'file' reference to node '${file}' is not supported by nvmemu; give {"driver": "file", "filename": ...}`,
      );
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw genericError(`Invalid parameter type for 'file', expected: object`);
    }
    const f = file as Args;
    if (str(f.driver, 'file.driver') !== 'file') {
      throw genericError(`blockdev-add: nvmemu's raw node sits on a 'file' node only`);
    }
    if (f.filename === undefined) throw genericError(`Parameter 'file.filename' is missing`);
    filename = str(f.filename, 'file.filename');
  } else if (driver === 'file') {
    if (args.filename === undefined) throw genericError(`Parameter 'filename' is missing`);
    filename = str(args.filename, 'filename');
  } else if (FOREIGN_DRIVERS.has(driver)) {
    throw genericError(
      `blockdev-add driver '${driver}' is not supported by nvmemu (raw images only)`,
    );
  } else {
    throw genericError(`Parameter 'driver' does not accept value '${driver}'`);
  }
  if (args['node-name'] === undefined) {
    throw genericError(`'node-name' must be specified for the root node`);
  }
  const name = str(args['node-name'], 'node-name');
  if (!NODE_NAME_RE.test(name)) throw genericError(`Invalid node-name: '${name}'`);
  checkFreeName(machine, name);
  const ro = args['read-only'];
  if (ro !== undefined && typeof ro !== 'boolean') {
    throw genericError(`Invalid parameter type for 'read-only', expected: boolean`);
  }
  return new Map<string, RawValue>([
    ['id', name],
    ['file', filename],
    ['if', 'none'],
    ['format', 'raw'],
    ['readonly', ro === true ? 'on' : 'off'],
  ]);
}

function checkFreeName(machine: MachineView, name: string): void {
  if (!machine.plans().some((p) => p.kind === 'drive' && p.id === name)) return;
  throw genericError(
    ownedBy(machine).has(name)
      ? `Duplicate nodes with node-name='${name}'`
      : `node-name=${name} is conflicting with a device id`,
  );
}

/** Adds a drive to the running machine and marks it as created by the monitor. */
export async function addDrive(
  machine: MachineView,
  values: Map<string, RawValue>,
  location: string,
): Promise<void> {
  await machine.add('drive', values, 'device', location);
  ownedBy(machine).add(String(values.get('id')));
}

/** HMP `drive_add [-n] ADDR OPTS`: only `if=none` drives (the address is ignored for them). */
export async function hmpDriveAdd(machine: MachineView, text: string): Promise<string> {
  const m = /^(\S+)\s+(\S.*)$/.exec(text.trim());
  if (m === null) throw genericError(`drive_add: expects a PCI address and drive options`);
  if (m[1] === '-n') {
    throw genericError('drive_add -n is not supported by nvmemu: use QMP blockdev-add');
  }
  const values = flattenKeyval(parseKeyval(m[2] ?? '', { bareKeysAreOn: true }).tree);
  const id = values.get('id');
  if (id !== undefined) checkFreeName(machine, String(id));
  await addDrive(machine, values, `drive_add ${m[2] ?? ''}`);
  return 'OK\n';
}

export async function blockdevDel(machine: MachineView, name: string): Promise<void> {
  if (!machine.plans().some((p) => p.kind === 'drive' && p.id === name)) {
    throw genericError(`Failed to find node with node-name='${name}'`);
  }
  if (!ownedBy(machine).has(name)) throw genericError(`Node ${name} is not owned by the monitor`);
  if (driveUsers(machine, name).length > 0) throw genericError(`Node ${name} is in use`);
  if (machine.remove === undefined) {
    throw genericError(`blockdev-del of '${name}' is not available: nvmemu cannot remove drives`);
  }
  await machine.remove('drive', name);
  ownedBy(machine).delete(name);
}

export const blockCommands: readonly QmpCommand[] = [
  {
    name: 'blockdev-add',
    args: [{ name: 'driver', type: 'string' }],
    open: true,
    run: async ({ machine }, args) => {
      await addDrive(machine, blockdevValues(machine, args), 'blockdev-add');
      return {};
    },
  },
  {
    name: 'blockdev-del',
    args: [{ name: 'node-name', type: 'string' }],
    run: async ({ machine }, args) => {
      await blockdevDel(machine, args['node-name'] as string);
      return {};
    },
  },
];
