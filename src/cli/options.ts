// Option parsing for every `nvmemu` subcommand except `run` (whose QEMU grammar is
// config/options.ts): one declarative table per command, parsed by commander. The same table
// gives the command's `--help`, its shell completion and the "Did you mean --nqn?" suggestion
// for a mistyped option. Values come back keyed by the long option name, as tables name them.

import { Command, CommanderError, Option } from 'commander';

/** One option of a command: `--name` with a value (`string`) or without (`boolean`). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** One-letter alias (`-n`). */
  readonly short?: string;
  /** Repeatable: a string option collects an array, a boolean option counts (`-vv`). */
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** One line for `--help`. */
  readonly description?: string;
  /** Placeholder of the value in `--help` (default: the option name in upper case). */
  readonly valueName?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** Parsed values by long option name: string, true, string[] or a count for `multiple`. */
export type Values = Record<string, string | boolean | number | (string | boolean)[] | undefined>;

/** A mistake on the command line; the message is commander's (with its suggestion). */
export class UsageError extends Error {}

function optionFor(name: string, spec: OptionSpec): Option {
  const flags =
    (spec.short !== undefined ? `-${spec.short}, ` : '') +
    `--${name}` +
    (spec.type === 'string' ? ` <${spec.valueName ?? name.toUpperCase()}>` : '');
  const o = new Option(flags, spec.description ?? '');
  if (spec.multiple === true) {
    if (spec.type === 'string') {
      o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    } else {
      o.argParser((_v: string, prev: number | undefined) => (prev ?? 0) + 1);
    }
  }
  if (spec.default !== undefined) o.default(spec.default);
  return o;
}

/** A commander command declaring `table` (help and parsing; no action). */
export function commandFor(
  name: string,
  table: OptionTable,
  opts: { summary?: string; operands?: string; positionals?: boolean } = {},
): Command {
  const c = new Command(name).exitOverride().helpOption(false);
  c.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  if (opts.summary !== undefined) c.description(opts.summary);
  if (opts.operands !== undefined) c.arguments(opts.operands);
  else if (opts.positionals === true) c.argument('[args...]');
  c.allowExcessArguments(opts.positionals === true);
  for (const [long, spec] of Object.entries(table)) {
    // `-h, --help` is ours to print, so it is an ordinary option here.
    c.addOption(optionFor(long, spec));
  }
  return c;
}

/**
 * Parses `argv` against `table`. Throws UsageError with commander's message ("unknown option
 * '--nqnn' (Did you mean --nqn?)"). Positionals are refused unless `positionals` is set.
 */
export function parseOptions(
  argv: readonly string[],
  table: OptionTable,
  opts: { positionals?: boolean } = {},
): { values: Values; positionals: string[] } {
  const c = commandFor('x', table, { positionals: opts.positionals === true });
  let message = '';
  c.configureOutput({
    writeOut: () => undefined,
    writeErr: (s) => (message += s),
    outputError: (s) => (message += s),
  });
  try {
    c.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      throw new UsageError(
        (message || e.message)
          .trim()
          .replace(/^error: /, '')
          .replace(/\n\(Did you mean/, ' (Did you mean'),
      );
    }
    throw e;
  }
  const raw = c.opts<Record<string, unknown>>();
  const values: Values = {};
  for (const o of c.options) {
    const long = o.long?.replace(/^--/, '') ?? '';
    const key = o.attributeName();
    const v = raw[key];
    if (o.negate) {
      // `--no-grub`: commander stores grub=false; the table calls it 'no-grub'.
      values[long] = v === false;
    } else if (v !== undefined) {
      values[long] = v as Values[string];
    }
  }
  return { values, positionals: [...c.args] };
}

/**
 * `--help` text for a command: usage line, summary, then one aligned line per option of
 * `table` (commander's layout).
 */
export function helpText(
  path: string,
  table: OptionTable,
  opts: { summary?: string; operands?: string; footer?: string } = {},
): string {
  const c = commandFor(path, table, {
    ...(opts.summary !== undefined ? { summary: opts.summary } : {}),
    ...(opts.operands !== undefined ? { operands: opts.operands } : {}),
  });
  c.usage(`${opts.operands !== undefined ? `${opts.operands} ` : ''}[options]`);
  return c.helpInformation() + (opts.footer !== undefined ? `\n${opts.footer}` : '');
}

/**
 * `base` plus `own`. Where both claim a one-letter alias, `base` keeps it and the command's
 * option is reached by its long name only: the target options (`-a` address) mean the same in
 * every `nvmemu nvme` command, so `dsm --ctx-attrs` has no `-a` here.
 */
export function mergeTables(base: OptionTable, own: OptionTable): OptionTable {
  const taken = new Set(Object.values(base).map((s) => s.short));
  const out: Record<string, OptionSpec> = {};
  for (const [long, spec] of Object.entries(own)) {
    if (spec.short !== undefined && taken.has(spec.short)) {
      const { short: _dropped, ...rest } = spec;
      out[long] = rest;
    } else {
      out[long] = spec;
    }
  }
  return { ...base, ...out };
}

/** Just the aligned `Options:` list of `table` (for commands with a handwritten usage). */
export function optionsList(table: OptionTable): string {
  const text = helpText('x', table);
  const at = text.indexOf('Options:');
  return at < 0 ? '' : text.slice(at);
}
