// NVMe device types for the machine registry (`nvme`, `nvme-subsys`, `nvme-ns`) and the
// in-process API (openController) for tests and embedding.

import type {
  Component,
  ComponentType,
  MachineSettings,
  Planned,
  RealizeContext,
} from '../machine/registry.js';
import { createNvmePci, PciHost, type NvmePci } from './pci/index.js';
import { registerType } from '../machine/registry.js';
import type { NamespaceApi } from './spec/namespace-api.js';
import { checkNvme, NVME_SCHEMA, paramsFromConfig, type NvmeCtrlConfig } from './ctrl/config.js';
import { Controller } from './ctrl/controller.js';
import { Host, type EnableOptions } from './pci/local-host.js';
import { defaultParams, type ControllerParams } from './ctrl/params.js';
import {
  checkNvmeSubsys,
  MAX_CONTROLLERS,
  NVME_SUBSYS_SCHEMA,
  type NvmeSubsysConfig,
} from './subsys/config.js';
import type { SubsysFabricsConfig } from './subsys/fabrics-config.js';
import { Subsystem } from './subsys/subsystem.js';
import type { NvmeNsConfig } from './ns/config.js';
import { nvmeNsType } from './ns/device.js';
import { enduranceGroupFor } from './ns/fdp/group.js';
import { saveDeviceState, SmartPersistence } from './persist/smart-state.js';
import { FdpPersistence, saveFdpStateOf } from './persist/fdp-state.js';
import { fileSafe } from './persist/state-file.js';
import { FileResvStore, resvStateFile } from './persist/resv-file.js';
import { Namespace } from './ns/namespace.js';
import { ManagedNamespaces } from './subsys/ns-mgmt.js';
import { join } from 'node:path';
import { ConfigError } from '../config/errors.js';

export { Controller } from './ctrl/controller.js';
export { Host } from './pci/local-host.js';
export { PcieController } from './pci/pcie-controller.js';
export { Subsystem } from './subsys/subsystem.js';
export { defaultParams, type ControllerParams, type Clock } from './ctrl/params.js';

/**
 * A realized `-device nvme`: the controller, its PCI function (with SR-IOV VFs when
 * configured; docs/pci.md, docs/sriov.md), and its legacy namespace if `drive=` was given.
 */
export class NvmeDevice implements Component {
  readonly typeName = 'nvme';
  constructor(
    readonly id: string | undefined,
    readonly controller: Controller,
    readonly legacyNamespace: (NamespaceApi & Component) | undefined,
    readonly pci?: NvmePci,
    readonly pciHost?: PciHost,
  ) {}

  /** Controllers of this device's online VFs (secondary controllers), in VF order. */
  secondaryControllers(): Controller[] {
    return (this.pci?.sriov?.vfs ?? [])
      .map((vf) => vf.ctrl)
      .filter((c) => c.secondary?.online === true);
  }

  describe(): string {
    const c = this.controller;
    return `nvme ${this.id ?? ''} serial ${c.params.serial} cntlid ${c.cntlid} (${c.subsys.subnqn})`.replace(
      '  ',
      ' ',
    );
  }

  async close(): Promise<void> {
    if (this.pci !== undefined) {
      this.pci.pf.functionLevelReset();
      this.pciHost?.unplug(this.pci.pf);
    }
    // Persisted device state is saved before the controller lets go of its namespaces.
    saveDeviceState(this.controller, false);
    // Hosts see the path go (an NVMe/TCP association ends); nothing can bind it again.
    this.controller.remove();
    this.controller.subsys.removeController(this.controller.cntlid);
    await this.legacyNamespace?.close();
  }
}

/** A realized `-device nvme-subsys`. */
export class NvmeSubsysDevice implements Component {
  readonly typeName = 'nvme-subsys';
  constructor(
    readonly id: string | undefined,
    readonly subsystem: Subsystem,
    /** `x-hosts` / `x-auth` (subsys/fabrics-config.ts), read by the NVMe/TCP target. */
    readonly fabrics?: SubsysFabricsConfig,
    /** Namespace Management (`nvm-capacity`), with the namespaces it created. */
    readonly managed?: ManagedNamespaces,
  ) {}

  describe(): string {
    const s = this.subsystem;
    const parts = [`nvme-subsys${this.id !== undefined ? ` '${this.id}'` : ''}`];
    const r = s.cntlids;
    if (r !== undefined && (r.min !== 0 || r.max !== MAX_CONTROLLERS - 1)) {
      parts.push(`controller IDs ${r.min}-${r.max}`);
    }
    if (s.capacity !== undefined) {
      const created = this.managed?.list().map((ns) => ns.nsid) ?? [];
      parts.push(
        `Namespace Management ${s.capacity.unallocated} of ${s.capacity.total} bytes free` +
          (created.length > 0 ? `, created nsid ${created.join(',')}` : ''),
      );
    }
    return parts.join(', ');
  }

