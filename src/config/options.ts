// The QEMU-style command line: `nvmemu run [-machine ...] [-m ...] [-object ...] [-drive ...]
// [-device ...] [-qmp ...] [-monitor ...] [-readconfig FILE]` plus nvmemu's own long options.
//
// This module only splits argv into typed option items (keyval text → tree); the machine
// resolves them against the schemas. Options may be spelled `-opt` or `--opt`, as QEMU allows.

import { readFileSync } from 'node:fs';
import { parseKeyval, flattenKeyval, type KeyvalTree } from './keyval.js';
import { ConfigError, at } from './errors.js';
import type { RawValue } from './schema.js';
import { redactObjectText } from './redact.js';

/** One `-object`, `-drive` or `-device`, in command-line order. */
export interface OptionItem {
  readonly kind: 'object' | 'drive' | 'device';
  /** The option as typed, e.g. `-device nvme,serial=x` (QEMU's message prefix). */
  readonly location: string;
  /** Flattened dotted keys → raw values. */
  readonly values: ReadonlyMap<string, RawValue>;
  /** Values came from JSON (`-device {"driver":...}`): QMP-style type checking. */
  readonly json: boolean;
  /** `help` or `?` was given (`-device nvme,help`). */
  readonly help: boolean;
}

export interface ParsedArgs {
  /** `-machine`/`-M` trees, merged in order (QEMU merges repeated -machine options). */
  readonly machine: { readonly values: Map<string, string>; readonly location: string };
  /** The last `-m` (QEMU: last one wins). */
  readonly memory: { readonly values: Map<string, string>; readonly location: string } | undefined;
  readonly items: readonly OptionItem[];
  readonly qmp: readonly string[];
  readonly monitor: readonly string[];
  /** nvmemu: folder for images of the default machine and state files. */
  readonly dataDir: string | undefined;
  /** nvmemu: NVMe/TCP listen address (`--listen 127.0.0.1:4420`, `--listen none`). */
  readonly listen: string | undefined;
  /** nvmemu: discovery controller port (`--discovery 8009`, `--discovery none`). */
  readonly discovery: string | undefined;
  /** nvmemu: address the discovery log advertises (`--advertise 10.0.2.2`). */
  readonly advertise: string | undefined;
  /** nvmemu: NVMe/TCP TLS mode and limits (`--nvme-tcp tls=required,max-connections=64`). */
  readonly nvmeTcp?: string | undefined;
  /**
   * nvmemu: `--instance NAME`, one of several processes serving the data folder as paths of the
   * same subsystems (docs/multipath.md).
   */
  readonly instance?: string;
  /** QEMU options that only concern a guest CPU; accepted and reported as ignored. */
  readonly ignored: readonly string[];
  /**
   * QEMU's `-append` (the guest kernel command line), raw; the last one wins, as in QEMU. Its
   * `memmap=` parameters make legacy pmem regions (src/pmem/legacy); other words are ignored.
   */
  readonly append: string | undefined;
  readonly warnings: readonly string[];
  /** `-machine help`, `-device help`, `-object help` (type listing) was asked for. */
  readonly listHelp: 'machine' | 'device' | 'object' | undefined;
  /** QEMU's `-daemonize`: detach once the machine serves (`nvmemu run` only). */
  readonly daemonize: boolean;
  /** nvmemu: `-o json` / `--output-format json` prints the start-up summary as JSON. */
  readonly outputFormat: 'normal' | 'json';
  /** nvmemu: `--http [ADDR:]PORT` serves the live view (docs/live-view.md); off by default. */
  readonly http: HttpSpec | undefined;
}

/** Where the live view listens: `host` undefined means loopback (127.0.0.1). */
export interface HttpSpec {
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * `--http` values: `PORT`, `ADDR:PORT` or `[IPv6]:PORT`; port 0 picks a free one. The address
 * is checked when the view binds it (a name that does not resolve fails there).
 */
export function parseHttpSpec(text: string): HttpSpec {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):)?(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new ConfigError(
      `--http ${text}: expected [ADDR:]PORT (e.g. 8080, 127.0.0.1:8080 or [::1]:8080)`,
      undefined,
      '',
    );
  }
  return { host: m[1] ?? m[2], port };
}

