// HMP, the human monitor (QEMU hmp-commands.hx, hmp-commands-info.hx): one line in, text out.
// Commands call the same handlers as QMP; errors print as "Error: <desc>" like QEMU's
// hmp_handle_error. Used by `-monitor stdio|unix:|tcp:`, by QMP human-monitor-command and so
// by `nvmemu monitor`.

import { redactObjectText } from '../config/redact.js';
import { flattenKeyval, parseKeyval } from '../config/keyval.js';
import type { Args } from './args.js';
import { hmpDriveAdd } from './commands/block.js';
import { deviceDel, hotplug, objectDel } from './commands/hotplug.js';
import { memorySizeSummary } from './commands/memory.js';
import { formatNvmeInfo, queryNvme } from './commands/nvme-paths.js';
import { toQmpError } from './errors.js';
import { formatMemoryDevices, formatQtreeValue } from './hmp-format.js';
import { entries, memoryDevices, resolvedProps, typeOf } from './inspect.js';
import { qmpStringify } from './json.js';
import { QEMU_VERSION, type Monitor } from './monitor.js';

interface HmpCommand {
  readonly names: readonly string[];
  /** Parameter synopsis for help, QEMU's notation. */
  readonly params: string;
  readonly help: string;
  /** Number of required words; the last parameter takes the rest of the line when `rest`. */
  readonly required: number;
  readonly rest?: boolean;
  run(hmp: Hmp, words: string[]): Promise<string> | string;
}

interface InfoCommand {
  readonly name: string;
  readonly help: string;
  run(hmp: Hmp): string;
}

const INFO: readonly InfoCommand[] = [
  {
    name: 'memory-devices',
    help: 'show memory devices',
    run: (h) => formatMemoryDevices(memoryDevices(h.monitor.machine)),
  },
  {
    name: 'memory_size_summary',
    help: 'show the amount of initially allocated and present hotpluggable (if enabled) memory in bytes.',
    run: (h) => {
      const s = memorySizeSummary(h.monitor.machine);
      return `base memory: ${s['base-memory']}\nplugged memory: ${s['plugged-memory']}\n`;
    },
  },
  {
    name: 'nvme',
    help: 'show NVMe subsystems: controllers, ANA states, namespaces, reservations (nvmemu)',
    run: (h) => formatNvmeInfo(queryNvme(h.monitor.machine)),
  },
  { name: 'qtree', help: 'show device tree', run: (h) => qtree(h) },
  {
    name: 'status',
    help: 'show the current VM status (running|paused)',
    run: (h) =>
      h.monitor.machine.state === 'running'
        ? 'VM status: running\n'
        : `VM status: paused (${h.monitor.machine.state === 'stopped' ? 'shutdown' : 'prelaunch'})\n`,
  },
  {
    name: 'version',
    help: 'show the version of QEMU',
    run: (h) =>
      `${QEMU_VERSION.major}.${QEMU_VERSION.minor}.${QEMU_VERSION.micro} (nvmemu ${h.monitor.hooks.version})\n`,
  },
];

