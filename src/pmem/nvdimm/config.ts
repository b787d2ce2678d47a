// `-device nvdimm`: property schema and phase-1 check (reference qemu-pmem-ndctl.md §3; QEMU
// 7.2 hw/mem/nvdimm.c, hw/mem/pc-dimm.c, hw/i386/pc.c pc_memory_pre_plug). The checks run in
// QEMU's order: property setters, then pre-plug (nvdimm enabled, slot, memory region of the
// backend with its label area, address), then realize (busy memdev, NUMA node). `-device`
// errors always carry the option location.

import { ConfigError } from '../../config/errors.js';
import type { PropDef, Props, TypeSchema } from '../../config/schema.js';
import { isBackendPlan, type BackendPlan } from '../../memory/config.js';
import { assignAddress, assignSlot, type Placement } from '../../machine/device-memory.js';
import type { PlanContext } from '../../machine/registry.js';
import { alignDownBig } from '../../util/u64.js';

/** MIN_NAMESPACE_LABEL_SIZE (hw/mem/nvdimm.c). */
export const MIN_LABEL_SIZE = 128n << 10n;

export interface NvdimmPlan {
  readonly tag: 'nvdimm';
  readonly id: string | undefined;
  readonly memdev: string;
  readonly backend: BackendPlan;
  /** L: the label area is the last L bytes of the backend (0 = label-less). */
  readonly labelSize: bigint;
  /** P = ALIGN_DOWN(B − L, A): the guest-visible PMEM size, backend bytes [0, P). */
  readonly pmemSize: bigint;
  readonly unarmed: boolean;
  readonly uuid: string | undefined;
  readonly node: number;
  readonly placement: Placement;
  /** `-machine nvdimm-persistence` (the region's persistence domain); undefined = unknown. */
  readonly persistence: 'cpu' | 'mem-ctrl' | undefined;
  readonly hotplugged: boolean;
}

const prop = (p: PropDef): PropDef => p;

export const NVDIMM_SCHEMA: TypeSchema = {
  typeName: 'nvdimm',
  kind: 'device',
  props: [
    prop({ name: 'addr', type: { kind: 'uint64' }, default: 0n, description: '' }),
    prop({ name: 'label-size', type: { kind: 'size' }, label: 'int', description: '' }),
    prop({ name: 'memdev', type: { kind: 'link', target: 'memdev' }, description: '' }),
    prop({ name: 'node', type: { kind: 'uint', bits: 32 }, default: 0, description: '' }),
    prop({ name: 'size', type: { kind: 'uint64' }, description: '' }),
    prop({ name: 'slot', type: { kind: 'int32' }, default: -1, description: '' }),
    prop({ name: 'unarmed', type: { kind: 'bool' }, default: false, description: '' }),
    prop({ name: 'uuid', type: { kind: 'uuid' }, label: 'QemuUUID', description: '' }),
  ],
};

/**
 * Resolves `memdev=` the way QEMU's link properties do: "Device 'x' not found" when nothing has
 * that id, a type error when it names something that is not a memory backend.
 */
export function resolveMemdev(
  name: string,
  ctx: Pick<PlanContext, 'lookup'>,
): { readonly plan: BackendPlan } {
  const obj = ctx.lookup(name, 'object');
  if (obj === undefined) {
    const other = ctx.lookup(name, 'device') ?? ctx.lookup(name, 'drive');
    if (other !== undefined) {
      throw new ConfigError(
        `Invalid parameter type for 'memdev', expected: memory-backend`,
        'memdev',
      );
    }
    throw new ConfigError(`Device '${name}' not found`, 'memdev');
  }
  if (!isBackendPlan(obj.config)) {
    throw new ConfigError(
      `Invalid parameter type for 'memdev', expected: memory-backend`,
      'memdev',
    );
  }
  return { plan: obj.config };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function checkNvdimm(
  props: Props,
  id: string | undefined,
  ctx: PlanContext & { readonly hotplug?: boolean },
): NvdimmPlan {
  // Property setters.
  if (props.given.has('size')) {
    throw new ConfigError('Insufficient permission to perform this operation', 'size');
  }
  const labelSize = props.big('label-size');
  if (props.has('label-size') && labelSize < MIN_LABEL_SIZE) {
    throw new ConfigError(
      `Property 'nvdimm.label-size' (${hex(labelSize)}) is required at least ${hex(MIN_LABEL_SIZE)}`,
      'label-size',
    );
  }
  const memdev = props.str('memdev');
  const backend = memdev === undefined ? undefined : resolveMemdev(memdev, ctx).plan;

  // pc_memory_pre_plug.
  if (!ctx.settings.nvdimm) {
    throw new ConfigError("nvdimm is not enabled: missing 'nvdimm' in '-M'", 'nvdimm');
  }
  // pc_dimm_pre_plug.
  const slot = assignSlot(ctx, props.num('slot'));
  // memory_device_pre_plug → nvdimm_prepare_memory_region.
  if (memdev === undefined || backend === undefined) {
    throw new ConfigError("'memdev' property must be set", 'memdev');
  }
  const b = backend.size;
  const a = backend.align;
  const pmemSize = b > labelSize ? alignDownBig(b - labelSize, a) : 0n;
  if (b <= labelSize || pmemSize === 0n) {
    throw new ConfigError(
      `the size of memdev ${memdev} (${hex(b)}) is too small to contain nvdimm label (${hex(labelSize)}) and aligned PMEM (${hex(a)})`,
      'label-size',
    );
  }
  const unarmed = props.bool('unarmed');
  if (!unarmed && backend.rom) {
    throw new ConfigError(
      `'unarmed' property must be 'on' since memdev ${memdev} is read-only`,
      'unarmed',
    );
  }
  const addr = assignAddress(ctx, props.big('addr'), a, pmemSize, 'addr');
  // pc_dimm_realize.
  if (!ctx.claim(`memdev:${memdev}`)) {
    throw new ConfigError(`can't use already busy memdev: ${memdev}`, 'memdev');
  }
  const node = props.num('node');
  if (node !== 0) {
    throw new ConfigError(
      `'DIMM property node has value ${node}' which exceeds the number of numa nodes: 1`,
      'node',
    );
  }
  return {
    tag: 'nvdimm',
    id,
    memdev,
    backend,
    labelSize,
    pmemSize,
    unarmed,
    uuid: props.str('uuid'),
    node,
    placement: { kind: 'nvdimm', id, addr, size: pmemSize, slot, memdev },
    persistence: ctx.settings.nvdimmPersistence,
    hotplugged: ctx.hotplug === true,
  };
}
