// `nvmemu ndctl <command>`: ndctl's namespace and label commands on nvdimm backing files
// (docs/ndctl.md).

import type { CliIo } from '../io.js';
import { listCommand } from './list.js';
import { createCommand, nsCommand, regionCommand } from './namespace.js';
import { labelCommand } from './labels.js';
import { clearErrorsCommand, injectCommand } from './inject.js';
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

export async function ndctlCommand(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(NDCTL_USAGE);
    return cmd === undefined ? 129 : 0;
  }
  if (cmd === '--version') {
    // ndctl prints its release; nvmemu the one it reproduces (NVMEMU_NDCTL_VERSION).
    try {
      io.out(`${VERSION_TEXT[ndctlVersion()]}\n`);
      return 0;
    } catch (e) {
      io.err(`nvmemu ndctl: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (command === undefined) {
    io.err(`nvmemu ndctl: '${cmd}' is not an ndctl command. See 'nvmemu ndctl --help'.\n`);
    return 1;
  }
  return await command(rest, io);
}
