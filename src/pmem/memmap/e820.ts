// The e820 table as Linux prints it, `memmap=` arguments, and the kernel's sanitize step
// (reference qemu-pmem-ndctl.md §6.1, §6.2).

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
export const E820_UNUSABLE = 5;
export const E820_PMEM = 7;
export const E820_PRAM = 12;
export const E820_SOFT_RESERVED = 0xefffffff;

/** One range [start, end) (end exclusive; the log prints end − 1). */
export interface E820Entry {
  readonly start: bigint;
  readonly end: bigint;
  readonly type: number;
}

export class MemmapError extends Error {
  readonly code = 'EMU_ERR_CONFIG';
}

/** e820_print_type, both generations of names (§6.2). */
const TYPE_NAMES: [RegExp, number][] = [
  [/^(usable|System RAM)$/, E820_RAM],
  [/^(reserved|device reserved)$/, E820_RESERVED],
  [/^ACPI data$/, E820_ACPI],
  [/^ACPI NVS$/, E820_NVS],
  [/^unusable$/, E820_UNUSABLE],
  [/^soft reserved$/, E820_SOFT_RESERVED],
];

export function typeName(type: number): string {
  switch (type) {
    case E820_RAM:
      return 'usable';
    case E820_RESERVED:
      return 'reserved';
    case E820_ACPI:
      return 'ACPI data';
    case E820_NVS:
      return 'ACPI NVS';
    case E820_UNUSABLE:
      return 'unusable';
    case E820_PMEM:
    case E820_PRAM:
      return `persistent (type ${type})`;
    case E820_SOFT_RESERVED:
      return 'soft reserved';
    default:
      return `type ${type}`;
  }
}

function parseTypeName(s: string): number | undefined {
  for (const [re, t] of TYPE_NAMES) if (re.test(s)) return t;
  const m = /^(?:persistent(?: RAM)? \(type (\d+)\)|type (\d+))$/.exec(s);
  if (m !== null) return Number(m[1] ?? m[2]);
  return undefined;
}

const LINE = /(BIOS-e820|user|e820):\s*\[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\]\s+(.+?)\s*$/;

/**
 * Parses `dmesg` text: every `BIOS-e820:` line (or `user:` lines when `which` is 'user').
 * Other lines (timestamps, headers, unrelated messages) are skipped.
 */
export function parseE820(text: string, which: 'bios' | 'user' = 'bios'): E820Entry[] {
  const out: E820Entry[] = [];
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw);
    if (m === null) continue;
    const kind = m[1] === 'user' ? 'user' : 'bios';
    if (kind !== which) continue;
    const type = parseTypeName(m[4]!);
    if (type === undefined) throw new MemmapError(`unknown e820 type '${m[4]!}' in: ${raw.trim()}`);
    const start = BigInt(m[2]!);
    const last = BigInt(m[3]!);
    if (last < start) throw new MemmapError(`e820 range ends before it starts: ${raw.trim()}`);
    out.push({ start, end: last + 1n, type });
  }
  return out;
}

export function formatEntry(e: E820Entry, prefix: string): string {
  const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;
  return `${prefix}: [mem ${hex(e.start)}-${hex(e.end - 1n)}] ${typeName(e.type)}`;
}

/** Linux's e820_nomerge(): persistent-memory entries (types 7 and 12) are never merged. */
const NO_MERGE = new Set([7, 12]);

/**
 * e820__update_table: overlaps resolved with the higher type number winning, adjacent ranges of
 * the same type merged except persistent memory (each `memmap=nn!ss` stays its own entry and
 * region: measured on a Linux 6.1 guest, `memmap=256M!1G memmap=64M!1280M` gives two type-12
 * lines and two regions), sorted by address.
 */
export function sanitize(entries: readonly E820Entry[]): E820Entry[] {
  const points = [...new Set(entries.flatMap((e) => [e.start, e.end]))].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const out: { start: bigint; end: bigint; type: number }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const s = points[i]!;
    const e = points[i + 1]!;
    let type = 0;
    for (const x of entries) if (x.start <= s && x.end >= e && x.type > type) type = x.type;
    if (type === 0) continue;
    const last = out.at(-1);
    // Pieces of one pmem entry (cut by another entry's boundary) still join up.
    const oneEntry = (from: bigint): boolean =>
      entries.some((x) => x.type === type && x.start <= from && x.end >= e);
    const joins =
      last !== undefined &&
      last.end === s &&
      last.type === type &&
      (!NO_MERGE.has(type) || oneEntry(last.start));
    if (joins) last.end = e;
    else out.push({ start: s, end: e, type });
  }
  return out;
}

