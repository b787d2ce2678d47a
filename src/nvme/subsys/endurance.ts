// Endurance group 1 of a subsystem (NVMe Base Spec 2.0 §3.2.3; Endurance Group Information log
// 09h, Figure 213): every `nvme-ns` namespace of the subsystem belongs to it, as in QEMU, where
// all namespaces of a subsystem form one group. It exists when the subsystem has FDP (at every
// compatibility level: FDP is scoped to an endurance group) and, at the QEMU 10.0 level, always
// (spec/levels.ts `enduranceGroupAlways`); the `drive=` namespace names no group in its Identify
// data (ENDGID 0), though its I/O is counted, as QEMU 10.0 does.
//
// The log's figures come from one place, `EnduranceGroupState.figures()`: the namespaces'
// block-layer counters (the same accounting as SMART), plus what a wear source adds. A wear
// model (the endurance of the media behind the group: spare, percentage used, media writes,
// critical warnings) plugs in as `wear`; without one the group reports what QEMU 10.0 does:
// the command counts and data units, everything else zero.

import type { NamespaceApi } from '../spec/namespace-api.js';
import type { NvmeLevel } from '../spec/levels.js';
import type { Subsystem } from './subsystem.js';
import { combineWear } from '../model/wear.js';

/** The endurance group's one identifier (QEMU: ENDGIDMAX 1). */
export const ENDGID = 1;

/** What log 09h reports (Figure 213), before encoding. 128-bit counters are bigints. */
export interface EnduranceFigures {
  /** Critical Warning (byte 0): bit 0 spare, 2 reliability, 3 read only. */
  readonly criticalWarning: number;
  /** Available Spare (3), Available Spare Threshold (4), Percentage Used (5), percent. */
  readonly availableSpare: number;
  readonly availableSpareThreshold: number;
  readonly percentageUsed: number;
  /** Endurance Estimate (32), in billions of bytes. */
  readonly enduranceEstimate: bigint;
  /** Data Units Read/Written (48, 64), Media Units Written (80): billions of bytes. */
  readonly dataUnitsRead: bigint;
  readonly dataUnitsWritten: bigint;
  readonly mediaUnitsWritten: bigint;
  /** Host Read/Write Commands (96, 112). */
  readonly hostReadCommands: bigint;
  readonly hostWriteCommands: bigint;
  /** Media and Data Integrity Errors (128), Number of Error Information Log Entries (144). */
  readonly mediaErrors: bigint;
  readonly errorEntries: bigint;
}

/** Raw totals of the group's namespaces, what a wear source starts from. */
export interface EnduranceTotals {
  readonly bytesRead: bigint;
  readonly bytesWritten: bigint;
  readonly readCommands: bigint;
  readonly writeCommands: bigint;
}

/**
 * A model of the media's wear behind the group: given the totals (and the figures computed
 * without it), it returns the figures to report. Set on `EnduranceGroupState.wear`.
 */
export type WearSource = (totals: EnduranceTotals, base: EnduranceFigures) => EnduranceFigures;

const BILLION = 1_000_000_000n;

export class EnduranceGroupState {
  readonly id = ENDGID;
  /** The wear model feeding the log, when one is attached (none: QEMU 10.0's figures). */
  wear: WearSource | undefined;

  constructor(private readonly subsys: Subsystem) {}

  /**
   * The namespaces whose I/O the group counts: every namespace of the subsystem, attached or
   * not. QEMU 10.0 counts the `drive=` namespace's I/O here too, though its Identify data
   * names no endurance group (ENDGID 0).
   */
  namespaces(): NamespaceApi[] {
    return [...this.subsys.namespaces.values()];
  }

  totals(): EnduranceTotals {
    let bytesRead = 0n;
    let bytesWritten = 0n;
    let readCommands = 0n;
    let writeCommands = 0n;
    for (const ns of this.namespaces()) {
      const s = ns.smart();
      bytesRead += s.bytesRead;
      bytesWritten += s.bytesWritten;
      readCommands += s.readCommands;
      writeCommands += s.writeCommands;
    }
    return { bytesRead, bytesWritten, readCommands, writeCommands };
  }

  /**
   * The figures log 09h reports. Without a wear model: data units in billions of bytes (QEMU
   * 10.0 divides the byte counts and truncates), media units written = data units written,
   * the command counts, everything else 0.
   */
  figures(): EnduranceFigures {
    const t = this.totals();
    // A device model's wear (docs/models.md): spare, percentage used, media writes.
    const wear = combineWear(this.namespaces());
    const base: EnduranceFigures = {
      criticalWarning: wear?.criticalWarning ?? 0,
      availableSpare: wear?.availableSpare ?? 0,
      availableSpareThreshold: wear?.availableSpareThreshold ?? 0,
      percentageUsed: Math.min(255, wear?.percentageUsed ?? 0),
      enduranceEstimate: 0n,
      dataUnitsRead: t.bytesRead / BILLION,
      dataUnitsWritten: t.bytesWritten / BILLION,
      mediaUnitsWritten: (wear?.mediaBytesWritten ?? t.bytesWritten) / BILLION,
      hostReadCommands: t.readCommands,
      hostWriteCommands: t.writeCommands,
      mediaErrors: 0n,
      errorEntries: 0n,
    };
    return this.wear === undefined ? base : this.wear(t, base);
  }
}

const groups = new WeakMap<Subsystem, EnduranceGroupState>();

/**
 * Endurance group 1 of `subsys` at `level`, when it has one: with FDP, or at a level where
 * every subsystem has one. The same object for the subsystem's life (wear models attach once).
 */
export function enduranceGroupOf(
  subsys: Subsystem,
  level: NvmeLevel,
): EnduranceGroupState | undefined {
  if (subsys.fdp === undefined && !level.enduranceGroupAlways) return undefined;
  let g = groups.get(subsys);
  if (g === undefined) {
    g = new EnduranceGroupState(subsys);
    groups.set(subsys, g);
  }
  return g;
}
