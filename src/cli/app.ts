// `nvmemu <command> [options]`: command dispatch, --help and --version.
//
// Exit status: 0 success, 1 a configuration or runtime error (QEMU exits 1 too), 2 a usage
// error of nvmemu's own commands.

import { processIo, type CliIo } from './io.js';
import { version } from './version.js';
import { runCommand } from './run.js';
import { ndctlCommand } from './ndctl/index.js';
import { memmapCommand } from './memmap.js';
import { nvmeCommand } from './nvme/index.js';
import { monitorCommand } from './monitor.js';
import { scenarioCommand } from './scenario.js';

export const USAGE = `Usage: nvmemu <command> [options]

Commands:
  run [QEMU options]    start a machine (no options: the default machine, see README)
                        -machine pc|q35[,nvdimm=on][,nvdimm-persistence=cpu|mem-ctrl]
                        -m SIZE[,slots=N,maxmem=SIZE]
                        -object memory-backend-file|memory-backend-ram,id=ID,...
                        -drive file=IMG,if=none,id=ID,format=raw[,readonly=on]
                        -device nvme|nvme-ns|nvme-subsys|nvdimm|virtio-pmem-pci,...
                        -device help | -device TYPE,help | -object TYPE,help
                        -readconfig FILE, -qmp SPEC, -monitor SPEC
                        --data DIR (state and default images; default ./data)
                        --listen HOST:PORT|none (NVMe/TCP; default 127.0.0.1:4420)
                        --discovery PORT|none (discovery controller; default 8009)
                        --advertise ADDR (address the discovery log names; e.g. 10.0.2.2)
  nvme <command>        nvme-cli's commands against an NVMe/TCP target (docs/nvme-cli.md)
  ndctl <command>       ndctl's commands on nvdimm backing files (docs/ndctl.md)
  memmap plan|check     plan or check memmap= kernel options from an e820 table (docs/memmap.md)
  monitor [SOCKET]      interactive HMP client of a running machine (default data/qmp.sock)
  scenario run FILE     run a fault/power-cut scenario; exit 0 pass, 1 fail (docs/scenarios.md)

Options:
  -h, --help            show this help
  -V, --version         show the version

Documentation: docs/ (one page per device and command family).
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  ndctl: ndctlCommand,
  memmap: memmapCommand,
  nvme: nvmeCommand,
  monitor: monitorCommand,
  scenario: scenarioCommand,
};

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.out(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    io.out(`nvmemu ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[first];
  if (command === undefined) {
    io.err(`nvmemu: unknown command '${first}'\nRun 'nvmemu --help' for the list of commands.\n`);
    return 2;
  }
  return await command(rest, io);
}
