// A simulated power cut of a whole machine (docs/faults.md "Power cuts"): what a real machine
// keeps when the power goes, as opposed to what killing the process keeps (everything in the
// page cache).
//
//  - NVMe namespaces with the write cache model attached (trackWrites) lose what was not
//    durable: all of it, or a seeded prefix or subset of the cached writes (write-cache.ts).
//    Namespaces without the model keep every completed write (the model was not watching).
//  - Zoned namespaces with persisted zone state: a write pointer never claims a block that did
//    not survive (it moves back to the first lost block of its zone; the zone is then Closed,
//    or Empty at its start).
//  - Every NVMe controller counts an unsafe shutdown in SMART (log 02h offset 144); persisted
//    SMART counters and FDP state are saved as the cut leaves them (device-state.ts).
//  - pmem: nvdimms count a dirty shutdown, memory backends discard unpersisted stores
//    (memory/persistence.ts), exactly as x-nvmemu-power-fail always did.

import { EmuError, ErrorCode } from '../util/errors.js';
import type { Component } from '../machine/registry.js';
import type { Machine } from '../machine/machine.js';
import { ConfigError } from '../config/errors.js';
import { NvmeDevice } from '../nvme/index.js';
import type { SmartCounters } from '../nvme/ctrl/smart.js';
import type { Namespace } from '../nvme/ns/namespace.js';
import {
  attachWriteCacheModel,
  WriteCacheModel,
  type CutMode,
  type CutReport,
  type VolatileWrite,
} from '../nvme/ns/write-cache.js';
import { ZoneState, type Zone } from '../nvme/ns/zoned/state.js';
import { powerFailComponents, type PowerFailReport } from '../pmem/index.js';
import { deriveSeed } from '../util/rng.js';
import { saveDeviceState, smartPersistenceOf } from '../nvme/persist/smart-state.js';
import { allControllers, allNamespaces, type FaultMachine } from './targets.js';

export interface PowerCutOptions {
  /** Seed of the survivor choice (default 0). */
  readonly seed?: number;
  /** What survives of the cached writes (default 'all' lost). */
  readonly mode?: CutMode;
}

export interface NamespaceCut {
  readonly device: string | undefined;
  readonly nsid: number;
  /** The write cache model was attached (otherwise every completed write was kept). */
  readonly tracked: boolean;
  readonly writeCache: boolean;
  readonly cut: CutReport | undefined;
  /** Zones whose write pointer moved back to the durable data. */
  readonly zonesRolledBack: number;
}

export interface PowerCutReport {
  readonly seed: number;
  readonly mode: CutMode;
  readonly namespaces: readonly NamespaceCut[];
  /** Unsafe shutdowns per controller serial, after counting this cut. */
  readonly unsafeShutdowns: Readonly<Record<string, number>>;
  readonly pmem: readonly PowerFailReport[];
}

/** The model of a namespace, if attached. */
export function writeCacheOf(ns: Namespace): WriteCacheModel | undefined {
  const j = ns.ioCore().store.journal;
  return j instanceof WriteCacheModel ? j : undefined;
}

/**
 * Attaches the write cache model to every namespace of the machine (call before the
 * workload: writes made earlier count as durable). Returns the models.
 */
export function trackWrites(machine: FaultMachine, capacityBytes?: number): WriteCacheModel[] {
  const shared = allNamespaces(machine).find((ns) => ns.config.sharedImage === true);
  if (shared !== undefined) {
    // Another process writes the same image: what this one would roll back is not its own.
    throw new EmuError(
      ErrorCode.EMU_ERR_STATE,
      `the write cache model cannot track namespace ${shared.nsid}: its image is shared with other nvmemu processes (--instance)`,
    );
  }
  return allNamespaces(machine).map((ns) =>
    attachWriteCacheModel(ns.ioCore().store, capacityBytes),
  );
}

export interface AuditEntry {
  readonly device: string | undefined;
  readonly nsid: number;
  readonly writeCache: boolean;
  readonly tracked: boolean;
  readonly volatile: readonly VolatileWrite[];
}

/** The flush audit: acknowledged writes that a power cut now would lose, per namespace. */
export function flushAudit(machine: FaultMachine): AuditEntry[] {
  return allNamespaces(machine).map((ns) => {
    const m = writeCacheOf(ns);
    return {
      device: ns.id,
      nsid: ns.nsid,
      writeCache: ns.writeCache,
      tracked: m !== undefined,
      volatile: m?.audit() ?? [],
    };
  });
}

/**
 * Cuts the power of `machine`: afterwards its images hold what survives and its components
 * must be dropped (powerCutMachine restarts it). Commands in flight never complete.
 */