const COMMANDS: readonly HmpCommand[] = [
  {
    names: ['device_add'],
    params: 'driver[,prop=value][,...]',
    help: 'add device, like -device on the command line',
    required: 1,
    rest: true,
    run: async (h, [text = '']) => {
      // QEMU 7.2 parses HMP device_add with QemuOpts, as -device.
      const parsed = parseKeyval(text, { impliedKey: 'driver', bareKeysAreOn: true });
      const values = flattenKeyval(parsed.tree);
      await h.serialized(() =>
        hotplug(h.monitor.machine, 'device', values, 'device', `device_add ${text}`),
      );
      return '';
    },
  },
  {
    names: ['device_del'],
    params: 'device',
    help: 'remove device',
    required: 1,
    run: async (h, [id = '']) => {
      await h.serialized(() => deviceDel({ machine: h.monitor.machine, monitor: h.monitor }, id));
      return '';
    },
  },
  {
    names: ['drive_add'],
    params:
      '[-n] [[<domain>:]<bus>:]<slot>\n[file=file][,if=type][,bus=n]\n[,unit=m][,media=d][,index=i]\n[,snapshot=on|off][,cache=on|off]\n[,readonly=on|off][,copy-on-read=on|off]',
    help: 'add drive to PCI storage controller',
    required: 1,
    rest: true,
    run: (h, [text = '']) => h.serialized(() => hmpDriveAdd(h.monitor.machine, text)),
  },
  {
    names: ['help', '?'],
    params: '[cmd]',
    help: 'show the help',
    required: 0,
    run: (_h, [name]) => help(name),
  },
  {
    names: ['info'],
    params: '[subcommand]',
    help: 'show various information about the system state',
    required: 0,
    run: (h, [sub]) => {
      if (sub === undefined) return help('info');
      const i = INFO.find((x) => x.name === sub);
      if (i === undefined) return `unknown command: 'info ${sub}'\n`;
      return h.serialized(() => i.run(h));
    },
  },
  {
    names: ['object_add'],
    params: '[qom-type=]type,id=str[,prop=value][,...]',
    help: 'create QOM object',
    required: 1,
    rest: true,
    run: async (h, [text = '']) => {
      // QEMU 7.2 parses HMP object_add with keyval (no short-form booleans) and visits it
      // with the keyval input visitor, whose wording is -device's ("expects size").
      const values = flattenKeyval(parseKeyval(text, { impliedKey: 'qom-type' }).tree);
      await h.serialized(() =>
        hotplug(
          h.monitor.machine,
          'object',
          values,
          'device',
          `object_add ${redactObjectText(text)}`,
        ),
      );
      return '';
    },
  },
  {
    names: ['object_del'],
    params: 'id',
    help: 'destroy QOM object',
    required: 1,
    run: async (h, [id = '']) => {
      await h.serialized(() => objectDel({ machine: h.monitor.machine, monitor: h.monitor }, id));
      return '';
    },
  },
  {
    names: ['qom-get'],
    params: 'path property',
    help: 'print QOM property',
    required: 2,
    run: async (h, [path, property]) =>
      `${qmpStringify(await h.qmp('qom-get', { path, property }))}\n`,
  },
  {
    names: ['qom-list'],
    params: 'path',
    help: 'list QOM properties',
    required: 0,
    run: async (h, [path = '/']) => {
      const list = (await h.qmp('qom-list', { path })) as { name: string; type: string }[];
      return list.map((p) => `${p.name} (${p.type})\n`).join('');
    },
  },
  {
    names: ['qom-set'],
    params: 'path property value',
    help: 'set QOM property.',
    required: 3,
    run: async (h, [path, property, value = '']) => {
      await h.qmp('qom-set', { path, property, value: parseScalar(value) });
      return '';
    },
  },
  {
    names: ['quit', 'q'],
    params: '',
    help: 'quit the emulator',
    required: 0,
    run: async (h) => {
      await h.qmp('quit', {});
      return '';
    },
  },
  {
    names: ['x_nvmemu_set_ana_state'],
    params: 'group state [id] [transition-ms]',
    help: "set an NVMe ANA group's state through this machine's controllers (nvmemu)",
    required: 2,
    run: async (h, [group = '', state = '', id, transition]) => {
      const int = (t: string): number | string => (/^\d+$/.test(t) ? Number(t) : t);
      const r = (await h.qmp('x-nvmemu-set-ana-state', {
        group: int(group),
        state,
        ...(id !== undefined && id !== '-' ? { id } : {}),
        ...(transition !== undefined ? { transition: int(transition) } : {}),
      })) as { cntlids: number[] };
      return `ANA group ${group} ${state} on controller ${r.cntlids.join(',')}\n`;
    },
  },
  {
    names: ['system_powerdown'],
    params: '',
    help: 'send system power down event',
    required: 0,
    run: async (h) => {
      await h.qmp('system_powerdown', {});
      return '';
    },
  },
];

