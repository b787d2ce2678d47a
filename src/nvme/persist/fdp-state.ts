// FDP state of an `fdp=on` subsystem kept across runs (docs/faults.md "Device state across
// restarts"): reclaim unit handles (attribute, LBA format, RU size, enabled events), each
// handle's current reclaim unit per reclaim group (RUAMW, generation), the statistics of log
// 22h and the event rings of log 23h. With `x-persist-fdp=on`, a snapshot (state-file.ts) in
// `<dataDir>/nvme/<subsys id>.fdp`, written at start, after every Flush, at a power cut and at
// a clean shutdown. The drive keeps this metadata through a power loss (it is the controller's
// own, power-loss protected state): a cut saves it as it is at the cut.
//
// Header fields (at 12): RU size u64, reclaim groups u32, handles u32 — a file written for
// another geometry is refused. Records: 1 handle (index = RUH id), 2 reclaim units of a handle
// from a first group on (index = RUH id), 3 statistics, 4 an event (index 0 host, 1 controller).

import { readU16le, readU32le, readU64le, readU8, writeU16le } from '../../util/bytes.js';
import { writeU32le, writeU64le, writeU8 } from '../../util/bytes.js';
import {
  FdpEvent,
  type FdpEnduranceGroup,
  type FdpEventRecord,
  type RuhAttribute,
} from '../ns/fdp/group.js';
import type { Subsystem } from '../subsys/subsystem.js';
import {
  DeviceStateFileError,
  readStateFile,
  writeStateFile,
  type StateRecord,
} from './state-file.js';

const MAGIC = 'NVMFDPST';
const VERSION = 1;
const REC_RUH = 1;
const REC_RUS = 2;
const REC_STATS = 3;
const REC_EVENT = 4;
/** Reclaim units per REC_RUS record (8 bytes each, well under the u16 payload length). */
const RUS_PER_RECORD = 4096;
const EVENT_PAYLOAD = 24;
const ATTRS: readonly RuhAttribute[] = ['unused', 'host', 'ctrl'];
const U64 = (1n << 64n) - 1n;

function geometry(g: FdpEnduranceGroup): Uint8Array {
  const f = new Uint8Array(16);
  writeU64le(f, 0, g.params.runs);
  writeU32le(f, 8, g.params.nrg);
  writeU32le(f, 12, g.params.nruh);
  return f;
}

/** The group as snapshot records. */
export function fdpRecords(g: FdpEnduranceGroup): StateRecord[] {
  const out: StateRecord[] = [];
  for (const ruh of g.ruhs) {
    const events = [...ruh.events].sort((a, b) => a - b);
    const p = new Uint8Array(8 + events.length);
    writeU8(p, 0, ATTRS.indexOf(ruh.attr));
    writeU8(p, 1, ruh.lbafi);
    writeU16le(p, 2, events.length);
    writeU32le(p, 4, ruh.ruBlocks);
    p.set(events, 8);
    out.push({ type: REC_RUH, index: ruh.id, payload: p });
    for (let first = 0; first < ruh.rus.length; first += RUS_PER_RECORD) {
      const rus = ruh.rus.slice(first, first + RUS_PER_RECORD);
      const q = new Uint8Array(4 + 8 * rus.length);
      writeU32le(q, 0, first);
      rus.forEach((ru, i) => {
        writeU32le(q, 4 + 8 * i, ru.ruamw);
        writeU32le(q, 8 + 8 * i, ru.generation);
      });
      out.push({ type: REC_RUS, index: ruh.id, payload: q });
    }
  }
  const s = new Uint8Array(24);
  writeU64le(s, 0, g.hbmw & U64);
  writeU64le(s, 8, g.mbmw & U64);
  writeU64le(s, 16, g.mbe & U64);
  out.push({ type: REC_STATS, index: 0, payload: s });
  for (const [ring, events] of [g.hostEvents, g.ctrlEvents].entries()) {
    for (const e of events) out.push({ type: REC_EVENT, index: ring, payload: encodeEvent(e) });
  }
  return out;
}

