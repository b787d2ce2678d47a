// Structure layout tables (DESIGN.md house rule 3): every on-wire / on-media structure is declared
// once as a list of (name, offset, type); decode/encode derive from it and a test pins the size.
// Definition-time checks catch the classic transcription bugs (overlapping fields, a field past
// the end of the structure) the moment the module is loaded.

import {
  asciiField,
  checkRange,
  readU16be,
  readU16le,
  readU32be,
  readU32le,
  readU64be,
  readU64le,
  readU8,
  writeAscii,
  writeU16be,
  writeU16le,
  writeU32be,
  writeU32le,
  writeU64be,
  writeU64le,
  writeU8,
} from './bytes.js';

export type ScalarType = 'u8' | 'u16le' | 'u16be' | 'u32le' | 'u32be' | 'u64le' | 'u64be';

/** Raw bytes (decoded as a copy) or an ASCII string padded with `pad` (default space 0x20). */
export type FieldType =
  ScalarType | { readonly bytes: number } | { readonly ascii: number; readonly pad?: number };

export interface FieldDef {
  readonly name: string;
  readonly offset: number;
  readonly type: FieldType;
}

/** The TypeScript value type of one field type. */
export type FieldValue<T extends FieldType> = T extends 'u64le' | 'u64be'
  ? bigint
  : T extends ScalarType
    ? number
    : T extends { readonly bytes: number }
      ? Uint8Array
      : T extends { readonly ascii: number }
        ? string
        : never;

/** The decoded object type of a field list. */
export type LayoutValue<F extends readonly FieldDef[]> = {
  [D in F[number] as D['name']]: FieldValue<D['type']>;
};

export interface Layout<T> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldDef[];
  /** Decode `size` bytes at `off`. `bytes` fields are copies, so the result outlives `buf`. */
  decode(buf: Uint8Array, off?: number): T;
  /**
   * Encode into `buf` at `off` (a fresh zeroed buffer of `size` bytes when omitted) and return
   * the buffer. All `size` bytes are written: missing fields and gaps between fields become zero,
   * so encoding into a reused buffer gives the same bytes as encoding into a fresh one.
   */
  encode(value: Partial<T>, buf?: Uint8Array, off?: number): Uint8Array;
  /** Byte offset of a field (for in-place updates and for checksum slots). */
  offsetOf(name: keyof T & string): number;
}

export function fieldWidth(type: FieldType): number {
  if (typeof type === 'object') return 'bytes' in type ? type.bytes : type.ascii;
  switch (type) {
    case 'u8':
      return 1;
    case 'u16le':
    case 'u16be':
      return 2;
    case 'u32le':
    case 'u32be':
      return 4;
    case 'u64le':
    case 'u64be':
      return 8;
  }
}

function describeType(type: FieldType): string {
  if (typeof type === 'string') return type;
  return 'bytes' in type ? `bytes ${type.bytes}` : `ascii ${type.ascii}`;
}

function validate(name: string, size: number, fields: readonly FieldDef[]): void {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new Error(`layout ${name}: size must be a positive integer, got ${size}`);
  }
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new Error(`layout ${name}: duplicate field ${f.name}`);
    seen.add(f.name);
    const width = fieldWidth(f.type);
    if (!Number.isSafeInteger(width) || width <= 0) {
      throw new Error(`layout ${name}: field ${f.name} has invalid width ${width}`);
    }
    if (!Number.isSafeInteger(f.offset) || f.offset < 0) {
      throw new Error(`layout ${name}: field ${f.name} has invalid offset ${f.offset}`);
    }
    if (f.offset + width > size) {
      throw new Error(
        `layout ${name}: field ${f.name} (offset ${f.offset}, ${width} bytes) ends at ${f.offset + width}, past size ${size}`,
      );
    }
  }
  const sorted = [...fields].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    const prevEnd = prev.offset + fieldWidth(prev.type);
    if (cur.offset < prevEnd) {
      throw new Error(
        `layout ${name}: field ${cur.name} (offset ${cur.offset}) overlaps field ${prev.name} (offset ${prev.offset}, ${fieldWidth(prev.type)} bytes)`,
      );
    }
  }
}

