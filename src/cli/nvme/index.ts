// `nvmemu nvme <command>`: nvme-cli's commands against an NVMe/TCP target (docs/nvme-cli.md).
// Exit status: 0 success, 1 an NVMe status or connection error, 2 a usage error.
// A new command is one more entry in ALL (nvme-cli's plugins, `zns report-zones`, are a name
// with a space: they become a subgroup).

import type { CliIo } from '../io.js';
import { isEmuError } from '../../util/errors.js';
import { ADMIN_COMMANDS } from './admin-cmds.js';
import { LIST_COMMAND } from './list.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { IO_COMMANDS } from './io-cmds.js';
import { VIRT_COMMANDS } from './virt-cmds.js';
import { UsageError, parse, targetOptions } from './options.js';
import { COPY_COMMAND } from './copy.js';
import { CONNECT_COMMAND } from './connect.js';
import { ZNS_COMMANDS } from './zns.js';
import { FDP_COMMANDS } from './fdp.js';
import { MULTIHOST_COMMANDS } from './multihost.js';
import { helpText, mergeTables } from '../options.js';
import { runGroup, type Group, type Leaf, type Node } from '../tree.js';
import { explainError, type TargetInfo } from './errors.js';
import type { Values } from './options.js';

/** The target the options name (for error messages); undefined when they name none. */
function targetOf(v: Values): TargetInfo | undefined {
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  const nqn = s('nqn');
  const port = Number(s('trsvcid') ?? 4420);
  if (nqn === undefined || !Number.isInteger(port)) return undefined;
  const hostnqn = s('hostnqn');
  return {
    address: s('traddr') ?? '127.0.0.1',
    port,
    subnqn: nqn,
    ...(hostnqn !== undefined ? { hostnqn } : {}),
  };
}

const ALL: readonly NvmeSubcommand[] = [
  ...ADMIN_COMMANDS.slice(0, 1),
  CONNECT_COMMAND,
  LIST_COMMAND,
  ...ADMIN_COMMANDS.slice(1),
  ...IO_COMMANDS,
  COPY_COMMAND,
  ...MULTIHOST_COMMANDS,
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
      --hostid UUID          host identifier (default: the host NQN's UUID, else one per user)
  -g, --hdr-digest           header digests;  -G, --data-digest  data digests
      --dhchap-secret KEY    DH-HMAC-CHAP host key (DHHC-1:xx:...:), used when the target asks
      --dhchap-ctrl-secret KEY   the controller's key (bidirectional authentication)
      --tls --tls-key KEY    TLS 1.3 with this PSK (NVMeTLSkey-1:xx:...:)
      --tls-psk-derivation rfc8446|libnvme-compat   (libnvme-compat: keys of nvme-cli <= 2.15)
      --namespace-id, --nsid N
  -o, --output-format normal|json|binary
Each command's own options: nvmemu nvme <command> --help
`;

export function nvmeUsage(): string {
  const lines = ALL.map((c) => `  ${c.name.padEnd(14)} ${c.summary}\n`).join('');
  return `Usage: nvmemu nvme <command> [options]\n\nCommands:\n${lines}\n${TARGET_HELP}`;
}

/** Runs one command: its options parsed against the target options plus its own. */
async function runNvme(cmd: NvmeSubcommand, argv: string[], io: CliIo): Promise<number> {
  const table = mergeTables(targetOptions(cmd.shortS), cmd.options);
  let target: TargetInfo | undefined;
  try {
    const v = parse(argv, table);
    target = targetOf(v);
    if (v.help === true) {
      io.out(helpText(`nvmemu nvme ${cmd.name}`, table, { summary: cmd.summary }));
      return 0;
    }
    return await cmd.run(v, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`nvmemu nvme ${cmd.name}: ${e.message}\n`);
      return 2;
    }
    if (isEmuError(e) || e instanceof Error) {
      io.err(`nvmemu nvme ${cmd.name}: ${explainError(e, target)}\n`);
      return 1;
    }
    throw e;
  }
}

function leaf(cmd: NvmeSubcommand, name: string): Leaf {
  return {
    kind: 'leaf',
    name,
    summary: cmd.summary,
    options: mergeTables(targetOptions(cmd.shortS), cmd.options),
    run: (argv, io) => runNvme(cmd, argv, io),
  };
}

/** The `nvme` command group, plugins (`zns`, `fdp`) as subgroups. */
export function nvmeGroup(): Group {
  const children: Node[] = [];
  const plugins = new Map<string, Leaf[]>();
  for (const cmd of ALL) {
    const [first, second] = cmd.name.split(' ');
    if (second === undefined) {
      children.push(leaf(cmd, cmd.name));
      continue;
    }
    let list = plugins.get(first!);
    if (list === undefined) {
      list = [];
      plugins.set(first!, list);
      children.push({
        kind: 'group',
        name: first!,
        summary: `nvme-cli's ${first!} plugin`,
        children: list,
      });
    }
    list.push(leaf(cmd, second));
  }
  return {
    kind: 'group',
    name: 'nvme',
    summary: "nvme-cli's commands against an NVMe/TCP target",
    children,
    usage: nvmeUsage,
  };
}

export async function nvmeCommand(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'help') return nvmeCommand(['--help', ...argv.slice(1)], io);
  return await runGroup(nvmeGroup(), argv, io);
}
