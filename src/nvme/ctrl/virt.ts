// SR-IOV resources of a primary controller and Virtualization Management (reference
// qemu-nvme.md §10; NVMe Base Spec 2.0 §8.5 Virtualization Enhancements, Figure 279/280/281,
// §5.22): flexible queue (VQ) and interrupt (VI) resources, the secondary controllers (one per
// VF), Primary Controller Capabilities (Identify CNS 14h) and the Secondary Controller List
// (CNS 15h), with QEMU 7.2's rules and statuses:
//  - ACT 1 Primary Flexible Allocation: CNTLID must be the primary's (0x11f); NR > flexible
//    total 0x121; NR > total - assigned to secondaries 0x122; effective at the next function
//    reset (FLR), not at a controller reset.
//  - ACT 8 Secondary Assign: unknown secondary 0x11f; online 0x120; NR > per-VF maximum 0x121;
//    NR - current > free 0x122.
//  - ACT 9 Secondary Online: NVI >= 1, NVQ >= 2 and the VF enabled, else 0x120; resets the VF.
//  - ACT 7 Secondary Offline: returns its resources, resets the VF. Other ACT 0x002, RT 0x122.
// All statuses carry DNR. [7.2] VQRFAP/VIRFAP are 0 at boot (newer QEMU starts at the total).

