// What the live view shows, read from a running machine at one instant: controllers with their
// queues and SMART figures, namespaces with zones and the write cache model, FDP endurance
// groups, pmem regions. Plain JSON values (64-bit counters as numbers: they stay far below
// 2^53 in an emulator's lifetime; the SMART log's 128-bit fields are read as their low half).
//
// Every figure is read from the device through a public, read-only accessor; nothing here
// counts or decides anything itself (DESIGN: one implementation of each behaviour).

import type { Component } from '../machine/registry.js';
import { NvmeDevice, PcieController } from '../nvme/index.js';
import type { Controller } from '../nvme/ctrl/controller.js';
import { Namespace } from '../nvme/ns/namespace.js';
import { ZoneState, type ZoneStateValue } from '../nvme/ns/zoned/state.js';
import type { FdpEnduranceGroup } from '../nvme/ns/fdp/group.js';
import { Association } from '../nvme-tcp/target/association.js';
import { NvdimmDevice } from '../pmem/nvdimm/device.js';
import { VirtioPmemDevice } from '../pmem/virtio-pmem/device.js';
import type { MemoryBackend } from '../memory/backend.js';
import { writeCacheOf } from '../faults/power-cut.js';
import { entries } from '../monitor/inspect.js';
import type { MachineView } from '../monitor/monitor.js';
import { readU16le, readU64le, readU8 } from '../util/bytes.js';
import type {
  ControllerInfo,
  FdpInfo,
  ModelInfo,
  NamespaceInfo,
  PmemInfo,
  QueueInfo,
  SmartInfo,
  Snapshot,
  WriteCacheInfo,
  ZonesInfo,
} from './wire.js';

export type {
  ControllerInfo,
  FdpInfo,
  NamespaceInfo,
  PmemInfo,
  QueueInfo,
  SmartInfo,
  Snapshot,
  WriteCacheInfo,
  ZonesInfo,
};

/** ZNS zone state names (ZNS 1.1 Figure 37), as the API and the metrics spell them. */
export const ZONE_STATE_NAMES: Readonly<Record<ZoneStateValue, string>> = {
  [ZoneState.EMPTY]: 'empty',
  [ZoneState.IMPLICITLY_OPEN]: 'implicitly-open',
  [ZoneState.EXPLICITLY_OPEN]: 'explicitly-open',
  [ZoneState.CLOSED]: 'closed',
  [ZoneState.READ_ONLY]: 'read-only',
  [ZoneState.FULL]: 'full',
  [ZoneState.OFFLINE]: 'offline',
};

/** How many of the flush audit's oldest writes a snapshot carries. */
export const AUDIT_HEAD = 8;

const num = (v: bigint): number => Number(v);

/** The device label of a component: its id, or its QOM path. */
function labels(view: MachineView): Map<Component, { label: string; path: string }> {
  const out = new Map<Component, { label: string; path: string }>();
  for (const e of entries(view)) {
    out.set(e.component, { label: e.component.id ?? e.path, path: e.path });
  }
  return out;
}

/** Every controller with its label and QOM path (VFs after their PF). */
export function controllersOf(
  view: MachineView,
): { ctrl: Controller; label: string; path: string }[] {
  const names = labels(view);
  const out: { ctrl: Controller; label: string; path: string }[] = [];
  for (const c of view.components()) {
    if (!(c instanceof NvmeDevice)) continue;
    const n = names.get(c) ?? { label: c.id ?? '?', path: '' };
    out.push({ ctrl: c.controller, ...n });
    c.secondaryControllers().forEach((ctrl, i) =>
      out.push({ ctrl, label: `${n.label}:vf${i + 1}`, path: n.path }),
    );
  }
  return out;
}

/** Commands a queue completed while the view runs (telemetry.ts); 0 when not observed. */
export type QueueCounts = (ctrl: Controller, qid: number) => number;

function queuesOf(ctrl: Controller, completed: QueueCounts): QueueInfo[] {
  const fe = ctrl.boundTo;
  if (fe instanceof PcieController) {
    const out: QueueInfo[] = [];
    fe.sqs.forEach((sq) => {
      if (sq === undefined) return;
      out.push({
        qid: sq.sqid,
        depth: sq.size,
        outstanding: sq.outstanding.size,
        queued: (sq.tail - sq.head + sq.size) % sq.size,
        cqPending: fe.cqs[sq.cqid]?.pending.length ?? 0,
        completed: completed(ctrl, sq.sqid),
      });
    });
    return out;
  }
  if (fe instanceof Association) {
    const conns = [fe.admin, ...[...fe.io.values()]];
    return conns
      .filter((c) => c.binding !== undefined && !c.closed)
      .map((c) => ({
        qid: c.binding!.qid,
        depth: c.binding!.sqsize + 1,
        outstanding: c.inflight,
        queued: 0,
        cqPending: 0,
        completed: completed(ctrl, c.binding!.qid),
      }))
      .sort((a, b) => a.qid - b.qid);
  }
  return [];
}

