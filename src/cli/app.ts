// `nvmemu <command> [options]`: the command tree (commander dispatches and suggests), --help
// and --version.
//
// Exit status: 0 success, 1 a configuration or runtime error (QEMU exits 1 too), 2 a usage
// error of nvmemu's own commands (ndctl's commands keep ndctl's 129).

//
// Building the tree loads no command's implementation: each leaf imports its module when it runs
// (or when completion asks for its options), so `nvmemu nvme id-ctrl` never loads the machine
// and `nvmemu run` none of the host-side commands (docs/architecture.md "Module loading").

import { processIo, type CliIo } from './io.js';
import { version } from './version.js';
import { ndctlGroup } from './ndctl/index.js';
import { memmapGroup } from './memmap.js';
import { nvmeGroup } from './nvme/index.js';
import { MONITOR_LEAF } from './monitor.js';
import { scenarioGroup } from './scenario.js';
import { completionLeaves } from './completion.js';
import { runGroup, type Group } from './tree.js';
import { RUN_LEAF } from './run-leaf.js';

export const USAGE = `Usage: nvmemu <command> [options]

Commands:
  run [QEMU options]    start a machine (no options: the default machine, see README)
                        -machine, -m, -object, -drive, -device, -readconfig, -qmp, -monitor
                        --data DIR, --listen HOST:PORT|none, --discovery PORT|none, -o json,
                        --http [ADDR:]PORT (live view, docs/live-view.md)
                        (nvmemu run --help lists them all)
  nvme <command>        nvme-cli's commands against an NVMe/TCP target (docs/nvme-cli.md)
  ndctl <command>       ndctl's commands on nvdimm backing files (docs/ndctl.md)
  memmap plan|check     plan or check memmap= kernel options from an e820 table (docs/memmap.md)
  monitor [SOCKET]      interactive HMP client of a running machine (default data/qmp.sock)
  top [URL|PORT]        the live view in a terminal: zones, queues, IOPS, latency
  scenario run FILE     run a fault/power-cut scenario; exit 0 pass, 1 fail (docs/scenarios.md)
  replay FILE           re-run a recording (run --record) and report divergences;
                        replay --diff A B compares two (docs/record-replay.md)
  completion bash|zsh   print a shell completion script

Options:
  -h, --help            show this help (every command: nvmemu <command> [<subcommand>] --help)
  -V, --version         show the version

Documentation: docs/ (one page per device and command family).
`;

/** The whole command tree. */
export function rootGroup(): Group {
  return {
    kind: 'group',
    name: 'nvmemu',
    summary: 'NVMe and persistent-memory storage emulator',
    usage: () => USAGE,
    unknown: (name, suggestion) => ({
      message:
        `nvmemu: unknown command '${name}'${suggestion !== undefined ? ` (did you mean '${suggestion}'?)` : ''}\n` +
        `Run 'nvmemu --help' for the list of commands.\n`,
      status: 2,
    }),
    children: [
      RUN_LEAF,
      nvmeGroup(),
      ndctlGroup(),
      memmapGroup(),
      MONITOR_LEAF,
      {
        kind: 'leaf',
        name: 'top',
        summary: 'the live view in a terminal (zones, queues, IOPS, latency)',
        describe: async () => (await import('./top.js')).TOP_OPTIONS,
        run: async (argv, io) => (await import('./top.js')).topCommand(argv, io),
      },
      scenarioGroup(),
      {
        kind: 'leaf',
        name: 'replay',
        summary: 'replay a recording, or compare two (--diff)',
        complete: 'files',
        run: async (argv, io) => (await import('./replay.js')).replayCommand(argv, io),
      },
      ...completionLeaves(rootGroup),
    ],
  };
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    if (first === 'help' && argv.length > 1) return main([...argv.slice(1), '--help'], io);
    io.out(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    io.out(`nvmemu ${version()}\n`);
    return 0;
  }
  return await runGroup(rootGroup(), argv, io);
}
