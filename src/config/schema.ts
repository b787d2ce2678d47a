// Property schemas: one declaration per object/device type, shared by the command line
// (`-object`, `-device`, `-machine`) and the monitor (`object-add`, `device_add`).
//
// A schema turns raw input into a typed record before anything is created (house rule 1).
// Raw values arrive either as strings (keyval on the command line, HMP) or as JSON scalars
// (QMP). QEMU words its errors differently for the two (string vs. QObject input visitors);
// we reproduce the command-line wording, which is what users see most, and QMP's where the
// monitor needs it (`front`).

import { parseSize } from './size.js';
import { parseUint, parseSint, parseBool } from './numbers.js';
import { isEmuError } from '../util/errors.js';
import { ConfigError } from './errors.js';

export type PropType =
  | { readonly kind: 'str' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'uint'; readonly bits: 8 | 16 | 32 }
  | { readonly kind: 'uint64' }
  | { readonly kind: 'int32' }
  | { readonly kind: 'size' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'link'; readonly target: LinkTarget }
  | { readonly kind: 'uuid' };

/** What a link property names: the id of a memory backend, a drive or another device. */
export type LinkTarget = 'memdev' | 'drive' | 'nvme-subsys';

export type PropValue = string | boolean | number | bigint;

export interface PropDef {
  readonly name: string;
  readonly type: PropType;
  /** Shown by `-device TYPE,help`; absent means "no default" (QEMU prints none). */
  readonly default?: PropValue;
  readonly description: string;
  /** The type as `-device X,help` shows it when it differs from the kind (`OnOffAuto`). */
  readonly label?: string;
  /** Accepted (for compatibility) but has no effect in an emulator without a guest. */
  readonly inert?: boolean;
  /** Generic qdev properties (`bus`) that QEMU accepts but does not list in `TYPE,help`. */
  readonly hidden?: boolean;
  /** A secret (`secret`'s `data`): the monitor shows `<redacted>`, messages hide the value. */
  readonly sensitive?: boolean;
}

/**
 * Which front end produced the raw value. QEMU 7.2 words type errors three ways, measured on
 * the real binary:
 * - `device`: `-device` and HMP `device_add` (QemuOpts → keyval visitor → qdev setters):
 *   "expects integer", "expects size", range errors "expects uint16_t", negative numbers wrap
 *   to 2^64 − n first (so `nsid=-1` is a range error);
 * - `object`: `-object` and HMP `object_add` (string input visitor): "expects a uint64 value",
 *   "expects a size value";
 * - `qmp`: JSON arguments (QObject input visitor): "Invalid parameter type for 'x', expected: integer".
 * Booleans given as text are "expects 'on' or 'off'" in both text front ends.
 */
export type Front = 'device' | 'object' | 'qmp';

export type RawValue = string | number | boolean;

/** QEMU's name for a property type in `-device TYPE,help` output. */
export function typeLabel(t: PropType): string {
  switch (t.kind) {
    case 'str':
      return 'str';
    case 'bool':
      return 'bool';
    case 'uint':
      return `uint${t.bits}`;
    case 'uint64':
      return 'uint64';
    case 'int32':
      return 'int32';
    case 'size':
      return 'size';
    case 'enum':
      return t.values.join('/');
    case 'link':
      return t.target === 'nvme-subsys'
        ? 'link<nvme-subsys>'
        : t.target === 'memdev'
          ? 'link<memory-backend>'
          : 'str';
    case 'uuid':
      return 'str';
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TWO_64 = 1n << 64n;

/** Converts one raw value, failing with the message QEMU 7.2 prints for that front end. */
export function coerce(def: PropDef, raw: RawValue, front: Front, owner = ''): PropValue {
  const { name, type } = def;
  const fail = (what: string, qmpType: string): ConfigError =>
    new ConfigError(
      front === 'qmp'
        ? `Invalid parameter type for '${name}', expected: ${qmpType}`
        : `Parameter '${name}' expects ${what}`,
      name,
    );
  const wrongKind = (qmpType: string) => fail(qmpType, qmpType);
  switch (type.kind) {
    case 'str':
    case 'link':
      if (typeof raw !== 'string') throw wrongKind('string');
      return raw;
    case 'uuid':
      if (typeof raw !== 'string') throw wrongKind('string');
      if (raw !== 'auto' && !UUID_RE.test(raw)) {
        throw new ConfigError(`Property '${owner}.${name}' doesn't take value '${raw}'`, name);
      }
      return raw.toLowerCase();
    case 'enum':
      if (typeof raw !== 'string') throw wrongKind('string');
      if (!type.values.includes(raw)) {
        throw new ConfigError(`Parameter '${name}' does not accept value '${raw}'`, name);
      }
      return raw;
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw !== 'string' || front === 'qmp') throw wrongKind('boolean');
      const b = parseBool(raw);
      if (b === undefined) throw fail("'on' or 'off'", 'boolean');
      return b;
    }
    case 'size':
      return unsigned(
        raw,
        front,
        () => fail(front === 'object' ? 'a size value' : 'size', 'integer'),
        (s) => parseSize(s),
      );
    case 'uint64':
    case 'uint': {
      const bits = type.kind === 'uint64' ? 64 : type.bits;
      const syntax = () => fail(front === 'object' ? 'a uint64 value' : 'integer', 'integer');
      const v = unsigned(raw, front, syntax, (s) => parseWrapping(s, front, syntax));
      if (v >= 1n << BigInt(bits))
        throw fail(front === 'object' ? 'a uint64 value' : `uint${bits}_t`, `uint${bits}`);
      return bits === 64 ? v : Number(v);
    }
    case 'int32': {
      if (typeof raw === 'number') {
        if (!Number.isInteger(raw)) throw wrongKind('integer');
        if (raw < -(2 ** 31) || raw >= 2 ** 31) throw fail('int32_t', 'int32');
        return raw;
      }
      if (typeof raw !== 'string' || front === 'qmp') throw wrongKind('integer');
      let v: bigint;
      try {
        v = parseSint(raw, 64);
      } catch {
        throw fail('integer', 'integer');
      }
      if (v < -(1n << 31n) || v >= 1n << 31n) throw fail('int32_t', 'int32');
      return Number(v);
    }
  }
}