  async close(): Promise<void> {
    saveFdpStateOf(this.subsystem);
    await this.managed?.close();
  }
}

/** One PCI host (bus 0 + guest RAM of `-m`) per machine, shared by its nvme devices. */
const pciHosts = new WeakMap<MachineSettings, PciHost>();

export function machinePciHost(settings: MachineSettings): PciHost {
  let h = pciHosts.get(settings);
  if (h === undefined) {
    h = new PciHost(settings.ramSize);
    pciHosts.set(settings, h);
  }
  return h;
}

/** Realized devices by their plan's config object (plans without id are found this way). */
const byConfig = new WeakMap<object, NvmeDevice | NvmeSubsysDevice>();

function isNamespace(c: Component): c is NamespaceApi & Component {
  return 'execute' in c && 'nsid' in c;
}

export const nvmeSubsysType: ComponentType = {
  kind: 'device',
  multiProcess: true,
  schema: NVME_SUBSYS_SCHEMA,
  description: 'Virtual NVMe subsystem',
  hotpluggable: false,
  check: (props, id, ctx) => checkNvmeSubsys(props, id, ctx),
  async realize(plan: Planned, ctx: RealizeContext): Promise<Component> {
    const cfg = plan.config as NvmeSubsysConfig;
    const subsys = new Subsystem(true, cfg.subnqn);
    subsys.cntlids = cfg.cntlids;
    // The endurance group exists with the subsystem (keyed by its plan configuration, as the
    // namespaces' placement plans are), so fdp=on reads as enabled before any namespace.
    // With x-persist-fdp=on its state is kept in the data folder (nvme/persist/fdp-state.ts),
    // loaded before the namespaces claim their handles.
    if (cfg.fdp !== undefined) {
      subsys.fdp = enduranceGroupFor(cfg, cfg.fdp);
    }
    if (cfg.fdp !== undefined && cfg.persistFdp === true) {
      const file = join(ctx.dataDir, 'nvme', `${fileSafe(cfg.id ?? cfg.nqn)}.fdp`);
      FdpPersistence.attach(subsys, enduranceGroupFor(cfg, cfg.fdp), file);
    }
    const mgmt =
      cfg.nvmCapacity > 0n
        ? await ManagedNamespaces.open(subsys, ctx.dataDir, cfg.nvmCapacity)
        : undefined;
    const dev = new NvmeSubsysDevice(plan.id, subsys, cfg.fabrics, mgmt);
    byConfig.set(cfg, dev);
    return dev;
  },
};

export const nvmeType: ComponentType = {
  kind: 'device',
  multiProcess: true,
  schema: NVME_SCHEMA,
  bus: 'PCI',
  description: 'Non-Volatile Memory Express',
  hotpluggable: true,
  check: checkNvme,
  async realize(plan: Planned, ctx: RealizeContext): Promise<Component> {
    const cfg = plan.config as NvmeCtrlConfig;
    let subsys: Subsystem;
    if (cfg.subsys !== undefined) {
      const s = byConfig.get(cfg.subsys.config as object);
      if (!(s instanceof NvmeSubsysDevice))
        throw new Error(`nvme: subsystem of ${plan.location} not realized`);
      subsys = s.subsystem;
    } else {
      subsys = new Subsystem(false, `nqn.2019-08.org.qemu:${cfg.serial}`);
    }
    const ctrl = new Controller(paramsFromConfig(cfg), subsys);
    if (cfg.smartStateFile !== undefined) SmartPersistence.attach(ctrl, cfg.smartStateFile);
    ctrl.onDurable = () => saveDeviceState(ctrl, true);
    subsys.addController(ctrl);
    ctx.onRollback(() => subsys.removeController(ctrl.cntlid));
    const host = machinePciHost(ctx.settings);
    const pci = createNvmePci(ctrl, host, {
      legacyCmb: cfg.legacyCmb,
      ...(cfg.sriov !== undefined ? { sriov: cfg.sriov, scids: cfg.sriov.scids } : {}),
    });
    ctx.onRollback(() => host.unplug(pci.pf));
    let legacy: (NamespaceApi & Component) | undefined;
    if (cfg.legacyNs !== undefined) {
      const ns = await nvmeNsType.realize(
        { ...plan, typeName: 'nvme-ns', config: cfg.legacyNs },
        ctx,
      );
      if (!isNamespace(ns)) throw new Error('nvme: legacy namespace is not a NamespaceApi');
      ctx.onRollback(() => ns.close());
      shareReservations(ns, subsys, ctx.dataDir);
      subsys.addNamespace(ns, ctrl);
      legacy = ns;
    }
    const dev = new NvmeDevice(plan.id, ctrl, legacy, pci, host);
    byConfig.set(cfg, dev);
    return dev;
  },
};

