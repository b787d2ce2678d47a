// `-device nvme-ns`: the typed configuration (DESIGN.md: one schema, checked once at plan time
// with QEMU's messages; ns/device.ts realizes it). The controller side (src/nvme/ctrl,
// src/nvme/subsys) resolves `bus=`, allocates the NSID (`nsid` 0 = lowest free) and attaches
// the namespace; everything it needs is in NvmeNsConfig (`nsid`, `shared`, `detached`).

import type { Planned } from '../../machine/registry.js';
import type { QemuCompat } from '../../config/component.js';
import type { ModelParams } from '../model/params.js';

export { UnsupportedConfigError } from './errors.js';

/** Zoned parameters after QEMU's adjustments (max_open defaults to max_active). */
export interface ZonedParams {
  readonly zoneSize: bigint;
  /** Resolved: 0 becomes the zone size. */
  readonly zoneCapacity: bigint;
  readonly crossRead: boolean;
  readonly maxActive: number;
  readonly maxOpen: number;
  readonly descrExtSize: number;
  readonly zrwas: bigint;
  /** Resolved: (uint64)-1 becomes the logical block size. */
  readonly zrwafg: bigint;
  readonly numZrwa: number;
  /** nvmemu: keep zone state in `<image>.zones` across restarts (`zoned.persist`, default on). */
  readonly persist: boolean;
}

/** The drive plan's configuration as the -drive layer produces it. */
export interface DrivePlanConfig {
  readonly id: string;
  readonly file: string;
  readonly readOnly: boolean;
  readonly size: bigint;
  /** `cache=writethrough|directsync`: the drive's write cache is off. */
  readonly writeThrough?: boolean;
}

export interface NvmeNsConfig {
  readonly id: string | undefined;
  readonly drive: DrivePlanConfig;
  /** The plan of the controller whose nvme-bus the namespace plugs into (`bus=` or newest). */
  readonly controller: Planned;
  /** The controller is linked to an explicit nvme-subsys. */
  readonly inSubsystem: boolean;
  /** The `nsid` property: 0 = lowest free. */
  readonly requestedNsid: number;
  /** The NSID reserved at plan time in the subsystem's (or controller's) NSID space, 1..256. */
  readonly nsid: number;
  /** Attach to every controller of the subsystem; always false without a subsystem [7.2]. */
  readonly shared: boolean;
  /** Not attached at boot (only allowed with an explicit nvme-subsys). */
  readonly detached: boolean;
  /** 16 bytes, or undefined when not set (QEMU 7.2 does not generate one by default). */
  readonly uuid: Uint8Array | undefined;
  /** 16 bytes, or undefined when not set. */
  readonly nguid: Uint8Array | undefined;
  /** EUI-64 (0 = none), after the `eui64-default` compat substitution. */
  readonly eui64: bigint;
  /** Resolved logical block size (512 when unset). */
  readonly lbaSize: number;
  readonly physicalBlockSize: number;
  readonly minIoSize: number;
  readonly optIoSize: number;
  /** Resolved: auto becomes max(lbaSize, 4 KiB). */
  readonly discardGranularity: number;
  /** Initial volatile write cache state (write-cache=auto follows the drive: on). */
  readonly writeCache: boolean;
  readonly ms: number;
  readonly mset: number;
  readonly pi: number;
  readonly pil: number;
  readonly pif: number;
  readonly mssrl: number;
  readonly mcl: number;
  readonly msrc: number;
  /** Present when `zoned=on`. */
  readonly zoned: ZonedParams | undefined;
  /** Namespace size in blocks for the initial format (for messages and planning). */
  readonly nsze: number;
  /** The machine's QEMU compatibility level (spec/levels.ts); 7.2 when not given. */
  readonly compat?: QemuCompat;
  /** The controller's `drive=` namespace (ctrl/legacy.ts), not an `nvme-ns` device. */
  readonly legacy?: boolean;
  /**
   * ANA group (`anagrpid`, nvmemu; NVMe 2.0 §8.20): 0 when not set. A subsystem reports ANA
   * once one of its namespaces names a group (subsys/ana.ts).
   */
  readonly anagrpid?: number;
  /**
   * The image is served by other nvmemu processes as well (`--instance`): per-block state that
   * only this process would know is not kept (ns/io.ts NsCore.sharedImage).
   */
  readonly sharedImage?: boolean;
  /** The device model (`x-model*` properties, model/params.ts); absent when none is given. */
  readonly model?: ModelParams | undefined;
}
