// `nvmemu memmap plan|check`: choose or validate `memmap=nn!ss` from an e820 table
// (docs/memmap.md; reference qemu-pmem-ndctl.md §6).

import { readFileSync } from 'node:fs';
import type { MemmapReport } from '../pmem/memmap/plan.js';
import { helpText, parseOptions, type OptionTable, type Values } from './options.js';
import { runGroup, type Group } from './tree.js';
import type { CliIo } from './io.js';

export const MEMMAP_USAGE = `usage: nvmemu memmap plan --size SIZE [--start ADDR] [--count N] [--e820 FILE|-] [--no-grub] [-o json]
       nvmemu memmap check [--e820 FILE|-] [-o json] 'memmap=nn!ss' [...]

The e820 table is the kernel log's "BIOS-e820: [mem 0x...-0x...] type" lines
(dmesg | grep BIOS-e820), read from --e820 FILE or standard input.
Sizes and addresses use the kernel's memparse syntax (16G, 0x100000000, 512M).
`;

/** Reads the table text; `readStdin` is injectable for tests. */
export type StdinReader = () => string;

const readStdin: StdinReader = () => readFileSync(0, 'utf8');

const COMMON: OptionTable = {
  e820: {
    type: 'string',
    short: 'f',
    valueName: 'FILE',
    description: "the e820 table: a file of dmesg's BIOS-e820 lines, or - for standard input",
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

const PLAN_OPTIONS: OptionTable = {
  size: { type: 'string', short: 's', valueName: 'SIZE', description: 'pmem to reserve (16G)' },
  start: { type: 'string', valueName: 'ADDR', description: 'physical start address' },
  count: {
    type: 'string',
    short: 'n',
    valueName: 'N',
    description: 'number of ranges (default 1)',
  },
  'no-grub': { type: 'boolean', description: 'omit the GRUB instructions' },
  ...COMMON,
};

const CHECK_OPTIONS: OptionTable = COMMON;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The report as JSON: addresses as hex strings (64-bit values do not fit JSON numbers). */
export function reportJson(r: MemmapReport): unknown {
  return {
    args: r.args,
    ranges: r.ranges.map((x) => ({ start: hex(x.start), size: hex(x.size) })),
    user_map: r.userMap.map((e) => ({ start: hex(e.start), end: hex(e.end), type: e.type })),
    warnings: r.warnings,
    errors: r.errors,
  };
}

async function memmapRun(
  sub: 'plan' | 'check',
  argv: string[],
  io: CliIo,
  stdin: StdinReader,
): Promise<number> {
  const table = sub === 'plan' ? PLAN_OPTIONS : CHECK_OPTIONS;
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseOptions(argv, table, { positionals: sub === 'check' }));
  } catch (e) {
    io.err(`nvmemu memmap ${sub}: ${(e as Error).message}\n${MEMMAP_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.out(
      helpText(`nvmemu memmap ${sub}`, table, {
        summary: SUMMARY[sub],
        ...(sub === 'check' ? { operands: "'memmap=nn!ss'..." } : {}),
      }),
    );
    return 0;
  }
  const format = values['output-format'];
  if (format !== 'normal' && format !== 'json') {
    io.err(`nvmemu memmap ${sub}: invalid output format '${String(format)}' (normal, json)\n`);
    return 2;
  }
  // The planner loads with the command that needs it (the group itself is help and options).
  const { MemmapError, memparse, parseE820 } = await import('../pmem/memmap/e820.js');
  const { checkMemmap, formatReport, planMemmap } = await import('../pmem/memmap/plan.js');
  try {
    const file = values.e820 as string | undefined;
    let text: string;
    try {
      text = file === undefined || file === '-' ? stdin() : readFileSync(file, 'utf8');
    } catch (e) {
      throw new MemmapError(`cannot read the e820 table: ${(e as Error).message}`);
    }
    const table = parseE820(text);
    if (table.length === 0) throw new MemmapError('no "BIOS-e820: [mem ...]" lines in the input');
    let report;
    if (sub === 'plan') {
      if (positionals.length > 0) throw new MemmapError(`unexpected argument '${positionals[0]!}'`);
      const sizeText = values.size as string | undefined;
      if (sizeText === undefined) throw new MemmapError('--size is required');
      const whole = (s: string, what: string): bigint => {
        const r = memparse(s);
        if (r.rest !== '') throw new MemmapError(`invalid ${what} '${s}'`);
        return r.value;
      };
      const count = values.count === undefined ? 1 : Number.parseInt(values.count as string, 10);
      if (!Number.isSafeInteger(count) || count < 1)
        throw new MemmapError(`invalid --count '${String(values.count)}'`);
      report = planMemmap(table, {
        size: whole(sizeText, 'size'),
        ...(values.start !== undefined ? { start: whole(values.start as string, 'start') } : {}),
        count,
      });
    } else {
      if (positionals.length === 0)
        throw new MemmapError("give the memmap= value(s) to check, e.g. 'memmap=16G!4G'");
      report = checkMemmap(table, positionals);
    }
    io.out(
      format === 'json'
        ? `${JSON.stringify(reportJson(report), null, 2)}\n`
        : formatReport(report, sub === 'plan' && values['no-grub'] !== true),
    );
    return report.errors.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof MemmapError) {
      io.err(`nvmemu memmap: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const SUMMARY = {
  plan: 'choose memmap=nn!ss for a pmem size from an e820 table',
  check: 'check memmap= values against an e820 table',
} as const;

/** The `memmap` command group; `stdin` is injectable for tests. */
export function memmapGroup(stdin: StdinReader = readStdin): Group {
  return {
    kind: 'group',
    name: 'memmap',
    summary: 'plan or check memmap= kernel options from an e820 table',
    usage: () => MEMMAP_USAGE,
    children: (['plan', 'check'] as const).map((sub) => ({
      kind: 'leaf' as const,
      name: sub,
      summary: SUMMARY[sub],
      options: sub === 'plan' ? PLAN_OPTIONS : CHECK_OPTIONS,
      run: (argv: string[], io: CliIo) => memmapRun(sub, argv, io, stdin),
    })),
  };
}

export async function memmapCommand(
  argv: string[],
  io: CliIo,
  stdin: StdinReader = readStdin,
): Promise<number> {
  if (argv[0] === 'help') return memmapCommand(['--help', ...argv.slice(1)], io, stdin);
  return await runGroup(memmapGroup(stdin), argv, io);
}
