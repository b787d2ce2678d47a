// `-device nvme-subsys` (reference §1.3): a plain device (no bus, not hotpluggable) that
// controllers join with `subsys=<id>`. Its NQN defaults to the device id; SUBNQN is
// `nqn.2019-08.org.qemu:<nqn>`.
//
// Controller registration happens while planning so that its errors are reported before
// anything is created (QEMU reports them at realize, with the same text). It is derived from
// earlier plans and claims only, so a failed check leaves nothing behind.

import type { Props, TypeSchema } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { PlanContext, Planned } from '../../machine/registry.js';
import { checkFdpSubsys, FDP_SUBSYS_PROPS, type FdpParams } from './fdp-config.js';
import {
  checkFabricsSubsys,
  FABRICS_SUBSYS_PROPS,
  type SubsysFabricsConfig,
} from './fabrics-config.js';
import { nsMgmtStateFile, readManagedNamespaces } from '../persist/ns-mgmt-state.js';
import { BUILTIN_LBA_FORMATS } from '../ns/lbaf.js';

/** QEMU 7.2 subsystems hold 256 controllers (cntlid 0..255, first controller gets 0). */
export const MAX_CONTROLLERS = 256;
/** The highest controller ID a subsystem may hand out (FFF0h..FFFFh are reserved, §3.1.3.4). */
export const CNTLID_LIMIT = 0xffef;

export const NVME_SUBSYS_SCHEMA: TypeSchema = {
  typeName: 'nvme-subsys',
  kind: 'device',
  reserved: ['id'],
  props: [
    { name: 'nqn', type: { kind: 'str' }, description: '' },
    ...FDP_SUBSYS_PROPS,
    // nvmemu extension: the FDP state is kept across runs in the data folder (docs/faults.md).
    { name: 'x-persist-fdp', type: { kind: 'bool' }, default: false, description: 'on/off' },
    // nvmemu extension: who may connect over NVMe/TCP and how they authenticate.
    ...FABRICS_SUBSYS_PROPS,
    // nvmemu extension: capacity for Namespace Management (docs/multipath.md); 0 = none, as
    // QEMU.
    {
      name: 'nvm-capacity',
      type: { kind: 'size' },
      default: 0n,
      description: 'capacity for Namespace Management (nvmemu)',
    },
    // nvmemu extension (nvmet's attr_cntlid_min/max): the controller IDs this process hands
    // out, so that several processes serving one NQN are paths with distinct IDs
    // (docs/multipath.md).
    {
      name: 'cntlid-min',
      type: { kind: 'uint', bits: 16 },
      default: 0,
      description: 'first controller ID (nvmemu)',
    },
    {
      name: 'cntlid-max',
      type: { kind: 'uint', bits: 16 },
      default: MAX_CONTROLLERS - 1,
      description: 'last controller ID (nvmemu)',
    },
  ],
};

/** Planned subsystem. */
export interface NvmeSubsysConfig {
  readonly id: string | undefined;
  /** The `nqn` property, or the id. */
  readonly nqn: string;
  /** SUBNQN as reported in Identify Controller. */
  readonly subnqn: string;
  /** `fdp=on`: the endurance group's FDP configuration (fdp-config.ts). */
  readonly fdp?: FdpParams;
  /** `x-persist-fdp=on` (needs fdp=on): the FDP state is saved in the data folder. */
  readonly persistFdp?: boolean;
  /** `x-hosts` / `x-auth`: the NVMe/TCP target's access rules (fabrics-config.ts). */
  readonly fabrics?: SubsysFabricsConfig;
  /** The controller IDs handed out, first and last (`cntlid-min`, `cntlid-max`). */
  readonly cntlids: CntlidRange;
  /** True when the range was given (only given ranges are checked for overlap). */
  readonly explicitCntlids: boolean;
  /** `nvm-capacity`: bytes Namespace Management may allocate (0: none). */
  readonly nvmCapacity: bigint;
}

export interface CntlidRange {
  readonly min: number;
  readonly max: number;
}

/**
 * `cntlid-min`/`cntlid-max`: min <= max <= FFEFh, and, when given, no overlap with the range of
 * an earlier nvme-subsys of the machine, so that a controller ID names one controller of the
 * machine (the monitor, traces and the reservation report address controllers by it).
 */
function checkCntlidRange(props: Props, ctx: PlanContext): CntlidRange {
  const min = props.num('cntlid-min');
  const max = props.num('cntlid-max');
  const given = props.given.has('cntlid-min') || props.given.has('cntlid-max');
  if (max > CNTLID_LIMIT) {
    throw new ConfigError(
      `cntlid-max ${max} is beyond the last valid controller ID (${CNTLID_LIMIT})`,
      'cntlid-max',
    );
  }
  if (min > max) {
    throw new ConfigError(`cntlid-min ${min} is greater than cntlid-max ${max}`, 'cntlid-min');
  }
  if (!given) return { min, max };
  for (const p of ctx.planned()) {
    if (p.kind !== 'device' || p.typeName !== 'nvme-subsys') continue;
    const other = p.config as NvmeSubsysConfig;
    if (!other.explicitCntlids) continue;
    const r = other.cntlids;
    if (min <= r.max && r.min <= max) {
      throw new ConfigError(
        `controller IDs ${min}-${max} overlap ${r.min}-${r.max} of nvme-subsys '${p.id ?? ''}'`,
        'cntlid-min',
      );
    }
  }
  return { min, max };
}

