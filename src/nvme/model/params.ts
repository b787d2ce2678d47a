// The device model's parameters: `x-model*` properties of `-device nvme-ns` (nvmemu's own,
// hence `x-`), the presets, and the one parser both the command line and QMP `qom-set` use
// (docs/models.md lists them). Every value is a string on the command line and a string or a
// number over QMP; errors name the property and say what it takes.

import { ConfigError } from '../../config/errors.js';
import type { PropDef } from '../../config/schema.js';
import type { GcPolicy } from './ftl.js';

export type ModelKind = 'none' | 'fixed' | 'ssd';

export interface ModelParams {
  readonly kind: ModelKind;
  /** `fixed`: latency per command class, microseconds. */
  readonly readUs: number;
  readonly writeUs: number;
  readonly otherUs: number;
  /** `ssd`: channels × dies per channel; planes divide a die's blocks (geometry only). */
  readonly channels: number;
  readonly dies: number;
  readonly planes: number;
  readonly pagesPerBlock: number;
  /** Bytes of a flash page, the FTL's mapping and program unit. */
  readonly pageSize: number;
  /** Page read, page program, block erase, microseconds. */
  readonly tReadUs: number;
  readonly tProgUs: number;
  readonly tEraseUs: number;
  /** Channel transfer rate, MB/s (10^6 bytes); 0 = transfers take no time. */
  readonly channelMBps: number;
  /** Spare factor Sf = (physical − user) / physical, 0 < Sf < 1. */
  readonly spare: number;
  readonly gc: GcPolicy;
  /** Rated program/erase cycles per block (SMART Percentage Used reaches 100 there). */
  readonly peCycles: number;
  /** Available Spare Threshold, percent. */
  readonly spareThreshold: number;
}

/** Without a preset: a small generic TLC-like die, no latency until a kind is chosen. */
export const DEFAULT_PARAMS: ModelParams = {
  kind: 'none',
  readUs: 0,
  writeUs: 0,
  otherUs: 0,
  channels: 4,
  dies: 2,
  planes: 2,
  pagesPerBlock: 256,
  pageSize: 4096,
  tReadUs: 60,
  tProgUs: 700,
  tEraseUs: 3500,
  channelMBps: 800,
  spare: 0.07,
  gc: 'greedy',
  peCycles: 3000,
  spareThreshold: 10,
};

/** Typical 3D TLC flash behind 8 channels × 4 dies, ~7% spare, 3000 rated P/E cycles. */
const TLC_FLASH: Partial<ModelParams> = {
  kind: 'ssd',
  channels: 8,
  dies: 4,
  planes: 4,
  pagesPerBlock: 256,
  pageSize: 4096,
  tReadUs: 60,
  tProgUs: 700,
  tEraseUs: 3500,
  channelMBps: 1200,
  spare: 0.07,
  gc: 'greedy',
  peCycles: 3000,
  spareThreshold: 10,
};

/**
 * Drive shapes (docs/models.md "Presets" gives the sources). They are shapes for experiments,
 * not any product's measured behaviour.
 */
export const PRESETS: Readonly<Record<string, Partial<ModelParams>>> = {
  // A TLC datacenter drive (read-intensive, 1 DWPD class).
  'tlc-dc': TLC_FLASH,
  // A ZN540-like zoned drive: the same flash; on a zoned namespace a zone reset erases its
  // blocks and there is no device GC (the zone geometry comes from the nvme-ns properties).
  zn540: TLC_FLASH,
};

type Key = Exclude<keyof ModelParams, never>;

interface Field {
  readonly prop: string;
  readonly key: Key;
  readonly parse: (v: string | number | boolean, prop: string) => ModelParams[Key];
  /** Changing it needs a new FTL: refused at run time. */
  readonly geometry?: boolean;
  readonly help: string;
}

function num(min: number, max: number, integer: boolean) {
  return (v: string | number | boolean, prop: string): number => {
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    const what = integer ? 'an integer' : 'a number';
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new ConfigError(
        `${prop} takes ${what} from ${min} to ${max}, not '${String(v)}'`,
        prop,
      );
    }
    return n;
  };
}

function choice<T extends string>(values: readonly T[]) {
  return (v: string | number | boolean, prop: string): T => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    throw new ConfigError(`${prop} takes ${values.join(', ')}, not '${String(v)}'`, prop);
  };
}

const US = num(0, 10_000_000, false);

