// Property schemas and phase-1 checks of `memory-backend-ram` and `memory-backend-file`
// (reference qemu-pmem-ndctl.md §1; QEMU 7.2 `backends/hostmem*.c`, `system/physmem.c`).
//
// Where a message carries the `-object ...:` prefix is QEMU 7.2's, measured on the binary:
// `-object` options are visited when the command line is parsed (missing/ill-typed parameters
// are reported with the option's location) but the backend is created later, without a
// location, so property-setter and allocation errors ("property 'size' of ... doesn't take
// value '0'", alignment, backing-store size, NUMA policy) print bare. Bare messages are
// ConfigErrors with location '' (the option layer never overwrites a defined location).
//
// A check never opens a file: the backing store is judged with HostProbe.stat only, and what
// realize will do (use the file, create it, create an unlinked temp file in a directory) is
// decided here so realize has no choices left.

import { dirname, resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import type { PropDef, Props, TypeSchema } from '../config/schema.js';
import type { PlanContext } from '../config/component.js';
import { alignUpBig, isPowerOfTwo } from '../util/u64.js';
import { strerror } from './libc.js';

export type HostMemPolicy = 'default' | 'preferred' | 'bind' | 'interleave';

/** How realize obtains the backing file. */
export type FileTarget =
  /** An existing regular file (extended only when it is empty). */
  | { readonly kind: 'existing'; readonly size: bigint }
  /** Does not exist yet: created (and deleted again on rollback). */
  | { readonly kind: 'create' }
  /** A directory: an unlinked temporary file is created inside it. */
  | { readonly kind: 'temp-in-dir' }
  /** A character device or other special file (e.g. devdax): mapped as is. */
  | { readonly kind: 'device' };

/** Typed result of checking a memory backend. `tag` lets devices recognize it. */
export interface BackendPlan {
  readonly tag: 'memory-backend';
  readonly typeName: 'memory-backend-ram' | 'memory-backend-file';
  readonly id: string;
  /** `size` as given (the memory-region size devices see). */
  readonly size: bigint;
  /** `size` rounded up to the host page (what is mapped and what a fresh file grows to). */
  readonly mapSize: bigint;
  /** Memory-region alignment A: ram 2 MiB (QEMU_VMALLOC_ALIGN); file max(page, `align`). */
  readonly align: bigint;
  readonly share: boolean;
  readonly readonly: boolean;
  /** Whether the guest sees ROM (`rom`, auto = follow `readonly`). */
  readonly rom: boolean;
  readonly prealloc: boolean;
  readonly preallocThreads: number;
  readonly reserve: boolean;
  readonly merge: boolean;
  readonly dump: boolean;
  readonly policy: HostMemPolicy;
  readonly hostNodes: readonly number[];
  readonly discardData: boolean;
  readonly pmem: boolean;
  readonly offset: bigint;
  /** Absent for ram. `path` is as typed (messages), `absPath` resolved at check time. */
  readonly file?: { readonly path: string; readonly absPath: string; readonly target: FileTarget };
}

export function isBackendPlan(v: unknown): v is BackendPlan {
  return typeof v === 'object' && v !== null && (v as { tag?: unknown }).tag === 'memory-backend';
}

/** QEMU_VMALLOC_ALIGN on x86-64 Linux: the alignment of anonymous RAM blocks. */
export const RAM_ALIGN = 2n << 20n;
/** MAX_NODES in QEMU 7.2 (`include/sysemu/numa.h`). */
const MAX_NODES = 128;

const bare = (message: string, property?: string): ConfigError =>
  new ConfigError(message, property, '');

const COMMON_PROPS: readonly PropDef[] = [
  { name: 'dump', type: { kind: 'bool' }, description: "Set to 'off' to exclude from core dump" },
  {
    name: 'host-nodes',
    type: { kind: 'str' },
    label: 'int',
    description: 'Binds memory to the list of NUMA host nodes',
  },
  { name: 'merge', type: { kind: 'bool' }, description: 'Mark memory as mergeable' },
  {
    name: 'policy',
    type: { kind: 'enum', values: ['default', 'preferred', 'bind', 'interleave'] },
    label: 'HostMemPolicy',
    description: 'Set the NUMA policy',
  },
  {
    name: 'prealloc-context',
    type: { kind: 'str' },
    label: 'link<thread-context>',
    description: 'Context to use for creating CPU threads for preallocation',
  },
  {
    name: 'prealloc-threads',
    type: { kind: 'uint', bits: 32 },
    label: 'int',
    description: 'Number of CPU threads to use for prealloc',
  },
  { name: 'prealloc', type: { kind: 'bool' }, description: 'Preallocate memory' },
  {
    name: 'reserve',
    type: { kind: 'bool' },
    description: 'Reserve swap space (or huge pages) if applicable',
  },
  {
    name: 'share',
    type: { kind: 'bool' },
    description: 'Mark the memory as private to QEMU or shared',
  },
  {
    name: 'size',
    type: { kind: 'size' },
    label: 'int',
    description: 'Size of the memory region (ex: 500M)',
  },
  {
    name: 'x-use-canonical-path-for-ramblock-id',
    type: { kind: 'bool' },
    description: '',
    inert: true,
  },
];

export const RAM_SCHEMA: TypeSchema = {
  typeName: 'memory-backend-ram',
  kind: 'object',
  props: COMMON_PROPS,
};

export const FILE_SCHEMA: TypeSchema = {
  typeName: 'memory-backend-file',
  kind: 'object',
  props: [
    ...COMMON_PROPS,
    { name: 'align', type: { kind: 'size' }, label: 'int', description: '' },
    { name: 'discard-data', type: { kind: 'bool' }, description: '' },
    { name: 'mem-path', type: { kind: 'str' }, label: 'string', description: '' },
    // QEMU ≥ 8.1 / ≥ 8.2; nvmemu extensions (7.2 rejects them as "Invalid parameter").
    {
      name: 'offset',
      type: { kind: 'size' },
      label: 'int',
      description: 'Offset into the target file (ex: 1G) [nvmemu extension, QEMU 8.1]',
    },
    { name: 'pmem', type: { kind: 'bool' }, description: '' },
    { name: 'readonly', type: { kind: 'bool' }, description: '' },
    {
      name: 'rom',
      type: { kind: 'enum', values: ['on', 'off', 'auto'] },
      label: 'OnOffAuto',
      description: 'Whether to create Read Only Memory (ROM) [nvmemu extension, QEMU 8.2]',
    },
  ],
};

/** `host-nodes=N` or `host-nodes=N-M` (the opts visitor's uint16 list syntax). */
function parseHostNodes(text: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null)
    throw new ConfigError(`Parameter 'host-nodes' expects a uint64 value`, 'host-nodes');
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo || hi > 0xffff) {
    throw new ConfigError(`Parameter 'host-nodes' expects a uint64 value`, 'host-nodes');
  }
  const out: number[] = [];
  for (let n = lo; n <= hi; n++) out.push(n);
  return out;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** Phase 1 for both backend types. */
