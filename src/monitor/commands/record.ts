// Record and replay through the monitor (docs/record-replay.md; nvmemu's own, hence x-nvmemu-):
//   x-nvmemu-record-start  {file, data?: 'hash'|'whole'|'hash-all'}  start recording into file
//   x-nvmemu-record-stop                                              -> {file, commands, events, bytes}
//   x-nvmemu-query-record                                             -> {active, file?, commands?, ...}
// Recording needs `nvmemu run` (it knows the options replay rebuilds the machine from).

import { DATA_MODES, type DataMode } from '../../replay/format.js';
import type { RecordingControl } from '../../replay/control.js';
import { isEmuError } from '../../util/errors.js';
import { genericError } from '../errors.js';
import type { Monitor, MonitorHooks, QmpCommand } from '../monitor.js';

/** What `nvmemu run` adds to the monitor hooks for recording. */
export interface RecordHooks {
  readonly recording: RecordingControl;
}

function control(monitor: Monitor): RecordingControl {
  const r = (monitor.hooks as MonitorHooks & Partial<RecordHooks>).recording;
  if (r === undefined) throw genericError('recording needs a machine started by nvmemu run');
  return r;
}

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isEmuError(e)) throw genericError(e.message);
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== undefined)
      throw genericError(`Could not open the recording file: ${(e as Error).message}`);
    throw e;
  }
}

export const recordCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-record-start',
    args: [
      { name: 'file', type: 'string' },
      { name: 'data', type: 'string', optional: true },
    ],
    run: ({ monitor }, args) => {
      const data = (args.data as string | undefined) ?? 'hash';
      if (!DATA_MODES.includes(data as DataMode)) {
        throw genericError(`Parameter 'data' does not accept value '${data}'`);
      }
      const c = control(monitor);
      checked(() => c.start(args.file as string, data as DataMode));
      return {};
    },
  },
  {
    name: 'x-nvmemu-record-stop',
    args: [],
    run: ({ monitor }) => {
      const c = control(monitor);
      return checked(() => c.stop());
    },
  },
  {
    name: 'x-nvmemu-query-record',
    args: [],
    run: ({ monitor }) => {
      const a = control(monitor).active;
      return a === undefined ? { active: false } : { active: true, ...a };
    },
  },
];