/**
 * `nvm-capacity`, and the namespaces Namespace Management created in earlier runs (recorded in
 * the data folder): they keep their NSIDs, so configured namespaces cannot take them, and they
 * need the capacity to stay.
 */
function checkNvmCapacity(
  props: Props,
  id: string | undefined,
  subnqn: string,
  ctx: PlanContext,
): bigint {
  const capacity = props.big('nvm-capacity');
  if (capacity !== 0n && ctx.settings.instance !== undefined) {
    throw new ConfigError(
      "nvm-capacity cannot be shared between nvmemu processes (--instance): created namespaces would be one process's",
      'nvm-capacity',
    );
  }
  const file = nsMgmtStateFile(ctx.dataDir, subnqn);
  if (ctx.host.stat(file) === undefined) return capacity;
  const recs = readManagedNamespaces(file);
  let used = 0n;
  for (const r of recs) {
    const f = BUILTIN_LBA_FORMATS[r.flbas & 0x0f];
    used += r.nsze * BigInt(f === undefined ? 0 : 2 ** f.ds + f.ms);
    ctx.claim(`nvme-nsid:subsys:${id ?? ''}:${r.nsid}`);
  }
  if (recs.length > 0 && capacity < used) {
    throw new ConfigError(
      `the data folder holds ${recs.length} namespace(s) created by Namespace Management (${used} bytes, ${file}): ` +
        `give nvm-capacity of at least ${used}, or remove that file and nvme/ns/ to drop them`,
      'nvm-capacity',
    );
  }
  return capacity;
}

export function checkNvmeSubsys(
  props: Props,
  id: string | undefined,
  ctx: PlanContext,
): NvmeSubsysConfig {
  // QEMU formats a NULL id with printf's "%s", which glibc renders as "(null)"; such a
  // subsystem cannot be referenced by subsys= anyway.
  const nqn = props.str('nqn') ?? id ?? '(null)';
  const fdp = checkFdpSubsys(props);
  const persistFdp = props.bool('x-persist-fdp');
  if (persistFdp && fdp === undefined) {
    throw new ConfigError('x-persist-fdp=on needs fdp=on', 'x-persist-fdp');
  }
  const fabrics = checkFabricsSubsys(props, ctx);
  const cntlids = checkCntlidRange(props, ctx);
  const explicitCntlids = props.given.has('cntlid-min') || props.given.has('cntlid-max');
  if (ctx.settings.instance !== undefined && fdp !== undefined) {
    // The endurance group's reclaim units and events live in this process only.
    throw new ConfigError(
      'fdp=on cannot be shared between nvmemu processes (--instance): the FDP state lives in one process',
      'fdp',
    );
  }
  const nvmCapacity = checkNvmCapacity(props, id, `nqn.2019-08.org.qemu:${nqn}`, ctx);
  return {
    id,
    nqn,
    nvmCapacity,
    cntlids,
    explicitCntlids,
    subnqn: `nqn.2019-08.org.qemu:${nqn}`,
    ...(fdp !== undefined ? { fdp } : {}),
    ...(persistFdp ? { persistFdp } : {}),
    ...(fabrics !== undefined ? { fabrics } : {}),
  };
}

/**
 * nvme_subsys_register_ctrl: reserves the lowest free cntlid of the subsystem's range (0..255
 * as QEMU unless `cntlid-min`/`cntlid-max` say otherwise), then checks that the serial equals
 * the first controller's. Throws "no more free controller id" / "invalid controller serial".
 * Controllers get their IDs in command-line order, so the same command line gives the same IDs
 * at every start.
 */
export function registerControllerInSubsys(
  subsys: Planned,
  serial: string,
  ctx: PlanContext,
): number {
  const key = (n: number): string => `nvme-cntlid:${subsys.id ?? ''}:${n}`;
  const range = (subsys.config as NvmeSubsysConfig).cntlids;
  let cntlid = range.min;
  while (cntlid <= range.max && !ctx.claim(key(cntlid))) cntlid++;
  if (cntlid > range.max) throw new ConfigError('no more free controller id', 'subsys');
  const first = ctx
    .planned()
    .find(
      (p) =>
        p.kind === 'device' &&
        p.typeName === 'nvme' &&
        (p.config as { subsys?: Planned }).subsys === subsys,
    );
  const firstSerial = (first?.config as { serial?: string } | undefined)?.serial;
  if (firstSerial !== undefined && firstSerial !== serial) {
    throw new ConfigError('invalid controller serial', 'serial');
  }
  return cntlid;
}
