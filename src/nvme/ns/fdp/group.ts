// The FDP endurance group of a subsystem at run time (TP 4146; reference qemu-nvme.md §8):
// reclaim unit handles (RUHs) with their attribute (unused / host specified / controller
// specified), one current reclaim unit (RU) per handle and reclaim group, the statistics of
// log 22h and the host/controller event rings of log 23h.
//
// Accounting (nvmemu follows the spec where QEMU's is off by one): a write of n blocks
// through a handle consumes the current RU's remaining writable blocks (RUAMW); when they
// reach 0 the handle moves to a fresh RU (controller event "Implicitly Modified RUH" 81h,
// when enabled). A host update (I/O Management Send) that abandons a partly written RU logs
// the host event "RU Not Fully Written" (00h, when enabled) and counts the unwritten rest as
// media bytes written (the device pads the RU). Host bytes and media bytes written grow by
// the data written.

import type { FdpParams } from '../../subsys/fdp-config.js';

export type RuhAttribute = 'unused' | 'host' | 'ctrl';

/** FDP event types (TP 4146 Figure "FDP Event Type"). */
export const FdpEvent = {
  RU_NOT_FULLY_WRITTEN: 0x00,
  RU_ATL_EXCEEDED: 0x01,
  CTRL_RESET_MODIFIED_RUH: 0x02,
  INVALID_PID: 0x03,
  MEDIA_REALLOCATED: 0x80,
  IMPLICIT_MODIFIED_RUH: 0x81,
} as const;

/** Event types nvmemu raises: host events < 80h, controller events >= 80h. */
export const SUPPORTED_EVENTS: readonly number[] = [
  FdpEvent.RU_NOT_FULLY_WRITTEN,
  FdpEvent.INVALID_PID,
  FdpEvent.IMPLICIT_MODIFIED_RUH,
];

/** One FDP event (log 23h entry). */
export interface FdpEventRecord {
  readonly type: number;
  /** Placement identifier, when valid. */
  readonly pid?: number;
  readonly nsid?: number;
  readonly rg: number;
  readonly ruhid: number;
  /** The reclaim group and handle are the event's location (flag LV). */
  readonly location: boolean;
  /**
   * The controller's Timestamp feature value when the event happened (48-bit ms and, in byte
   * 6, its attributes, as QEMU 10.0 writes it), or the wall clock in ms without a controller.
   */
  readonly timestamp: bigint;
}

export interface ReclaimUnit {
  /** Reclaim unit available media writes, in blocks. */
  ruamw: number;
  /** Reclaim units this handle has used in this group (1 = the first). */
  generation: number;
}

export interface ReclaimUnitHandle {
  readonly id: number;
  attr: RuhAttribute;
  /** The LBA format index of the namespaces using the handle. */
  lbafi: number;
  /** RUAMW of a fresh RU, in blocks of that format. */
  ruBlocks: number;
  /** One current RU per reclaim group. */
  readonly rus: ReclaimUnit[];
  /** Enabled event types (FDP Events feature). */
  readonly events: Set<number>;
}

/** The events log holds 63 entries per kind; the oldest is overwritten. */
export const EVENT_RING = 63;

export class FdpEnduranceGroup {
  readonly ruhs: ReclaimUnitHandle[];
  /** Host bytes with metadata written, media bytes with metadata written, media bytes erased. */
  hbmw = 0n;
  mbmw = 0n;
  mbe = 0n;
  readonly hostEvents: FdpEventRecord[] = [];
  readonly ctrlEvents: FdpEventRecord[] = [];
  /** Clock for event timestamps (tests pin it). */
  now: () => bigint = () => BigInt(Date.now());

  constructor(readonly params: FdpParams) {
    this.ruhs = Array.from({ length: params.nruh }, (_, id) => ({
      id,
      attr: 'unused',
      lbafi: 0,
      ruBlocks: 0,
      rus: Array.from({ length: params.nrg }, () => ({ ruamw: 0, generation: 1 })),
      events: new Set<number>(),
    }));
  }