/** The SMART / Health log (LID 02h) of the controller as a host would read it, decoded. */
export function smartOf(ctrl: Controller): SmartInfo {
  const log = ctrl.smart.log(
    [...ctrl.namespaces.values()],
    ctrl.params.clock.nowMs(),
    ctrl.errors.count,
  );
  // NVMe Base 2.0 Figure 207: the 128-bit counters' low 64 bits.
  const u = (off: number): number => num(readU64le(log, off));
  return {
    criticalWarning: readU8(log, 0),
    temperatureKelvin: readU16le(log, 1),
    percentageUsed: readU8(log, 5),
    dataUnitsRead: u(32),
    dataUnitsWritten: u(48),
    hostReadCommands: u(64),
    hostWriteCommands: u(80),
    powerCycles: u(112),
    powerOnHours: u(128),
    unsafeShutdowns: u(144),
    mediaErrors: u(160),
    errorLogEntries: u(176),
  };
}

export function controllerInfo(
  ctrl: Controller,
  label: string,
  path: string,
  completed: QueueCounts = () => 0,
): ControllerInfo {
  const fe = ctrl.boundTo;
  return {
    label,
    path,
    serial: ctrl.params.serial,
    cntlid: ctrl.cntlid,
    subnqn: ctrl.subsys.subnqn,
    boundTo: fe?.transport ?? null,
    enabled: ctrl.enabled,
    hostnqn: fe instanceof Association ? fe.hostnqn : null,
    stats: { ...ctrl.stats },
    queues: queuesOf(ctrl, completed),
    smart: smartOf(ctrl),
  };
}

function zonesOf(ns: Namespace): ZonesInfo | null {
  const z = ns.zoned;
  if (z === undefined) return null;
  const t = z.table;
  return {
    zoneSize: z.zsze,
    zoneCapacity: z.zcap,
    open: t.openCount,
    active: t.activeCount,
    maxOpen: t.limits.maxOpen,
    maxActive: t.limits.maxActive,
    state: t.zones.map((x) => x.state),
    written: t.zones.map((x) => x.wp - x.zslba),
  };
}

function cacheOf(ns: Namespace): WriteCacheInfo {
  const m = writeCacheOf(ns);
  if (m === undefined) {
    return {
      tracked: false,
      capacityBytes: 0,
      dirtyBytes: 0,
      volatileWrites: 0,
      volatileBlocks: 0,
      writes: 0,
      persisted: 0,
      destaged: 0,
      oldest: [],
    };
  }
  const audit = m.audit();
  return {
    tracked: true,
    capacityBytes: m.capacityBytes,
    dirtyBytes: m.bytes,
    volatileWrites: audit.length,
    volatileBlocks: m.volatileBlocks,
    ...m.stats,
    oldest: audit.slice(0, AUDIT_HEAD),
  };
}

/** Every namespace (nvme-ns devices and legacy `drive=` ones) with its label. */
export function namespacesOf(view: MachineView): { ns: Namespace; label: string; path: string }[] {
  const names = labels(view);
  const out: { ns: Namespace; label: string; path: string }[] = [];
  for (const c of view.components()) {
    if (c instanceof Namespace) {
      out.push({ ns: c, ...(names.get(c) ?? { label: c.id ?? '?', path: '' }) });
    } else if (c instanceof NvmeDevice && c.legacyNamespace instanceof Namespace) {
      out.push({ ns: c.legacyNamespace, ...(names.get(c) ?? { label: c.id ?? '?', path: '' }) });
    }
  }
  return out;
}