function decodeField(
  buf: Uint8Array,
  at: number,
  type: FieldType,
): number | bigint | Uint8Array | string {
  if (typeof type === 'object') {
    if ('bytes' in type) return buf.slice(at, at + type.bytes);
    return asciiField(buf, at, type.ascii);
  }
  switch (type) {
    case 'u8':
      return readU8(buf, at);
    case 'u16le':
      return readU16le(buf, at);
    case 'u16be':
      return readU16be(buf, at);
    case 'u32le':
      return readU32le(buf, at);
    case 'u32be':
      return readU32be(buf, at);
    case 'u64le':
      return readU64le(buf, at);
    case 'u64be':
      return readU64be(buf, at);
  }
}

function encodeField(buf: Uint8Array, at: number, type: FieldType, v: unknown): void {
  if (typeof type === 'object') {
    if ('bytes' in type) {
      if (!(v instanceof Uint8Array)) throw new TypeError(`expected Uint8Array, got ${typeof v}`);
      if (v.length > type.bytes) {
        throw new RangeError(`${v.length} bytes do not fit in ${type.bytes}`);
      }
      buf.set(v, at); // a shorter value leaves the (already zeroed) tail as zero padding
      return;
    }
    if (typeof v !== 'string') throw new TypeError(`expected string, got ${typeof v}`);
    writeAscii(buf, at, v, type.ascii, type.pad ?? 0x20);
    return;
  }
  if (type === 'u64le' || type === 'u64be') {
    if (typeof v !== 'bigint') throw new TypeError(`expected bigint, got ${typeof v}`);
    if (type === 'u64le') writeU64le(buf, at, v);
    else writeU64be(buf, at, v);
    return;
  }
  if (typeof v !== 'number') throw new TypeError(`expected number, got ${typeof v}`);
  switch (type) {
    case 'u8':
      return writeU8(buf, at, v);
    case 'u16le':
      return writeU16le(buf, at, v);
    case 'u16be':
      return writeU16be(buf, at, v);
    case 'u32le':
      return writeU32le(buf, at, v);
    case 'u32be':
      return writeU32be(buf, at, v);
  }
}

/**
 * Declare a structure. The value type is inferred from `fields` (declare them inline or
 * `as const`), e.g. `defineLayout('cqe', 16, [{ name: 'dw0', offset: 0, type: 'u32le' }, ...])`.
 * Throws (naming the layout and field) if a field overlaps another or does not fit in `size`.
 */
export function defineLayout<const F extends readonly FieldDef[]>(
  name: string,
  size: number,
  fields: F,
): Layout<LayoutValue<F>> {
  validate(name, size, fields);
  type T = LayoutValue<F>;
  const offsets = new Map(fields.map((f) => [f.name, f.offset]));
  const frozen = Object.freeze([...fields]);

  return {
    name,
    size,
    fields: frozen,
    decode(buf: Uint8Array, off = 0): T {
      checkRange(buf, off, size);
      const out: Record<string, unknown> = {};
      for (const f of frozen) out[f.name] = decodeField(buf, off + f.offset, f.type);
      return out as T;
    },
    encode(value: Partial<T>, buf?: Uint8Array, off = 0): Uint8Array {
      const target = buf ?? new Uint8Array(size);
      checkRange(target, off, size);
      // Validate every field into a scratch copy first so a bad value leaves `buf` untouched.
      const scratch = new Uint8Array(size);
      const values = value as Record<string, unknown>;
      for (const f of frozen) {
        const v = values[f.name];
        if (v === undefined) continue;
        try {
          encodeField(scratch, f.offset, f.type, v);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          const ctor = e instanceof TypeError ? TypeError : RangeError;
          throw new ctor(`layout ${name}: field ${f.name} (${describeType(f.type)}): ${msg}`, {
            cause: e,
          });
        }
      }
      target.set(scratch, off);
      return target;
    },
    offsetOf(field: keyof T & string): number {
      const o = offsets.get(field);
      if (o === undefined) throw new Error(`layout ${name}: no field ${field}`);
      return o;
    },
  };
}
