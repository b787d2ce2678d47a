// Runs one `nvmemu nvme` command: its options parsed against the target options plus its own,
// `--help`, and the exit status and message of every failure (0 success, 1 an NVMe status or
// connection error, 2 a usage error). Loaded with the first command that runs (index.ts).

import type { CliIo } from '../io.js';
import { isEmuError } from '../../util/errors.js';
import { UsageError, parse, targetOptions, type Values } from './options.js';
import { helpText, mergeTables, type OptionTable } from '../options.js';
import { explainError, type TargetInfo } from './errors.js';
import { loadCommand, type NvmeEntry } from './catalogue.js';

/** The target the options name (for error messages); undefined when they name none. */
function targetOf(v: Values): TargetInfo | undefined {
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  const nqn = s('nqn');
  const port = Number(s('trsvcid') ?? 4420);
  if (nqn === undefined || !Number.isInteger(port)) return undefined;
  const hostnqn = s('hostnqn');
  return {
    address: s('traddr') ?? '127.0.0.1',
    port,
    subnqn: nqn,
    ...(hostnqn !== undefined ? { hostnqn } : {}),
  };
}

/** A command's whole option table: the target options and its own. */
export async function optionTable(entry: NvmeEntry): Promise<OptionTable> {
  const cmd = await loadCommand(entry);
  return mergeTables(targetOptions(cmd.shortS), cmd.options);
}

export async function runNvme(entry: NvmeEntry, argv: string[], io: CliIo): Promise<number> {
  const cmd = await loadCommand(entry);
  const table = mergeTables(targetOptions(cmd.shortS), cmd.options);
  let target: TargetInfo | undefined;
  try {
    const v = parse(argv, table);
    target = targetOf(v);
    if (v.help === true) {
      io.out(helpText(`nvmemu nvme ${entry.name}`, table, { summary: entry.summary }));
      return 0;
    }
    return await cmd.run(v, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nvmemu nvme ${entry.name}: ${e.message}\n`);
      return 2;
    }
    if (isEmuError(e) || e instanceof Error) {
      io.err(`nvmemu nvme ${entry.name}: ${explainError(e, target)}\n`);
      return 1;
    }
    throw e;
  }
}