const SUFFIX: Record<string, bigint> = {
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
  p: 1n << 50n,
  e: 1n << 60n,
};

/** Kernel memparse: C base-0 number (0x hex, leading 0 octal) + optional K/M/G/T/P/E. */
export function memparse(s: string): { value: bigint; rest: string } {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)/.exec(s);
  if (m === null) throw new MemmapError(`Malformed early option 'memmap'`);
  const digits = m[1]!;
  const value = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith('0')
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  const suffix = m[2]!.toLowerCase();
  return { value: suffix === '' ? value : value * SUFFIX[suffix]!, rest: s.slice(m[0].length) };
}

export type MemmapOp =
  | { kind: 'exactmap' }
  | { kind: 'limit'; size: bigint }
  | { kind: 'add'; size: bigint; start: bigint; type: number; sep: '@' | '#' | '$' | '!' }
  | { kind: 'retype'; size: bigint; start: bigint; from?: number; to?: number };

/** One `memmap=` value (possibly comma separated) → operations (parse_memmap_one). */
export function parseMemmap(arg: string): MemmapOp[] {
  const value = arg.startsWith('memmap=') ? arg.slice('memmap='.length) : arg;
  const ops: MemmapOp[] = [];
  for (const part of value.split(',')) {
    if (part === 'exactmap') {
      ops.push({ kind: 'exactmap' });
      continue;
    }
    const size = memparse(part);
    if (size.rest === '') {
      ops.push({ kind: 'limit', size: size.value });
      continue;
    }
    const sep = size.rest[0]!;
    if (sep === '@' || sep === '#' || sep === '$' || sep === '!') {
      const start = memparse(size.rest.slice(1));
      if (start.rest !== '') throw new MemmapError(`Malformed early option 'memmap'`);
      const type = { '@': E820_RAM, '#': E820_ACPI, $: E820_RESERVED, '!': E820_PRAM }[sep];
      ops.push({ kind: 'add', size: size.value, start: start.value, type, sep });
    } else if (sep === '%') {
      const start = memparse(size.rest.slice(1));
      const m = /^(?:-(\d+))?(?:\+(\d+))?$/.exec(start.rest);
      if (m === null || (m[1] === undefined && m[2] === undefined))
        throw new MemmapError(`Malformed early option 'memmap'`);
      ops.push({
        kind: 'retype',
        size: size.value,
        start: start.value,
        ...(m[1] !== undefined ? { from: Number(m[1]) } : {}),
        ...(m[2] !== undefined ? { to: Number(m[2]) } : {}),
      });
    } else {
      throw new MemmapError(`Malformed early option 'memmap'`);
    }
  }
  return ops;
}

/** Applies memmap operations to the firmware table and sanitizes, as the kernel does at boot. */
export function applyMemmap(table: readonly E820Entry[], ops: readonly MemmapOp[]): E820Entry[] {
  let t: E820Entry[] = [...table];
  for (const op of ops) {
    switch (op.kind) {
      case 'exactmap':
        t = [];
        break;
      case 'limit':
        t = sanitize(t).flatMap((e) =>
          e.type !== E820_RAM || e.end <= op.size
            ? [e]
            : e.start >= op.size
              ? []
              : [{ ...e, end: op.size }],
        );
        break;
      case 'add':
        t.push({ start: op.start, end: op.start + op.size, type: op.type });
        break;
      case 'retype': {
        const end = op.start + op.size;
        t = sanitize(t).flatMap((e) => {
          if (e.end <= op.start || e.start >= end || (op.from !== undefined && e.type !== op.from))
            return [e];
          const pieces: E820Entry[] = [];
          if (e.start < op.start) pieces.push({ ...e, end: op.start });
          const mid = {
            start: e.start > op.start ? e.start : op.start,
            end: e.end < end ? e.end : end,
          };
          if (op.to !== undefined) pieces.push({ ...mid, type: op.to });
          if (e.end > end) pieces.push({ ...e, start: end });
          return pieces;
        });
        break;
      }
    }
  }
  return sanitize(t);
}

/** nn with the largest exact K/M/G/T suffix (memmap= style). */
export function sizeArg(v: bigint): string {
  for (const [s, f] of [
    ['T', 1n << 40n],
    ['G', 1n << 30n],
    ['M', 1n << 20n],
    ['K', 1n << 10n],
  ] as const) {
    if (v !== 0n && v % f === 0n) return `${v / f}${s}`;
  }
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}
