// The `nvmemu nvme` commands: name, one-line summary and the module that implements each, in
// the order `nvmemu nvme --help` lists them. Help, completion and dispatch read this table; a
// command's module (with the NVMe/TCP host library it needs) loads only when the command runs
// or its options are asked for, so `nvmemu nvme <command>` loads that command's code and
// nothing else (docs/architecture.md "Module loading"). A new command is one entry here and its
// implementation in the module named (catalogue.test.ts checks that both agree).

import type { NvmeSubcommand } from './admin-cmds.js';

/** The modules that implement commands (each exports a list of them). */
const MODULES = {
  admin: async () => (await import('./admin-cmds.js')).ADMIN_COMMANDS,
  connect: async () => [(await import('./connect.js')).CONNECT_COMMAND],
  list: async () => [(await import('./list.js')).LIST_COMMAND],
  io: async () => (await import('./io-cmds.js')).IO_COMMANDS,
  copy: async () => [(await import('./copy.js')).COPY_COMMAND],
  multihost: async () => (await import('./multihost.js')).MULTIHOST_COMMANDS,
  zns: async () => (await import('./zns.js')).ZNS_COMMANDS,
  fdp: async () => (await import('./fdp.js')).FDP_COMMANDS,
  virt: async () => (await import('./virt-cmds.js')).VIRT_COMMANDS,
  keys: async () => (await import('./keys.js')).KEY_COMMANDS,
} satisfies Record<string, () => Promise<readonly NvmeSubcommand[]>>;

export type NvmeModule = keyof typeof MODULES;

export const NVME_MODULES = Object.keys(MODULES) as readonly NvmeModule[];

/** One command as help and completion know it, before its module is loaded. */
export interface NvmeEntry {
  /** nvme-cli's name; plugin commands are `plugin name` (`zns report-zones`). */
  readonly name: string;
  readonly summary: string;
  readonly module: NvmeModule;
}

const e = (module: NvmeModule, name: string, summary: string): NvmeEntry => ({
  module,
  name,
  summary,
});