  /** Gives handle `id` to a namespace (its attribute, LBA format and RU size in blocks). */
  claim(id: number, attr: 'host' | 'ctrl', lbafi: number, lbaSize: number): void {
    const ruh = this.ruhs[id]!;
    if (ruh.attr !== 'unused') return;
    ruh.attr = attr;
    ruh.lbafi = lbafi;
    ruh.ruBlocks = Number(this.params.runs / BigInt(lbaSize));
    for (const ru of ruh.rus) ru.ruamw = ruh.ruBlocks;
  }

  /** Placement identifier of (reclaim group, placement handle index). */
  pid(rg: number, ph: number): number {
    return this.params.rgif === 0 ? ph : (rg << (16 - this.params.rgif)) | ph;
  }

  /** Splits a placement identifier into [reclaim group, placement handle index]. */
  decodePid(pid: number): [number, number] {
    const rgif = this.params.rgif;
    if (rgif === 0) return [0, pid];
    return [pid >>> (16 - rgif), pid & ((1 << (16 - rgif)) - 1)];
  }

  /** Accounts a write of `nlb` blocks of `lbaSize` through handle `ruhid` in group `rg`. */
  write(ruhid: number, rg: number, nlb: number, lbaSize: number, ev: EventContext): void {
    const ruh = this.ruhs[ruhid]!;
    const ru = ruh.rus[rg]!;
    const bytes = BigInt(nlb) * BigInt(lbaSize);
    this.hbmw += bytes;
    this.mbmw += bytes;
    let left = nlb;
    while (left > 0) {
      const take = Math.min(left, ru.ruamw);
      ru.ruamw -= take;
      left -= take;
      if (ru.ruamw === 0) {
        // The RU is full: the controller moves the handle to a fresh one.
        ru.ruamw = ruh.ruBlocks;
        ru.generation++;
        this.event(ruh, FdpEvent.IMPLICIT_MODIFIED_RUH, rg, ev);
      }
    }
  }

  /** Host-requested move of handle `ruhid` in group `rg` to a fresh RU (RUH Update). */
  update(ruhid: number, rg: number, lbaSize: number, ev: EventContext): void {
    const ruh = this.ruhs[ruhid]!;
    const ru = ruh.rus[rg]!;
    if (ru.ruamw !== ruh.ruBlocks) {
      this.event(ruh, FdpEvent.RU_NOT_FULLY_WRITTEN, rg, ev);
      this.mbmw += BigInt(ru.ruamw) * BigInt(lbaSize);
    }
    ru.ruamw = ruh.ruBlocks;
    ru.generation++;
  }

  /** Logs `type` for `ruh` when the host enabled it. */
  event(ruh: ReclaimUnitHandle, type: number, rg: number, ev: EventContext): void {
    if (!ruh.events.has(type)) return;
    const ring = type >= 0x80 ? this.ctrlEvents : this.hostEvents;
    if (ring.length === EVENT_RING) ring.shift();
    const { timestamp, location, ...names } = ev;
    ring.push({
      type,
      rg,
      ruhid: ruh.id,
      location: location ?? true,
      timestamp: timestamp ?? this.now(),
      ...names,
    });
  }
}

/** What an event names besides the handle: the placement identifier and namespace. */
export interface EventContext {
  readonly pid?: number;
  readonly nsid?: number;
  /** False when the reclaim group and handle are not the event's (Invalid PID). */
  readonly location?: boolean;
  /** The controller's Timestamp feature value (ControllerView.timestamp). */
  readonly timestamp?: bigint;
}

/** One group per planned subsystem (the key is its plan configuration object). */
const groups = new WeakMap<object, FdpEnduranceGroup>();

export function enduranceGroupFor(key: object, params: FdpParams): FdpEnduranceGroup {
  let g = groups.get(key);
  if (g === undefined) {
    g = new FdpEnduranceGroup(params);
    groups.set(key, g);
  }
  return g;
}
