// A subsystem at run time (reference §1.3, §5.2): its controllers (cntlid -> controller) and
// its allocated namespaces (nsid -> namespace), and who is attached to what.
//
// [7.2] A controller without `subsys=` has an implicit, private subsystem (`explicit` false):
// its namespaces belong to the controller, CMIC/NMIC stay clear, and Identify CNS 12h/13h and
// Namespace Attachment answer 0x002+DNR, as QEMU 7.2 does without a subsystem.

import type { NamespaceApi } from '../spec/namespace-api.js';
import type { FdpEnduranceGroup } from '../ns/fdp/group.js';
import { nsFdpOf } from '../ns/fdp/placement.js';

/** What the subsystem needs of a controller. */
export interface SubsysController {
  readonly cntlid: number;
  /** Attaches without notice (boot-time and hot-plugged namespaces). */
  attachNamespace(ns: NamespaceApi): void;
  detachNamespace(nsid: number): void;
  isAttached(nsid: number): boolean;
  /** Changed Namespace List entry + namespace-attribute Notice AER (§3.7). */
  noteNamespaceChanged(nsid: number): void;
  /** The host the controller acts for (its key names reservation registrants). */
  readonly host?: { readonly key: string };
  /** A reservation notification for the controller's host (log page 80h). */
  reservationNotice?(nsid: number, type: number): void;
}

/** What Namespace Management (admin 0Dh) creates a namespace from (ctrl/ns-mgmt.ts). */
export interface NsCreateArgs {
  readonly nsze: bigint;
  readonly ncap: bigint;
  readonly flbas: number;
  readonly dps: number;
  readonly nmic: number;
  readonly anagrpid: number;
}

/**
 * The subsystem's Namespace Management (subsys/ns-mgmt.ts): namespaces created on a capacity
 * pool, backed by images in the data folder, recorded there across restarts.
 */
export interface NsManagement {
  /** A new namespace, allocated and not attached: its NSID, or a status. */
  create(a: NsCreateArgs): Promise<{ status: number; nsid?: number }>;
  /** Deletes a namespace it created (detached from every controller first). */
  delete(nsid: number): Promise<void>;
  /** True for a namespace it created (configured namespaces are not deleted). */
  manages(nsid: number): boolean;
  /** A controller joined: the namespaces recorded as attached to it attach again. */
  controllerAdded(ctrl: SubsysController): void;
  /** Attachments changed (Namespace Attachment): the record follows. */
  attachmentsChanged(): void;
}

export class Subsystem {
  readonly controllers = new Map<number, SubsysController>();
  /** Allocated namespaces (including detached ones). */
  readonly namespaces = new Map<number, NamespaceApi>();
  /**
   * The FDP endurance group (`fdp=on`), known once the first of its namespaces is added: the
   * subsystem device is built from its NQN alone, the namespaces carry the group.
   */
  fdp: FdpEnduranceGroup | undefined;
  /**
   * Capacity for Namespace Management (ctrl/ns-mgmt.ts): TNVMCAP and UNVMCAP, in bytes;
   * undefined when the subsystem has none (`nvm-capacity` unset: TNVMCAP/UNVMCAP 0, as QEMU).
   */
  capacity: { total: bigint; unallocated: bigint } | undefined;
  /** The controller IDs the subsystem hands out here (`cntlid-min`/`cntlid-max`). */
  cntlids: { readonly min: number; readonly max: number } | undefined;

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
    this.nsManagement?.controllerAdded(ctrl);
  }

  /** Namespace Management, when the subsystem has a capacity for it (`nvm-capacity`). */
  nsManagement: NsManagement | undefined;

  removeController(cntlid: number): void {
    this.controllers.delete(cntlid);
  }

  /**
   * Registers a realized namespace whose bus is `parent` (nvme_ns_realize): detached ones stay
   * allocated only; shared ones attach to every controller; private ones to the parent.
   */
  addNamespace(ns: NamespaceApi, parent: SubsysController | undefined, notify = false): void {
    if (this.namespaces.has(ns.nsid)) {
      throw new Error(`nsid ${ns.nsid} registered twice in ${this.subnqn}`);
    }
    this.namespaces.set(ns.nsid, ns);
    this.fdp ??= nsFdpOf(ns)?.group;
    if ((ns.anagrpid ?? 0) !== 0) this.#anaNamespaces++;
    // Reservation notifications reach every controller of the host named (§8.19.2).
    if (ns.reservations !== undefined) {
      const nsid = ns.nsid;
      ns.reservations.notify = (host, type) => {
        for (const c of this.controllers.values()) {
          if (c.host?.key === host) c.reservationNotice?.(nsid, type);
        }
      };
    }
    if (ns.detached) return;
    const targets =
      ns.shared && this.explicit ? [...this.controllers.values()] : parent ? [parent] : [];
    for (const c of targets) {
      c.attachNamespace(ns);
      // nvmemu: a namespace plugged into a running machine is announced like an attach.
      if (notify) c.noteNamespaceChanged(ns.nsid);
    }
  }

  /**
   * Run-time removal (nvmemu's nvme-ns device_del): detached from every controller, each of
   * which records the change and raises the Notice AER; the NSID becomes free.
   */
  removeNamespace(nsid: number): void {
    const ns = this.namespaces.get(nsid);
    if (ns === undefined || !this.namespaces.delete(nsid)) return;
    if ((ns.anagrpid ?? 0) !== 0) this.#anaNamespaces--;
    if (ns.reservations !== undefined) ns.reservations.notify = undefined;
    for (const c of this.controllers.values()) {
      if (!c.isAttached(nsid)) continue;
      c.detachNamespace(nsid);
      c.noteNamespaceChanged(nsid);
    }
  }

  // ---- ANA groups (NVMe 2.0 §8.20; docs/multipath.md) ----------------------------------------

  /**
   * ANA reporting (CMIC bit 3): an explicit subsystem one of whose namespaces names an ANA
   * group (`anagrpid`).
   */
  get anaReporting(): boolean {
    return this.explicit && this.#anaNamespaces > 0;
  }
  /** Namespaces with an `anagrpid` (kept as a count: every command may ask anaGroupOf). */
  #anaNamespaces = 0;

  /**
   * The ANA group of `ns` as Identify reports it: its `anagrpid`; group 1 for a namespace that
   * names none in an ANA subsystem (a host needs every namespace in a group); 0 without ANA.
   */
  anaGroupOf(ns: NamespaceApi): number {
    const g = ns.anagrpid ?? 0;
    return g !== 0 || !this.anaReporting ? g : 1;
  }

  /** The subsystem's ANA groups in ID order, each with its namespaces attached to `ctrl`. */
  anaGroups(ctrl: SubsysController): { grpid: number; nsids: number[] }[] {
    const groups = new Map<number, number[]>();
    const all = [...this.namespaces.values()].sort((a, b) => a.nsid - b.nsid);
    for (const ns of all) {
      const g = this.anaGroupOf(ns);
      if (g === 0) continue;
      let list = groups.get(g);
      if (list === undefined) groups.set(g, (list = []));
      if (ctrl.isAttached(ns.nsid)) list.push(ns.nsid);
    }
    return [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([grpid, nsids]) => ({ grpid, nsids }));
  }

  /** Number of controllers the namespace is attached to. */
  attachedCount(nsid: number): number {
    let n = 0;
    for (const c of this.controllers.values()) if (c.isAttached(nsid)) n++;
    return n;
  }
}
