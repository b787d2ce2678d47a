// Monitor commands for the PCI side of an nvme device (docs/sriov.md): the host-side steps of
// QEMU's SR-IOV procedure that a guest does through sysfs, for a machine served over
// NVMe/TCP where no guest owns the PCI function:
//   x-nvmemu-pci-reset {id, vf?}         echo 1 > /sys/bus/pci/devices/<PF or VF>/reset (FLR)
//   x-nvmemu-sriov-numvfs {id, numvfs}   echo N > /sys/bus/pci/devices/<PF>/sriov_numvfs
//   x-nvmemu-query-sriov {id}            TotalVFs, NumVFs and each VF's secondary controller
// Registered by the monitor with its other commands (index.ts ALL_COMMANDS).

import type { Component } from '../../machine/registry.js';
import { genericError } from '../errors.js';
import { findDevice } from './hotplug.js';
import type { MachineView, QmpCommand } from '../monitor.js';
import type { SecondaryCtrl } from '../../nvme/ctrl/virt.js';
import { Cfg, DEVCTL_FLR, type NvmePci } from '../../nvme/pci/index.js';

function pciOf(machine: MachineView, id: string): NvmePci {
  const e = findDevice(machine, id);
  const c: Component & { pci?: NvmePci } = e.component;
  if (c.pci === undefined) {
    throw genericError(`Device '${id}' (${e.plan.typeName}) is not an nvme PCI function`);
  }
  return c.pci;
}

function sriovOf(machine: MachineView, id: string): NonNullable<NvmePci['sriov']> {
  const p = pciOf(machine, id);
  if (p.sriov === undefined) throw genericError(`Device '${id}' has no SR-IOV (sriov_max_vfs=0)`);
  return p.sriov;
}

export const pciCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-pci-reset',
    args: [
      { name: 'id', type: 'string' },
      { name: 'vf', type: 'integer', optional: true },
    ],
    run: ({ machine }, args) => {
      const p = pciOf(machine, args.id as string);
      const vfn = args.vf as number | undefined;
      const f = vfn === undefined || vfn === 0 ? p.pf : p.sriov?.vf(vfn);
      if (f === undefined) throw genericError(`VF ${String(vfn)} is not enabled`);
      // What the kernel's reset attribute does for a function with FLR: Initiate FLR.
      f.cfgWrite(Cfg.PCIE + 8, 2, f.cfgRead(Cfg.PCIE + 8, 2) | DEVCTL_FLR);
      return {};
    },
  },
  {
    name: 'x-nvmemu-sriov-numvfs',
    args: [
      { name: 'id', type: 'string' },
      { name: 'numvfs', type: 'integer' },
    ],
    run: ({ machine }, args) => {
      const err = sriovOf(machine, args.id as string).setNumVfs(args.numvfs as number);
      if (err !== undefined) throw genericError(err);
      return {};
    },
  },
  {
    name: 'x-nvmemu-query-sriov',
    args: [{ name: 'id', type: 'string' }],
    run: ({ machine }, args) => {
      const s = sriovOf(machine, args.id as string);
      return {
        totalvfs: s.primary.secondaries.length,
        numvfs: s.vfs.length,
        vfs: s.vfs.map((vf) => {
          const sc = vf.ctrl.secondary as SecondaryCtrl;
          return { vfn: sc.vfn, cntlid: sc.scid, online: sc.online, nvq: sc.nvq, nvi: sc.nvi };
        }),
      };
    },
  },
];
