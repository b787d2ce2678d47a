// `nvmemu replay FILE` and `nvmemu replay --diff A B` (docs/record-replay.md). Replay builds a
// fresh machine from the recording's options (fresh images of the recorded sizes in a scratch
// folder; the default machine when the recording had no device options), re-runs every command
// and prints each divergence. Exit status: 0 no divergence, 1 divergences (or the machine could
// not be built), 2 a usage error or a file that is not a valid recording.

import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  diffRecordings,
  formatDivergence,
  parseRecording,
  RecordingError,
  replayRecording,
  type Divergence,
  type Recording,
} from '../replay/index.js';
import { buildMachine } from '../replay/session.js';
import { parseArgs } from '../config/options.js';
import { Machine } from '../machine/machine.js';
import { machineSettings } from '../machine/settings.js';
import { registerAllTypes } from '../devices.js';
import type { CliIo } from './io.js';
import { helpText, parseOptions, type OptionTable, type Values } from './options.js';
import { defaultMachineArgs } from './default-machine.js';
import { formatError } from './run.js';

export const REPLAY_USAGE = `Usage: nvmemu replay FILE [--time-tolerance MS] [--images fresh|original] [--data DIR] [-o json]
       nvmemu replay --diff A B [--time-tolerance MS] [-o json]

Re-runs a recording (nvmemu run --record FILE, x-nvmemu-record-start) on a fresh machine built
from the same options and reports every divergence: status, CQE DW0/DW1, returned data, and the
controller's time beyond the tolerance (default 100 ms; 'off' compares no times). With --diff,
compares two recordings of the same workload command by command. Exit status: 0 no divergence,
1 divergences, 2 usage error or not a valid recording.
`;

const OPTIONS: OptionTable = {
  diff: { type: 'boolean', description: 'compare two recordings A and B' },
  'time-tolerance': {
    type: 'string',
    valueName: 'MS',
    description: "time divergence beyond MS milliseconds (default 100; 'off')",
  },
  images: {
    type: 'string',
    valueName: 'KIND',
    description: 'fresh (default: new images of the recorded sizes) or original (the paths)',
  },
  data: { type: 'string', valueName: 'DIR', description: 'scratch folder (kept)' },
  'completion-timeout': {
    type: 'string',
    valueName: 'MS',
    description: 'wait this long for a recorded completion (default 5000)',
  },
  'output-format': {
    type: 'string',
    short: 'o',
    default: 'normal',
    valueName: 'FMT',
    description: 'normal or json',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

function number(v: unknown, name: string, allowOff: boolean): number | undefined {
  if (v === undefined) return undefined;
  if (allowOff && v === 'off') return Infinity;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) {
    throw new Error(
      `--${name} expects a number of milliseconds${allowOff ? " or 'off'" : ''}, not '${text}'`,
    );
  }
  return n;
}

function load(path: string): Recording {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RecordingError(
      `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  try {
    return parseRecording(bytes);
  } catch (e) {
    if (e instanceof RecordingError) throw new RecordingError(`${path}: ${e.message}`);
    throw e;
  }
}

/** The machine of a recording: its options, or the default machine when it had none. */
async function build(argv: readonly string[], dataDir: string): Promise<Machine> {
  registerAllTypes();
  const args = parseArgs(argv);
  if (args.items.length > 0) return buildMachine(argv, dataDir);
  const d = await defaultMachineArgs(dataDir, []);
  return Machine.create(d.items, {
    settings: machineSettings(d),
    dataDir,
    warn: () => undefined,
  });
}

function print(
  io: CliIo,
  json: boolean,
  result: Record<string, unknown>,
  list: readonly Divergence[],
  summary: string,
): void {
  if (json) {
    io.out(`${JSON.stringify({ ...result, divergences: list }, null, 2)}\n`);
    return;
  }
  for (const d of list) io.out(`${formatDivergence(d)}\n`);
  io.out(`${summary}\n`);
}

export async function replayCommand(argv: string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  let tol: number | undefined;
  let timeout: number | undefined;
  try {
    ({ values, positionals } = parseOptions(argv, OPTIONS, { positionals: true }));
    tol = number(values['time-tolerance'], 'time-tolerance', true);
    timeout = number(values['completion-timeout'], 'completion-timeout', false);
    const fmt = values['output-format'];
    if (fmt !== 'normal' && fmt !== 'json')
      throw new Error(`-o expects normal or json, not '${String(fmt)}'`);
    const img = values.images;
    if (img !== undefined && img !== 'fresh' && img !== 'original') {
      throw new Error(`--images expects fresh or original, not '${String(img)}'`);
    }
    const want = values.diff === true ? 2 : 1;
    if (values.help !== true && positionals.length !== want) {
      throw new Error(
        values.diff === true ? '--diff needs two recordings A and B' : 'needs one recording FILE',
      );
    }
  } catch (e) {
    io.err(`nvmemu replay: ${(e as Error).message}\n${REPLAY_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.out(
      helpText('nvmemu replay', OPTIONS, {
        operands: 'FILE | --diff A B',
        summary: 'replay a recording; exit 0 same, 1 divergent',
      }),
    );
    return 0;
  }
  const json = values['output-format'] === 'json';
  let recs: Recording[];
  try {
    recs = positionals.map((p) => load(resolve(p)));
  } catch (e) {
    io.err(`nvmemu replay: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.diff === true) {
    const d = diffRecordings(recs[0]!, recs[1]!, { timeToleranceMs: tol ?? 100 });
    print(
      io,
      json,
      { compared: d.compared, divergent: d.divergent },
      d.divergences,
      `${d.compared} commands compared, ${d.divergent} divergences`,
    );
    return d.divergent === 0 ? 0 : 1;
  }
  const rec = recs[0]!;
  const keep = typeof values.data === 'string';
  const dir = keep ? resolve(values.data as string) : mkdtempSync(join(tmpdir(), 'nvmemu-replay-'));
  try {
    if (keep) mkdirSync(dir, { recursive: true });
    const r = await replayRecording(rec, {
      dataDir: dir,
      images: (values.images as 'fresh' | 'original' | undefined) ?? 'fresh',
      build,
      ...(tol !== undefined ? { timeToleranceMs: tol } : {}),
      ...(timeout !== undefined ? { completionTimeoutMs: timeout } : {}),
    });
    print(
      io,
      json,
      {
        commands: r.commands,
        replayed: r.replayed,
        skipped: r.skipped,
        events: r.events,
        divergent: r.divergent,
        complete: rec.end !== undefined,
      },
      r.divergences,
      `${r.replayed} commands replayed (${r.skipped} transport commands skipped), ${r.events} events, ${r.divergent} divergences` +
        (rec.end === undefined ? ' (the recording has no end record: it was cut short)' : ''),
    );
    return r.divergent === 0 ? 0 : 1;
  } catch (e) {
    io.err(e instanceof RecordingError ? `nvmemu replay: ${e.message}\n` : formatError(e));
    return e instanceof RecordingError ? 2 : 1;
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