/** QEMU parses unsigned integer text with strtoull semantics: `-n` means 2^64 − n. */
function parseWrapping(s: string, front: Front, syntax: () => ConfigError): bigint {
  if (front === 'device' && s.startsWith('-')) {
    const n = parseUint(s.slice(1), 64);
    return n === 0n ? 0n : TWO_64 - n;
  }
  if (s.startsWith('-')) throw syntax();
  return parseUint(s, 64);
}

function unsigned(
  raw: RawValue,
  front: Front,
  fail: () => ConfigError,
  parse: (s: string) => bigint,
): bigint {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) throw fail();
    return BigInt(raw);
  }
  if (typeof raw !== 'string' || front === 'qmp') throw fail();
  try {
    return parse(raw);
  } catch (e) {
    if (e instanceof ConfigError && e.property !== undefined) throw e;
    if (isEmuError(e, 'EMU_ERR_CONFIG') || e instanceof RangeError) throw fail();
    throw e;
  }
}

/** A typed view of resolved properties. Unset properties without a default are absent. */
export class Props {
  readonly #values: Map<string, PropValue>;
  /** Properties the user gave explicitly (QEMU sometimes distinguishes set vs. default). */
  readonly given: ReadonlySet<string>;

  constructor(values: Map<string, PropValue>, given: ReadonlySet<string>) {
    this.#values = values;
    this.given = given;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }
  str(name: string): string | undefined {
    const v = this.#values.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  bool(name: string): boolean {
    return this.#values.get(name) === true;
  }
  num(name: string): number {
    const v = this.#values.get(name);
    return typeof v === 'number' ? v : 0;
  }
  big(name: string): bigint {
    const v = this.#values.get(name);
    return typeof v === 'bigint' ? v : 0n;
  }
  entries(): IterableIterator<[string, PropValue]> {
    return this.#values.entries();
  }
}

export interface TypeSchema {
  /** QOM type name: `nvme`, `memory-backend-file`, ... */
  readonly typeName: string;
  /** Objects (`-object`) and devices (`-device`) word unknown-property errors differently. */
  readonly kind: 'object' | 'device';
  readonly props: readonly PropDef[];
  /** Properties handled outside the schema (e.g. `id`, `driver`, `qom-type`). */
  readonly reserved?: readonly string[];
}

/** Resolves raw key/value pairs (dotted keys already flattened) against a schema. */
export function resolveProps(
  schema: TypeSchema,
  raw: ReadonlyMap<string, RawValue>,
  front: Front,
): Props {
  const byName = new Map(schema.props.map((p) => [p.name, p]));
  const values = new Map<string, PropValue>();
  const given = new Set<string>();
  for (const [key, value] of raw) {
    if (schema.reserved?.includes(key)) continue;
    const def = byName.get(key);
    if (def === undefined) {
      // QEMU 7.2: `-object` → "Invalid parameter 'x'", QMP object-add → "Parameter 'x' is
      // unexpected", devices (any front end) → "Property 'nvme.x' not found".
      throw new ConfigError(
        schema.kind === 'device'
          ? `Property '${schema.typeName}.${key}' not found`
          : front === 'qmp'
            ? `Parameter '${key}' is unexpected`
            : `Invalid parameter '${key}'`,
        key,
      );
    }
    values.set(key, coerce(def, value, front, schema.typeName));
    given.add(key);
  }
  for (const def of schema.props) {
    if (!values.has(def.name) && def.default !== undefined) values.set(def.name, def.default);
  }
  return new Props(values, given);
}

/**
 * `-device TYPE,help` / `-object TYPE,help` listing in QEMU's layout: lines sorted bytewise,
 * `  name=<type>` padded to 24 columns, then ` - description (default: value)` when either
 * is present.
 */
export function formatHelp(schema: TypeSchema): string {
  const rows = schema.props
    .filter((def) => def.hidden !== true)
    .map((def) => {
      const head = `  ${def.name}=<${def.label ?? typeLabel(def.type)}>`;
      const dflt = def.default === undefined ? '' : ` (default: ${formatDefault(def)})`;
      return def.description === '' && dflt === ''
        ? head
        : `${head.padEnd(24)} - ${def.description}${dflt}`;
    });
  rows.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `${schema.typeName} options:\n${rows.map((r) => r + '\n').join('')}`;
}

function formatDefault(def: PropDef): string {
  const v = def.default;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return `"${v}"`;
  return String(v);
}
