// SMART / Health Information (reference §3.4 LID 02h, §3.6): critical warnings (injected bits
// plus the temperature bit), the constant composite temperature 323 K, block-layer counters of
// the namespaces, power-on hours from the injected clock.

import { ConfigError } from '../../config/errors.js';
import { ByteWriter } from '../../util/bytes.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import { AerType, type AerState } from './aer.js';
import type { Features } from './features-state.js';
import { combineWear } from '../model/wear.js';

export const SmartWarn = {
  SPARE: 0x01,
  TEMPERATURE: 0x02,
  RELIABILITY: 0x04,
  MEDIA_READ_ONLY: 0x08,
  VOLATILE_BACKUP: 0x10,
  PMR_UNRELIABLE: 0x20,
} as const;

/** QEMU's constant composite temperature (Kelvin). */
export const COMPOSITE_TEMPERATURE = 323;
export const SMART_LOG_SIZE = 512;
const LOG_SMART = 0x02;

/**
 * SMART counters a real drive keeps across power cycles (nvmemu: persisted with the device
 * state, nvme/persist/smart-state.ts; QEMU 7.2 reports them as 0). Data units and command
 * counts carried over from earlier runs are added to the namespaces' current counts.
 */
export interface SmartCounters {
  powerCycles: bigint;
  unsafeShutdowns: bigint;
  mediaErrors: bigint;
  /** Power-on milliseconds of earlier runs. */
  powerOnMs: bigint;
  bytesRead: bigint;
  bytesWritten: bigint;
  readCommands: bigint;
  writeCommands: bigint;
}

export const zeroSmartCounters = (): SmartCounters => ({
  powerCycles: 0n,
  unsafeShutdowns: 0n,
  mediaErrors: 0n,
  powerOnMs: 0n,
  bytesRead: 0n,
  bytesWritten: 0n,
  readCommands: 0n,
  writeCommands: 0n,
});

export class SmartState {
  criticalWarning: number;
  /** Composite temperature in Kelvin (QEMU's constant; fault injection changes it). */
  temperature = COMPOSITE_TEMPERATURE;
  /** Counters of earlier runs (restored device state) plus this run's unsafe shutdowns etc. */
  readonly counters: SmartCounters = zeroSmartCounters();

  constructor(
    private readonly features: Features,
    private readonly aer: AerState,
    initialWarning: number,
    readonly startMs: number,
  ) {
    this.criticalWarning = initialWarning;
  }

  /** qom-set smart_critical_warning: validates, stores, raises events for new bits. */
  setCriticalWarning(value: number, pmr: boolean): void {
    const allowed = pmr ? 0x3f : 0x1f;
    if ((value & ~allowed) !== 0) {
      throw new ConfigError(
        `unsupported smart critical warning bits: 0x${(value & ~allowed).toString(16)}`,
        'smart_critical_warning',
      );
    }
    const old = this.criticalWarning;
    this.criticalWarning = value;
    for (let bit = 1; bit <= 0x20; bit <<= 1) {
      if ((value & ~old & bit) !== 0) this.event(bit);
    }
  }

  /** New wear warning bits of a modelled namespace: the event of each (docs/models.md). */
  wearWarning(bits: number): void {
    for (let bit = 1; bit <= 0x20; bit <<= 1) if ((bits & bit) !== 0) this.event(bit);
  }

  /** nvme_smart_event: only events enabled in AEC bits 7:0 are reported. */
  event(bit: number): void {
    if ((this.features.asyncEventConfig & 0xff & bit) === 0) return;
    let info: number;
    if (bit === SmartWarn.SPARE) info = 2;
    else if (bit === SmartWarn.TEMPERATURE) info = 1;
    else info = 0;
    this.aer.enqueue(AerType.SMART, info, LOG_SMART);
  }

  get temperatureExceeded(): boolean {
    const f = this.features;
    return this.temperature >= f.tempOver || this.temperature <= f.tempUnder;
  }

  /** Injected temperature excursion: a threshold crossing raises the temperature event. */
  setTemperature(kelvin: number): void {
    const was = this.temperatureExceeded;
    this.temperature = kelvin;
    if (!was) this.checkTemperature();
  }

  /** After a threshold change: a crossing raises the temperature event (reference §3.3). */
  checkTemperature(): void {
    if (this.temperatureExceeded) this.event(SmartWarn.TEMPERATURE);
  }

  /**
   * The 512-byte log over `namespaces` (all attached, or one); `errorEntries` is the lifetime
   * count of Error Information log entries (ctrl/error-log.ts).
   */
  log(namespaces: readonly NamespaceApi[], nowMs: number, errorEntries: bigint): Uint8Array {
    const k = this.counters;
    let bytesRead = k.bytesRead;
    let bytesWritten = k.bytesWritten;
    let readCmds = k.readCommands;
    let writeCmds = k.writeCommands;
    for (const ns of namespaces) {
      const s = ns.smart();
      bytesRead += s.bytesRead;
      bytesWritten += s.bytesWritten;
      readCmds += s.readCommands;
      writeCmds += s.writeCommands;
    }
    // Data units: thousands of 512-byte units, rounded up, after QEMU's >> 9 of the bytes.
    const units = (bytes: bigint): bigint => ((bytes >> 9n) + 999n) / 1000n;
    const hours =
      (k.powerOnMs + BigInt(Math.max(0, Math.floor(nowMs - this.startMs)))) / 3_600_000n;
    // A device model's wear (docs/models.md): its warning bits, spare and percentage used.
    const wear = combineWear(namespaces);
    const w = new ByteWriter(SMART_LOG_SIZE);
    w.u8(
      this.criticalWarning |
        (this.temperatureExceeded ? SmartWarn.TEMPERATURE : 0) |
        (wear?.criticalWarning ?? 0),
    );
    w.u16le(this.temperature);
    // Available spare, spare threshold, percentage used (255 at most): 0 in QEMU 7.2.
    if (wear !== undefined) {
      w.u8(wear.availableSpare);
      w.u8(wear.availableSpareThreshold);
      w.u8(Math.min(255, wear.percentageUsed));
    }
    w.offset = 32;
    const u128 = (v: bigint): void => {
      w.u64le(v & 0xffff_ffff_ffff_ffffn);
      w.u64le(v >> 64n);
    };
    u128(units(bytesRead));
    u128(units(bytesWritten));
    u128(readCmds);
    u128(writeCmds);
    u128(0n); // controller busy time
    u128(k.powerCycles); // QEMU 7.2 reports 0; nvmemu counts restarts with persisted state
    u128(hours);
    u128(k.unsafeShutdowns); // offset 144: power cuts (src/faults/power-cut.ts)
    u128(k.mediaErrors); // offset 160: media and data integrity errors (injected)
    u128(errorEntries); // offset 176: Number of Error Information Log Entries
    return w.buf;
  }
}
