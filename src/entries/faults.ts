// The `nvmemu/faults` entry point: the fault catalogue (docs/faults.md) — the kinds, the spec a
// fault is described by, its parser, the injector's records and the diagnostics channel they
// are published on. Inject faults with `machine.faults().inject({...})` (entry `nvmemu`).
// Names are re-declared here with their public documentation; the implementation modules are
// the fault layer's own.

import {
  FAULT_KINDS as CORE_FAULT_KINDS,
  FaultSpecError as CoreFaultSpecError,
  parseFaultSpec as coreParseFaultSpec,
  type FaultKind as CoreFaultKind,
  type FaultSpec as CoreFaultSpec,
  type FaultTarget as CoreFaultTarget,
  type FaultTrigger as CoreFaultTrigger,
} from '../faults/catalogue.js';
import type {
  FaultInfo as CoreFaultInfo,
  FaultInjector as CoreFaultInjector,
} from '../faults/injector.js';
import {
  FAULT_CHANNEL as CORE_FAULT_CHANNEL,
  type FaultEvent as CoreFaultEvent,
  type FaultRecord as CoreFaultRecord,
} from '../faults/record.js';
import type {
  NamespaceCut as CoreNamespaceCut,
  PowerCutOptions as CorePowerCutOptions,
  PowerCutReport as CorePowerCutReport,
} from '../faults/power-cut.js';
import {
  CUT_MODES as CORE_CUT_MODES,
  type CutMode as CoreCutMode,
} from '../nvme/ns/write-cache.js';

/** Every fault kind, in the order docs/faults.md lists them (`media-error`, `timeout`, ...). */
export const FAULT_KINDS: readonly CoreFaultKind[] = CORE_FAULT_KINDS;

/** One of {@link FAULT_KINDS}. */
export type FaultKind = CoreFaultKind;

/** What a fault applies to: device `id`, `nsid`, LBA range, opcodes, queue, subsystem NQN. */
export type FaultTarget = CoreFaultTarget;

/** When a fault fires: `after` N opportunities, with `probability`, at most `times`, for `durationMs`. */
export type FaultTrigger = CoreFaultTrigger;

/** A checked fault description: kind, target, trigger and the kind's parameters. */
export type FaultSpec = CoreFaultSpec;

/** A fault description that failed its checks; the message names the offending field. */
export const FaultSpecError = CoreFaultSpecError;
/** An instance of {@link FaultSpecError}. */
export type FaultSpecError = CoreFaultSpecError;

/**
 * Checks a loose fault record (as written in QMP arguments or a scenario step) and returns the
 * typed spec, or throws {@link FaultSpecError}. `machine.faults().inject()` calls it too.
 */
export const parseFaultSpec: (record: Readonly<Record<string, unknown>>) => FaultSpec =
  coreParseFaultSpec;

/** A live fault as `injector.faults()` lists it: id, spec, seed, phase, opportunities seen, firings. */
export type FaultInfo = CoreFaultInfo;

/** The fault injector of a machine, as `machine.faults()` returns it. */
export type FaultInjector = CoreFaultInjector;

/** What happened to a fault: injected, applied, hit, released, expired or cleared. */
export type FaultEvent = CoreFaultEvent;

/** One entry of the fault trace (`injector.history()`, and the diagnostics channel). */
export type FaultRecord = CoreFaultRecord;

/** The `node:diagnostics_channel` name every {@link FaultRecord} is published on. */
export const FAULT_CHANNEL: string = CORE_FAULT_CHANNEL;

/** What survives of cached writes at a power cut: `all` lost, a `prefix`, or a random `subset`. */
export type CutMode = CoreCutMode;

/** Every {@link CutMode}. */
export const CUT_MODES: readonly CutMode[] = CORE_CUT_MODES;

/** Options of `machine.powerCut()`: `mode` and the survivor choice's `seed`. */
export type PowerCutOptions = CorePowerCutOptions;

/** What a power cut did, per namespace, per controller (unsafe shutdowns) and per pmem backend. */
export type PowerCutReport = CorePowerCutReport;

/** One namespace's part of a {@link PowerCutReport}. */
export type NamespaceCut = CoreNamespaceCut;
