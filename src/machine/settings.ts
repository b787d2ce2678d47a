// `-machine` and `-m`: the machine type (and the QEMU compatibility level its version selects),
// NVDIMM support, and the RAM / device-memory budget.
// Messages and their prefixes are QEMU 7.2's, measured on the binary: machine-property errors
// and the `-m` consistency checks are printed without the option prefix, keyval errors with it.

import { parseBool, parseUint } from '../config/numbers.js';
import { parseSize } from '../config/size.js';
import { ConfigError } from '../config/errors.js';
import type { ParsedArgs } from '../config/options.js';
import { QEMU_COMPATS, type MachineSettings, type QemuCompat } from '../config/component.js';
import { alignUpBig } from '../util/u64.js';

export { QEMU_COMPATS, type QemuCompat };

/**
 * The machine settings with the compatibility level the machine type selects (the level is
 * part of MachineSettings itself; the name stays for callers of phase 1).
 */
export type MachineConfig = MachineSettings;

interface MachineType {
  readonly type: 'pc' | 'q35';
  readonly compat: QemuCompat;
  /** The QOM type QEMU names in "Property 'X.foo' not found". */
  readonly qom: string;
}

/** Machine type names, as QEMU spells them (`-machine help`, tests/fixtures/qemu/). */
const MACHINE_TYPES: Record<string, MachineType> = {
  pc: { type: 'pc', compat: '7.2', qom: 'pc-i440fx-7.2-machine' },
  'pc-i440fx-7.2': { type: 'pc', compat: '7.2', qom: 'pc-i440fx-7.2-machine' },
  'pc-i440fx-10.0': { type: 'pc', compat: '10.0', qom: 'pc-i440fx-10.0-machine' },
  q35: { type: 'q35', compat: '7.2', qom: 'pc-q35-7.2-machine' },
  'pc-q35-7.2': { type: 'q35', compat: '7.2', qom: 'pc-q35-7.2-machine' },
  'pc-q35-10.0': { type: 'q35', compat: '10.0', qom: 'pc-q35-10.0-machine' },
};

/**
 * A compatibility level given by name (the in-process API's `compat` option): `7.2` or `10.0`.
 * Throws a ConfigError naming the value and the levels there are.
 */
export function parseCompat(value: string, property = 'compat'): QemuCompat {
  const c = QEMU_COMPATS.find((x) => x === value);
  if (c === undefined) {
    throw noPrefix(
      `${property} '${value}' is not a QEMU compatibility level (one of ${QEMU_COMPATS.join(', ')})`,
      property,
    );
  }
  return c;
}

/** Machine properties that only matter to a guest; accepted and ignored. */
const INERT_MACHINE_PROPS = new Set([
  'accel',
  'usb',
  'graphics',
  'kernel-irqchip',
  'mem-merge',
  'dump-guest-core',
  'vmport',
  'smm',
  'hpet',
  'sata',
  'smbus',
  'pit',
  'pic',
  'acpi',
  'suppress-vmdesc',
  'i8042',
]);

const noPrefix = (message: string, property?: string): ConfigError =>
  new ConfigError(message, property, '');

const DEFAULT_RAM = 128n << 20n;
/** ACPI_MAX_RAM_SLOTS on x86. */
const MAX_SLOTS = 256;
const PAGE = 4096n;

/** `-machine help`: QEMU's format; `pc` and `q35` stay aliases of the 7.2 types (the default). */
export function listMachines(): string {
  return [
    'Supported machines are:',
    'pc-i440fx-10.0       Standard PC (i440FX + PIIX, 1996)',
    'pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)',
    'pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)',
    'pc-q35-10.0          Standard PC (Q35 + ICH9, 2009)',
    'q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)',
    'pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)',
    '',
  ].join('\n');
}

