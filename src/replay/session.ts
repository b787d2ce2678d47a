// Replay of a recording on a machine of its own: fresh images of the recorded sizes in a
// scratch folder, the machine built from the recorded options, power cuts that rebuild it
// (as `nvmemu run` does behind its monitor), then the report.

import { closeSync, openSync, ftruncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from '../config/options.js';
import { Machine } from '../machine/machine.js';
import { machineSettings } from '../machine/settings.js';
import { registerAllTypes } from '../devices.js';
import { machineFaults } from '../faults/injector.js';
import { MachineSwitch } from '../faults/machine-switch.js';
import { powerCutMachine, trackWrites, writeCacheOf } from '../faults/power-cut.js';
import { allNamespaces } from '../faults/targets.js';
import type { Recording } from './format.js';
import { replayOn, type ReplayOptions, type ReplayReport } from './replayer.js';

export interface SessionOptions extends ReplayOptions {
  /** Scratch folder: the machine's data folder and its fresh images. */
  readonly dataDir: string;
  /** 'fresh' (default): new zero-filled images of the recorded sizes; 'original': the paths. */
  readonly images?: 'fresh' | 'original';
  /** Rewrites the recorded options before the machine is built (e.g. to try another default). */
  readonly argv?: (argv: readonly string[]) => readonly string[];
  /** Builds the machine (default: the options' items; the CLI adds the default machine). */
  readonly build?: (argv: readonly string[], dataDir: string) => Promise<Machine>;
}

/** The recorded options with each recorded image replaced by a fresh one in `dir`. */
export function freshImages(rec: Recording, dir: string): string[] {
  let argv = [...rec.machine.argv];
  rec.machine.images.forEach((img, i) => {
    const path = join(dir, `replay-${i}-${basename(img.path)}`);
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, img.size);
    } finally {
      closeSync(fd);
    }
    const esc = img.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(^|,)(file|mem-path)=${esc}(?=,|$)`, 'g');
    argv = argv.map((a) => a.replace(re, (_m, sep: string, key: string) => `${sep}${key}=${path}`));
  });
  return argv;
}

/** Builds a machine from `nvmemu run` words (no default machine: the CLI adds that). */
export async function buildMachine(argv: readonly string[], dataDir: string): Promise<Machine> {
  registerAllTypes();
  const args = parseArgs(argv);
  return Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir,
    warn: () => undefined,
  });
}

/** Replays `rec` on a fresh machine and shuts it down. */
export async function replayRecording(rec: Recording, opts: SessionOptions): Promise<ReplayReport> {
  let argv: readonly string[] =
    opts.images === 'original' ? [...rec.machine.argv] : freshImages(rec, opts.dataDir);
  if (opts.argv !== undefined) argv = opts.argv(argv);
  const machine = await (opts.build ?? buildMachine)(argv, opts.dataDir);
  const view = new MachineSwitch(machine);
  const injector = machineFaults(view);
  if (rec.machine.trackWrites) trackWrites(machine);
  try {
    return await replayOn(
      rec,
      {
        machine: () => view.current,
        injector: () => injector,
        powerCut: async (o) => {
          const tracked = allNamespaces(view.current).some((ns) => writeCacheOf(ns) !== undefined);
          const { machine: next } = await powerCutMachine(view.current, o);
          view.current = next;
          if (tracked) trackWrites(next);
        },
      },
      opts,
    );
  } finally {
    injector.clear();
    if (view.current.state === 'running') await view.current.shutdown();
  }
}
