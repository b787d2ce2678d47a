// Shared plumbing of the `nvmemu ndctl` subcommands: option parsing with the region options
// every command accepts, opening the regions, ndctl-style messages, device-name matching.

import { parseSize } from '../../config/size.js';
import { isEmuError } from '../../util/errors.js';
import { scanRegion, type Namespace, type RegionView } from '../../pmem/ndctl/region.js';
import { NdctlError } from '../../pmem/ndctl/ops.js';
import type { CliIo } from '../io.js';
import {
  backingSpecs,
  dataDirOf,
  EnableState,
  openPublishedRegions,
  openRegions,
  UsageError,
  type OpenRegions,
} from './regions.js';

import {
  mergeTables,
  optionsList,
  parseOptions,
  type OptionTable,
  type Values,
} from '../options.js';

export type { Values };
type Options = OptionTable;

export const REGION_OPTIONS: Options = {
  backing: {
    type: 'string',
    multiple: true,
    valueName: 'FILE',
    description: 'an nvdimm backing file (repeat for more regions)',
  },
  'label-size': {
    type: 'string',
    multiple: true,
    valueName: 'SIZE',
    description: 'label area size of each --backing',
  },
  'backing-align': {
    type: 'string',
    multiple: true,
    valueName: 'SIZE',
    description: 'alignment of each --backing',
  },
  slot: {
    type: 'string',
    multiple: true,
    valueName: 'N',
    description: 'DIMM slot of each --backing',
  },
  addr: {
    type: 'string',
    multiple: true,
    valueName: 'ADDR',
    description: 'physical address of each --backing',
  },
  data: {
    type: 'string',
    valueName: 'DIR',
    description: "a running machine's data folder (default $NVMEMU_DATA or ./data)",
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/**
 * `ndctl <command> DESCRIBE` hands back the command's option table and usage instead of
 * running it (what completion and the help tests need, without a table per file to export).
 */
export const DESCRIBE = '\u0000describe';
let described: { options: Options; usage: string } | undefined;

/** The option table and usage of an ndctl command function. */
export async function describeCommand(
  run: (argv: string[], io: CliIo) => Promise<number>,
): Promise<{ options: Options; usage: string }> {
  described = undefined;
  await run([DESCRIBE], { out: () => undefined, err: () => undefined });
  const d = described;
  if (d === undefined) throw new Error('ndctl command did not describe itself');
  return d;
}

export interface Ctx {
  readonly io: CliIo;
  readonly values: Values;
  readonly positionals: string[];
  readonly regions: OpenRegions;
  readonly state: EnableState;
  views(): RegionView[];
  regionDisabled(i: number): boolean;
  namespaceDisabled(ns: Namespace): boolean;
  setNamespace(ns: Namespace, disabled: boolean): void;
  setRegion(i: number, disabled: boolean): void;
}

export function str(v: Values, k: string): string | undefined {
  const x = v[k];
  return typeof x === 'string' ? x : undefined;
}

export function strs(v: Values, k: string): string[] | undefined {
  const x = v[k];
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : undefined;
}

export function flag(v: Values, k: string): boolean {
  return v[k] === true;
}

export function count(v: Values, k: string): number {
  const x = v[k];
  return typeof x === 'number' ? x : Array.isArray(x) ? x.length : x === true ? 1 : 0;
}

export function sizeOpt(v: Values, k: string): number | undefined {
  const s = str(v, k);
  return s === undefined ? undefined : Number(parseSize(s));
}

/** "  Error: <line>" per line, ndctl's error() format (§10.2). */
export function printError(io: CliIo, e: unknown): void {
  if (e instanceof NdctlError) {
    for (const l of e.lines) io.err(`  Error: ${l}\n`);
    if (e.summary !== undefined) io.err(`${e.summary}\n`);
    for (const h of e.hints) io.err(`  Hint: ${h}\n`);
  } else if (isEmuError(e) || e instanceof Error) io.err(`  Error: ${e.message}\n`);
  else io.err(`  Error: ${String(e)}\n`);
}

/** "N namespace" / "N namespaces" (§10.2 summaries). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Parses argv with the command's options plus the region options; runs `body`. */
export async function withRegions(
  argv: string[],
  io: CliIo,
  options: Options,
  usage: string,
  body: (ctx: Ctx) => number | Promise<number>,
): Promise<number> {
  if (argv[0] === DESCRIBE) {
    described = { options: mergeTables(REGION_OPTIONS, options), usage };
    return 0;
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseOptions(argv, mergeTables(REGION_OPTIONS, options), { positionals: true });
  } catch (e) {
    io.err(`  Error: ${(e as Error).message}\n\n${usage}`);
    return 129;
  }
  const { values, positionals } = parsed;
  if (flag(values, 'help')) {
    io.out(`${usage}\n${optionsList(mergeTables(REGION_OPTIONS, options))}`);
    return 0;
  }
  let regions: OpenRegions;
  try {
    regions =
      strs(values, 'backing') === undefined
        ? openPublishedRegions(dataDirOf(str(values, 'data')))
        : openRegions(
            backingSpecs({
              ...(strs(values, 'backing') !== undefined
                ? { backing: strs(values, 'backing')! }
                : {}),
              ...(strs(values, 'label-size') !== undefined
                ? { 'label-size': strs(values, 'label-size')! }
                : {}),
              ...(strs(values, 'backing-align') !== undefined
                ? { align: strs(values, 'backing-align')! }
                : {}),
              ...(strs(values, 'slot') !== undefined ? { slot: strs(values, 'slot')! } : {}),
              ...(strs(values, 'addr') !== undefined ? { addr: strs(values, 'addr')! } : {}),
            }),
          );
  } catch (e) {
    printError(io, e);
    return e instanceof UsageError ? 129 : 1;
  }
  const state = new EnableState(dataDirOf(str(values, 'data')));
  const key = (i: number): string => regions.keys[i]!;
  const ctx: Ctx = {
    io,
    values,
    positionals,
    regions,
    state,
    views: () => regions.specs.map((s) => scanRegion(s)),
    regionDisabled: (i) => state.isDisabled(EnableState.regionKey(key(i))),
    namespaceDisabled: (ns) =>
      state.isDisabled(EnableState.regionKey(key(ns.region.index))) ||
      state.isDisabled(EnableState.namespaceKey(key(ns.region.index), ns)),
    setNamespace: (ns, d) => state.set(EnableState.namespaceKey(key(ns.region.index), ns), d),
    setRegion: (i, d) => state.set(EnableState.regionKey(key(i)), d),
  };
  try {
    return await body(ctx);
  } catch (e) {
    printError(io, e);
    return 1;
  } finally {
    regions.close();
  }
}

/** Region filter: "all", "regionN" or "N". */
export function regionMatches(filter: string | undefined, view: RegionView): boolean {
  if (filter === undefined || filter === 'all') return true;
  return filter === view.dev || filter === String(view.spec.index);
}

/** All namespaces matching a name ("all" or "namespaceX.Y") within the region filter. */
export function findNamespaces(
  views: RegionView[],
  name: string,
  region: string | undefined,
): Namespace[] {
  const out: Namespace[] = [];
  for (const v of views) {
    if (!regionMatches(region, v)) continue;
    for (const ns of v.namespaces) if (name === 'all' || ns.dev === name) out.push(ns);
  }
  return out;
}
