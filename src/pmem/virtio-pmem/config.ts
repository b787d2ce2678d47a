// `-device virtio-pmem-pci`: property schema and phase-1 check (reference qemu-pmem-ndctl.md §4;
// QEMU 7.2 hw/virtio/virtio-pmem.c, virtio-pmem-pci.c, hw/mem/memory-device.c). Only `memdev`
// and `memaddr` matter to nvmemu; the PCI and virtio transport properties are accepted for
// command-line compatibility and have no effect (there is no guest PCI bus).

import { ConfigError } from '../../config/errors.js';
import type { PropDef, Props, TypeSchema } from '../../config/schema.js';
import type { BackendPlan } from '../../memory/config.js';
import { assignAddress, type Placement } from '../../machine/device-memory.js';
import type { PlanContext } from '../../machine/registry.js';
import { resolveMemdev } from '../nvdimm/config.js';

export interface VirtioPmemPlan {
  readonly tag: 'virtio-pmem';
  readonly id: string | undefined;
  readonly memdev: string;
  readonly backend: BackendPlan;
  readonly placement: Placement;
  readonly hotplugged: boolean;
}

const onOff = (name: string, dflt: boolean, description = 'on/off'): PropDef => ({
  name,
  type: { kind: 'bool' },
  default: dflt,
  description,
  inert: true,
});

export const VIRTIO_PMEM_SCHEMA: TypeSchema = {
  typeName: 'virtio-pmem-pci',
  kind: 'device',
  props: [
    { name: 'memaddr', type: { kind: 'uint64' }, default: 0n, description: '' },
    { name: 'memdev', type: { kind: 'link', target: 'memdev' }, description: '' },
    // PCI / virtio transport: inert.
    {
      name: 'acpi-index',
      type: { kind: 'uint', bits: 32 },
      default: 0,
      description: '',
      inert: true,
    },
    {
      name: 'addr',
      type: { kind: 'str' },
      label: 'int32',
      default: -1,
      description: 'Slot and optional function number, example: 06.0 or 06',
      inert: true,
    },
    onOff('aer', false),
    onOff('any_layout', true),
    onOff('ats', false),
    {
      name: 'disable-legacy',
      type: { kind: 'enum', values: ['on', 'off', 'auto'] },
      label: 'OnOffAuto',
      default: 'auto',
      description: 'on/off/auto',
      inert: true,
    },
    onOff('disable-modern', false, ''),
    onOff('event_idx', true),
    { name: 'failover_pair_id', type: { kind: 'str' }, description: '', inert: true },
    onOff('indirect_desc', true),
    onOff('iommu_platform', false),
    onOff('migrate-extra', true),
    onOff('modern-pio-notify', false),
    onOff('multifunction', false),
    onOff('notify_on_empty', true),
    onOff('packed', false),
    onOff('page-per-vq', false),
    onOff('queue_reset', true),
    { name: 'rombar', type: { kind: 'uint', bits: 32 }, default: 1, description: '', inert: true },
    { name: 'romfile', type: { kind: 'str' }, description: '', inert: true },
    {
      name: 'romsize',
      type: { kind: 'uint', bits: 32 },
      default: 4294967295,
      description: '',
      inert: true,
    },
    onOff('use-disabled-flag', true, ''),
    onOff('use-started', true, ''),
    // The child device (listed by QEMU; not settable: it has no setter).
    { name: 'virtio-backend', type: { kind: 'str' }, label: 'child<virtio-pmem>', description: '' },
    onOff('virtio-pci-bus-master-bug-migration', false),
    onOff('x-ats-page-aligned', true),
    onOff('x-disable-legacy-check', false, ''),
    onOff('x-disable-pcie', false),
    onOff('x-ignore-backend-features', false, ''),
    onOff('x-pcie-deverr-init', true),
    onOff('x-pcie-extcap-init', true),
    onOff('x-pcie-flr-init', true),
    onOff('x-pcie-lnkctl-init', true),
    onOff('x-pcie-lnksta-dllla', true),
    onOff('x-pcie-pm-init', true),
  ],
};

export function checkVirtioPmem(
  props: Props,
  id: string | undefined,
  ctx: PlanContext & { readonly hotplug?: boolean },
): VirtioPmemPlan {
  if (props.given.has('virtio-backend')) {
    throw new ConfigError('Insufficient permission to perform this operation', 'virtio-backend');
  }
  // Link setter.
  const memdev = props.str('memdev');
  const backend = memdev === undefined ? undefined : resolveMemdev(memdev, ctx).plan;
  // memory_device_pre_plug → virtio_pmem_get_memory_region.
  if (memdev === undefined || backend === undefined) {
    throw new ConfigError("'memdev' property must be set", 'memdev');
  }
  // The whole backend is the pmem window (no label area), aligned as the backend is.
  const addr = assignAddress(ctx, props.big('memaddr'), backend.align, backend.size, 'memaddr');
  // virtio_pmem_realize.
  if (!ctx.claim(`memdev:${memdev}`)) {
    throw new ConfigError(`can't use already busy memdev: ${memdev}`, 'memdev');
  }
  return {
    tag: 'virtio-pmem',
    id,
    memdev,
    backend,
    placement: { kind: 'virtio-pmem', id, addr, size: backend.size, slot: undefined, memdev },
    hotplugged: ctx.hotplug === true,
  };
}
