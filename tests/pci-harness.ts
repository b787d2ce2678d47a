// Shared setup for the PCI tests: an nvmemu PCI function on a PciHost with a driver attached,
// built from QEMU-style properties, and the same device in QEMU 7.2 through qtest.

import { spawnSync } from 'node:child_process';
import { Controller } from '../src/nvme/ctrl/controller.js';
import { defaultParams, type ControllerParams } from '../src/nvme/ctrl/params.js';
import type { SriovConfig } from '../src/nvme/ctrl/virt.js';
import { InProcessBus, NvmeDriver, QtestBus, type PlatformBus } from '../src/nvme/driver/index.js';
import { createNvmePci, PciHost, type NvmePci } from '../src/nvme/pci/index.js';
import type { NamespaceApi } from '../src/nvme/spec/namespace-api.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';

export interface Rig {
  readonly host: PciHost;
  readonly ctrl: Controller;
  readonly pci: NvmePci;
  readonly bus: InProcessBus;
}

export interface RigOptions {
  readonly params?: Partial<ControllerParams>;
  readonly legacyCmb?: boolean;
  readonly sriov?: SriovConfig;
  readonly namespaces?: readonly NamespaceApi[];
  readonly ramMb?: number;
}

export function rig(o: RigOptions = {}): Rig {
  const host = new PciHost(BigInt(o.ramMb ?? 256) << 20n);
  const subsys =
    o.sriov !== undefined
      ? new Subsystem(true, 'nqn.2019-08.org.qemu:subsys0')
      : new Subsystem(false, 'nqn.2019-08.org.qemu:deadbeef');
  const ctrl = new Controller(defaultParams('deadbeef', o.params), subsys);
  subsys.addController(ctrl);
  for (const ns of o.namespaces ?? []) subsys.addNamespace(ns, ctrl);
  const pci = createNvmePci(ctrl, host, {
    ...(o.legacyCmb !== undefined ? { legacyCmb: o.legacyCmb } : {}),
    ...(o.sriov !== undefined ? { sriov: o.sriov } : {}),
  });
  return { host, ctrl, pci, bus: new InProcessBus(host) };
}

/** A driver on the rig's PF (BAR0 at 0xE1000000, slot 1). */
export function attach(r: Rig, bar2?: bigint): Promise<NvmeDriver> {
  return NvmeDriver.attach(r.bus, { slot: r.pci.slot, ...(bar2 !== undefined ? { bar2 } : {}) });
}

const probe = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
const qemuVersion = probe.status === 0 ? /version (\d+\.\d+)/.exec(probe.stdout)?.[1] : undefined;

/** false, or why the QEMU differential tests are skipped. */
export const qemuSkip: string | false =
  qemuVersion === undefined
    ? 'qemu-system-x86_64 is not installed'
    : qemuVersion !== '7.2'
      ? `qemu-system-x86_64 is ${qemuVersion}, the reference is QEMU 7.2`
      : false;

export function qemu(
  devices: readonly string[],
  args: readonly string[] = [],
): Promise<PlatformBus> {
  return QtestBus.start({ devices, args });
}
