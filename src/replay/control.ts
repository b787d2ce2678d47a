// Recording of a running `nvmemu run` (--record, x-nvmemu-record-start/stop): at most one
// recorder at a time, carried across the power cuts that replace the machine.

import type { Machine } from '../machine/machine.js';
import type { FaultInjector } from '../faults/injector.js';
import type { PowerCutOptions } from '../faults/power-cut.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import { Recorder } from './recorder.js';
import type { DataMode } from './format.js';

export interface RecordingStats {
  readonly file: string;
  readonly commands: number;
  readonly events: number;
  readonly bytes: number;
}

export class RecordingControl {
  #rec: { recorder: Recorder; file: string } | undefined;

  constructor(
    private readonly machine: () => Machine,
    private readonly injector: () => FaultInjector,
    private readonly argv: readonly string[],
    private readonly version: string,
  ) {}

  get active(): RecordingStats | undefined {
    return this.#rec === undefined
      ? undefined
      : { file: this.#rec.file, ...this.#rec.recorder.stats };
  }

  /** Starts recording into `file` (created or truncated). */
  start(file: string, data: DataMode = 'hash'): void {
    if (this.#rec !== undefined) {
      throw new EmuError(ErrorCode.EMU_ERR_STATE, `already recording to ${this.#rec.file}`);
    }
    const recorder = new Recorder(this.machine(), this.injector(), {
      argv: this.argv,
      data,
      version: this.version,
      file,
    });
    this.#rec = { recorder, file };
  }

  /** Ends the recording; its totals. */
  stop(): RecordingStats {
    const r = this.#rec;
    if (r === undefined) throw new EmuError(ErrorCode.EMU_ERR_STATE, 'not recording');
    this.#rec = undefined;
    return { file: r.file, ...r.recorder.stop() };
  }

  trackWrites(): void {
    this.#rec?.recorder.trackWrites();
  }

  beforePowerCut(opts: PowerCutOptions): void {
    this.#rec?.recorder.powerCut(opts);
  }

  afterPowerCut(next: Machine): void {
    this.#rec?.recorder.attach(next, this.injector());
  }
}