export function machineSettings(args: Pick<ParsedArgs, 'machine' | 'memory'>): MachineConfig {
  const m = args.machine.values;
  const typeName = m.get('type') ?? 'pc';
  const mt = Object.hasOwn(MACHINE_TYPES, typeName) ? MACHINE_TYPES[typeName] : undefined;
  if (mt === undefined) {
    // QEMU 7.2's wording (10.0 adds ': "<type>"'); tests/fixtures/qemu/*/machine-unknown.txt.
    throw noPrefix('unsupported machine type\nUse -machine help to list supported machines');
  }
  let nvdimm = false;
  let nvdimmPersistence: MachineSettings['nvdimmPersistence'];
  for (const [key, value] of m) {
    if (key === 'type') continue;
    if (key === 'nvdimm') {
      const b = parseBool(value);
      if (b === undefined) throw noPrefix(`Parameter 'nvdimm' expects 'on' or 'off'`, key);
      nvdimm = b;
    } else if (key === 'nvdimm-persistence') {
      if (value !== 'cpu' && value !== 'mem-ctrl') {
        throw noPrefix(`-machine nvdimm-persistence=${value}: unsupported option`, key);
      }
      nvdimmPersistence = value;
    } else if (!INERT_MACHINE_PROPS.has(key)) {
      throw noPrefix(`Property '${mt.qom}.${key}' not found`, key);
    }
  }
  return {
    type: mt.type,
    compat: mt.compat,
    nvdimm,
    nvdimmPersistence,
    ...memorySettings(args.memory),
  };
}

function memorySettings(
  mem: ParsedArgs['memory'],
): Pick<MachineSettings, 'ramSize' | 'slots' | 'maxMem'> {
  if (mem === undefined) return { ramSize: DEFAULT_RAM, slots: 0, maxMem: DEFAULT_RAM };
  const withPrefix = (message: string, property: string): ConfigError =>
    new ConfigError(message, property, mem.location);
  let ramSize = DEFAULT_RAM;
  let slots: number | undefined;
  let maxMem: bigint | undefined;
  for (const [key, value] of mem.values) {
    switch (key) {
      case 'size':
        try {
          ramSize = parseSize(value, 'M');
        } catch {
          throw withPrefix(
            "Parameter 'size' expects a non-negative number below 2^64\n" +
              'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n' +
              'and exabytes, respectively.',
            key,
          );
        }
        break;
      case 'slots':
        try {
          slots = Number(parseUint(value, 32));
        } catch {
          throw withPrefix(`Parameter 'slots' expects a number`, key);
        }
        break;
      case 'maxmem':
        try {
          maxMem = parseSize(value);
        } catch {
          throw withPrefix(`Parameter 'maxmem' expects a size`, key);
        }
        break;
      default:
        throw withPrefix(`Invalid parameter '${key}'`, key);
    }
  }
  // QEMU rounds the initial RAM size up to 8 KiB (hw/core/machine.c).
  ramSize = ramSize === 0n ? DEFAULT_RAM : alignUpBig(ramSize, 8192n);
  if (slots !== undefined && slots > 0 && maxMem === undefined) {
    throw noPrefix('slots specified but no max-size', 'slots');
  }
  const max = maxMem ?? ramSize;
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  if (max < ramSize) {
    throw noPrefix(
      `invalid value of maxmem: maximum memory size (${hex(max)}) must be at least the initial memory size (${hex(ramSize)})`,
      'maxmem',
    );
  }
  if ((slots ?? 0) > 0 && max === ramSize) {
    throw noPrefix(
      `invalid value of maxmem: memory slots were specified but maximum memory size (${hex(max)}) is equal to the initial memory size (${hex(ramSize)})`,
      'maxmem',
    );
  }
  if ((slots ?? 0) > MAX_SLOTS) {
    throw noPrefix(`unsupported amount of memory slots: ${slots ?? 0}`, 'slots');
  }
  if (max % PAGE !== 0n) {
    // Sic: QEMU's message says "must by aligned".
    throw noPrefix(`maximum memory size must by aligned to multiple of ${PAGE} bytes`, 'maxmem');
  }
  return { ramSize, slots: slots ?? 0, maxMem: max };
}