const FIELDS: readonly Field[] = [
  {
    prop: 'x-model',
    key: 'kind',
    parse: choice<ModelKind>(['none', 'fixed', 'ssd']),
    help: 'none, fixed or ssd',
  },
  { prop: 'x-model-read-us', key: 'readUs', parse: US, help: 'fixed: read latency (µs)' },
  { prop: 'x-model-write-us', key: 'writeUs', parse: US, help: 'fixed: write latency (µs)' },
  { prop: 'x-model-other-us', key: 'otherUs', parse: US, help: 'fixed: other commands (µs)' },
  {
    prop: 'x-model-channels',
    key: 'channels',
    parse: num(1, 64, true),
    geometry: true,
    help: 'ssd: channels',
  },
  {
    prop: 'x-model-dies',
    key: 'dies',
    parse: num(1, 64, true),
    geometry: true,
    help: 'ssd: dies per channel',
  },
  {
    prop: 'x-model-planes',
    key: 'planes',
    parse: num(1, 16, true),
    geometry: true,
    help: 'ssd: planes per die',
  },
  {
    prop: 'x-model-pages-per-block',
    key: 'pagesPerBlock',
    parse: num(4, 65536, true),
    geometry: true,
    help: 'ssd: pages per erase block',
  },
  {
    prop: 'x-model-page-size',
    key: 'pageSize',
    parse: num(512, 65536, true),
    geometry: true,
    help: 'ssd: page bytes (mapping unit)',
  },
  { prop: 'x-model-t-read-us', key: 'tReadUs', parse: US, help: 'ssd: page read (µs)' },
  { prop: 'x-model-t-prog-us', key: 'tProgUs', parse: US, help: 'ssd: page program (µs)' },
  { prop: 'x-model-t-erase-us', key: 'tEraseUs', parse: US, help: 'ssd: block erase (µs)' },
  {
    prop: 'x-model-channel-mbps',
    key: 'channelMBps',
    parse: num(0, 1_000_000, false),
    help: 'ssd: channel MB/s (0: free)',
  },
  {
    prop: 'x-model-spare',
    key: 'spare',
    parse: num(0.001, 0.9, false),
    geometry: true,
    help: 'ssd: spare factor (0.07 = 7%)',
  },
  {
    prop: 'x-model-gc',
    key: 'gc',
    parse: choice<GcPolicy>(['greedy', 'cost-benefit']),
    help: 'ssd: greedy or cost-benefit',
  },
  {
    prop: 'x-model-pe-cycles',
    key: 'peCycles',
    parse: num(1, 1_000_000, true),
    help: 'ssd: rated P/E cycles',
  },
  {
    prop: 'x-model-spare-threshold',
    key: 'spareThreshold',
    parse: num(0, 100, true),
    help: 'ssd: available spare threshold (%)',
  },
];

const PRESET_PROP = 'x-model-preset';

/** The `nvme-ns` properties of the model (all strings: the parser gives the precise errors). */
export const MODEL_PROPS: readonly PropDef[] = [
  {
    name: PRESET_PROP,
    type: { kind: 'str' },
    description: `model preset: ${Object.keys(PRESETS).join(', ')} (nvmemu)`,
  },
  ...FIELDS.map((f) => ({
    name: f.prop,
    type: { kind: 'str' } as const,
    description: `${f.help} (nvmemu)`,
  })),
];

export const isModelProp = (name: string): boolean =>
  name === PRESET_PROP || FIELDS.some((f) => f.prop === name);

function presetOf(v: string | number | boolean): Partial<ModelParams> {
  const p = typeof v === 'string' ? PRESETS[v] : undefined;
  if (p === undefined) {
    throw new ConfigError(
      `${PRESET_PROP} takes ${Object.keys(PRESETS).join(', ')}, not '${String(v)}'`,
      PRESET_PROP,
    );
  }
  return p;
}

/**
 * The parameters from the given properties: the preset first, then every explicit property,
 * whatever their order. Undefined when no model property is given.
 */
export function parseModelProps(
  given: Iterable<string>,
  value: (name: string) => string | undefined,
): ModelParams | undefined {
  const names = [...given].filter(isModelProp);
  if (names.length === 0) return undefined;
  let p: ModelParams = { ...DEFAULT_PARAMS };
  const preset = value(PRESET_PROP);
  if (names.includes(PRESET_PROP) && preset !== undefined) p = { ...p, ...presetOf(preset) };
  for (const f of FIELDS) {
    const v = names.includes(f.prop) ? value(f.prop) : undefined;
    if (v !== undefined) p = { ...p, [f.key]: f.parse(v, f.prop) };
  }
  return p;
}

/** The value of one property now (qom-get). */
export function modelProp(p: ModelParams, name: string): string | number | undefined {
  const f = FIELDS.find((x) => x.prop === name);
  return f === undefined ? undefined : p[f.key];
}

/**
 * `p` with one property changed at run time (qom-set). Geometry (and the preset, which sets
 * it) would need a new FTL over data already placed, so those are refused with the reason.
 */
export function setModelProp(
  p: ModelParams,
  name: string,
  value: string | number | boolean,
): ModelParams {
  if (name === PRESET_PROP) {
    throw new ConfigError(
      `${PRESET_PROP} sets the geometry and cannot change at run time; set the timing properties one by one`,
      name,
    );
  }
  const f = FIELDS.find((x) => x.prop === name);
  if (f === undefined) throw new ConfigError(`'${name}' is not a model property`, name);
  const v = f.parse(value, name);
  if (f.geometry === true && v !== p[f.key]) {
    throw new ConfigError(`${name} is FTL geometry and cannot change at run time`, name);
  }
  return { ...p, [f.key]: v };
}