function encodeEvent(e: FdpEventRecord): Uint8Array {
  const p = new Uint8Array(EVENT_PAYLOAD);
  writeU8(p, 0, e.type);
  // Flags: PIV, NSIDV, LV, and bit 3 "LV recorded" (files from before LV infer it, below).
  writeU8(
    p,
    1,
    (e.pid !== undefined ? 1 : 0) | (e.nsid !== undefined ? 2 : 0) | (e.location ? 4 : 0) | 8,
  );
  writeU16le(p, 2, e.pid ?? 0);
  writeU32le(p, 4, e.nsid ?? 0);
  writeU32le(p, 8, e.rg);
  writeU32le(p, 12, e.ruhid);
  writeU64le(p, 16, e.timestamp & U64);
  return p;
}

function decodeEvent(p: Uint8Array): FdpEventRecord {
  const flags = readU8(p, 1);
  return {
    type: readU8(p, 0),
    ...((flags & 1) !== 0 ? { pid: readU16le(p, 2) } : {}),
    ...((flags & 2) !== 0 ? { nsid: readU32le(p, 4) } : {}),
    rg: readU32le(p, 8),
    ruhid: readU32le(p, 12),
    // Before LV was kept, only Invalid Placement Identifier events (03h) had no location.
    location: (flags & 8) !== 0 ? (flags & 4) !== 0 : readU8(p, 0) !== FdpEvent.INVALID_PID,
    timestamp: readU64le(p, 16),
  };
}

/** Applies snapshot records to a fresh group (before its namespaces claim handles). */
export function applyFdpRecords(g: FdpEnduranceGroup, records: readonly StateRecord[]): void {
  for (const r of records) {
    switch (r.type) {
      case REC_RUH: {
        const ruh = g.ruhs[r.index];
        const attr = ATTRS[readU8(r.payload, 0)];
        if (ruh === undefined || attr === undefined) break;
        ruh.attr = attr;
        ruh.lbafi = readU8(r.payload, 1);
        ruh.ruBlocks = readU32le(r.payload, 4);
        ruh.events.clear();
        const n = readU16le(r.payload, 2);
        for (const t of r.payload.subarray(8, 8 + n)) ruh.events.add(t);
        break;
      }
      case REC_RUS: {
        const ruh = g.ruhs[r.index];
        if (ruh === undefined) break;
        const first = readU32le(r.payload, 0);
        const n = (r.payload.length - 4) / 8;
        for (let i = 0; i < n; i++) {
          const ru = ruh.rus[first + i];
          if (ru === undefined) break;
          ru.ruamw = readU32le(r.payload, 4 + 8 * i);
          ru.generation = readU32le(r.payload, 8 + 8 * i);
        }
        break;
      }
      case REC_STATS:
        g.hbmw = readU64le(r.payload, 0);
        g.mbmw = readU64le(r.payload, 8);
        g.mbe = readU64le(r.payload, 16);
        break;
      case REC_EVENT:
        if (r.payload.length === EVENT_PAYLOAD)
          (r.index === 0 ? g.hostEvents : g.ctrlEvents).push(decodeEvent(r.payload));
        break;
      default:
        break;
    }
  }
}

/** An FDP endurance group whose state is kept in `file`. */
export class FdpPersistence {
  private constructor(
    readonly file: string,
    readonly group: FdpEnduranceGroup,
  ) {}

  /** Loads `file` into the fresh group of `subsys` and writes it back (creating it). */
  static attach(subsys: Subsystem, group: FdpEnduranceGroup, file: string): FdpPersistence {
    const saved = readStateFile(file, MAGIC, VERSION, 'FDP state file');
    if (saved !== undefined) {
      const f = saved.fields;
      const same =
        readU64le(f, 0) === group.params.runs &&
        readU32le(f, 8) === group.params.nrg &&
        readU32le(f, 12) === group.params.nruh;
      if (!same) {
        throw new DeviceStateFileError(
          `FDP state file '${file}' was written for another FDP configuration ` +
            `(fdp.runs ${readU64le(f, 0)}, fdp.nrg ${readU32le(f, 8)}, fdp.nruh ${readU32le(f, 12)}); remove it`,
        );
      }
      applyFdpRecords(group, saved.records);
    }
    const p = new FdpPersistence(file, group);
    bySubsys.set(subsys, p);
    p.save();
    return p;
  }

  save(): void {
    writeStateFile(this.file, MAGIC, VERSION, geometry(this.group), fdpRecords(this.group));
  }
}

const bySubsys = new WeakMap<Subsystem, FdpPersistence>();

/** Saves the FDP state of `subsys` when it is persisted. */
export function saveFdpStateOf(subsys: Subsystem): void {
  bySubsys.get(subsys)?.save();
}
