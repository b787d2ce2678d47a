// NVMe fault injection through the monitor (nvmemu's own, hence `x-nvmemu-`):
//   x-nvmemu-inject-media-error  {id, nsid?, lba, count, type?}
//   x-nvmemu-clear-media-errors  {id, nsid?, lba?, count?, type?}
//   x-nvmemu-query-media-errors  {id, nsid?}
// `id` names an nvme-ns device, or an nvme controller plus `nsid` (a controller's legacy
// `drive=` namespace needs no nsid). Faults act in the namespace's block store (see
// nvme/ns/media-faults.ts): reads over a read fault complete Unrecovered Read Error (0x281),
// writes over a write fault Write Fault (0x280), as a failing backend does in QEMU 7.2.

import { NvmeDevice } from '../../nvme/index.js';
import { MediaFaults, type MediaFaultKind } from '../../nvme/ns/media-faults.js';
import type { NamespaceApi } from '../../nvme/spec/namespace-api.js';
import type { Component } from '../../machine/registry.js';
import { isNamespace } from '../nvme-events.js';
import type { Args } from '../args.js';
import { genericError } from '../errors.js';
import type { MachineView, QmpCommand } from '../monitor.js';
import { findDevice } from './hotplug.js';

export { isNamespace };

export interface NsTarget {
  readonly ns: NamespaceApi & Component;
  /** The device id the user named. */
  readonly id: string;
}

/** The namespace `id` (+ `nsid`) names; DeviceNotFound / GenericError otherwise. */
export function findNamespace(machine: MachineView, id: string, nsid?: number): NsTarget {
  const e = findDevice(machine, id);
  const c = e.component;
  if (c instanceof NvmeDevice) {
    if (nsid === undefined) {
      if (c.legacyNamespace !== undefined) return { ns: c.legacyNamespace, id };
      throw genericError(`Parameter 'nsid' is missing`);
    }
    const ns = c.controller.subsys.namespaces.get(nsid);
    if (!isNamespace(ns)) throw genericError(`Namespace ${nsid} not found on controller '${id}'`);
    return { ns, id };
  }
  if (isNamespace(c)) {
    if (nsid !== undefined && nsid !== c.nsid) {
      throw genericError(`Device '${id}' is namespace ${c.nsid}, not ${nsid}`);
    }
    return { ns: c, id };
  }
  throw genericError(`Device '${id}' (${e.plan.typeName}) is not an NVMe controller or namespace`);
}

function faultsOf(t: NsTarget): MediaFaults {
  const f = (t.ns as { mediaFaults?: unknown }).mediaFaults;
  if (!(f instanceof MediaFaults)) {
    throw genericError(
      `Namespace ${t.ns.nsid} of '${t.id}' does not support media error injection`,
    );
  }
  return f;
}

const TYPES: Readonly<Record<string, readonly MediaFaultKind[]>> = {
  read: ['read'],
  write: ['write'],
  'read-write': ['read', 'write'],
};

function kinds(v: unknown, fallback: readonly MediaFaultKind[]): readonly MediaFaultKind[] {
  if (v === undefined) return fallback;
  // checkArgs has made `type` a string.
  const name = v as string;
  const k = TYPES[name];
  if (k === undefined) throw genericError(`Parameter 'type' does not accept value '${name}'`);
  return k;
}

/** [start, end) from lba/count, checked against the namespace size. */
function range(t: NsTarget, lba: number, count: number): [number, number] {
  if (lba < 0) throw genericError(`Parameter 'lba' expects a value >= 0`);
  if (count < 1) throw genericError(`Parameter 'count' expects a value >= 1`);
  const nsze = Number(t.ns.sizeBlocks);
  if (lba + count > nsze) {
    throw genericError(
      `LBA range ${lba}+${count} exceeds namespace ${t.ns.nsid} of '${t.id}' (${nsze} blocks)`,
    );
  }
  return [lba, lba + count];
}

const target = (machine: MachineView, args: Args): NsTarget =>
  findNamespace(machine, args.id as string, args.nsid as number | undefined);

const idArgs = [
  { name: 'id', type: 'string' },
  { name: 'nsid', type: 'integer', optional: true },
] as const;

export const nvmeCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-inject-media-error',
    args: [
      ...idArgs,
      { name: 'lba', type: 'integer' },
      { name: 'count', type: 'integer' },
      { name: 'type', type: 'string', optional: true },
    ],
    run: ({ machine }, args) => {
      const t = target(machine, args);
      const k = kinds(args.type, ['read']);
      const [start, end] = range(t, args.lba as number, args.count as number);
      const f = faultsOf(t);
      for (const kind of k) f.inject(kind, start, end);
      return {};
    },
  },
  {
    name: 'x-nvmemu-clear-media-errors',
    args: [
      ...idArgs,
      { name: 'lba', type: 'integer', optional: true },
      { name: 'count', type: 'integer', optional: true },
      { name: 'type', type: 'string', optional: true },
    ],
    run: ({ machine }, args) => {
      const t = target(machine, args);
      const k = kinds(args.type, ['read', 'write']);
      const nsze = Number(t.ns.sizeBlocks);
      const lba = args.lba as number | undefined;
      const count = args.count as number | undefined;
      const [start, end] =
        lba === undefined && count === undefined
          ? [0, nsze]
          : range(t, lba ?? 0, count ?? nsze - (lba ?? 0));
      const f = faultsOf(t);
      for (const kind of k) f.clear(kind, start, end);
      return {};
    },
  },
  {
    name: 'x-nvmemu-query-media-errors',
    args: idArgs,
    run: ({ machine }, args) => {
      const t = target(machine, args);
      const f = faultsOf(t);
      return (['read', 'write'] as const).flatMap((type) =>
        f.list(type).map((r) => ({ type, lba: r.start, count: r.end - r.start })),
      );
    },
  },
];
