// Plan-time validation of `-device nvme-ns` (reference qemu-nvme.md §1.2), in QEMU 7.2's order
// and with its exact text (/tmp/qt/qemu-catalogue-nvme.txt):
//
//  0. qdev finds the bus before setting any property: `bus=` or the newest `nvme` (ctrl/bus.ts);
//  A. property setters, in command-line order: `drive` (lookup, claim), block sizes (range,
//     power of two), 32-bit sizes, `uuid` / `nguid` parsing;
//  B. nvme_ns_realize / nvme_ns_check_constraints: detached without subsystem, backend, pi,
//     pif, metadata size, nsid range, zoned limits;
//  C. block configuration (blkconf_blocksizes): logical vs physical size, io size multiples;
//  D. geometry: NSZE, zoned geometry, the DULBE granularity warning;
//  E. NSID allocation in the subsystem/controller (ctrl/bus.ts reserveNsid).
//
// The reference lists "detached requires ..." with the realize errors after the geometry; QEMU
// 7.2's realize handles the parent bus (subsystem or not) before nvme_ns_setup, because the
// setup already depends on it (NMIC), so it is checked first in B.

import assert from 'node:assert/strict';
import { randomUUID, randomBytes } from 'node:crypto';
import type { Props } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { PlanContext, Planned } from '../../machine/registry.js';
import { reserveNsid, resolveNvmeBus } from '../ctrl/bus.js';
import { parseHexBytes } from '../../util/u64.js';
import type { DrivePlanConfig, NvmeNsConfig, ZonedParams } from './config.js';
import { buildLbaFormats, defaultDiscardGranularity, isSupportedLbaSize } from './lbaf.js';
import type { NvmeSubsysConfig } from '../subsys/config.js';
import { planNsFdp, type NsFdpPlan } from './fdp/plan.js';
import { nvmeLevel } from '../spec/levels.js';
import { ANAGRPMAX } from '../spec/ana.js';
import { parseModelProps } from '../model/params.js';

/** NVME_MAX_NAMESPACES: NSIDs 1..256 (NN = 256). */
export const MAX_NAMESPACES = 256;
const U32_MAX = 0xffff_ffffn;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const MIN_BLOCK_SIZE = 512n;
const MAX_BLOCK_SIZE = 2n * 1024n * 1024n;
const BDRV_SECTOR_SIZE = 512;
/** NVME_EUI64_DEFAULT: QEMU's OUI-based prefix 52:54:00 for generated EUI-64s. */
const EUI64_DEFAULT = 0x5254_0000_0000_0000n;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isDrivePlan(p: Planned | undefined): p is Planned & { config: DrivePlanConfig } {
  if (p === undefined) return false;
  const c = p.config as Partial<DrivePlanConfig> | undefined;
  return typeof c?.file === 'string' && typeof c.size === 'bigint';
}

/** UUID text (or "auto") to 16 bytes; undefined when malformed. */
export function parseUuid(s: string): Uint8Array | undefined {
  if (s === 'auto') return parseHexBytes(randomUUID());
  return UUID_RE.test(s) ? parseHexBytes(s) : undefined;
}

/** NGUID text: 32 hex digits, '-' separators allowed anywhere, or "auto". */
export function parseNguid(s: string): Uint8Array | undefined {
  if (s === 'auto') return new Uint8Array(randomBytes(16));
  const digits = s.replaceAll('-', '');
  return /^[0-9a-fA-F]{32}$/.test(digits) ? parseHexBytes(digits) : undefined;
}

