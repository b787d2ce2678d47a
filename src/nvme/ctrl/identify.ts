// Identify (admin 06h), every CNS of reference §3.5 with QEMU 7.2's statuses, and what QEMU
// 10.0 answers besides at its level (spec/levels.ts): CNS 08h/1Fh, 19h, and 12h/13h without
// `nvme-subsys`. CNS 08h/1Fh and 19h also answer at 7.2 when the subsystem has an endurance
// group (FDP): they describe it.

import { writeU16le, writeU32le, writeU64le } from '../../util/bytes.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import { Status, withDnr } from '../spec/status.js';
import { rejected, type Completion } from '../spec/transfer.js';
import type { CommandContext } from '../spec/namespace-api.js';
import { ControllerState } from './state.js';
import { ID_SIZE, identifyController, identifyCtrlCsi } from './id-ctrl.js';
import { MAX_NSID, NSID_BROADCAST, nsidValid } from './nsid.js';
import { primaryCtrlCaps, primaryOf, secondaryCtrlList } from './virt.js';
import { enduranceGroupOf } from '../subsys/endurance.js';
import { encodeCommonNs } from '../ns/identify.js';
import { BUILTIN_LBA_FORMATS } from '../ns/lbaf.js';
import { RESCAP } from '../ns/resv/reservations.js';

export const Cns = {
  NS: 0x00,
  CTRL: 0x01,
  NS_ACTIVE_LIST: 0x02,
  NS_DESCR_LIST: 0x03,
  CS_NS: 0x05,
  CS_CTRL: 0x06,
  CS_NS_ACTIVE_LIST: 0x07,
  NS_INDEPENDENT: 0x08,
  NS_PRESENT_LIST: 0x10,
  NS_PRESENT: 0x11,
  NS_ATTACHED_CTRL_LIST: 0x12,
  CTRL_LIST: 0x13,
  PRIMARY_CTRL_CAP: 0x14,
  SECONDARY_CTRL_LIST: 0x15,
  ENDGRP_LIST: 0x19,
  CS_NS_PRESENT_LIST: 0x1a,
  CS_NS_PRESENT: 0x1b,
  IO_COMMAND_SET: 0x1c,
  NS_INDEPENDENT_PRESENT: 0x1f,
} as const;

const fail = (s: number, field: string): Completion => rejected(withDnr(s), field);

export function identify(c: ControllerState, ctx: CommandContext): Completion {
  const { cdw10, cdw11, nsid } = ctx.cmd;
  const cns = cdw10 & 0xff;
  const cntid = cdw10 >>> 16;
  const csi = cdw11 >>> 24;
  const send = (r: Uint8Array | number): Completion =>
    typeof r === 'number' ? { status: r, field: fieldOf(r) } : { status: ctx.data.toHost(0, r) };
  switch (cns) {
    case Cns.NS:
    case Cns.NS_PRESENT:
      return send(identifyNs(c, nsid, cns === Cns.NS));
    case Cns.CTRL:
      return send(identifyController(c));
    case Cns.NS_ACTIVE_LIST:
    case Cns.NS_PRESENT_LIST:
      return send(nsList(c, nsid, cns === Cns.NS_ACTIVE_LIST, undefined));
    case Cns.CS_NS_ACTIVE_LIST:
    case Cns.CS_NS_PRESENT_LIST:
      return send(nsList(c, nsid, cns === Cns.CS_NS_ACTIVE_LIST, csi));
    case Cns.NS_DESCR_LIST: {
      if (!nsidValid(nsid) || nsid === NSID_BROADCAST) return fail(Status.INVALID_NSID, 'nsid');
      const ns = c.namespaces.get(nsid);
      if (ns === undefined) return fail(Status.INVALID_FIELD, 'nsid');
      return send(ns.descriptors());
    }
    case Cns.CS_NS:
    case Cns.CS_NS_PRESENT: {
      if (!nsidValid(nsid) || nsid === NSID_BROADCAST) return fail(Status.INVALID_NSID, 'nsid');
      const ns = lookup(c, nsid, cns === Cns.CS_NS);
      return send(ns === undefined ? new Uint8Array(ID_SIZE) : ns.identifyIoCs(csi));
    }
    case Cns.CS_CTRL:
      return send(identifyCtrlCsi(c, csi));
    case Cns.NS_ATTACHED_CTRL_LIST:
    case Cns.CTRL_LIST:
      return send(ctrlList(c, nsid, cntid, cns === Cns.NS_ATTACHED_CTRL_LIST));
    case Cns.PRIMARY_CTRL_CAP:
      return send(primaryCtrlCaps(c));
    case Cns.SECONDARY_CTRL_LIST:
      return send(secondaryCtrlList(c, cntid));
    case Cns.NS_INDEPENDENT:
    case Cns.NS_INDEPENDENT_PRESENT:
      return send(identifyIndependent(c, nsid, cns === Cns.NS_INDEPENDENT));
    case Cns.ENDGRP_LIST:
      return send(enduranceGroupList(c, cdw11 & 0xffff));
    case Cns.IO_COMMAND_SET: {
      const buf = new Uint8Array(ID_SIZE);
      writeU64le(buf, 0, 0x5n); // vector 0: NVM (bit0) + Zoned (bit2)
      return send(buf);
    }
    default:
      return fail(Status.INVALID_FIELD, 'cdw10.cns');
  }
}

/**
 * The field a status from a structure builder blames: NSID for 0x00b, otherwise the CNS (or
 * the CSI it selected: CNS 05h/06h answer 0x002 for an unsupported CSI).
 */