/** QEMU options that take an argument and only matter to a guest; accepted, not emulated. */
const GUEST_ONLY_WITH_ARG = new Set([
  'smp',
  'cpu',
  'accel',
  'display',
  'vga',
  'boot',
  'kernel',
  'initrd',
  'name',
  'serial',
  'netdev',
  'net',
  'nic',
  'rtc',
  'cdrom',
  'hda',
  'hdb',
  'bios',
  'chardev',
  'global',
  'numa',
  'uuid',
  'L',
  'k',
  'audiodev',
  'vnc',
  'usbdevice',
  'fsdev',
  'virtfs',
  'pidfile',
  'D',
  'd',
]);
const GUEST_ONLY_FLAGS = new Set([
  'enable-kvm',
  'nographic',
  'nodefaults',
  'S',
  'no-reboot',
  'no-shutdown',
  'snapshot',
  'no-user-config',
  'no-hpet',
  'no-acpi',
  'usb',
  'full-screen',
]);

/** Splits argv (after `run`) into option items. Throws ConfigError with QEMU's wording. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const machine = new Map<string, string>();
  let machineLoc = '';
  let memory: ParsedArgs['memory'];
  const items: OptionItem[] = [];
  const qmp: string[] = [];
  const monitor: string[] = [];
  const ignored: string[] = [];
  const warnings: string[] = [];
  let dataDir: string | undefined;
  let listen: string | undefined;
  let discovery: string | undefined;
  let advertise: string | undefined;
  let nvmeTcp: string | undefined;
  let instance: string | undefined;
  let listHelp: ParsedArgs['listHelp'];
  let append: string | undefined;
  let daemonize = false;
  let outputFormat: ParsedArgs['outputFormat'] = 'normal';
  let http: HttpSpec | undefined;

  const queue = [...argv];
  while (queue.length > 0) {
    const word = queue.shift() as string;
    if (!word.startsWith('-') || word === '-' || word === '--') {
      throw new ConfigError(`${word}: invalid option`, undefined, '');
    }
    const name = word.replace(/^--?/, '');
    const takeArg = (): string => {
      const v = queue.shift();
      if (v === undefined) throw new ConfigError(`-${name}: requires an argument`, undefined, '');
      return v;
    };
    switch (name) {
      case 'machine':
      case 'M': {
        const text = takeArg();
        machineLoc = `-machine ${text}`;
        if (text === 'help' || text === '?') {
          listHelp = 'machine';
          break;
        }
        // -machine goes through keyval in QEMU 7.2: bare keys are errors there.
        const parsed = at(machineLoc, () => parseKeyval(text, { impliedKey: 'type' }));
        for (const [k, v] of flattenKeyval(parsed.tree)) machine.set(k, v);
        break;
      }
      case 'm': {
        const text = takeArg();
        const location = `-m ${text}`;
        const parsed = at(location, () =>
          parseKeyval(text, { impliedKey: 'size', bareKeysAreOn: true, flat: true }),
        );
        memory = { values: flattenKeyval(parsed.tree), location };
        break;
      }
      case 'object':
      case 'device':
      case 'drive': {
        const text = takeArg();
        // A secret's `data=` never reaches a message (config/redact.ts).
        const location = `-${name} ${name === 'object' ? redactObjectText(text) : text}`;
        if (name !== 'drive' && (text === 'help' || text === '?')) {
          listHelp = name;
          break;
        }
        const item = parseItem(name, text, location, warnings);
        items.push(item);
        break;
      }
      case 'readconfig':
        queue.unshift(...readConfigFile(takeArg()));
        break;
      case 'append': {
        append = takeArg();
        // Only memmap= is emulated; the rest concerns a guest kernel.
        const other = append.split(/\s+/).filter((w) => w !== '' && !w.startsWith('memmap='));
        if (other.length > 0) ignored.push(`-append ${other.join(' ')}`);
        break;
      }
      case 'qmp':
        qmp.push(takeArg());
        break;
      case 'monitor':
        monitor.push(takeArg());
        break;
      case 'data':
        dataDir = takeArg();
        break;
      case 'daemonize':
        daemonize = true;
        break;
      case 'o':
      case 'output-format': {
        const f = takeArg();
        if (f !== 'normal' && f !== 'json') {
          throw new ConfigError(`-${name} ${f}: expected 'normal' or 'json'`, undefined, '');
        }
        outputFormat = f;
        break;
      }
      case 'listen':
        listen = takeArg();
        break;
      case 'http':
        http = parseHttpSpec(takeArg());
        break;
      case 'advertise':
        advertise = takeArg();
        break;
      case 'nvme-tcp':
        // Checked by the target's schema (nvme-tcp/target/options.ts); the last one wins.
        nvmeTcp = takeArg();
        break;
      case 'instance':
        instance = takeArg();
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(instance)) {
          throw new ConfigError(
            `--instance ${instance}: expected a name of letters, digits, '.', '_', '-' (at most 64)`,
            undefined,
            '',
          );
        }
        break;
      case 'discovery':
        discovery = takeArg();
        if (discovery !== 'none' && !/^\d{1,5}$/.test(discovery)) {
          throw new ConfigError(
            `--discovery ${discovery}: expected a port number or 'none'`,
            undefined,
            '',
          );
        }
        break;
      default:
        if (GUEST_ONLY_WITH_ARG.has(name)) {
          ignored.push(`-${name} ${takeArg()}`);
        } else if (GUEST_ONLY_FLAGS.has(name)) {
          ignored.push(`-${name}`);
        } else {
          throw new ConfigError(`-${name}: invalid option`, undefined, '');
        }
    }
  }
  return {
    machine: { values: machine, location: machineLoc },
    memory,
    items,
    qmp,
    monitor,
    dataDir,
    listen,
    discovery,
    advertise,
    nvmeTcp,
    ...(instance !== undefined ? { instance } : {}),
    ignored,
    append,
    warnings,
    listHelp,
    daemonize,
    outputFormat,
    http,
  };
}

const IMPLIED: Record<OptionItem['kind'], string | undefined> = {
  object: 'qom-type',
  device: 'driver',
  drive: undefined,
};

function parseItem(
  kind: OptionItem['kind'],
  text: string,
  location: string,
  warnings: string[],
): OptionItem {
  if (kind !== 'drive' && text.trimStart().startsWith('{')) {
    return { kind, location, values: parseJsonItem(text, location), json: true, help: false };
  }
  return at(location, () => {
    const impliedKey = IMPLIED[kind];
    // -object, -device and -drive still go through QemuOpts in QEMU 7.2 (measured): flat
    // dotted keys, and `share` means share=on with a deprecation warning.
    const parsed = parseKeyval(
      text,
      impliedKey === undefined
        ? { bareKeysAreOn: true, flat: true }
        : { impliedKey, bareKeysAreOn: true, flat: true },
    );
    for (const w of parsed.warnings) warnings.push(`${location}: warning: ${w}`);
    return { kind, location, values: flattenKeyval(parsed.tree), json: false, help: parsed.help };
  });
}

/** `-device {"driver":"nvme",...}` (QEMU ≥ 6.2): nested objects become dotted keys. */
function parseJsonItem(text: string, location: string): Map<string, RawValue> {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`JSON parse error: ${(e as Error).message}`, undefined, location);
  }
  const out = new Map<string, RawValue>();
  const walk = (node: unknown, prefix: string): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw new ConfigError(
        `Invalid parameter type for '${prefix || 'top'}', expected: dict`,
        prefix,
        location,
      );
    }
    for (const [k, v] of Object.entries(node)) {
      const key = prefix === '' ? k : `${prefix}.${k}`;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.set(key, v);
      else walk(v, key);
    }
  };
  walk(obj, '');
  return out;
}

