// `nvmemu memmap plan|check`: choose or validate `memmap=nn!ss` from an e820 table
// (docs/memmap.md; reference qemu-pmem-ndctl.md §6).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MemmapError, memparse, parseE820 } from '../pmem/memmap/e820.js';
import { checkMemmap, formatReport, planMemmap } from '../pmem/memmap/plan.js';
import type { CliIo } from './io.js';

export const MEMMAP_USAGE = `usage: nvmemu memmap plan --size SIZE [--start ADDR] [--count N] [--e820 FILE|-] [--no-grub]
       nvmemu memmap check [--e820 FILE|-] 'memmap=nn!ss' [...]

The e820 table is the kernel log's "BIOS-e820: [mem 0x...-0x...] type" lines
(dmesg | grep BIOS-e820), read from --e820 FILE or standard input.
Sizes and addresses use the kernel's memparse syntax (16G, 0x100000000, 512M).
`;

/** Reads the table text; `readStdin` is injectable for tests. */
export type StdinReader = () => string;

const readStdin: StdinReader = () => readFileSync(0, 'utf8');

export async function memmapCommand(
  argv: string[],
  io: CliIo,
  stdin: StdinReader = readStdin,
): Promise<number> {
  await Promise.resolve();
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    io.out(MEMMAP_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'plan' && sub !== 'check') {
    io.err(`nvmemu memmap: unknown subcommand '${sub}'\n${MEMMAP_USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        size: { type: 'string', short: 's' },
        start: { type: 'string' },
        count: { type: 'string', short: 'n' },
        e820: { type: 'string', short: 'f' },
        'no-grub': { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    io.err(`nvmemu memmap: ${(e as Error).message}\n${MEMMAP_USAGE}`);
    return 2;
  }
  try {
    const file = values.e820 as string | undefined;
    const text = file === undefined || file === '-' ? stdin() : readFileSync(file, 'utf8');
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
    io.out(formatReport(report, sub === 'plan' && values['no-grub'] !== true));
    return report.errors.length === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof MemmapError) {
      io.err(`nvmemu memmap: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