export function checkNvmeNs(props: Props, id: string | undefined, ctx: PlanContext): NvmeNsConfig {
  const qdevId = id ?? '';

  // 0. The bus.
  const bus = resolveNvmeBus(props.str('bus'), ctx);

  // A. Property setters, in the order the user wrote them.
  let drive: DrivePlanConfig | undefined;
  let uuid: Uint8Array | undefined;
  let nguid: Uint8Array | undefined;
  for (const name of props.given) {
    switch (name) {
      case 'drive': {
        const driveId = props.str('drive') ?? '';
        const plan = ctx.lookup(driveId, 'drive');
        if (!isDrivePlan(plan)) {
          throw new ConfigError(`Property 'nvme-ns.drive' can't find value '${driveId}'`, name);
        }
        if (!ctx.claim(`drive:${driveId}`)) {
          throw new ConfigError(`Drive '${driveId}' is already in use by another device`, name);
        }
        drive = plan.config;
        break;
      }
      case 'logical_block_size':
      case 'physical_block_size': {
        const v = props.big(name);
        if (v !== 0n && (v < MIN_BLOCK_SIZE || v > MAX_BLOCK_SIZE)) {
          throw new ConfigError(
            `Property ${qdevId}.${name} doesn't take value ${v} (minimum: ${MIN_BLOCK_SIZE}, maximum: ${MAX_BLOCK_SIZE})`,
            name,
          );
        }
        if ((v & (v - 1n)) !== 0n) {
          throw new ConfigError(
            `Property ${qdevId}.${name} doesn't take value '${v}', it's not a power of 2`,
            name,
          );
        }
        break;
      }
      case 'min_io_size':
      case 'opt_io_size':
      case 'discard_granularity': {
        const v = props.big(name);
        if (v > U32_MAX) {
          throw new ConfigError(
            `Property ${qdevId}.${name} doesn't take value ${v} (maximum: ${U32_MAX})`,
            name,
          );
        }
        break;
      }
      case 'uuid':
      case 'nguid': {
        const text = props.str(name) ?? '';
        const bytes = name === 'uuid' ? parseUuid(text) : parseNguid(text);
        if (bytes === undefined) {
          throw new ConfigError(`Property 'nvme-ns.${name}' doesn't take value '${text}'`, name);
        }
        if (name === 'uuid') uuid = bytes;
        else nguid = bytes;
        break;
      }
      default:
        break;
    }
  }

  // B. nvme_ns_realize, then nvme_ns_check_constraints.
  const detached = props.bool('detached');
  if (detached && !bus.inSubsystem) {
    throw new ConfigError(
      'detached requires that the nvme device is linked to an nvme-subsys device',
      'detached',
    );
  }
  if (drive === undefined) throw new ConfigError('block backend not configured');
  const pi = props.num('pi');
  const pif = props.num('pif');
  const ms = props.num('ms');
  if (pi > 3) throw new ConfigError("invalid 'pi' value", 'pi');
  if (pi !== 0 && pif !== 0 && pif !== 2) throw new ConfigError("invalid 'pif'", 'pif');
  const tuple = pif === 2 ? 16 : 8;
  if (pi !== 0 && ms < tuple) {
    throw new ConfigError(
      `at least ${tuple} bytes of metadata required to enable protection information`,
      'ms',
    );
  }
  const requestedNsid = props.num('nsid');
  if (requestedNsid > MAX_NAMESPACES) {
    throw new ConfigError(`invalid namespace id (must be between 0 and ${MAX_NAMESPACES})`, 'nsid');
  }
  // The block layer resolves sizes later (C); QEMU 7.2 divides by the still-unset logical
  // block size in the zrwas check (a crash when it is 0). We use the resolved value instead.
  const lbaSize = Number(props.big('logical_block_size')) || BDRV_SECTOR_SIZE;
  // (post-7.2) An FDP subsystem has no zoned namespaces.
  const subsysConfig = bus.config.subsys?.config as NvmeSubsysConfig | undefined;
  const fdpParams = subsysConfig?.fdp;
  if (fdpParams !== undefined && props.bool('zoned')) {
    throw new ConfigError('cannot be a zoned- in an FDP configuration', 'zoned');
  }
  const zoned = props.bool('zoned') ? checkZonedParams(props, lbaSize) : undefined;
  const instance = ctx.settings.instance;
  if (instance !== undefined && zoned !== undefined) {
    throw new ConfigError(
      `zoned=on cannot be shared between nvmemu processes (--instance ${instance}): the zone state lives in one process`,
      'zoned',
    );
  }
  const anagrpid = checkAnagrpid(props, bus.inSubsystem);

  // C. blkconf_blocksizes.
  const physicalBlockSize = Number(props.big('physical_block_size')) || BDRV_SECTOR_SIZE;
  if (lbaSize > physicalBlockSize) {
    throw new ConfigError(
      'logical_block_size > physical_block_size not supported',
      'logical_block_size',
    );
  }
  const minIoSize = Number(props.big('min_io_size'));
  if (minIoSize % lbaSize !== 0) {
    throw new ConfigError('min_io_size must be a multiple of logical_block_size', 'min_io_size');
  }
  if (minIoSize / lbaSize > 0xffff) {
    throw new ConfigError('min_io_size must not exceed 65535 logical blocks', 'min_io_size');
  }
  const optIoSize = Number(props.big('opt_io_size'));
  if (optIoSize % lbaSize !== 0) {
    throw new ConfigError('opt_io_size must be a multiple of logical_block_size', 'opt_io_size');
  }
  const dg = props.big('discard_granularity');
  if (dg !== U32_MAX && Number(dg) % lbaSize !== 0) {
    throw new ConfigError(
      'discard_granularity must be a multiple of logical_block_size',
      'discard_granularity',
    );
  }
  const discardGranularity = dg === U32_MAX ? defaultDiscardGranularity(lbaSize) : Number(dg);

  // D. Geometry.
  assert(isSupportedLbaSize(lbaSize), `block size ${lbaSize} passed the setter checks`);
  const nsze = Number(drive.size / BigInt(lbaSize + ms));
  if (zoned !== undefined) checkZonedGeometry(zoned, lbaSize, nsze, discardGranularity, ctx);

  // nvme_ns_init_fdp (the end of nvme_ns_setup): placement handles of an FDP subsystem.
  const fdp: NsFdpPlan | undefined =
    fdpParams === undefined
      ? undefined
      : planNsFdp(
          subsysConfig!,
          fdpParams,
          props.str('fdp.ruhs'),
          buildLbaFormats(lbaSize, ms).initialIndex,
          ctx,
        );

  // E. NSID allocation (nvme_ns_realize, after nvme_ns_setup).
  const nsid = reserveNsid(ctx, bus, requestedNsid);

  let eui64 = props.big('eui64');
  if (eui64 === 0n && props.bool('eui64-default')) {
    // QEMU numbers namespaces in creation order (a process-wide counter starting at 1).
    const earlier = ctx.planned().filter((p) => p.typeName === 'nvme-ns').length;
    eui64 = EUI64_DEFAULT + BigInt(earlier + 1);
  }

  const cfg: NvmeNsConfig & { fdp?: NsFdpPlan } = {
    ...(fdp !== undefined ? { fdp } : {}),
    id,
    drive,
    controller: bus.controller,
    inSubsystem: bus.inSubsystem,
    requestedNsid,
    nsid,
    // QEMU 7.2 forces shared=off when the controller has no subsystem (nothing to share with);
    // QEMU 10.0 gives every controller a subsystem, so `shared` (default on) stays.
    shared:
      (bus.inSubsystem || nvmeLevel(ctx.settings.compat).implicitSubsystem) && props.bool('shared'),
    detached,
    uuid,
    nguid,
    eui64,
    lbaSize,
    physicalBlockSize,
    minIoSize,
    optIoSize,
    discardGranularity,
    // write-cache=auto follows the drive's cache mode (QEMU: blk_enable_write_cache).
    writeCache: writeCacheOf(props.str('write-cache'), drive),
    ms,
    mset: props.num('mset'),
    pi,
    pil: props.num('pil'),
    pif,
    mssrl: props.num('mssrl'),
    mcl: props.num('mcl'),
    msrc: props.num('msrc'),
    zoned,
    model: parseModelProps(props.given, (name) => props.str(name)),
    nsze,
    compat: ctx.settings.compat,
    ...(anagrpid !== 0 ? { anagrpid } : {}),
    ...(instance !== undefined ? { sharedImage: true } : {}),
  };
  return cfg;
}