export function checkBackend(
  typeName: BackendPlan['typeName'],
  props: Props,
  id: string | undefined,
  ctx: PlanContext,
): BackendPlan {
  // QAPI visit (prefixed): mandatory members. `id` is checked by the option layer.
  if (!props.has('size')) throw new ConfigError(`Parameter 'size' is missing`, 'size');
  const isFile = typeName === 'memory-backend-file';
  const memPath = props.str('mem-path');
  if (isFile && memPath === undefined) {
    throw new ConfigError(`Parameter 'mem-path' is missing`, 'mem-path');
  }
  const hostNodes =
    props.str('host-nodes') === undefined ? [] : parseHostNodes(props.str('host-nodes') ?? '');

  // Property setters (bare).
  const size = props.big('size');
  if (size === 0n) throw bare(`property 'size' of ${typeName} doesn't take value '0'`, 'size');
  const preallocThreads = props.has('prealloc-threads') ? props.num('prealloc-threads') : 1;
  if (preallocThreads === 0) {
    throw bare(
      `property 'prealloc-threads' of ${typeName} doesn't take value '0'`,
      'prealloc-threads',
    );
  }
  const prealloc = props.bool('prealloc');
  const reserve = props.has('reserve') ? props.bool('reserve') : true;
  if (prealloc && !reserve) {
    throw bare(`'prealloc=on' and 'reserve=off' are incompatible`, 'prealloc');
  }
  for (const n of hostNodes) {
    if (n >= MAX_NODES) throw bare(`Invalid host-nodes value: ${n}`, 'host-nodes');
  }
  const ctxName = props.str('prealloc-context');
  if (ctxName !== undefined) {
    // nvmemu has no `thread-context` objects, so any existing id has the wrong type.
    throw bare(
      ctx.lookup(ctxName, 'object') === undefined
        ? `Device '${ctxName}' not found`
        : `Invalid parameter type for 'prealloc-context', expected: thread-context`,
      'prealloc-context',
    );
  }

  const share = props.bool('share');
  const readonly = props.bool('readonly');
  const page = BigInt(ctx.host.pageSize);
  const mapSize = alignUpBig(size, page);
  const offset = props.big('offset');
  const alignProp = props.big('align');
  let rom = readonly;
  let file: BackendPlan['file'];
  let align = RAM_ALIGN;

  if (isFile && memPath !== undefined) {
    // QEMU ≥ 8.2 `rom` checks come before the file is opened.
    switch (props.str('rom') ?? 'auto') {
      case 'on':
        if (!readonly)
          throw bare(`property 'rom' = 'on' is not supported with 'readonly' = 'off'`, 'rom');
        rom = true;
        break;
      case 'off':
        if (readonly && share) {
          throw bare(
            `property 'rom' = 'off' is incompatible with 'readonly' = 'on' and 'share' = 'on'`,
            'rom',
          );
        }
        rom = false;
        break;
      default:
        rom = readonly;
    }
    // file_ram_open: what exists at mem-path decides what realize does.
    const absPath = resolve(memPath);
    const target = fileTarget(memPath, absPath, readonly, ctx);
    // qemu_ram_alloc_from_fd: an existing non-empty file must hold offset + size.
    if (target.kind === 'existing' && target.size > 0n && target.size < offset + mapSize) {
      throw bare(
        offset === 0n
          ? `backing store size ${hex(target.size)} does not match 'size' option ${hex(mapSize)}`
          : `backing store size ${hex(target.size)} is too small for 'size' option ${hex(mapSize)} plus 'offset' option ${hex(offset)}`,
        'size',
      );
    }
    // file_ram_alloc: alignment against the backing page size.
    if (alignProp % page !== 0n) {
      throw bare(
        `alignment ${hex(alignProp)} must be multiples of page size ${hex(page)}`,
        'align',
      );
    }
    if (alignProp !== 0n && !isPowerOfTwo(alignProp)) {
      throw bare(`alignment ${hex(alignProp)} must be a power of two`, 'align');
    }
    if (offset % page !== 0n) {
      throw bare(`offset ${hex(offset)} must be multiples of page size ${hex(page)}`, 'offset');
    }
    align = alignProp > page ? alignProp : page;
    file = { path: memPath, absPath, target };
  }

  // host_memory_backend_memory_complete: NUMA policy after allocation.
  const policy = (props.str('policy') ?? 'default') as HostMemPolicy;
  if (hostNodes.length > 0 && policy === 'default') {
    throw bare(
      'host-nodes must be empty for policy default, or you should explicitly specify a policy other than default',
      'host-nodes',
    );
  }
  if (hostNodes.length === 0 && policy !== 'default') {
    throw bare(`host-nodes must be set for policy ${policy}`, 'policy');
  }
  for (const n of hostNodes) {
    if (ctx.host.stat(`/sys/devices/system/node/node${n}`)?.kind !== 'dir') {
      throw bare(`cannot bind memory to host NUMA nodes: ${strerror(22)}`, 'host-nodes');
    }
  }

  return {
    tag: 'memory-backend',
    typeName,
    id: id ?? '',
    size,
    mapSize,
    align,
    share,
    readonly,
    rom,
    prealloc,
    preallocThreads,
    reserve,
    merge: props.has('merge') ? props.bool('merge') : true,
    dump: props.has('dump') ? props.bool('dump') : true,
    policy,
    hostNodes,
    discardData: props.bool('discard-data'),
    pmem: props.bool('pmem'),
    offset,
    ...(file === undefined ? {} : { file }),
  };
}

function fileTarget(
  path: string,
  absPath: string,
  readonly: boolean,
  ctx: PlanContext,
): FileTarget {
  const cantOpen = (errnum: number): ConfigError =>
    bare(`can't open backing store ${path} for guest RAM: ${strerror(errnum)}`, 'mem-path');
  const st = ctx.host.stat(absPath);
  if (st === undefined) {
    const parent = ctx.host.stat(dirname(absPath));
    if (parent === undefined) throw cantOpen(2); // ENOENT
    if (parent.kind !== 'dir') throw cantOpen(20); // ENOTDIR
    // QEMU 7.2 creates a missing file even for readonly=on (file_ram_open retries O_CREAT).
    return { kind: 'create' };
  }
  switch (st.kind) {
    case 'file':
      return { kind: 'existing', size: st.size };
    case 'dir':
      // QEMU would open the directory O_RDONLY and fail later; say so plainly instead.
      if (readonly) throw cantOpen(21); // EISDIR
      return { kind: 'temp-in-dir' };
    case 'other':
      return { kind: 'device' };
  }
}
