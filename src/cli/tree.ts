// The `nvmemu` command tree: groups (`nvme`, `ndctl`, `memmap`, ...) and leaf commands,
// dispatched by commander, which also lists a group's commands and suggests the closest name
// for a typo. A leaf gets the arguments after its name untouched and parses them against its
// own option table (cli/options.ts), so each command family keeps its tool's exit statuses.
// The same tree drives shell completion (cli/completion.ts).

import { Command, CommanderError } from 'commander';
import type { CliIo } from './io.js';
import type { OptionTable } from './options.js';

/** A command that does the work. */
export interface Leaf {
  readonly kind: 'leaf';
  readonly name: string;
  readonly summary: string;
  /** Its options (for help, completion and parsing). Undefined: parses its own grammar. */
  readonly options?: OptionTable;
  /** Its options, when they are only known by asking the command (ndctl's). */
  describe?(): Promise<OptionTable>;
  /** What completion offers for positional words: files, or a fixed list of words. */
  readonly complete?: 'files' | readonly string[];
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A command made of subcommands. */
export interface Group {
  readonly kind: 'group';
  readonly name: string;
  readonly summary: string;
  readonly children: readonly Node[];
  /** The group's own usage text (default: commander's command list). */
  readonly usage?: () => string;
  /** Exit status when no subcommand is given (usage printed to stdout). Default 2. */
  readonly missingStatus?: number;
  /** Message and status for an unknown subcommand (default: exit 2). */
  readonly unknown?: (
    name: string,
    suggestion: string | undefined,
  ) => {
    message: string;
    status: number;
  };
}

export type Node = Leaf | Group;

function addNode(parent: Command, node: Node, state: { code: number }, io: CliIo): void {
  const c = new Command(node.name).description(node.summary).exitOverride();
  c.configureOutput({ writeOut: (s) => io.out(s), writeErr: () => undefined });
  if (node.kind === 'leaf') {
    // Everything after the name is the leaf's: its options, `--help`, QEMU's `-device ...`.
    c.helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .argument('[args...]')
      .action(async (args: string[]) => {
        state.code = await node.run(args, io);
      });
  } else {
    c.enablePositionalOptions().helpCommand(false);
    configureGroup(c, node);
    for (const child of node.children) addNode(c, child, state, io);
  }
  // `__complete` is the completion scripts' entry, not a command to list.
  parent.addCommand(c, node.name.startsWith('__') ? { hidden: true } : {});
}

function configureGroup(c: Command, g: Group): void {
  c.showSuggestionAfterError(true);
  c.configureHelp({
    subcommandTerm: (cmd) => cmd.name(),
    ...(g.usage !== undefined ? { formatHelp: () => g.usage!() } : {}),
  });
}

/** The path of names from the root to the command that raised a commander error. */
function failingGroup(root: Group, argv: readonly string[]): { group: Group; path: string[] } {
  let group = root;
  const path = [root.name];
  for (const word of argv) {
    const next = group.children.find((n) => n.name === word);
    if (next === undefined || next.kind === 'leaf') break;
    group = next;
    path.push(word);
  }
  return { group, path };
}

/**
 * Runs `argv` (the words after the group's own name) against a group. Resolves with the exit
 * status: the leaf's, or the group's usage status for a missing or unknown subcommand.
 */
export async function runGroup(root: Group, argv: readonly string[], io: CliIo): Promise<number> {
  const state = { code: 0 };
  const program = new Command(root.name).exitOverride().enablePositionalOptions();
  program.helpCommand(false);
  configureGroup(program, root);
  let errText = '';
  program.configureOutput({
    writeOut: (s) => io.out(s),
    writeErr: (s) => (errText += s),
    outputError: (s) => (errText += s),
  });
  for (const child of root.children) addNode(program, child, state, io);
  // Subcommands print their errors through the program's sink too.
  const sink = (c: Command): void => {
    c.configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => (errText += s),
      outputError: (s) => (errText += s),
    });
    for (const s of c.commands) sink(s);
  };
  sink(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.code;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    const { group, path } = failingGroup(root, argv);
    const where = `nvmemu ${path.join(' ')}`.replace(/^nvmemu nvmemu/, 'nvmemu');
    switch (e.code) {
      case 'commander.helpDisplayed':
        return 0;
      case 'commander.help':
      case 'commander.missingArgument':
        // A group given no subcommand: its usage, on stdout.
        io.out(
          group.usage?.() ??
            program.commands.find((c) => c.name() === path[1])?.helpInformation() ??
            program.helpInformation(),
        );
        return group.missingStatus ?? 2;
      case 'commander.unknownCommand': {
        const name = /'([^']*)'/.exec(errText)?.[1] ?? '';
        const suggestion = /Did you mean ([^?]+)\?/.exec(errText)?.[1];
        const custom = group.unknown?.(name, suggestion);
        if (custom !== undefined) {
          io.err(custom.message);
          return custom.status;
        }
        io.err(
          `${where}: unknown command '${name}'${suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : ''}\n` +
            `Run '${where} --help' for the list of commands.\n`,
        );
        return 2;
      }
      default:
        io.err(`${where}: ${errText.replace(/^error: /, '').trim() || e.message}\n`);
        return 2;
    }
  }
}

/** Every leaf under `node` with its path of names (for completion and the help tests). */
export function leaves(node: Node, path: readonly string[] = []): { path: string[]; leaf: Leaf }[] {
  if (node.kind === 'leaf') return [{ path: [...path, node.name], leaf: node }];
  return node.children.flatMap((c) => leaves(c, [...path, node.name]));
}
