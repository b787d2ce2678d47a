// `nvmemu ndctl <command>`: ndctl's namespace and label commands on nvdimm backing files
// (docs/ndctl.md). Building the group loads no command: each one's module loads when it runs
// (or when completion asks for its options).

import type { CliIo } from '../io.js';
import { runGroup, type Group } from '../tree.js';
import { ndctlVersion, VERSION_TEXT } from './version.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Each command's implementation, loaded on demand. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  list: async () => (await import('./list.js')).listCommand,
  'create-namespace': async () => (await import('./namespace.js')).createCommand,
  'destroy-namespace': async () => (await import('./namespace.js')).nsCommand('destroy'),
  'enable-namespace': async () => (await import('./namespace.js')).nsCommand('enable'),
  'disable-namespace': async () => (await import('./namespace.js')).nsCommand('disable'),
  'check-namespace': async () => (await import('./namespace.js')).nsCommand('check'),
  'enable-region': async () => (await import('./namespace.js')).regionCommand(false),
  'disable-region': async () => (await import('./namespace.js')).regionCommand(true),
  'read-labels': async () => (await import('./labels.js')).labelCommand('read'),
  'write-labels': async () => (await import('./labels.js')).labelCommand('write'),
  'zero-labels': async () => (await import('./labels.js')).labelCommand('zero'),
  'init-labels': async () => (await import('./labels.js')).labelCommand('init'),
  'check-labels': async () => (await import('./labels.js')).labelCommand('check'),
  'inject-error': async () => (await import('./inject.js')).injectCommand,
  'clear-errors': async () => (await import('./inject.js')).clearErrorsCommand,
};

export const NDCTL_USAGE = `usage: nvmemu ndctl <command> [<options>] [--data DIR]
       nvmemu ndctl <command> [<options>] --backing FILE --label-size SIZE [--backing-align SIZE] [--slot N] [--addr ADDR]

Commands: ${Object.keys(COMMANDS).join(', ')}

--version prints the ndctl release reproduced: 76.1, or 81 with NVMEMU_NDCTL_VERSION=81.

Regions are those of the machine running with --data DIR (default $NVMEMU_DATA or ./data), or
nvdimm backing files (repeat --backing for more nvdimms; regionN/nmemN follow the order).
See docs/ndctl.md.
`;

const SUMMARIES: Record<string, string> = {
  list: 'list regions, namespaces and dimms as JSON',
  'create-namespace': 'create a raw, sector (BTT), fsdax or devdax namespace',
  'destroy-namespace': 'destroy namespaces',
  'enable-namespace': 'enable namespaces',
  'disable-namespace': 'disable namespaces',
  'check-namespace': 'check (and repair) the BTT of sector namespaces',
  'enable-region': 'enable regions',
  'disable-region': 'disable regions',
  'read-labels': 'dump the label area of dimms',
  'write-labels': 'write a label area from a file',
  'zero-labels': 'zero the label area',
  'init-labels': 'initialize an empty label index',
  'check-labels': 'check the label area',
  'inject-error': 'inject media errors (bad blocks) into a namespace',
  'clear-errors': 'clear media errors of a namespace',
};

/** The `ndctl` command group (commander dispatches; each command parses its own options). */
export function ndctlGroup(): Group {
  return {
    kind: 'group',
    name: 'ndctl',
    summary: "ndctl's commands on nvdimm backing files",
    usage: () => NDCTL_USAGE,
    missingStatus: 129,
    unknown: (name, suggestion) => ({
      message: `nvmemu ndctl: '${name}' is not an ndctl command.${suggestion !== undefined ? ` Did you mean '${suggestion}'?` : ''} See 'nvmemu ndctl --help'.\n`,
      status: 1,
    }),
    children: Object.entries(COMMANDS).map(([name, load]) => ({
      kind: 'leaf' as const,
      name,
      summary: SUMMARIES[name] ?? name,
      complete: 'files' as const,
      describe: async () =>
        (await (await import('./context.js')).describeCommand(await load())).options,
      run: async (argv: string[], io: CliIo) => (await load())(argv, io),
    })),
  };
}

export async function ndctlCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'help') return ndctlCommand(['--help', ...argv.slice(1)], io);
  if (argv[0] === '--version') {
    // ndctl prints its release; nvmemu the one it reproduces (NVMEMU_NDCTL_VERSION).
    try {
      io.out(`${VERSION_TEXT[ndctlVersion()]}\n`);
      return 0;
    } catch (e) {
      io.err(`nvmemu ndctl: ${(e as Error).message}\n`);
      return 1;
    }
  }
  return await runGroup(ndctlGroup(), argv, io);
}
