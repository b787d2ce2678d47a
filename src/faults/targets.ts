// Finding what a fault names in a machine: controllers (with SR-IOV secondaries), namespaces,
// pmem devices. Only public accessors of the devices are used.

import type { Component } from '../machine/registry.js';
import { NvmeDevice } from '../nvme/index.js';
import type { Controller } from '../nvme/ctrl/controller.js';
import { Namespace } from '../nvme/ns/namespace.js';
import { FaultSpecError } from './catalogue.js';

/** What the injector needs of a machine (Machine, or the monitor's MachineView). */
export interface FaultMachine {
  components(): readonly Component[];
}

export function nvmeDevices(m: FaultMachine): NvmeDevice[] {
  return m.components().filter((c): c is NvmeDevice => c instanceof NvmeDevice);
}

/** Every controller of the machine: physical functions, then online secondaries. */
export function allControllers(m: FaultMachine): Controller[] {
  return nvmeDevices(m).flatMap((d) => [d.controller, ...d.secondaryControllers()]);
}

/** Every namespace of the machine (nvme-ns devices and legacy `drive=` namespaces). */
export function allNamespaces(m: FaultMachine): Namespace[] {
  const out = new Set<Namespace>();
  for (const c of m.components()) if (c instanceof Namespace) out.add(c);
  for (const d of nvmeDevices(m)) {
    if (d.legacyNamespace instanceof Namespace) out.add(d.legacyNamespace);
  }
  return [...out];
}

export function findComponent(m: FaultMachine, id: string): Component {
  const c = m.components().find((x) => x.id === id);
  if (c === undefined) throw new FaultSpecError(`Device '${id}' not found`);
  return c;
}

/** The NVMe scope a fault names: controllers (undefined = any) and a namespace. */
export interface NvmeScope {
  readonly ctrls: ReadonlySet<Controller> | undefined;
  readonly ns: Namespace | undefined;
  readonly nsid: number | undefined;
  readonly device: string | undefined;
}

export function nvmeScope(m: FaultMachine, id: string | undefined, nsid?: number): NvmeScope {
  if (id === undefined) return { ctrls: undefined, ns: undefined, nsid, device: undefined };
  const c = findComponent(m, id);
  if (c instanceof NvmeDevice) {
    const ctrl = c.controller;
    let ns: Namespace | undefined;
    if (nsid !== undefined) {
      const n = ctrl.subsys.namespaces.get(nsid);
      if (!(n instanceof Namespace)) {
        throw new FaultSpecError(`Namespace ${nsid} not found on controller '${id}'`);
      }
      ns = n;
    } else if (c.legacyNamespace instanceof Namespace) {
      ns = c.legacyNamespace;
    }
    return { ctrls: new Set([ctrl]), ns, nsid: ns?.nsid ?? nsid, device: id };
  }
  if (c instanceof Namespace) {
    if (nsid !== undefined && nsid !== c.nsid) {
      throw new FaultSpecError(`Device '${id}' is namespace ${c.nsid}, not ${nsid}`);
    }
    return { ctrls: undefined, ns: c, nsid: c.nsid, device: id };
  }
  throw new FaultSpecError(`Device '${id}' (${c.typeName}) is not an NVMe controller or namespace`);
}

/** Controllers a scope covers: its own, or every controller the namespace is attached to. */
export function scopeControllers(m: FaultMachine, s: NvmeScope): Controller[] {
  const all = s.ctrls !== undefined ? [...s.ctrls] : allControllers(m);
  if (s.ns === undefined) return all;
  return all.filter((c) => c.namespaces.get(s.ns!.nsid) === s.ns);
}
