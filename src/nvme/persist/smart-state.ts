// Device state that survives separate runs of nvmemu (docs/faults.md "Device state across
// restarts"): SMART counters of a controller with `x-persist-smart=on`, saved as a snapshot
// (state-file.ts) in `<dataDir>/nvme/<subsys id or serial>-<cntlid>.smart`.
//
// When it is written: at start (marked "running"), after every successful Flush (still
// running), at a simulated power cut and at a clean shutdown (marked "stopped"). A start that
// finds the file still marked running knows the previous run ended without a shutdown (the
// process was killed: for the drive, a power loss) and counts an unsafe shutdown, as a real
// drive does. Every start counts a power cycle. QEMU 7.2 keeps none of this (reference §3.4:
// the counters restart at every start); `x-persist-smart=off`, the default, does the same.

import { readU32le, readU64le, writeU32le, writeU64le } from '../../util/bytes.js';
import type { Controller } from '../ctrl/controller.js';
import type { SmartCounters } from '../ctrl/smart.js';
import { readStateFile, writeStateFile } from './state-file.js';
import { saveFdpStateOf } from './fdp-state.js';

const SMART_MAGIC = 'NVMSMART';
const SMART_VERSION = 1;
const REC_COUNTERS = 1;
/** Payload: 8 counters (u64, SmartCounters order below) + flags u32 + 4 reserved. */
const COUNTERS_PAYLOAD = 72;
const FLAG_RUNNING = 1;

const FIELDS = [
  'powerCycles',
  'unsafeShutdowns',
  'mediaErrors',
  'powerOnMs',
  'bytesRead',
  'bytesWritten',
  'readCommands',
  'writeCommands',
] as const satisfies readonly (keyof SmartCounters)[];

const U64 = (1n << 64n) - 1n;

/** The controller's counters including this run (namespaces' block counts, power-on time). */
export function smartTotals(ctrl: Controller): SmartCounters {
  const k = ctrl.smart.counters;
  const t: SmartCounters = { ...k };
  for (const ns of ctrl.namespaces.values()) {
    const s = ns.smart();
    t.bytesRead += s.bytesRead;
    t.bytesWritten += s.bytesWritten;
    t.readCommands += s.readCommands;
    t.writeCommands += s.writeCommands;
  }
  const elapsed = Math.max(0, Math.floor(ctrl.params.clock.nowMs() - ctrl.smart.startMs));
  t.powerOnMs += BigInt(elapsed);
  return t;
}

export function encodeSmartCounters(c: SmartCounters, running: boolean): Uint8Array {
  const p = new Uint8Array(COUNTERS_PAYLOAD);
  FIELDS.forEach((f, i) => writeU64le(p, 8 * i, c[f] & U64));
  writeU32le(p, 64, running ? FLAG_RUNNING : 0);
  return p;
}

export function decodeSmartCounters(p: Uint8Array): { counters: SmartCounters; running: boolean } {
  const counters = {} as SmartCounters;
  FIELDS.forEach((f, i) => (counters[f] = readU64le(p, 8 * i)));
  return { counters, running: (readU32le(p, 64) & FLAG_RUNNING) !== 0 };
}

/** A controller whose SMART counters are kept in `file`. */
export class SmartPersistence {
  private constructor(
    readonly file: string,
    readonly ctrl: Controller,
  ) {}

  /**
   * Loads `file` into the fresh controller's counters (power cycles + 1; unsafe shutdowns + 1
   * when the last run did not stop), then marks the file running. Throws DeviceStateFileError
   * for a file that is not a SMART state file.
   */
  static attach(ctrl: Controller, file: string): SmartPersistence {
    const saved = readStateFile(file, SMART_MAGIC, SMART_VERSION, 'SMART state file');
    const rec = saved?.records.find(
      (r) => r.type === REC_COUNTERS && r.payload.length === COUNTERS_PAYLOAD,
    );
    if (rec !== undefined) {
      const { counters, running } = decodeSmartCounters(rec.payload);
      const k = ctrl.smart.counters;
      for (const f of FIELDS) k[f] = counters[f];
      k.powerCycles += 1n;
      if (running) k.unsafeShutdowns += 1n;
    }
    const p = new SmartPersistence(file, ctrl);
    persisted.set(ctrl, p);
    p.save(true);
    return p;
  }

  /** Writes the current totals; `running` false after a shutdown or a counted power cut. */
  save(running: boolean): void {
    const payload = encodeSmartCounters(smartTotals(this.ctrl), running);
    writeStateFile(this.file, SMART_MAGIC, SMART_VERSION, new Uint8Array(0), [
      { type: REC_COUNTERS, index: 0, payload },
    ]);
  }
}

const persisted = new WeakMap<Controller, SmartPersistence>();

export function smartPersistenceOf(ctrl: Controller): SmartPersistence | undefined {
  return persisted.get(ctrl);
}

/**
 * Saves what is persisted of `ctrl` (its SMART counters, its subsystem's FDP state):
 * `running` after a Flush, not running at shutdown and after a counted power cut.
 */
export function saveDeviceState(ctrl: Controller, running: boolean): void {
  persisted.get(ctrl)?.save(running);
  saveFdpStateOf(ctrl.subsys);
}
