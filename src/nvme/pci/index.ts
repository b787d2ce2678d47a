// The PCI front end of nvmemu's NVMe controller (docs/pci.md, docs/sriov.md): build a PF over
// a Controller, plug it into a PciHost (bus 0 + guest RAM), with CMB and SR-IOV as configured.

import { Controller } from '../ctrl/controller.js';
import { SriovPrimary, type SecondaryCtrl, type SriovConfig } from '../ctrl/virt.js';
import { nvmeBarLayout } from './config-space.js';
import { NvmePciFunction } from './function.js';
import { PciHost } from './host.js';
import { SriovPf } from './sriov.js';

export { PciHost, type AccessSize } from './host.js';
export { NvmePciFunction, type BarIndex, type NvmePciOptions } from './function.js';
export { PcieController, LOCAL_MEMORY } from './pcie-controller.js';
export { Host, type EnableOptions } from './local-host.js';
export { GuestMemory } from './guest-memory.js';
export { SriovPf } from './sriov.js';
export {
  Cfg,
  DEVCTL_FLR,
  Sriov,
  buildNvmeConfig,
  nvmeBarLayout,
  PciConfig,
} from './config-space.js';
export type { MsiMessage } from './msix.js';
export { mapPrp, mapSgl, mapDptr, mapMptr, type DmaSpace, type Segment } from './dma.js';

export interface NvmePciSetup {
  readonly useIntelId?: boolean;
  readonly cmbSizeMb?: number;
  readonly legacyCmb?: boolean;
  /** SR-IOV properties; requires the controller to be in an explicit subsystem. */
  readonly sriov?: SriovConfig;
  /** cntlids reserved for the secondaries (default: the next free ones after the PF's). */
  readonly scids?: readonly number[];
  /** PCI slot on the host (default: the first free from 1). */
  readonly slot?: number;
}

export interface NvmePci {
  readonly pf: NvmePciFunction;
  readonly sriov: SriovPf | undefined;
  readonly primary: SriovPrimary | undefined;
  readonly slot: number;
}

/** Secondary cntlids: the first `n` free ids after `after` in the subsystem (QEMU's order). */
export function reserveScids(ctrl: Controller, n: number): number[] {
  const out: number[] = [];
  for (let id = ctrl.cntlid + 1; id < 0xfff0 && out.length < n; id++) {
    if (!ctrl.subsys.controllers.has(id)) out.push(id);
  }
  return out;
}

/** Builds the PF of `ctrl` (and its SR-IOV), plugged into `host`. */
export function createNvmePci(ctrl: Controller, host: PciHost, o: NvmePciSetup = {}): NvmePci {
  const p = ctrl.baseParams;
  let primary: SriovPrimary | undefined;
  if (o.sriov !== undefined && o.sriov.maxVfs > 0) {
    primary = new SriovPrimary(ctrl, o.sriov, o.scids ?? reserveScids(ctrl, o.sriov.maxVfs));
  }
  const pf = new NvmePciFunction({
    ctrl,
    memory: host.memory,
    queues: p.maxIoqpairs + 1,
    vectors: p.msixQsize,
    useIntelId: o.useIntelId ?? p.useIntelId,
    cmbSizeMb: o.cmbSizeMb ?? p.cmbSizeMb,
    legacyCmb: o.legacyCmb ?? false,
    ...(primary !== undefined
      ? {
          sriov: {
            maxVfs: primary.secondaries.length,
            // The PF's layout rule for VQFRSM queues and VIFRSM vectors.
            vfBar0Size: nvmeBarLayout(primary.vq.frsm, primary.vi.frsm).size,
          },
        }
      : {}),
  });
  let sriov: SriovPf | undefined;
  if (primary !== undefined) {
    sriov = new SriovPf(pf, primary, {
      create: (s: SecondaryCtrl) => {
        const c = new Controller({ ...p, cntlid: s.scid }, ctrl.subsys);
        ctrl.subsys.addController(c);
        return c;
      },
      remove: (c) => {
        c.remove();
        ctrl.subsys.removeController(c.cntlid);
      },
    });
  }
  const slot = host.plug(pf, sriov, o.slot);
  return { pf, sriov, primary, slot };
}
