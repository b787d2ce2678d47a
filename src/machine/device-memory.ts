// The device-memory window of `-m size,slots=S,maxmem=M`: where nvdimm and virtio-pmem devices
// are placed in guest-physical address space, DIMM slot assignment, and space accounting
// (reference qemu-pmem-ndctl.md §2.3; QEMU 7.2 hw/i386/pc.c, hw/mem/memory-device.c,
// hw/mem/pc-dimm.c). Every message is QEMU 7.2's.
//
// No state lives here: the devices placed so far are the earlier plans whose config carries a
// `placement` (PlanContext.planned()), so a failed check leaves nothing behind.

import { ConfigError } from '../config/errors.js';
import { alignUpBig } from '../util/u64.js';
import type { MachineSettings, PlanContext } from './registry.js';

const GiB = 1n << 30n;
const U64_MAX = (1n << 64n) - 1n;

export type MemoryDeviceKind = 'nvdimm' | 'virtio-pmem';

/** Where a memory device sits; part of the device's plan config. */
export interface Placement {
  readonly kind: MemoryDeviceKind;
  readonly id: string | undefined;
  /** Guest-physical start (SPA). */
  readonly addr: bigint;
  /** Region size (nvdimm: PMEM size P; virtio-pmem: the backend size). */
  readonly size: bigint;
  /** DIMM slot (nvdimm only). */
  readonly slot: number | undefined;
  /** Backend id (`memdev=`). */
  readonly memdev: string;
}

export interface Window {
  readonly base: bigint;
  readonly size: bigint;
}

/**
 * The window for a pc/q35 machine, or undefined when `maxmem` was not given (size 0). RAM above
 * 4 GiB is what does not fit below the PCI hole (pc: 3.5 GiB, or 3 GiB once RAM reaches 3.5 GiB
 * because 7.2's i440fx is gigabyte-aligned; q35: 2.75 GiB, or 2 GiB once RAM reaches it); the
 * window starts at the next GiB boundary after it and holds maxmem − ram plus 1 GiB of
 * alignment headroom per slot (enforce_aligned_dimm).
 */
export function deviceMemoryWindow(s: MachineSettings): Window | undefined {
  if (s.maxMem <= s.ramSize) return undefined;
  let lowmem: bigint;
  if (s.type === 'pc') lowmem = s.ramSize >= 0xe000_0000n ? 0xc000_0000n : 0xe000_0000n;
  else lowmem = s.ramSize >= 0xb000_0000n ? 0x8000_0000n : 0xb000_0000n;
  const above4g = s.ramSize > lowmem ? s.ramSize - lowmem : 0n;
  const base = alignUpBig(0x1_0000_0000n + above4g, GiB);
  return { base, size: s.maxMem - s.ramSize + GiB * BigInt(s.slots) };
}

function hasPlacement(c: unknown): c is { placement: Placement } {
  return typeof c === 'object' && c !== null && 'placement' in c;
}

/** Memory devices planned so far (earlier options, and the running machine's devices). */
export function placedDevices(ctx: Pick<PlanContext, 'planned'>): Placement[] {
  return ctx
    .planned()
    .map((p) => p.config)
    .filter(hasPlacement)
    .map((c) => c.placement);
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** pc_dimm_get_free_slot: the requested slot (-1 = first free) or an error. */
export function assignSlot(
  ctx: Pick<PlanContext, 'planned' | 'settings'>,
  requested: number,
): number {
  const max = ctx.settings.slots;
  if (max <= 0)
    throw new ConfigError(`no slots where allocated, please specify the 'slots' option`, 'slot');
  const used = new Set(placedDevices(ctx).map((p) => p.slot));
  if (requested !== -1) {
    if (requested < 0 || requested >= max) {
      throw new ConfigError(
        `invalid slot number ${requested}, valid range is [0-${max - 1}]`,
        'slot',
      );
    }
    if (used.has(requested)) throw new ConfigError(`slot ${requested} is busy`, 'slot');
    return requested;
  }
  for (let s = 0; s < max; s++) if (!used.has(s)) return s;
  throw new ConfigError('no free slots available', 'slot');
}

/**
 * memory_device_get_free_addr: the explicit address `hint` (0 = automatic) checked, or the
 * lowest `align`-aligned first-fit address for `size` bytes.
 */
export function assignAddress(
  ctx: Pick<PlanContext, 'planned' | 'settings' | 'warn'>,
  hint: bigint,
  align: bigint,
  size: bigint,
  property: string,
): bigint {
  const win = deviceMemoryWindow(ctx.settings);
  if (win === undefined) {
    throw new ConfigError(
      'memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option',
      property,
    );
  }
  if (win.base % align !== 0n) {
    ctx.warn(
      `the alignment (${hex(align)}) exceeds the expected maximum alignment, memory will get fragmented and not all 'maxmem' might be usable for memory devices.`,
    );
  }
  const placed = placedDevices(ctx).sort((a, b) =>
    a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0,
  );
  // memory_device_check_addable: the window's headroom does not count as space.
  const used = placed.reduce((sum, p) => sum + p.size, 0n);
  const total = ctx.settings.maxMem - ctx.settings.ramSize;
  if (used + size > total) {
    throw new ConfigError(
      `not enough space, currently ${hex(used)} in use of total space for memory devices ${hex(total)}`,
      property,
    );
  }
  if (hint !== 0n && hint % align !== 0n) {
    throw new ConfigError(`address must be aligned to ${hex(align)} bytes`, property);
  }
  if (size % align !== 0n) {
    throw new ConfigError(`backend memory size must be multiple of ${hex(align)}`, property);
  }
  const end = win.base + win.size; // exclusive
  let start: bigint;
  if (hint !== 0n) {
    if (hint + size - 1n > U64_MAX || hint < win.base || hint + size > end) {
      throw new ConfigError(
        `can't add memory device [${hex(hint)}:${hex(size)}], usable range for memory devices [${hex(win.base)}:${hex(win.size)}]`,
        property,
      );
    }
    start = hint;
  } else {
    start = alignUpBig(win.base, align);
    if (start + size - 1n > U64_MAX)
      throw new ConfigError("can't add memory device, device too big", property);
  }
  for (const p of placed) {
    const overlaps = p.addr < start + size && start < p.addr + p.size;
    if (overlaps) {
      if (hint !== 0n) {
        throw new ConfigError(
          `address range conflicts with memory device id='${p.id ?? '(unnamed)'}'`,
          property,
        );
      }
      start = alignUpBig(p.addr + p.size, align);
    } else if (p.addr >= start + size) {
      break;
    }
  }
  if (start < win.base || start + size > end) {
    throw new ConfigError(
      'could not find position in guest address space for memory device - memory fragmented due to alignments',
      property,
    );
  }
  return start;
}