/** Command names for completion: every command and alias, then `info` subcommands. */
export const HMP_COMMAND_NAMES: readonly string[] = COMMANDS.flatMap((c) => c.names);
export const HMP_INFO_NAMES: readonly string[] = INFO.map((i) => i.name);

/** HMP qom-set without -j: integers and booleans as such, anything else as a string. */
function parseScalar(text: string): unknown {
  if (/^-?(?:0|[1-9][0-9]*)$/.test(text) || /^0x[0-9a-f]+$/i.test(text)) return Number(text);
  if (text === 'true' || text === 'on') return true;
  if (text === 'false' || text === 'off') return false;
  return text;
}

function helpLine(c: HmpCommand): string {
  return `${c.names.join('|')} ${c.params} -- ${c.help}\n`;
}

function help(name: string | undefined): string {
  if (name === 'info') return INFO.map((i) => `info ${i.name}  -- ${i.help}\n`).join('');
  if (name === undefined) return COMMANDS.map(helpLine).join('');
  const c = COMMANDS.find((x) => x.names.includes(name));
  return c === undefined ? `unknown command: '${name}'\n` : helpLine(c);
}

/** Splits words; "double quotes" group (with \" and \\ escapes). */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string));
  }
  return out;
}

function qtree(h: Hmp): string {
  let s = 'bus: main-system-bus\n  type System\n';
  for (const e of entries(h.monitor.machine)) {
    if (e.plan.kind !== 'device') continue;
    s += `  dev: ${e.plan.typeName}, id "${e.plan.id ?? ''}"\n`;
    const props = resolvedProps(e);
    const defs = typeOf(e)?.schema.props ?? [];
    for (const def of defs) {
      if (def.inert === true) continue;
      let v = [...(props?.entries() ?? [])].find(([k]) => k === def.name)?.[1];
      const placement = (
        e.plan.config as { placement?: { addr?: bigint; slot?: number; size?: bigint } }
      ).placement;
      if (placement !== undefined && (def.name === 'addr' || def.name === 'memaddr')) {
        v = placement.addr;
      }
      if (placement !== undefined && def.name === 'slot') v = placement.slot;
      if (placement !== undefined && def.name === 'size') v = placement.size;
      if (v === undefined) continue;
      s += `    ${def.name} = ${formatQtreeValue(def, v)}\n`;
    }
  }
  return s;
}

export class Hmp {
  readonly monitor: Monitor;
  /** Inside human-monitor-command: the QMP queue is already held. */
  readonly #nested: boolean;

  constructor(monitor: Monitor, nested = false) {
    this.monitor = monitor;
    this.#nested = nested;
  }

  serialized<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.#nested ? Promise.resolve().then(fn) : this.monitor.exclusive(fn);
  }

  qmp(name: string, args: Args): Promise<unknown> {
    return this.#nested ? this.monitor.executeNow(name, args) : this.monitor.execute(name, args);
  }

  /** Runs one command line; returns its output (lines end with '\n'). Never rejects. */
  async execute(line: string): Promise<string> {
    const trimmed = line.trim();
    if (trimmed === '') return '';
    const name = /^\S+/.exec(trimmed)?.[0] ?? '';
    const restText = trimmed.slice(name.length).trim();
    const cmd = COMMANDS.find((c) => c.names.includes(name));
    if (cmd === undefined) return `unknown command: '${name}'\n`;
    const words = cmd.rest === true ? (restText === '' ? [] : [restText]) : splitWords(restText);
    if (words.length < cmd.required) {
      return `${name}: string expected\nTry "help ${name}" for more information\n`;
    }
    try {
      return await cmd.run(this, words);
    } catch (e) {
      return `Error: ${toQmpError(e).message}\n`;
    }
  }
}
