// `nvmemu nvme <command>`: nvme-cli's commands against an NVMe/TCP target (docs/nvme-cli.md).
// Exit status: 0 success, 1 an NVMe status or connection error, 2 a usage error.

import type { CliIo } from '../io.js';
import { isEmuError } from '../../util/errors.js';
import { ADMIN_COMMANDS } from './admin-cmds.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { IO_COMMANDS } from './io-cmds.js';
import { VIRT_COMMANDS } from './virt-cmds.js';
import { UsageError, parse, targetOptions } from './options.js';
import { COPY_COMMAND } from './copy.js';
import { ZNS_COMMANDS } from './zns.js';
import { FDP_COMMANDS } from './fdp.js';

const ALL: readonly NvmeSubcommand[] = [
  ...ADMIN_COMMANDS,
  ...IO_COMMANDS,
  COPY_COMMAND,
  ...ZNS_COMMANDS,
  ...FDP_COMMANDS,
  ...VIRT_COMMANDS,
  ...(await import('./keys.js')).KEY_COMMANDS,
];

const TARGET_HELP = `Target options (every command):
  -t, --transport tcp        transport (only tcp)
  -a, --traddr ADDR          target address (default 127.0.0.1)
  -s, --trsvcid PORT         port (default 4420; discover: 8009). I/O commands
                             (read, write, ...) use -s for --start-block: give --trsvcid
  -n, --nqn NQN              subsystem NQN
  -q, --hostnqn NQN          host NQN (default: a per-process uuid NQN)
  -g, --hdr-digest           header digests;  -G, --data-digest  data digests
      --namespace-id, --nsid N
  -o, --output-format normal|json|binary
`;

export function nvmeUsage(): string {
  const lines = ALL.map((c) => `  ${c.name.padEnd(14)} ${c.summary}\n`).join('');
  return `Usage: nvmemu nvme <command> [options]\n\nCommands:\n${lines}\n${TARGET_HELP}`;
}

export async function nvmeCommand(argv: string[], io: CliIo): Promise<number> {
  // nvme-cli's plugins: `zns report-zones`, `fdp configs` are one command name here.
  const plugin = (argv[0] === 'zns' || argv[0] === 'fdp') && argv[1] !== undefined;
  const [name, ...rest] = plugin ? [`${argv[0]} ${argv[1]}`, ...argv.slice(2)] : argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.out(nvmeUsage());
    return name === undefined ? 2 : 0;
  }
  const cmd = ALL.find((c) => c.name === name);
  if (cmd === undefined) {
    io.err(`nvmemu nvme: unknown command '${name}'\nRun 'nvmemu nvme --help' for the list.\n`);
    return 2;
  }
  try {
    const v = parse(rest, { ...targetOptions(cmd.shortS), ...cmd.options });
    if (v.help === true) {
      io.out(`Usage: nvmemu nvme ${cmd.name} [options]\n  ${cmd.summary}\n\n${TARGET_HELP}`);
      return 0;
    }
    return await cmd.run(v, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nvmemu nvme ${cmd.name}: ${e.message}\n`);
      return 2;
    }
    if (isEmuError(e)) {
      io.err(`nvmemu nvme ${cmd.name}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    if (e instanceof Error) {
      io.err(`nvmemu nvme ${cmd.name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
