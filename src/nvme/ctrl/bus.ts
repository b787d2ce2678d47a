// The `nvme-bus` of QEMU as seen while planning: which controller an `nvme-ns` plugs into,
// and the NSID space it allocates from. Used by nvme/ns/config.ts (the nvme-ns check).

import { ConfigError } from '../../config/errors.js';
import type { PlanContext, Planned } from '../../machine/registry.js';

export const MAX_NAMESPACES = 256;

/** What the bus needs of its controller's configuration (an NvmeCtrlConfig, ctrl/config.ts). */
export interface NvmeBusConfig {
  /** The linked `nvme-subsys` plan, if any. */
  readonly subsys: Planned | undefined;
  /** The NSID space: the subsystem's, or the controller's own without one. */
  readonly nsidDomain: string;
}

export interface NvmeBus {
  /** The controller's plan (its config is an NvmeCtrlConfig). */
  readonly controller: Planned;
  readonly config: NvmeBusConfig;
  /** True when the controller is linked to an explicit nvme-subsys. */
  readonly inSubsystem: boolean;
}

/**
 * Resolves `bus=` for an `nvme-ns` (or the default bus): the controller whose id is `bus`,
 * else the most recently planned `nvme` (QEMU's qbus_find_recursive meets the newest child
 * first). Messages are QEMU's: "Bus 'x' not found", "No 'nvme-bus' bus found for device 'T'".
 */
export function resolveNvmeBus(
  bus: string | undefined,
  ctx: PlanContext,
  typeName = 'nvme-ns',
): NvmeBus {
  let controller: Planned | undefined;
  if (bus !== undefined) {
    const p = ctx.lookup(bus, 'device');
    if (p?.kind !== 'device' || p.typeName !== 'nvme') {
      if (bus === 'pcie.0' || bus === 'pci.0') {
        const kind = bus === 'pcie.0' ? 'PCIE' : 'PCI';
        throw new ConfigError(`Device '${typeName}' can't go on ${kind} bus`, 'bus');
      }
      throw new ConfigError(`Bus '${bus}' not found`, 'bus');
    }
    controller = p;
  } else {
    const all = ctx.planned();
    for (let i = all.length - 1; i >= 0; i--) {
      const p = all[i]!;
      if (p.kind === 'device' && p.typeName === 'nvme') {
        controller = p;
        break;
      }
    }
    if (controller === undefined) {
      throw new ConfigError(`No 'nvme-bus' bus found for device '${typeName}'`, 'bus');
    }
  }
  const config = controller.config as NvmeBusConfig;
  return { controller, config, inSubsystem: config.subsys !== undefined };
}

/**
 * Reserves an NSID in the bus's NSID space (the subsystem's, or the controller's without one):
 * `requested` 0 takes the lowest free NSID. QEMU's realize errors, reported while planning:
 * "no free namespace id", "namespace id '<n>' already allocated". The caller has already
 * checked the 0..256 range ("invalid namespace id (must be between 0 and 256)").
 */
export function reserveNsid(ctx: PlanContext, bus: NvmeBus, requested: number): number {
  const key = (n: number): string => `nvme-nsid:${bus.config.nsidDomain}:${n}`;
  if (requested !== 0) {
    if (!ctx.claim(key(requested))) {
      throw new ConfigError(`namespace id '${requested}' already allocated`, 'nsid');
    }
    return requested;
  }
  for (let n = 1; n <= MAX_NAMESPACES; n++) if (ctx.claim(key(n))) return n;
  throw new ConfigError('no free namespace id', 'nsid');
}
