// SR-IOV of the PF (reference qemu-nvme.md §2.1, §10; PCIe 4.0 §9.3): the capability at 0x120
// (TotalVFs = InitialVFs = sriov_max_vfs, First VF Offset 1, Stride 1, VF device id = PF's,
// VF BAR0 sized for VQFRSM queues and VIFRSM vectors), and the VFs it creates.
//
// Setting VF Enable with NumVFs <= TotalVFs creates NumVFs functions, each a PCI function over
// a new controller that is the secondary controller of its VF number (cntlid reserved at
// configuration time) and a controller of the subsystem (shared namespaces attach). Clearing
// VF Enable removes them (their secondaries go offline). A PF function reset removes them too
// and NumVFs reads 0 (VF Enable keeps its value: measured on QEMU 7.2). The VF BAR0 of VF n
// sits at VF BAR0 + (n-1) * size while VF MSE is set.

import type { Controller } from '../ctrl/controller.js';
import { bindSecondary, type SecondaryCtrl, type SriovPrimary } from '../ctrl/virt.js';
import { Cfg, nvmeBarLayout, Sriov, SRIOV_VF_ENABLE, SRIOV_VF_MSE } from './config-space.js';
import { NvmePciFunction } from './function.js';

/** Creates and retires the controller behind a VF (index.ts: subsystem membership). */
export interface VfControllerFactory {
  create(s: SecondaryCtrl): Controller;
  remove(c: Controller): void;
}

export class SriovPf {
  readonly vfs: NvmePciFunction[] = [];
  readonly vfBar0Size: number;
  readonly #queues: number;
  readonly #vectors: number;

  constructor(
    readonly pf: NvmePciFunction,
    readonly primary: SriovPrimary,
    readonly factory: VfControllerFactory,
  ) {
    this.#queues = primary.vq.frsm;
    this.#vectors = primary.vi.frsm;
    this.vfBar0Size = nvmeBarLayout(this.#queues, this.#vectors).size;
    pf.onConfigWrite = (off) => {
      if (off <= Cfg.SRIOV + Sriov.CTRL + 1 && off + 4 > Cfg.SRIOV + Sriov.CTRL)
        this.#ctrlWritten();
    };
    pf.onFunctionReset = () => {
      this.#disable();
      const c = pf.config;
      c.bytes[Cfg.SRIOV + Sriov.NUM_VFS] = 0;
      c.bytes[Cfg.SRIOV + Sriov.NUM_VFS + 1] = 0;
    };
  }

  /** NumVFs as the capability holds it. */
  get numVfs(): number {
    return this.pf.config.u16(Cfg.SRIOV + Sriov.NUM_VFS);
  }

  #ctrl(): number {
    return this.pf.config.u16(Cfg.SRIOV + Sriov.CTRL);
  }

  /** pcie_sriov_config_write: VF Enable 0->1 registers NumVFs VFs, 1->0 removes them. */
  #ctrlWritten(): void {
    const vfe = (this.#ctrl() & SRIOV_VF_ENABLE) !== 0;
    if (this.vfs.length > 0) {
      if (!vfe) this.#disable();
      return;
    }
    if (!vfe) return;
    const n = this.numVfs;
    if (n > this.primary.secondaries.length) return;
    for (let i = 0; i < n; i++) this.#addVf(this.primary.secondaries[i]!);
    this.primary.enabledVfs = n;
  }

  #addVf(s: SecondaryCtrl): void {
    const ctrl = this.factory.create(s);
    bindSecondary(s, ctrl);
    const vfn = s.vfn;
    const vf = new NvmePciFunction({
      ctrl,
      memory: this.pf.memory,
      queues: this.#queues,
      vectors: this.#vectors,
      useIntelId: this.pf.config.u16(Cfg.SRIOV + Sriov.VF_DEVICE) === 0x5845,
      vfBar0: () => this.vfBar0(vfn),
    });
    // A new VF is not reset: CSTS reads 0 until its secondary goes offline (measured).
    this.vfs.push(vf);
  }

  /** unregister_vfs: secondaries offline, controllers removed. */
  #disable(): void {
    for (const vf of this.vfs.splice(0)) {
      const s = vf.ctrl.secondary as SecondaryCtrl;
      this.primary.setState(s, false);
      s.controller = undefined;
      this.factory.remove(vf.ctrl);
    }
    this.primary.enabledVfs = 0;
  }

  /**
   * What Linux does for `echo N > sriov_numvfs` (drivers/pci/iov.c): N > TotalVFs is ERANGE,
   * changing a non-zero count to another non-zero count is EBUSY, 0 disables (VF Enable and
   * VF MSE cleared, NumVFs 0), N programs NumVFs and sets VF Enable + VF MSE. Returns the
   * error text, or undefined on success.
   */
  setNumVfs(n: number): string | undefined {
    const total = this.primary.secondaries.length;
    const cur = this.vfs.length;
    if (!Number.isInteger(n) || n < 0 || n > total) return 'Numerical result out of range';
    if (n === cur) return undefined;
    if (n !== 0 && cur !== 0) {
      return `${cur} VFs already enabled. Disable before enabling ${n} VFs`;
    }
    const ctrl = Cfg.SRIOV + Sriov.CTRL;
    if (n === 0) {
      this.pf.cfgWrite(ctrl, 2, this.#ctrl() & ~(SRIOV_VF_ENABLE | SRIOV_VF_MSE));
      this.pf.cfgWrite(Cfg.SRIOV + Sriov.NUM_VFS, 2, 0);
      return undefined;
    }
    this.pf.cfgWrite(Cfg.SRIOV + Sriov.NUM_VFS, 2, n);
    this.pf.cfgWrite(ctrl, 2, this.#ctrl() | SRIOV_VF_ENABLE | SRIOV_VF_MSE);
    return undefined;
  }

  /** Where VF `vfn` (1-based) decodes its BAR0, or undefined. */
  vfBar0(vfn: number): bigint | undefined {
    if ((this.#ctrl() & SRIOV_VF_MSE) === 0) return undefined;
    const base = this.pf.config.bar64(Cfg.SRIOV + Sriov.VF_BAR0);
    if (base === 0n) return undefined;
    return base + BigInt((vfn - 1) * this.vfBar0Size);
  }

  /** The VF with number `vfn`, while enabled. */
  vf(vfn: number): NvmePciFunction | undefined {
    return this.vfs.find((v) => (v.ctrl.secondary as SecondaryCtrl).vfn === vfn);
  }
}