export async function cutPower(
  machine: FaultMachine,
  opts: PowerCutOptions = {},
): Promise<PowerCutReport> {
  const seed = (opts.seed ?? 0) >>> 0;
  const mode = opts.mode ?? 'all';
  const namespaces = allNamespaces(machine);
  // Nothing reaches an image from now on: new commands fail, writes in flight are refused by
  // the model before they touch the image.
  for (const ns of namespaces) writeCacheOf(ns)?.seal();
  const cuts: NamespaceCut[] = [];
  for (const ns of namespaces) {
    const m = writeCacheOf(ns);
    const label = `ns-${ns.id ?? ''}-${ns.nsid}`;
    const cut = m === undefined ? undefined : await m.cut(mode, deriveSeed(seed, label));
    // Zone state is rewritten while its file is still open; then the namespace stops.
    const zonesRolledBack = cut === undefined ? 0 : rollBackZones(ns, cut);
    await ns.close();
    cuts.push({
      device: ns.id,
      nsid: ns.nsid,
      tracked: m !== undefined,
      writeCache: ns.writeCache,
      cut,
      zonesRolledBack,
    });
  }
  const unsafeShutdowns: Record<string, number> = {};
  for (const c of allControllers(machine)) {
    c.smart.counters.unsafeShutdowns++;
    unsafeShutdowns[c.params.serial] = Number(c.smart.counters.unsafeShutdowns);
    // Persisted SMART counters and FDP state as the cut leaves them (the cut is counted, so
    // the next start must not count it again).
    saveDeviceState(c, false);
  }
  const pmem = await powerFailComponents(machine.components());
  return { seed, mode, namespaces: cuts, unsafeShutdowns, pmem };
}

/**
 * Persisted zone state after a cut: a zone's write pointer moves back to its first reverted
 * block. The state file is rewritten so the restarted namespace loads the consistent state.
 */
function rollBackZones(ns: Namespace, cut: CutReport): number {
  const zns = ns.zoned;
  if (zns?.journal === undefined || cut.reverted.length === 0) return 0;
  let n = 0;
  const zones: Zone[] = zns.table.zones.map((z) => {
    const first = cut.reverted.find((r) => r.end > z.zslba && r.start < z.wp);
    if (first === undefined) return z;
    const wp = Math.max(z.zslba, first.start);
    n++;
    const state = wp === z.zslba ? ZoneState.EMPTY : ZoneState.CLOSED;
    return { ...z, wp, wptr: wp, state };
  });
  if (n > 0) zns.journal.compact(zones);
  return n;
}

/**
 * Simulated power cut of a running machine (docs/faults.md): what was not durable is lost
 * (NVMe write cache model, pmem persistence model), every NVMe controller counts an unsafe
 * shutdown, then the machine is rebuilt from the options it ran with (hotplug included) over
 * the surviving images. `machine` is stopped; the returned one runs. SMART counters carry over.
 */
export async function powerCutMachine(
  machine: Machine,
  opts: PowerCutOptions = {},
): Promise<{ machine: Machine; report: PowerCutReport }> {
  if (machine.state !== 'running') {
    throw new ConfigError('machine is not running', undefined, '');
  }
  const report = await cutPower(machine, opts);
  const carried = carryState(machine.components());
  const next = await machine.rebuild();
  restoreState(next.components(), carried);
  return { machine: next, report };
}

/**
 * Clean restart: shut down (everything flushed) and build again from the same options; SMART
 * counters carry over (one more power cycle).
 */
export async function restartMachine(machine: Machine): Promise<Machine> {
  const carried = carryState(machine.components());
  const next = await machine.rebuild();
  restoreState(next.components(), carried);
  return next;
}

/** Device state carried from a machine to its successor (in-process restarts). */
export interface CarriedState {
  readonly smart: ReadonlyMap<string, SmartCarry>;
}

interface SmartCarry {
  readonly counters: SmartCounters;
  readonly host: {
    bytesRead: bigint;
    bytesWritten: bigint;
    readCommands: bigint;
    writeCommands: bigint;
  };
  readonly powerOnMs: bigint;
}

/** What the next run of these controllers must start from (SMART counters by serial). */
export function carryState(components: readonly Component[]): CarriedState {
  const smart = new Map<string, SmartCarry>();
  for (const c of components) {
    if (!(c instanceof NvmeDevice)) continue;
    const ctrl = c.controller;
    const host = { bytesRead: 0n, bytesWritten: 0n, readCommands: 0n, writeCommands: 0n };
    for (const ns of ctrl.namespaces.values()) {
      const s = ns.smart();
      host.bytesRead += s.bytesRead;
      host.bytesWritten += s.bytesWritten;
      host.readCommands += s.readCommands;
      host.writeCommands += s.writeCommands;
    }
    smart.set(ctrl.params.serial, {
      counters: { ...ctrl.smart.counters },
      host,
      powerOnMs: BigInt(Math.max(0, Math.floor(ctrl.params.clock.nowMs() - ctrl.smart.startMs))),
    });
  }
  return { smart };
}

/** Applies carried state to a freshly started machine (one more power cycle each). */
export function restoreState(components: readonly Component[], state: CarriedState): void {
  for (const c of components) {
    if (!(c instanceof NvmeDevice)) continue;
    const ctrl = c.controller;
    const s = state.smart.get(ctrl.params.serial);
    // x-persist-smart=on: the controller loaded its counters from its state file already.
    if (s === undefined || smartPersistenceOf(ctrl) !== undefined) continue;
    const k = ctrl.smart.counters;
    k.powerCycles = s.counters.powerCycles + 1n;
    k.unsafeShutdowns = s.counters.unsafeShutdowns;
    k.mediaErrors = s.counters.mediaErrors;
    k.powerOnMs = s.counters.powerOnMs + s.powerOnMs;
    k.bytesRead = s.counters.bytesRead + s.host.bytesRead;
    k.bytesWritten = s.counters.bytesWritten + s.host.bytesWritten;
    k.readCommands = s.counters.readCommands + s.host.readCommands;
    k.writeCommands = s.counters.writeCommands + s.host.writeCommands;
  }
}
