// `nvmemu ndctl <command>`: ndctl's namespace and label commands on nvdimm backing files
// (docs/ndctl.md).

import type { CliIo } from '../io.js';
import { listCommand } from './list.js';
import { createCommand, nsCommand, regionCommand } from './namespace.js';
import { labelCommand } from './labels.js';
import { clearErrorsCommand, injectCommand } from './inject.js';
import { runGroup, type Group } from '../tree.js';
import { describeCommand } from './context.js';
import { ndctlVersion, VERSION_TEXT } from './version.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  list: listCommand,
  'create-namespace': createCommand,
  'destroy-namespace': nsCommand('destroy'),
  'enable-namespace': nsCommand('enable'),
  'disable-namespace': nsCommand('disable'),
  'check-namespace': nsCommand('check'),
  'enable-region': regionCommand(false),
  'disable-region': regionCommand(true),
  'read-labels': labelCommand('read'),
  'write-labels': labelCommand('write'),
  'zero-labels': labelCommand('zero'),
  'init-labels': labelCommand('init'),
  'check-labels': labelCommand('check'),
  'inject-error': injectCommand,
  'clear-errors': clearErrorsCommand,
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
    children: Object.entries(COMMANDS).map(([name, run]) => ({
      kind: 'leaf' as const,
      name,
      summary: SUMMARIES[name] ?? name,
      complete: 'files' as const,
      describe: async () => (await describeCommand(run)).options,
      run,
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
