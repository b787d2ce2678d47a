// `nvmemu nvme <command>`: nvme-cli's commands against an NVMe/TCP target (docs/nvme-cli.md).
// Exit status: 0 success, 1 an NVMe status or connection error, 2 a usage error.
// The commands are those of catalogue.ts (nvme-cli's plugins, `zns report-zones`, are a name
// with a space: they become a subgroup). Building the group loads no command: a command's code
// and the NVMe/TCP host library load when it runs (dispatch.ts) or completion asks for its
// options.

import type { CliIo } from '../io.js';
import { NVME_COMMANDS, loadModule, type NvmeEntry } from './catalogue.js';
import { runGroup, type Group, type Leaf, type Node } from '../tree.js';

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
  const lines = NVME_COMMANDS.map((c) => `  ${c.name.padEnd(14)} ${c.summary}\n`).join('');
  return `Usage: nvmemu nvme <command> [options]\n\nCommands:\n${lines}\n${TARGET_HELP}`;
}

function leaf(entry: NvmeEntry, name: string): Leaf {
  return {
    kind: 'leaf',
    name,
    summary: entry.summary,
    describe: async () => (await import('./dispatch.js')).optionTable(entry),
    run: async (argv, io) => {
      // The dispatcher (with the host library) and the command's module load side by side.
      const [dispatch] = await Promise.all([import('./dispatch.js'), loadModule(entry.module)]);
      return dispatch.runNvme(entry, argv, io);
    },
  };
}

/** The `nvme` command group, plugins (`zns`, `fdp`) as subgroups. */
export function nvmeGroup(): Group {
  const children: Node[] = [];
  const plugins = new Map<string, Leaf[]>();
  for (const entry of NVME_COMMANDS) {
    const [first, second] = entry.name.split(' ');
    if (second === undefined) {
      children.push(leaf(entry, entry.name));
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
    list.push(leaf(entry, second));
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
