// Property schemas: one declaration per object/device type, shared by the command line
// (`-object`, `-device`, `-machine`) and the monitor (`object-add`, `device_add`).
//
// A schema turns raw input into a typed record before anything is created (house rule 1).
// Raw values arrive either as strings (keyval on the command line, HMP) or as JSON scalars
// (QMP). QEMU words its errors differently for the two (string vs. QObject input visitors);
// we reproduce the command-line wording, which is what users see most, and QMP's where the
// monitor needs it (`front`).

import { parseSize, SizeError } from './size.js';
import { parseUint, parseInt32, parseBool } from './numbers.js';
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
  /** Accepted (for compatibility) but has no effect in an emulator without a guest. */
  readonly inert?: boolean;
}

/** Which front end produced the raw value; QEMU's messages differ between them. */
export type Front = 'cli' | 'qmp';

export type RawValue = string | number | boolean;

/** QEMU's name for a property type in `-device X,help` output. */
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
      return t.target === 'nvme-subsys' ? 'link<nvme-subsys>' : 'str';
    case 'uuid':
      return 'str';
  }
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Converts one raw value. `typeName` and `name` are used in messages the way QEMU uses
 * them: the QObject keyval visitor says "Parameter 'NAME' expects TYPE"; range errors from
 * visit_type_uintN say "Parameter 'NAME' expects uintN_t".
 */
export function coerce(def: PropDef, raw: RawValue, front: Front): PropValue {
  const { name, type } = def;
  const expects = (what: string): ConfigError =>
    new ConfigError(`Parameter '${name}' expects ${what}`, name);
  switch (type.kind) {
    case 'str':
    case 'link':
      if (typeof raw !== 'string') throw expects('string');
      return raw;
    case 'uuid':
      if (typeof raw !== 'string') throw expects('string');
      if (raw !== 'auto' && !UUID_RE.test(raw)) {
        throw new ConfigError(`Property '${def.name}' has invalid value`, name);
      }
      return raw.toLowerCase();
    case 'enum':
      if (typeof raw !== 'string' || !type.values.includes(raw)) {
        throw new ConfigError(`Parameter '${name}' does not accept value '${String(raw)}'`, name);
      }
      return raw;
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (front === 'qmp' || typeof raw !== 'string') throw expects('boolean');
      const b = parseBool(raw);
      if (b === undefined) throw expects("'on' or 'off'");
      return b;
    }
    case 'size': {
      const v = toBig(raw, front, () => expects('size'), (s) => parseSize(s));
      return v;
    }
    case 'uint64':
      return toBig(raw, front, () => expects('integer'), (s) => parseUint(s, 64));
    case 'uint': {
      const v = toBig(raw, front, () => expects('integer'), (s) => parseUint(s, 64));
      if (v >= 1n << BigInt(type.bits)) throw expects(`uint${type.bits}_t`);
      return Number(v);
    }
    case 'int32': {
      if (typeof raw === 'number') {
        if (!Number.isInteger(raw)) throw expects('integer');
        if (raw < -(2 ** 31) || raw >= 2 ** 31) throw expects('int32_t');
        return raw;
      }
      if (typeof raw !== 'string') throw expects('integer');
      const v = parseInt32(raw);
      if (v === undefined) throw expects('integer');
      return v;
    }
  }
}

function toBig(
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
    if (e instanceof SizeError || e instanceof RangeError || e instanceof SyntaxError) throw fail();
    if (e instanceof Error && (e as { code?: string }).code === 'EMU_ERR_CONFIG') throw fail();
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
  readonly props: readonly PropDef[];
  /** Properties handled outside the schema (e.g. `id`, `driver`, `qom-type`). */
  readonly reserved?: readonly string[];
}

/**
 * How an unknown property is reported. QEMU's `-object` goes through the QAPI
 * ObjectOptions visitor ("Parameter 'x' is unexpected"); `-device` goes through
 * object_property_set ("Property 'nvme.x' not found").
 */
export type UnknownStyle = 'object' | 'device';

/** Resolves raw key/value pairs (dotted keys already flattened) against a schema. */
export function resolveProps(
  schema: TypeSchema,
  raw: ReadonlyMap<string, RawValue>,
  front: Front,
  unknown: UnknownStyle,
): Props {
  const byName = new Map(schema.props.map((p) => [p.name, p]));
  const values = new Map<string, PropValue>();
  const given = new Set<string>();
  for (const [key, value] of raw) {
    if (schema.reserved?.includes(key)) continue;
    const def = byName.get(key);
    if (def === undefined) {
      throw new ConfigError(
        unknown === 'object'
          ? `Parameter '${key}' is unexpected`
          : `Property '${schema.typeName}.${key}' not found`,
        key,
      );
    }
    values.set(key, coerce(def, value, front));
    given.add(key);
  }
  for (const def of schema.props) {
    if (!values.has(def.name) && def.default !== undefined) values.set(def.name, def.default);
  }
  return new Props(values, given);
}

/** `-device TYPE,help` / `-object TYPE,help` listing, in QEMU's layout. */
export function formatHelp(schema: TypeSchema, kind: 'device' | 'object'): string {
  const lines = [`${schema.typeName} ${kind === 'device' ? 'options' : 'options'}:`];
  const sorted = [...schema.props].sort((a, b) => a.name.localeCompare(b.name));
  for (const def of sorted) {
    const dflt = def.default === undefined ? '' : ` (default: ${formatDefault(def)})`;
    const head = `  ${def.name}=<${typeLabel(def.type)}>`;
    lines.push(`${head.padEnd(24)} - ${def.description}${dflt}`);
  }
  return lines.join('\n') + '\n';
}

function formatDefault(def: PropDef): string {
  const v = def.default;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return `"${v}"`;
  return String(v);
}
