// The machine's NVM subsystems as the NVMe/TCP target serves them (issue 4): the `-device nvme`
// controllers grouped by SUBNQN, as QEMU builds the topology; each controller keeps its fixed
// cntlid; a controller without `subsys=` is alone in its implicit subsystem. The list is read
// from the machine at every Connect and discovery, so a controller plugged with device_add is
// reachable at once, one unplugged with device_del is gone (its associations ended when it was
// removed), and after a power cut the new machine's controllers are served.

//
// A subsystem's `x-hosts` (nvme/subsys/fabrics-config.ts) names `x-nvmemu-host` objects: their
// NQNs are the allowed hosts and their keys the hosts' DH-HMAC-CHAP secrets and TLS PSKs.

import type { Component } from '../../machine/registry.js';
import { NvmeDevice, NvmeSubsysDevice } from '../../nvme/index.js';
import type { Controller } from '../../nvme/ctrl/controller.js';
import { FabricsHost } from '../config/host-object.js';
import type { FabricsSubsystem, HostSecurity, SubsystemSource } from './backend.js';

/** What the target reads of a machine (a Machine, or the monitor's MachineSwitch). */
export interface MachineView {
  components(): readonly Component[];
}

/** The subsystems of `machine` now, and a warning per controller that cannot be served. */
function collect(
  machine: MachineView,
  allowedHosts: ReadonlyMap<string, readonly string[]>,
): { subsystems: FabricsSubsystem[]; warnings: string[] } {
  const groups = new Map<string, { subsys: object; devs: NvmeDevice[] }>();
  const warnings: string[] = [];
  for (const comp of machine.components()) {
    if (!(comp instanceof NvmeDevice)) continue;
    const nqn = comp.controller.subsys.subnqn;
    const g = groups.get(nqn);
    if (g === undefined) groups.set(nqn, { subsys: comp.controller.subsys, devs: [comp] });
    else if (g.subsys === comp.controller.subsys) g.devs.push(comp);
    // Two implicit subsystems with one serial share a SUBNQN in QEMU too; only the first is
    // reachable over fabrics.
    else warnings.push(`nvme ${comp.id ?? ''}: SUBNQN ${nqn} already served; not exported`);
  }
  const subsystems = [...groups.entries()].map(([nqn, g]): FabricsSubsystem => {
    const access = hostsOf(machine, g.subsys);
    return {
      nqn,
      kind: 'nvm' as const,
      // SR-IOV: an online VF's secondary controller is a controller of the subsystem too.
      controllers: (): Controller[] =>
        g.devs
          .flatMap((d) => [d.controller, ...d.secondaryControllers()])
          .filter((c) => !c.removed)
          .sort((a, b) => a.cntlid - b.cntlid),
      allowedHosts:
        allowedHosts.get(nqn) ??
        (access.hosts === undefined ? undefined : [...access.hosts.keys()]),
      hosts: access.hosts,
      auth: access.auth,
    };
  });
  return { subsystems, warnings };
}

/** The hosts a subsystem lists (`x-hosts`) by NQN, and its `x-auth`. */
function hostsOf(machine: MachineView, subsys: object): Pick<FabricsSubsystem, 'hosts' | 'auth'> {
  const all = machine.components();
  const dev = all.find((c) => c instanceof NvmeSubsysDevice && c.subsystem === subsys) as
    NvmeSubsysDevice | undefined;
  const cfg = dev?.fabrics;
  if (cfg === undefined) return { hosts: undefined, auth: undefined };
  if (cfg.hosts === undefined) return { hosts: undefined, auth: cfg.auth };
  const hosts = new Map<string, HostSecurity>();
  for (const id of cfg.hosts) {
    const h = all.find((c) => c instanceof FabricsHost && c.id === id) as FabricsHost | undefined;
    if (h !== undefined) hosts.set(h.nqn, h);
  }
  return { hosts, auth: cfg.auth };
}

/** A live source of `machine`'s NVM subsystems, and the warnings of its current topology. */
export function machineSubsystems(
  machine: MachineView,
  allowedHosts: ReadonlyMap<string, readonly string[]> = new Map(),
): { source: SubsystemSource; warnings: string[] } {
  return {
    source: () => collect(machine, allowedHosts).subsystems,
    warnings: collect(machine, allowedHosts).warnings,
  };
}