/**
 * `-readconfig FILE`: QEMU's INI-style config (`[device "id"]` sections with `key = "value"`
 * lines) translated back into options. Sections: machine, memory, object, drive, device.
 */
export function readConfigFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `Cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      undefined,
      '',
    );
  }
  const args: string[] = [];
  let section: { group: string; id: string | undefined; pairs: string[] } | undefined;
  const flush = (): void => {
    if (section === undefined) return;
    const flag = section.group === 'memory' ? '-m' : `-${section.group}`;
    const pairs = section.id === undefined ? section.pairs : [`id=${section.id}`, ...section.pairs];
    args.push(flag, pairs.join(','));
    section = undefined;
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const head = /^\[\s*([a-z-]+)(?:\s+"([^"]*)")?\s*\]$/.exec(line);
    if (head !== null) {
      flush();
      const group = head[1] as string;
      if (!['machine', 'memory', 'object', 'drive', 'device'].includes(group)) {
        throw new ConfigError(
          `${path}:${i + 1}: There is no option group '${group}'`,
          undefined,
          '',
        );
      }
      section = { group, id: head[2], pairs: [] };
      return;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*"(.*)"$/.exec(line);
    if (kv === null || section === undefined) {
      throw new ConfigError(`${path}:${i + 1}: parse error`, undefined, '');
    }
    section.pairs.push(`${kv[1]}=${(kv[2] as string).replaceAll(',', ',,')}`);
  });
  flush();
  return args;
}

export type { KeyvalTree };