import { writeU16le, writeU32le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import type { ControllerState, ResetKind } from './state.js';

export const ID_SIZE = 4096;

/** The SR-IOV properties of `-device nvme` (reference §1.1), checked by ctrl/config.ts. */
export interface SriovConfig {
  readonly maxVfs: number;
  readonly vqFlexible: number;
  readonly viFlexible: number;
  /** 0 = vqFlexible / maxVfs. */
  readonly maxVqPerVf: number;
  readonly maxViPerVf: number;
}

/** One Secondary Controller Entry (Figure 281). `online` is SCS bit 0. */
export class SecondaryCtrl {
  online = false;
  nvq = 0;
  nvi = 0;
  /** The VF's controller while the VF is enabled. */
  controller: ControllerState | undefined;
  constructor(
    readonly scid: number,
    readonly pcid: number,
    /** Virtual Function Number, 1-based. */
    readonly vfn: number,
  ) {}

  /** Configured I/O queue pairs and vectors of the VF (QEMU conf_ioqpairs/conf_msix_qsize). */
  get ioqpairs(): number {
    return this.nvq > 0 ? this.nvq - 1 : 0;
  }
  get vectors(): number {
    return this.nvi > 0 ? this.nvi : 1;
  }
}

const RT_VQ = 0;
const RT_VI = 1;

export const VirtAct = {
  PRIMARY_ALLOC: 0x1,
  SECONDARY_OFFLINE: 0x7,
  SECONDARY_ASSIGN: 0x8,
  SECONDARY_ONLINE: 0x9,
} as const;

/** Flexible resources of one type (VQ or VI). */
interface Pool {
  /** Private resources of the primary (VQPRT/VIPRT). */
  readonly prt: number;
  /** Flexible total (VQFRT/VIFRT). */
  readonly frt: number;
  /** Flexible allocated to the primary now (VQRFAP/VIRFAP) and at the next function reset. */
  rfap: number;
  nextRfap: number;
  /** Per-secondary maximum (VQFRSM/VIFRSM). */
  readonly frsm: number;
}

/** SR-IOV state of a primary controller (QEMU pri_ctrl_cap + sec_ctrl_list). */
export class SriovPrimary {
  readonly vq: Pool;
  readonly vi: Pool;
  readonly secondaries: readonly SecondaryCtrl[];
  /** VFs enabled through the SR-IOV capability (NumVFs with VF Enable). */
  enabledVfs = 0;

  constructor(
    readonly ctrl: ControllerState,
    readonly cfg: SriovConfig,
    /** cntlids reserved for the secondaries, in VF order. */
    scids: readonly number[],
  ) {
    const p = ctrl.baseParams;
    const vfs = Math.max(cfg.maxVfs, 1);
    this.vq = {
      prt: 1 + p.maxIoqpairs - cfg.vqFlexible,
      frt: cfg.vqFlexible,
      rfap: 0,
      nextRfap: 0,
      frsm: cfg.maxVqPerVf !== 0 ? cfg.maxVqPerVf : Math.floor(cfg.vqFlexible / vfs),
    };
    this.vi = {
      prt: p.msixQsize - cfg.viFlexible,
      frt: cfg.viFlexible,
      rfap: 0,
      nextRfap: 0,
      frsm: cfg.maxViPerVf !== 0 ? cfg.maxViPerVf : Math.floor(cfg.viFlexible / vfs),
    };
    this.secondaries = scids.map((scid, i) => new SecondaryCtrl(scid, ctrl.cntlid, i + 1));
    primaries.set(ctrl, this);
    ctrl.onReset = (kind, viaPci) => this.#onReset(kind, viaPci);
    this.#activate();
  }

  /** Flexible resources assigned to secondaries (VQRFA/VIRFA). */
  assigned(rt: number): number {
    let n = 0;
    for (const s of this.secondaries) n += rt === RT_VQ ? s.nvq : s.nvi;
    return n;
  }

  secondary(cntlid: number): SecondaryCtrl | undefined {
    return this.secondaries.find((s) => s.scid === cntlid);
  }

  /** nvme_activate_virt_res for the primary: conf = private + allocated flexible. */
  #activate(): void {
    this.vq.rfap = this.vq.nextRfap;
    this.vi.rfap = this.vi.nextRfap;
    this.ctrl.setResources(this.vq.prt + this.vq.rfap - 1, this.vi.prt + this.vi.rfap);
  }

  /**
   * nvme_ctrl_reset on the PF: every secondary offline; a function reset applies ACT 1. Only
   * resets of the PCI function do this: an NVMe/TCP association ending (or the in-process
   * host) resets the controller's queues, not the VFs its PCI owner configured.
   */
  #onReset(kind: ResetKind, viaPci: boolean): void {
    if (!viaPci) return;
    for (const s of this.secondaries) this.setState(s, false);
    if (kind === 'function') this.#activate();
  }

  /** nvme_virt_set_state. */
  setState(s: SecondaryCtrl, online: boolean): number {
    if (online) {
      if (s.nvi === 0 || s.nvq < 2 || s.controller === undefined) {
        return withDnr(Status.INVALID_SEC_CTRL_STATE);
      }
      if (!s.online) {
        s.online = true;
        resetSecondary(s);
      }
      return 0;
    }
    s.nvi = 0;
    s.nvq = 0;
    if (s.online) {
      s.online = false;
      resetSecondary(s);
    }
    return 0;
  }

  /** ACT 1. */
  assignPrimary(cntlid: number, rt: number, nr: number): number {
    if (cntlid !== this.ctrl.cntlid) return withDnr(Status.INVALID_CTRL_ID);
    const pool = rt === RT_VQ ? this.vq : this.vi;
    if (nr > pool.frt) return withDnr(Status.INVALID_NUM_RESOURCES);
    if (nr > pool.frt - this.assigned(rt)) return withDnr(Status.INVALID_RESOURCE_ID);
    pool.nextRfap = nr;
    return 0;
  }

  /** ACT 8. */
  assignSecondary(cntlid: number, rt: number, nr: number): number {
    const s = this.secondary(cntlid);
    if (s === undefined) return withDnr(Status.INVALID_CTRL_ID);
    if (s.online) return withDnr(Status.INVALID_SEC_CTRL_STATE);
    const pool = rt === RT_VQ ? this.vq : this.vi;
    if (nr > pool.frsm) return withDnr(Status.INVALID_NUM_RESOURCES);
    const free = pool.frt - pool.rfap - this.assigned(rt);
    const diff = nr - (rt === RT_VQ ? s.nvq : s.nvi);
    if (diff > free) return withDnr(Status.INVALID_RESOURCE_ID);
    if (rt === RT_VQ) s.nvq = nr;
    else s.nvi = nr;
    return 0;
  }
}

/** A VF controller's function reset: its resources take effect, then the controller resets. */
function resetSecondary(s: SecondaryCtrl): void {
  const c = s.controller;
  if (c === undefined) return;
  c.reset('function');
}

const primaries = new WeakMap<ControllerState, SriovPrimary>();

export function primaryOf(c: ControllerState): SriovPrimary | undefined {
  return primaries.get(c);
}