export function namespaceInfo(
  ns: Namespace,
  label: string,
  path: string,
  ctrls: readonly { ctrl: Controller; label: string }[],
): NamespaceInfo {
  const s = ns.smart();
  return {
    label,
    path,
    nsid: ns.nsid,
    controllers: ctrls.filter((c) => c.ctrl.namespaces.get(ns.nsid) === ns).map((c) => c.label),
    blocks: num(ns.sizeBlocks),
    blockSize: ns.lbaSize,
    zoned: zonesOf(ns),
    volatileWriteCache: ns.writeCache,
    writeCache: cacheOf(ns),
    smart: {
      readCommands: num(s.readCommands),
      writeCommands: num(s.writeCommands),
      bytesRead: num(s.bytesRead),
      bytesWritten: num(s.bytesWritten),
    },
    ...modelOf(ns),
  };
}

/** The device model's few figures (the full set is x-nvmemu-query-models). */
function modelOf(ns: Namespace): { model?: ModelInfo } {
  const m = ns.model;
  if (m === undefined) return {};
  const f = m.figures();
  return {
    model: {
      kind: f.kind,
      waf: f.waf ?? null,
      erases: f.erases ?? null,
      percentageUsed: f.percentageUsed ?? null,
      availableSpare: f.availableSpare ?? null,
      meanLatencyUs: f.meanLatencyUs,
      p99LatencyUs: f.p99LatencyUs,
    },
  };
}

/** The FDP endurance groups of the machine's subsystems (one per subsystem with fdp=on). */
export function fdpGroupsOf(
  ctrls: readonly Controller[],
): { subnqn: string; group: FdpEnduranceGroup }[] {
  const seen = new Set<FdpEnduranceGroup>();
  const out: { subnqn: string; group: FdpEnduranceGroup }[] = [];
  for (const c of ctrls) {
    const g = c.subsys.fdp;
    if (g === undefined || seen.has(g)) continue;
    seen.add(g);
    out.push({ subnqn: c.subsys.subnqn, group: g });
  }
  return out;
}

export function fdpInfo(subnqn: string, g: FdpEnduranceGroup): FdpInfo {
  return {
    subnqn,
    reclaimUnitBytes: num(g.params.runs),
    reclaimGroups: g.params.nrg,
    hostBytesWritten: num(g.hbmw),
    mediaBytesWritten: num(g.mbmw),
    mediaBytesErased: num(g.mbe),
    handles: g.ruhs.map((h) => ({
      id: h.id,
      attribute: h.attr,
      unitBlocks: h.ruBlocks,
      // `generation` counts the units the handle has used in the group: 1 is the first.
      groups: h.rus.map((ru) => ({ available: ru.ruamw, rollovers: ru.generation - 1 })),
    })),
  };
}

function regionOf(
  label: string,
  type: PmemInfo['type'],
  size: number,
  backend: MemoryBackend,
  badBlocks: readonly { sector: number; count: number }[],
  dirtyShutdowns: number | null,
): PmemInfo {
  const p = backend.persistence;
  const unit = p.unitSize;
  const pending = p.pendingUnits;
  const flushed = p.inFlightUnits;
  const units = unit === 0 ? 0 : Math.ceil(size / unit);
  return {
    label,
    type,
    size,
    granularity: p.granularity,
    unitSize: unit,
    dirty: pending - flushed,
    flushed,
    persisted: Math.max(0, units - pending),
    badBlocks: badBlocks.map((b) => ({ sector: b.sector, count: b.count })),
    dirtyShutdowns,
  };
}

/** The pmem regions: nvdimm and virtio-pmem devices. */
export function pmemOf(view: MachineView): PmemInfo[] {
  const names = labels(view);
  const out: PmemInfo[] = [];
  for (const c of view.components()) {
    const label = names.get(c)?.label ?? c.id ?? '?';
    if (c instanceof NvdimmDevice) {
      out.push(regionOf(label, 'nvdimm', c.pmemSize, c.backend, c.badBlocks(), c.dirtyShutdown));
    } else if (c instanceof VirtioPmemDevice) {
      out.push(regionOf(label, 'virtio-pmem-pci', c.size, c.backend, [], null));
    }
  }
  return out;
}

/** The whole machine now. */
export function snapshot(
  view: MachineView,
  completed: QueueCounts = () => 0,
  now = Date.now(),
): Snapshot {
  const ctrls = controllersOf(view);
  return {
    time: now,
    controllers: ctrls.map((c) => controllerInfo(c.ctrl, c.label, c.path, completed)),
    namespaces: namespacesOf(view).map((n) => namespaceInfo(n.ns, n.label, n.path, ctrls)),
    fdp: fdpGroupsOf(ctrls.map((c) => c.ctrl)).map((g) => fdpInfo(g.subnqn, g.group)),
    pmem: pmemOf(view),
  };
}