/** `anagrpid`: 1..ANAGRPMAX, and only in an nvme-subsys (ANA groups belong to a subsystem). */
function checkAnagrpid(props: Props, inSubsystem: boolean): number {
  const g = props.num('anagrpid');
  if (g === 0) return 0;
  if (g > ANAGRPMAX) {
    throw new ConfigError(`anagrpid must be between 1 and ${ANAGRPMAX}`, 'anagrpid');
  }
  if (!inSubsystem) {
    throw new ConfigError(
      'anagrpid requires that the nvme device is linked to an nvme-subsys device',
      'anagrpid',
    );
  }
  return g;
}

/** The zoned part of nvme_ns_check_constraints. */
function checkZonedParams(props: Props, lbaSize: number): ZonedParams {
  const maxActive = props.num('zoned.max_active');
  let maxOpen = props.num('zoned.max_open');
  if (maxActive !== 0) {
    if (maxOpen > maxActive) {
      throw new ConfigError(
        `max_open_zones (${maxOpen}) exceeds max_active_zones (${maxActive})`,
        'zoned.max_open',
      );
    }
    if (maxOpen === 0) maxOpen = maxActive;
  }
  const descrExtSize = props.num('zoned.descr_ext_size');
  if (descrExtSize % 64 !== 0) {
    throw new ConfigError(
      'zone descriptor extension size must be a multiple of 64B',
      'zoned.descr_ext_size',
    );
  }
  if (descrExtSize / 64 > 0xff) {
    throw new ConfigError('zone descriptor extension size is too large', 'zoned.descr_ext_size');
  }
  const zrwas = props.big('zoned.zrwas');
  let zrwafg = props.big('zoned.zrwafg');
  const numZrwa = props.num('zoned.numzrwa');
  if (zrwafg === U64_MAX) zrwafg = BigInt(lbaSize);
  if (zrwas !== 0n) {
    if (zrwas % BigInt(lbaSize) !== 0n) {
      throw new ConfigError(
        `zone random write area size (zoned.zrwas ${zrwas}) must be a multiple of the logical block size (logical_block_size ${lbaSize})`,
        'zoned.zrwas',
      );
    }
    if (zrwafg === 0n || zrwas % zrwafg !== 0n) {
      throw new ConfigError(
        `zone random write area size (zoned.zrwas ${zrwas}) must be a multiple of the zone random write area flush granularity (zoned.zrwafg, ${zrwafg})`,
        'zoned.zrwas',
      );
    }
    if (maxActive !== 0 && numZrwa > maxActive) {
      throw new ConfigError(
        `number of zone random write area resources (zoned.numzrwa, ${numZrwa}) must be less than or equal to maximum active resources (zoned.max_active_zones, ${maxActive})`,
        'zoned.numzrwa',
      );
    }
  }
  const zoneSize = props.big('zoned.zone_size');
  const cap = props.big('zoned.zone_capacity');
  return {
    zoneSize,
    zoneCapacity: cap === 0n ? zoneSize : cap,
    crossRead: props.bool('zoned.cross_read'),
    maxActive,
    maxOpen,
    descrExtSize,
    zrwas,
    zrwafg,
    numZrwa,
    persist: props.bool('zoned.persist'),
  };
}

