// A subsystem at run time (reference §1.3, §5.2): its controllers (cntlid -> controller) and
// its allocated namespaces (nsid -> namespace), and who is attached to what.
//
// [7.2] A controller without `subsys=` has an implicit, private subsystem (`explicit` false):
// its namespaces belong to the controller, CMIC/NMIC stay clear, and Identify CNS 12h/13h and
// Namespace Attachment answer 0x002+DNR, as QEMU 7.2 does without a subsystem.

import type { NamespaceApi } from '../spec/namespace-api.js';

/** What the subsystem needs of a controller. */
export interface SubsysController {
  readonly cntlid: number;
  /** Attaches without notice (boot-time and hot-plugged namespaces). */
  attachNamespace(ns: NamespaceApi): void;
  isAttached(nsid: number): boolean;
}

export class Subsystem {
  readonly controllers = new Map<number, SubsysController>();
  /** Allocated namespaces (including detached ones). */
  readonly namespaces = new Map<number, NamespaceApi>();

  constructor(
    readonly explicit: boolean,
    /** SUBNQN (`nqn.2019-08.org.qemu:<nqn or serial>`). */
    readonly subnqn: string,
  ) {}

  /** Registers a realized controller; shared, not detached namespaces attach to it. */
  addController(ctrl: SubsysController): void {
    if (this.controllers.has(ctrl.cntlid)) {
      throw new Error(`cntlid ${ctrl.cntlid} registered twice in ${this.subnqn}`);
    }
    this.controllers.set(ctrl.cntlid, ctrl);
    for (const ns of this.namespaces.values()) {
      if (ns.shared && !ns.detached && this.explicit) ctrl.attachNamespace(ns);
    }
  }

  removeController(cntlid: number): void {
    this.controllers.delete(cntlid);
  }

  /**
   * Registers a realized namespace whose bus is `parent` (nvme_ns_realize): detached ones stay
   * allocated only; shared ones attach to every controller; private ones to the parent.
   */
  addNamespace(ns: NamespaceApi, parent: SubsysController): void {
    if (this.namespaces.has(ns.nsid)) {
      throw new Error(`nsid ${ns.nsid} registered twice in ${this.subnqn}`);
    }
    this.namespaces.set(ns.nsid, ns);
    if (ns.detached) return;
    if (ns.shared && this.explicit) {
      for (const c of this.controllers.values()) c.attachNamespace(ns);
      return;
    }
    parent.attachNamespace(ns);
  }

  /** Number of controllers the namespace is attached to. */
  attachedCount(nsid: number): number {
    let n = 0;
    for (const c of this.controllers.values()) if (c.isAttached(nsid)) n++;
    return n;
  }
}