/**
 * The namespace's reservations move to their state file in the data folder, which every
 * nvmemu process serving the subsystem shares (nvme/persist/resv-file.ts): a fence holds on
 * every path, and PTPL survives restarts and power cuts.
 */
function shareReservations(ns: NamespaceApi, subsys: Subsystem, dataDir: string): void {
  if (!(ns instanceof Namespace)) return;
  ns.reservations.use(new FileResvStore(resvStateFile(dataDir, subsys.subnqn, ns.nsid)));
}

/** The subsystem each realized nvme-ns was added to (for device_del). */
const nsSubsystem = new WeakMap<Component, Subsystem>();

/**
 * nvme-ns: the namespace engineer's type, plus attachment to its controller/subsystem.
 * nvmemu extension: plugged into a running machine (device_add; QEMU 7.2's nvme bus has no
 * hotplug handler and refuses), it attaches like a boot-time namespace and every controller it
 * attaches to records it in the Changed Namespace List and raises the Notice AER; device_del
 * detaches it the same way.
 */
export const nvmeNsAttachedType: ComponentType = {
  ...nvmeNsType,
  multiProcess: true,
  check: (props, id, ctx) => {
    const cfg = nvmeNsType.check(props, id, ctx) as NvmeNsConfig;
    return ctx.hotplug === true ? { ...cfg, hotplugged: true } : cfg;
  },
  async realize(plan: Planned, ctx: RealizeContext): Promise<Component> {
    const cfg = plan.config as NvmeNsConfig & { hotplugged?: boolean };
    const dev = byConfig.get(cfg.controller.config as object);
    if (!(dev instanceof NvmeDevice))
      throw new Error(`nvme-ns: controller of ${plan.location} not realized`);
    const ns = await nvmeNsType.realize(plan, ctx);
    if (!isNamespace(ns)) throw new Error('nvme-ns: realized component is not a NamespaceApi');
    ctx.onRollback(() => ns.close());
    const subsys = dev.controller.subsys;
    // A namespace Namespace Management created may hold the NSID (nsid=0 picked it at plan).
    if (subsys.namespaces.has(ns.nsid)) {
      throw new ConfigError(`namespace id '${ns.nsid}' already allocated`, 'nsid');
    }
    shareReservations(ns, subsys, ctx.dataDir);
    subsys.addNamespace(ns, dev.controller, cfg.hotplugged === true);
    nsSubsystem.set(ns, subsys);
    return ns;
  },
  unplug(component: Component): void {
    if (isNamespace(component)) nsSubsystem.get(component)?.removeNamespace(component.nsid);
  },
  // The namespace sits on its controller's nvme-bus (QEMU 7.2, also when it is shared in a
  // subsystem): device_del of the controller takes it along.
  parentOf: (config) => (config as NvmeNsConfig).controller,
};

let registered = false;

/** Registers nvme, nvme-subsys and nvme-ns (idempotent). */
export function registerNvmeTypes(): void {
  if (registered) return;
  registered = true;
  registerType(nvmeType);
  registerType(nvmeSubsysType);
  registerType(nvmeNsAttachedType);
}

export interface OpenControllerOptions {
  readonly serial?: string;
  readonly params?: Partial<ControllerParams>;
  /** Namespaces to add (attached per their shared/detached flags). */
  readonly namespaces?: readonly NamespaceApi[];
  /** Join this subsystem (explicit); default: a private implicit one. */
  readonly subsystem?: Subsystem;
  /** Enable the controller (AQA/ASQ/ACQ + CC.EN) with these options; false leaves it off. */
  readonly enable?: EnableOptions | false;
}

/** In-process controller + host, without a machine (tests, embedding). */
export function openController(opts: OpenControllerOptions = {}): {
  controller: Controller;
  host: Host;
} {
  const serial = opts.serial ?? 'nvmemu';
  const subsys = opts.subsystem ?? new Subsystem(false, `nqn.2019-08.org.qemu:${serial}`);
  const controller = new Controller(defaultParams(serial, opts.params), subsys);
  subsys.addController(controller);
  for (const ns of opts.namespaces ?? []) subsys.addNamespace(ns, controller);
  const host = new Host(controller);
  if (opts.enable !== false) host.enable(opts.enable ?? {});
  return { controller, host };
}
