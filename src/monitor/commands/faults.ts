// Fault injection and power cuts through the monitor (docs/faults.md; nvmemu's own, hence
// `x-nvmemu-`). The commands drive the machine's FaultInjector (src/faults):
//   x-nvmemu-inject-fault   {kind, id?, nsid?, lba?, count?, opcode?, admin?, qid?, subnqn?,
//                            after?, probability?, times?, duration?, seed?, type?, status?,
//                            ms?, bits?, kelvin?, mode?, sector?}  -> {"fault-id": N}
//   x-nvmemu-clear-fault    {fault-id?}                            -> {"cleared": N}
//   x-nvmemu-query-faults                                           -> {seed, faults, held, history}
//   x-nvmemu-fault-seed     {seed}
//   x-nvmemu-track-writes   {capacity?}  attach the write cache model to every namespace
//   x-nvmemu-flush-audit                 acknowledged writes not yet durable
//   x-nvmemu-power-cut      {seed?, mode?}  cut the power; `nvmemu run` restarts the machine
// Every fault record is also emitted as the NVMEMU_FAULT event.

import { FaultSpecError } from '../../faults/catalogue.js';
import { machineFaults } from '../../faults/injector.js';
import {
  cutPower,
  flushAudit,
  trackWrites,
  type PowerCutOptions,
  type PowerCutReport,
} from '../../faults/power-cut.js';
import { recordJson } from '../../faults/record.js';
import { CUT_MODES, type CutMode } from '../../nvme/ns/write-cache.js';
import { isEmuError } from '../../util/errors.js';
import { genericError } from '../errors.js';
import type { Monitor, MonitorHooks, QmpCommand } from '../monitor.js';
import type { RecordHooks } from './record.js';

/** What `nvmemu run` adds to the monitor hooks: a power cut that restarts the machine. */
export interface PowerCutHooks {
  powerCut(opts: PowerCutOptions): Promise<PowerCutReport>;
}

function injector(monitor: Monitor) {
  const inj = machineFaults(monitor.machine);
  const tcp = monitor.hooks.nvmeTcp?.target;
  if (tcp !== undefined) inj.attachNvmeTcp(tcp);
  return inj;
}

/** FaultSpecError and other host-side errors become GenericError with their message. */
function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FaultSpecError || isEmuError(e)) throw genericError(e.message);
    throw e;
  }
}

function cutOptions(args: Readonly<Record<string, unknown>>): PowerCutOptions {
  const mode = args.mode as string | undefined;
  if (mode !== undefined && !CUT_MODES.includes(mode as CutMode)) {
    throw genericError(`Parameter 'mode' does not accept value '${mode}'`);
  }
  const seed = args.seed as number | undefined;
  if (seed !== undefined && (seed < 0 || seed > 0xffff_ffff)) {
    throw genericError(`Parameter 'seed' expects a value in [0, 4294967295]`);
  }
  return {
    ...(seed !== undefined ? { seed } : {}),
    ...(mode !== undefined ? { mode: mode as CutMode } : {}),
  };
}

/** The report in QMP form. */
export function powerCutJson(r: PowerCutReport): Record<string, unknown> {
  return {
    seed: r.seed,
    mode: r.mode,
    namespaces: r.namespaces.map((n) => ({
      ...(n.device !== undefined ? { device: n.device } : {}),
      nsid: n.nsid,
      tracked: n.tracked,
      'write-cache': n.writeCache,
      'volatile-writes': n.cut?.volatileWrites ?? 0,
      survived: n.cut?.survived ?? 0,
      lost: (n.cut?.lost ?? []).map((w) => ({ lba: w.lba, count: w.nlb })),
      'reverted-blocks': (n.cut?.reverted ?? []).reduce((s, x) => s + x.end - x.start, 0),
      'zones-rolled-back': n.zonesRolledBack,
    })),
    'unsafe-shutdowns': r.unsafeShutdowns,
    backends: r.pmem.map((p) => ({
      id: p.id,
      image: p.image,
      'reverted-ranges': p.reverted.length,
    })),
  };
}

export const faultCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-inject-fault',
    args: [{ name: 'kind', type: 'string' }],
    open: true,
    run: ({ monitor }, args) => {
      const id = checked(() => injector(monitor).inject(args));
      return { 'fault-id': id };
    },
  },
  {
    name: 'x-nvmemu-clear-fault',
    args: [{ name: 'fault-id', type: 'integer', optional: true }],
    run: ({ monitor }, args) => ({
      cleared: checked(() => injector(monitor).clear(args['fault-id'] as number | undefined)),
    }),
  },
  {
    name: 'x-nvmemu-query-faults',
    args: [],
    run: ({ monitor }) => injector(monitor).query(),
  },
  {
    name: 'x-nvmemu-fault-seed',
    args: [{ name: 'seed', type: 'integer' }],
    run: ({ monitor }, args) => {
      const seed = args.seed as number;
      if (seed < 0 || seed > 0xffff_ffff) {
        throw genericError(`Parameter 'seed' expects a value in [0, 4294967295]`);
      }
      injector(monitor).reseed(seed);
      return {};
    },
  },
  {
    name: 'x-nvmemu-track-writes',
    args: [{ name: 'capacity', type: 'integer', optional: true }],
    run: ({ machine, monitor }, args) => {
      const cap = args.capacity as number | undefined;
      if (cap !== undefined && cap < 1)
        throw genericError(`Parameter 'capacity' expects a value >= 1`);
      const n = trackWrites(machine, cap).length;
      // A recording notes it, so replay attaches the model at the same point.
      (monitor.hooks as MonitorHooks & Partial<RecordHooks>).recording?.trackWrites();
      return { namespaces: n };
    },
  },
  {
    name: 'x-nvmemu-flush-audit',
    args: [],
    run: ({ machine }) =>
      flushAudit(machine).map((a) => ({
        ...(a.device !== undefined ? { device: a.device } : {}),
        nsid: a.nsid,
        'write-cache': a.writeCache,
        tracked: a.tracked,
        volatile: a.volatile.map((w) => ({
          seq: w.seq,
          lba: w.lba,
          count: w.nlb,
          'volatile-blocks': w.volatileBlocks,
        })),
      })),
  },
  {
    name: 'x-nvmemu-power-cut',
    args: [
      { name: 'seed', type: 'integer', optional: true },
      { name: 'mode', type: 'string', optional: true },
    ],
    run: async ({ machine, monitor }, args) => {
      if (machine.state !== 'running') throw genericError('the machine is not running');
      const opts = cutOptions(args);
      const hooks = monitor.hooks as MonitorHooks & Partial<PowerCutHooks>;
      machineFaults(monitor.machine).clear();
      if (hooks.powerCut !== undefined) {
        const out = powerCutJson(await hooks.powerCut(opts));
        monitor.emit('NVMEMU_POWER_CUT', { ...out, restarted: true });
        return { ...out, restarted: true };
      }
      // Without a host that can restart it, the machine stops after the cut.
      const out = powerCutJson(await cutPower(machine, opts));
      monitor.emit('NVMEMU_POWER_CUT', { ...out, restarted: false });
      monitor.requestQuit({ guest: false, reason: 'host-error' });
      return { ...out, restarted: false };
    },
  },
];

/** Emits NVMEMU_FAULT for every fault record of this monitor's machine. */
export function wireFaultEvents(monitor: Monitor): () => void {
  return machineFaults(monitor.machine).log.onRecord((r) =>
    monitor.emit('NVMEMU_FAULT', recordJson(r)),
  );
}
