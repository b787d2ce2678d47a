// Shell completion for bash and zsh. The scripts `nvmemu completion bash|zsh` prints ask the
// program itself (`nvmemu __complete WORDS...`) what may follow, so completion always knows
// the commands, groups and options of the installed version (the same tree and option tables
// that parse the command line; run's QEMU options and device types come from the registry).

import type { CliIo } from './io.js';
import type { OptionTable } from './options.js';
import type { Group, Leaf, Node } from './tree.js';

/** The answer's first line when the shell should complete file names instead. */
export const FILES = '__files__';

/** Values offered after options that take one of a few words. */
const VALUE_WORDS: Readonly<Record<string, readonly string[]>> = {
  'output-format': ['normal', 'json', 'binary'],
  transport: ['tcp'],
  mode: ['raw', 'sector', 'fsdax', 'devdax', 'all', 'prefix', 'subset'],
};

/** `nvmemu run`'s options (config/options.ts), for completion only. */
const RUN_OPTIONS_WITH_ARG = [
  '-machine',
  '-m',
  '-object',
  '-drive',
  '-device',
  '-readconfig',
  '-qmp',
  '-monitor',
  '-append',
  '--data',
  '--listen',
  '--discovery',
  '--advertise',
  '--output-format',
];
const RUN_FLAGS = ['-daemonize', '--help'];

function optionWords(table: OptionTable): string[] {
  const out: string[] = [];
  for (const [long, spec] of Object.entries(table)) {
    out.push(`--${long}`);
    if (spec.short !== undefined) out.push(`-${spec.short}`);
  }
  return out;
}

/** The option a word names in `table` (`--nqn`, `-n`, `--nqn=x`), if any. */
function optionNamed(table: OptionTable, word: string): [string, OptionTable[string]] | undefined {
  if (word.startsWith('--')) {
    const long = word.slice(2).split('=')[0]!;
    const spec = table[long];
    return spec === undefined ? undefined : [long, spec];
  }
  if (/^-[A-Za-z]$/.test(word)) {
    return Object.entries(table).find(([, s]) => s.short === word.slice(1));
  }
  return undefined;
}

async function completeLeaf(leaf: Leaf, words: readonly string[]): Promise<string[]> {
  const cur = words.at(-1) ?? '';
  const prev = words.at(-2);
  if (leaf.name === 'run' && leaf.options === undefined) {
    if (prev === '-device' || prev === '-object') {
      // The device registry loads only for this answer: the rest of completion is the tree.
      const { registerAllTypes } = await import('../devices.js');
      const { listTypes } = await import('../machine/registry.js');
      registerAllTypes();
      return listTypes(prev === '-device' ? 'device' : 'object').map((t) => t.schema.typeName);
    }
    if (prev === '-readconfig' || prev === '--data') return [FILES];
    if (prev === '--output-format' || prev === '-o') return ['normal', 'json'];
    if (prev !== undefined && RUN_OPTIONS_WITH_ARG.includes(prev)) return [];
    return [...RUN_OPTIONS_WITH_ARG, ...RUN_FLAGS];
  }
  const table = leaf.options ?? (await leaf.describe?.()) ?? {};
  if (prev !== undefined) {
    const named = optionNamed(table, prev);
    if (named !== undefined && named[1]?.type === 'string' && !prev.includes('=')) {
      return [...(VALUE_WORDS[named[0]] ?? [FILES])];
    }
  }
  if (cur.startsWith('-')) return optionWords(table);
  if (leaf.complete === 'files') return [FILES];
  return leaf.complete !== undefined ? [...leaf.complete] : optionWords(table);
}

/**
 * What may replace the last of `words` (the words after `nvmemu`, the last one possibly
 * empty). The shell filters by prefix; `[FILES]` means file names.
 */
export async function completeWords(root: Group, words: readonly string[]): Promise<string[]> {
  let node: Node = root;
  let i = 0;
  for (; i < words.length - 1; i++) {
    if (node.kind !== 'group') break;
    const next: Node | undefined = node.children.find((c) => c.name === words[i]);
    if (next === undefined) return [];
    node = next;
  }
  if (node.kind === 'group') {
    return [...node.children.map((c) => c.name).filter((n) => !n.startsWith('__')), '--help'];
  }
  return await completeLeaf(node, words.slice(i));
}

export const BASH_SCRIPT = `# bash completion for nvmemu; load with: source <(nvmemu completion bash)
_nvmemu_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n' out
  out=$(nvmemu __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if [[ "$out" == ${FILES}* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
}
complete -o default -F _nvmemu_complete nvmemu
`;

export const ZSH_SCRIPT = `#compdef nvmemu
# zsh completion for nvmemu; load with: source <(nvmemu completion zsh)
# (after compinit), or save as _nvmemu in a directory of $fpath.
_nvmemu() {
  local -a out
  out=("\${(@f)$(nvmemu __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${out[1]}" == ${FILES} ]]; then
    _files
  else
    compadd -a out
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _nvmemu "$@"
else
  compdef _nvmemu nvmemu
fi
`;

/** `nvmemu completion bash|zsh` and the hidden `nvmemu __complete WORDS...`. */
export function completionLeaves(root: () => Group): Leaf[] {
  return [
    {
      kind: 'leaf',
      name: 'completion',
      summary: 'print the bash or zsh completion script',
      options: { help: { type: 'boolean', short: 'h', description: 'show this help' } },
      complete: ['bash', 'zsh'],
      run(argv: string[], io: CliIo): Promise<number> {
        const [shell, extra] = argv;
        if (shell === '-h' || shell === '--help') {
          io.out(
            'Usage: nvmemu completion bash|zsh\n\n' +
              'Prints a completion script. bash: source <(nvmemu completion bash)\n' +
              'zsh: source <(nvmemu completion zsh) after compinit, or save it as _nvmemu in $fpath.\n\n' +
              'Options:\n  -h, --help  show this help\n',
          );
          return Promise.resolve(0);
        }
        if ((shell !== 'bash' && shell !== 'zsh') || extra !== undefined) {
          io.err(`nvmemu completion: expected 'bash' or 'zsh'\n`);
          return Promise.resolve(2);
        }
        io.out(shell === 'bash' ? BASH_SCRIPT : ZSH_SCRIPT);
        return Promise.resolve(0);
      },
    },
    {
      kind: 'leaf',
      name: '__complete',
      summary: 'completion candidates (used by the completion scripts)',
      async run(argv: string[], io: CliIo): Promise<number> {
        const words = await completeWords(root(), argv.length === 0 ? [''] : argv);
        if (words.length > 0) io.out(`${words.join('\n')}\n`);
        return 0;
      },
    },
  ];
}