/** Makes `c` the controller of secondary `s` (a VF was enabled). */
export function bindSecondary(s: SecondaryCtrl, c: ControllerState): void {
  s.controller = c;
  c.secondary = s;
  // nvme_activate_virt_res: a VF's resources change at a function reset only.
  c.onReset = (kind) => {
    if (kind === 'function') c.setResources(s.ioqpairs, s.vectors);
  };
  c.setResources(s.ioqpairs, s.vectors);
}

/** Virtualization Management (admin 1Ch). */
export function virtMgmt(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11 } = ctx.cmd;
  const act = cdw10 & 0xf;
  const rt = (cdw10 >>> 8) & 0x7;
  const cntlid = cdw10 >>> 16;
  const nr = cdw11 & 0xffff;
  if (rt !== RT_VQ && rt !== RT_VI) return { status: withDnr(Status.INVALID_RESOURCE_ID) };
  const prim = primaryOf(c);
  const done = (st: number): Completion => (st === 0 ? { status: 0, dw0: nr } : { status: st });
  switch (act) {
    case VirtAct.PRIMARY_ALLOC:
      if (prim === undefined) {
        // No flexible resources (no SR-IOV, or a VF): 0 is the only valid NR.
        if (cntlid !== c.cntlid) return done(withDnr(Status.INVALID_CTRL_ID));
        return done(nr > 0 ? withDnr(Status.INVALID_NUM_RESOURCES) : 0);
      }
      return done(prim.assignPrimary(cntlid, rt, nr));
    case VirtAct.SECONDARY_ASSIGN:
      return done(prim?.assignSecondary(cntlid, rt, nr) ?? withDnr(Status.INVALID_CTRL_ID));
    case VirtAct.SECONDARY_ONLINE:
    case VirtAct.SECONDARY_OFFLINE: {
      const s = prim?.secondary(cntlid);
      if (prim === undefined || s === undefined) return { status: withDnr(Status.INVALID_CTRL_ID) };
      const st = prim.setState(s, act === VirtAct.SECONDARY_ONLINE);
      return st === 0 ? { status: 0 } : { status: st };
    }
    default:
      return { status: withDnr(Status.INVALID_FIELD) };
  }
}

/** Identify CNS 14h, Primary Controller Capabilities (Figure 280). */
export function primaryCtrlCaps(c: ControllerState): Uint8Array {
  const buf = new Uint8Array(ID_SIZE);
  writeU16le(buf, 0, c.cntlid);
  buf[4] = 0x3; // CRT: VQ and VI resources
  const prim = primaryOf(c);
  const s = c.secondary;
  if (s instanceof SecondaryCtrl) {
    // A VF: its private resources are what it was assigned.
    writeU16le(buf, 42, s.nvq);
    writeU16le(buf, 74, s.nvi);
    return buf;
  }
  if (prim === undefined) {
    writeU16le(buf, 42, 1 + c.baseParams.maxIoqpairs);
    writeU16le(buf, 46, 1);
    writeU16le(buf, 74, c.baseParams.msixQsize);
    writeU16le(buf, 78, 1);
    return buf;
  }
  const put = (base: number, pool: Pool, rt: number): void => {
    writeU32le(buf, base, pool.frt);
    writeU32le(buf, base + 4, prim.assigned(rt));
    writeU16le(buf, base + 8, pool.rfap);
    writeU16le(buf, base + 10, pool.prt);
    writeU16le(buf, base + 12, pool.frsm);
    writeU16le(buf, base + 14, 1);
  };
  put(32, prim.vq, RT_VQ);
  put(64, prim.vi, RT_VI);
  return buf;
}

/** Identify CNS 15h, Secondary Controller List (Figure 281): entries with SCID >= `min`. */
export function secondaryCtrlList(c: ControllerState, min: number): Uint8Array {
  const buf = new Uint8Array(ID_SIZE);
  const list = primaryOf(c)?.secondaries ?? [];
  const from = list.findIndex((s) => s.scid >= min);
  if (from < 0) return buf;
  const entries = list.slice(from, from + 127);
  buf[0] = entries.length;
  entries.forEach((s, i) => {
    const o = 32 + 32 * i;
    writeU16le(buf, o, s.scid);
    writeU16le(buf, o + 2, s.pcid);
    buf[o + 4] = s.online ? 1 : 0;
    writeU16le(buf, o + 8, s.vfn);
    writeU16le(buf, o + 10, s.nvq);
    writeU16le(buf, o + 12, s.nvi);
  });
  return buf;
}
