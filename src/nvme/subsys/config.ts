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

/** QEMU 7.2 subsystems hold 256 controllers (cntlid 0..255, first controller gets 0). */
export const MAX_CONTROLLERS = 256;

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
  return {
    id,
    nqn,
    subnqn: `nqn.2019-08.org.qemu:${nqn}`,
    ...(fdp !== undefined ? { fdp } : {}),
    ...(persistFdp ? { persistFdp } : {}),
    ...(fabrics !== undefined ? { fabrics } : {}),
  };
}

/**
 * nvme_subsys_register_ctrl: reserves the lowest free cntlid, then checks that the serial
 * equals the first controller's. Throws "no more free controller id" / "invalid controller
 * serial".
 */
export function registerControllerInSubsys(
  subsys: Planned,
  serial: string,
  ctx: PlanContext,
): number {
  const key = (n: number): string => `nvme-cntlid:${subsys.id ?? ''}:${n}`;
  let cntlid = 0;
  while (cntlid < MAX_CONTROLLERS && !ctx.claim(key(cntlid))) cntlid++;
  if (cntlid === MAX_CONTROLLERS) throw new ConfigError('no more free controller id', 'subsys');
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