export const NVME_COMMANDS: readonly NvmeEntry[] = [
  e('admin', 'discover', 'read the discovery log page (default port 8009)'),
  e(
    'connect',
    'connect',
    'make an association (TLS, DH-HMAC-CHAP, I/O queues), report it, disconnect',
  ),
  e('list', 'list', 'list namespaces: of -n NQN, or of every subsystem the discovery log names'),
  e('admin', 'id-ctrl', 'Identify Controller (-H decodes the fields)'),
  e('admin', 'id-ns', 'Identify Namespace (--namespace-id; -H decodes the fields)'),
  e('admin', 'ns-descs', 'Namespace Identification Descriptor list (--namespace-id)'),
  e('admin', 'list-ns', 'active namespace IDs (Identify CNS 02h; --all: allocated, CNS 10h)'),
  e('admin', 'list-ctrl', 'controller list (Identify CNS 13h, --cntid)'),
  e('admin', 'get-log', 'any log page (--log-id, --log-len, --lpo, --lsp, --rae, --csi)'),
  e(
    'admin',
    'smart-log',
    'SMART / Health Information log (LID 02h; -H decodes the critical warning)',
  ),
  e('admin', 'error-log', 'Error Information log (LID 01h, --log-entries)'),
  e('admin', 'fw-log', 'Firmware Slot Information log (LID 03h)'),
  e('admin', 'effects-log', 'Commands Supported and Effects log (LID 05h, --csi)'),
  e('admin', 'get-feature', 'Get Features (-f/--feature-id, --sel, --cdw11, --data-len)'),
  e(
    'admin',
    'set-feature',
    'Set Features (-f/--feature-id, -v/--value, --cdw12, -d/--data FILE, --save)',
  ),
  e('admin', 'format', 'Format NVM (--lbaf, --ses, --pi, --pil, --ms, --namespace-id)'),
  e('admin', 'attach-ns', 'Namespace Attachment, attach (--namespace-id, -c/--controllers)'),
  e('admin', 'detach-ns', 'Namespace Attachment, detach (--namespace-id, -c/--controllers)'),
  e(
    'io',
    'read',
    "Read (-s start-block, -c block-count 0's based, -z data-size, -d FILE or stdout, -p prinfo, -r ref-tag, --app-tag, -m app-tag-mask, -T/-S dir-type/spec)",
  ),
  e(
    'io',
    'write',
    'Write (-s, -c, -z, -d FILE or stdin, -p prinfo, -r ref-tag, --app-tag, -m, -T dir-type, -S dir-spec)',
  ),
  e('io', 'compare', 'Compare (-s, -c, -z, -d FILE or stdin)'),
  e(
    'io',
    'write-zeroes',
    'Write Zeroes (-s, -c, --deac, -p prinfo, -r ref-tag, --app-tag, -m app-tag-mask)',
  ),
  e('io', 'write-uncor', 'Write Uncorrectable (-s, -c)'),
  e('io', 'verify', 'Verify (-s, -c, -p prinfo, -r ref-tag, --app-tag, -m app-tag-mask)'),
  e('io', 'dsm', 'Dataset Management (--slbs, --blocks, --ctx-attrs, --ad, --idw, --idr)'),
  e('io', 'flush', 'Flush (--namespace-id; 0xffffffff = all)'),
  e(
    'copy',
    'copy',
    'Simple Copy (-d/--sdlba, -s/--slbs, -b/--blocks, -F/--format, -f, -l, -p, -P)',
  ),
  e('multihost', 'ana-log', 'ANA log page 0Ch (-g/--groups: groups only)'),
  e(
    'multihost',
    'resv-register',
    'Reservation Register (-c/--crkey, -k/--nrkey, -r/--rrega, -p/--cptpl, -i/--iekey)',
  ),
  e(
    'multihost',
    'resv-acquire',
    'Reservation Acquire (-c/--crkey, -p/--prkey, --rtype, --racqa, -i/--iekey)',
  ),
  e('multihost', 'resv-release', 'Reservation Release (-c/--crkey, --rtype, --rrela, -i/--iekey)'),
  e('multihost', 'resv-report', 'Reservation Report (-d/--numd, -e/--eds)'),
  e(
    'multihost',
    'create-ns',
    'Namespace Management create (-s/--nsze, -c/--ncap, -f/--flbas, -d/--dps, -m/--nmic, --anagrp-id, -b/--block-size, -y/--csi)',
  ),
  e(
    'multihost',
    'delete-ns',
    'Namespace Management delete (--namespace-id; 0xffffffff: all created)',
  ),
  e('zns', 'zns id-ctrl', 'ZNS Identify Controller (CNS 06h, CSI 02h)'),
  e('zns', 'zns id-ns', 'ZNS Identify Namespace (CNS 05h, CSI 02h; --namespace-id)'),
  e(
    'zns',
    'zns report-zones',
    'Report Zones (-s/--start-lba, -d/--descs, -S/--state, -e/--extended, -p/--partial)',
  ),
  e('zns', 'zns close-zone', 'Zone Management Send, close (-s/--start-lba, --select-all)'),
  e('zns', 'zns finish-zone', 'Zone Management Send, finish (-s/--start-lba, --select-all)'),
  e('zns', 'zns open-zone', 'Zone Management Send, open (-s/--start-lba, --select-all)'),
  e('zns', 'zns reset-zone', 'Zone Management Send, reset (-s/--start-lba, --select-all)'),
  e('zns', 'zns offline-zone', 'Zone Management Send, offline (-s/--start-lba, --select-all)'),
  e(
    'zns',
    'zns set-zone-desc',
    'Set Zone Descriptor Extension (-s/--start-lba, -d/--data FILE or stdin)',
  ),
  e(
    'zns',
    'zns zone-append',
    'Zone Append (-s/--zslba, -z/--data-size, -d/--data FILE or stdin, -f FUA)',
  ),
  e('zns', 'zns changed-zone-list', 'Changed Zone List log (LID BFh, CSI 02h)'),
  e('fdp', 'fdp configs', 'FDP Configurations log (-e endgrp-id, -H, -r)'),
  e('fdp', 'fdp usage', 'Reclaim Unit Handle Usage log (-e endgrp-id, -r)'),
  e('fdp', 'fdp stats', 'FDP Statistics log (-e endgrp-id, -r)'),
  e('fdp', 'fdp events', 'FDP Events log (-e endgrp-id, -E host events, -r)'),
  e('fdp', 'fdp status', 'Reclaim Unit Handle Status (--namespace-id, -r)'),
  e('fdp', 'fdp update', 'Reclaim Unit Handle Update (--namespace-id, -p pids)'),
  e(
    'fdp',
    'fdp set-events',
    'Enable/disable FDP events (--namespace-id, -p placement-handle, -t event-types, -e enable, --save)',
  ),
  e('virt', 'virt-mgmt', 'Virtualization Management (--cntlid, --rt, --act, --nr)'),
  e(
    'virt',
    'list-secondary',
    'secondary controller list (Identify CNS 15h, --cntid, --num-entries)',
  ),
  e('virt', 'primary-ctrl-caps', 'primary controller capabilities (Identify CNS 14h, --cntlid)'),
  e(
    'keys',
    'gen-dhchap-key',
    'Generate a DH-HMAC-CHAP host key (DHHC-1) for in-band authentication',
  ),
  e('keys', 'check-dhchap-key', 'Check a DH-HMAC-CHAP key (DHHC-1 format, CRC)'),
  e('keys', 'gen-tls-key', 'Generate a TLS PSK in the NVMe PSK interchange format (NVMeTLSkey-1)'),
  e('keys', 'check-tls-key', 'Check a TLS PSK and print its PSK identity for a host and subsystem'),
];

/** The commands `module` implements (loads it). */
export function loadModule(module: NvmeModule): Promise<readonly NvmeSubcommand[]> {
  return MODULES[module]();
}

/** The implementation of a catalogued command (loads its module). */
export async function loadCommand(entry: NvmeEntry): Promise<NvmeSubcommand> {
  const cmd = (await loadModule(entry.module)).find((c) => c.name === entry.name);
  // catalogue.test.ts keeps the catalogue and the modules in step.
  if (cmd === undefined) throw new Error(`nvme ${entry.name}: not in module '${entry.module}'`);
  return cmd;
}