/** nvme_ns_zoned_check_calc_geometry (§1.2, after the block setup). */
function checkZonedGeometry(
  z: ZonedParams,
  lbaSize: number,
  nsze: number,
  discardGranularity: number,
  ctx: PlanContext,
): void {
  const lbs = BigInt(lbaSize);
  if (z.zoneCapacity > z.zoneSize) {
    throw new ConfigError(
      `zone capacity ${z.zoneCapacity}B exceeds zone size ${z.zoneSize}B`,
      'zoned.zone_capacity',
    );
  }
  if (z.zoneSize < lbs) {
    throw new ConfigError(
      `zone size ${z.zoneSize}B too small, must be at least ${lbs}B`,
      'zoned.zone_size',
    );
  }
  if (z.zoneCapacity < lbs) {
    throw new ConfigError(
      `zone capacity ${z.zoneCapacity}B too small, must be at least ${lbs}B`,
      'zoned.zone_capacity',
    );
  }
  const zoneBlocks = z.zoneSize / lbs;
  if (BigInt(nsze) / zoneBlocks === 0n) {
    throw new ConfigError(
      `insufficient drive capacity, must be at least the size of one zone (${z.zoneSize}B)`,
      'zoned.zone_size',
    );
  }
  const granularity = BigInt(Math.floor(discardGranularity / lbaSize));
  if (granularity !== 0n && zoneBlocks % granularity !== 0n) {
    ctx.warn(
      `the zone size (${zoneBlocks} blocks) is not a multiple of the calculated deallocation granularity (${granularity} blocks); DULBE support disabled`,
    );
  }
}

function writeCacheOf(prop: string | undefined, drive: DrivePlanConfig): boolean {
  if (prop === 'on') return true;
  if (prop === 'off') return false;
  return drive.writeThrough !== true;
}