function fieldOf(status: number): string {
  return (status & 0xff) === Status.INVALID_NSID ? 'nsid' : 'cdw10.cns';
}

/** An attached namespace, or (for the "allocated" CNS values) any namespace of the subsystem. */
function lookup(c: ControllerState, nsid: number, active: boolean): NamespaceApi | undefined {
  return c.namespaces.get(nsid) ?? (active ? undefined : subsysNs(c, nsid));
}

/**
 * nvme_subsys_ns: only explicit subsystems own namespaces in 7.2; QEMU 10.0 gives every
 * controller a subsystem.
 */
function subsysNs(c: ControllerState, nsid: number): NamespaceApi | undefined {
  return hasSubsystem(c) ? c.subsys.namespaces.get(nsid) : undefined;
}

/** The controller is in a subsystem that answers as one (CNS 11h-13h). */
function hasSubsystem(c: ControllerState): boolean {
  return c.subsys.explicit || c.level.implicitSubsystem;
}

function identifyNs(c: ControllerState, nsid: number, active: boolean): Uint8Array | number {
  // With Namespace Management, NSID FFFFFFFFh asks what a created namespace may be (nvme-cli
  // create-ns --block-size reads the formats there); QEMU 7.2 answers Invalid NSID.
  if (nsid === NSID_BROADCAST && active && c.subsys.nsManagement !== undefined) {
    return encodeCommonNs(BUILTIN_LBA_FORMATS, RESCAP);
  }
  if (!nsidValid(nsid) || nsid === NSID_BROADCAST) return withDnr(Status.INVALID_NSID);
  const ns = lookup(c, nsid, active);
  if (ns === undefined) return new Uint8Array(ID_SIZE);
  if (active || ns.csi === 0) return ns.identify(c.subsys.explicit, c.subsys.anaGroupOf(ns));
  return withDnr(c.level.invalidIocsStatus);
}

/**
 * CNS 08h (active) / 1Fh (allocated): the I/O command set independent structure, where the
 * subsystem has an endurance group (always at 10.0); an inactive NSID reads zeros.
 */
function identifyIndependent(
  c: ControllerState,
  nsid: number,
  active: boolean,
): Uint8Array | number {
  if (enduranceGroupOf(c.subsys, c.level) === undefined) return withDnr(Status.INVALID_FIELD);
  if (!nsidValid(nsid) || nsid === NSID_BROADCAST) return withDnr(Status.INVALID_NSID);
  const ns = lookup(c, nsid, active);
  if (ns?.identifyIndependent === undefined) return new Uint8Array(ID_SIZE);
  return ns.identifyIndependent(c.subsys.explicit);
}

/**
 * CNS 19h: the endurance group identifiers >= CDW11 bits 15:0 (Base Spec 2.0 §5.17.2.19):
 * {1} when the subsystem has endurance group 1.
 */
function enduranceGroupList(c: ControllerState, min: number): Uint8Array | number {
  const g = enduranceGroupOf(c.subsys, c.level);
  if (g === undefined) return withDnr(Status.INVALID_FIELD);
  const ids = g.id >= min ? [g.id] : [];
  const buf = new Uint8Array(ID_SIZE);
  writeU16le(buf, 0, ids.length);
  ids.forEach((id, i) => writeU16le(buf, 2 + 2 * i, id));
  return buf;
}

function nsList(
  c: ControllerState,
  min: number,
  active: boolean,
  csi: number | undefined,
): Uint8Array | number {
  if (min >= NSID_BROADCAST - 1) return withDnr(Status.INVALID_NSID);
  if (csi !== undefined && csi !== 0 && csi !== 2) return withDnr(Status.INVALID_FIELD);
  const buf = new Uint8Array(ID_SIZE);
  let j = 0;
  for (let i = 1; i <= MAX_NSID && j < ID_SIZE / 4; i++) {
    const ns = lookup(c, i, active);
    if (ns === undefined || ns.nsid <= min) continue;
    if (csi !== undefined && ns.csi !== csi) continue;
    writeU32le(buf, 4 * j++, ns.nsid);
  }
  return buf;
}

function ctrlList(
  c: ControllerState,
  nsid: number,
  min: number,
  attached: boolean,
): Uint8Array | number {
  if (!hasSubsystem(c)) return withDnr(Status.INVALID_FIELD);
  if (attached) {
    if (nsid === NSID_BROADCAST || subsysNs(c, nsid) === undefined) {
      return withDnr(Status.INVALID_FIELD);
    }
  }
  const ids = [...c.subsys.controllers.values()]
    .filter((x) => x.cntlid >= min && (!attached || x.isAttached(nsid)))
    .map((x) => x.cntlid);
  // QEMU 10.0 registers an SR-IOV primary's secondary controllers with the subsystem at
  // realize, so the controller list names them whether their VFs are enabled or not.
  if (!attached && c.level.implicitSubsystem) {
    for (const x of c.subsys.controllers.values()) {
      if (!(x instanceof ControllerState)) continue;
      for (const s of primaryOf(x)?.secondaries ?? []) {
        if (s.scid >= min && !ids.includes(s.scid)) ids.push(s.scid);
      }
    }
  }
  ids.sort((a, b) => a - b);
  ids.splice(2047);
  const buf = new Uint8Array(ID_SIZE);
  writeU16le(buf, 0, ids.length);
  ids.forEach((id, i) => writeU16le(buf, 2 + 2 * i, id));
  return buf;
}
