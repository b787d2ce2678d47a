// `-device nvme` property schema and checks (reference §1.1), QEMU 7.2's names, types,
// defaults (`-device nvme,help`) and messages, checked in QEMU's order:
//  1. property setting, in command-line order: link properties resolve their target
//     (`Property 'nvme.drive' can't find value 'x'`, `Device 'x' not found`);
//  2. nvme_check_params: num_queues warning, legacy drive + subsys, ranges, serial, PMR,
//     zasl, vsl, SR-IOV;
//  3. subsystem registration: cntlid slot, identical serial (subsys/config.ts).

import type { PropDef, Props, TypeSchema } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { PlanContext, Planned } from '../../machine/registry.js';
import { isPowerOfTwo } from '../../util/u64.js';
import { registerControllerInSubsys, type NvmeSubsysConfig } from '../subsys/config.js';
import type { SriovConfig } from './virt.js';
import type { NvmeNsConfig } from '../ns/config.js';
import { planLegacyNamespace } from './legacy.js';
import { defaultParams, systemClock, type Clock, type ControllerParams } from './params.js';
import { BLOCK_PROPS } from '../../block/props.js';
import { nvmeLevel, type QemuCompat } from '../spec/levels.js';
import { atomicParams, checkLevelProps, QEMU10_PROPS } from './props-qemu10.js';
import { join } from 'node:path';
import { fileSafe } from '../persist/state-file.js';

const u8 = { kind: 'uint', bits: 8 } as const;
const u16 = { kind: 'uint', bits: 16 } as const;
const u32 = { kind: 'uint', bits: 32 } as const;
const bool = { kind: 'bool' } as const;
const str = { kind: 'str' } as const;

/** Generic PCI device properties: accepted, no effect without a PCI front end. */
const PCI_PROPS: readonly PropDef[] = [
  {
    name: 'addr',
    type: { kind: 'int32' },
    default: -1,
    description: 'Slot and optional function number, example: 06.0 or 06',
    inert: true,
  },
  { name: 'multifunction', type: bool, default: false, description: 'on/off', inert: true },
  { name: 'romfile', type: str, description: '', inert: true },
  { name: 'rombar', type: u32, default: 1, description: '', inert: true },
  { name: 'romsize', type: u32, default: 0xffff_ffff, description: '', inert: true },
  { name: 'failover_pair_id', type: str, description: '', inert: true },
  { name: 'acpi-index', type: u32, default: 0, description: '', inert: true },
  { name: 'x-pcie-extcap-init', type: bool, default: true, description: 'on/off', inert: true },
  { name: 'x-pcie-lnksta-dllla', type: bool, default: true, description: 'on/off', inert: true },
];

export const NVME_SCHEMA: TypeSchema = {
  typeName: 'nvme',
  kind: 'device',
  reserved: ['id', 'bus'],
  props: [
    ...BLOCK_PROPS,
    ...PCI_PROPS,
    { name: 'serial', type: str, description: '' },
    { name: 'subsys', type: { kind: 'link', target: 'nvme-subsys' }, description: '' },
    { name: 'pmrdev', type: { kind: 'link', target: 'memdev' }, description: '' },
    { name: 'cmb_size_mb', type: u32, default: 0, description: '' },
    { name: 'num_queues', type: u32, default: 0, description: '' },
    { name: 'max_ioqpairs', type: u32, default: 64, description: '' },
    { name: 'msix_qsize', type: u16, default: 65, description: '' },
    { name: 'aerl', type: u8, default: 3, description: '' },
    { name: 'aer_max_queued', type: u32, default: 64, description: '' },
    { name: 'mdts', type: u8, default: 7, description: '' },
    { name: 'vsl', type: u8, default: 7, description: '' },
    { name: 'use-intel-id', type: bool, default: false, description: '' },
    { name: 'legacy-cmb', type: bool, default: false, description: '' },
    { name: 'ioeventfd', type: bool, default: false, description: '', inert: true },
    { name: 'msix-exclusive-bar', type: bool, default: false, description: '' },
    { name: 'zoned.zasl', type: u8, default: 0, description: '' },
    { name: 'zoned.auto_transition', type: bool, default: true, description: '' },
    { name: 'sriov_max_vfs', type: u8, default: 0, description: '' },
    { name: 'sriov_vq_flexible', type: u16, default: 0, description: '' },
    { name: 'sriov_vi_flexible', type: u16, default: 0, description: '' },
    { name: 'sriov_max_vq_per_vf', type: u8, default: 0, description: '' },
    { name: 'sriov_max_vi_per_vf', type: u8, default: 0, description: '' },
    { name: 'smart_critical_warning', type: u8, description: '' },
    // nvmemu extension: SMART counters kept across runs in the data folder (docs/faults.md).
    { name: 'x-persist-smart', type: bool, default: false, description: 'on/off' },
    { name: 'bootindex', type: { kind: 'int32' }, description: '', inert: true },
    ...QEMU10_PROPS,
  ],
};

/** Legacy namespace (`drive=` on the controller): the block properties the namespace uses. */
export interface LegacyNamespaceConfig {
  readonly drive: string;
  readonly logicalBlockSize: number;
  readonly physicalBlockSize: number;
  readonly discardGranularity: bigint;
  readonly writeCache: 'on' | 'off' | 'auto';
}

/** The typed result of checking `-device nvme`. */
export interface NvmeCtrlConfig {
  readonly id: string | undefined;
  readonly serial: string;
  readonly legacy: LegacyNamespaceConfig | undefined;
  /** The legacy namespace (NSID 1) planned through the nvme-ns checks, with `drive=`. */
  readonly legacyNs: NvmeNsConfig | undefined;
  /** The subsystem's plan (explicit `subsys=`), if any. */
  readonly subsys: Planned | undefined;
  /** cntlid reserved in the subsystem (0 without a subsystem). */
  readonly cntlid: number;
  /** Key of the NSID space this controller's namespaces share (subsystem or controller). */
  readonly nsidDomain: string;
  readonly pmrdev: string | undefined;
  readonly cmbSizeMb: number;
  readonly maxIoqpairs: number;
  readonly msixQsize: number;
  readonly aerl: number;
  readonly aerMaxQueued: number;
  readonly mdts: number;
  readonly vsl: number;
  readonly useIntelId: boolean;
  readonly legacyCmb: boolean;
  readonly zasl: number;
  readonly zonedAutoTransition: boolean;
  readonly smartCriticalWarning: number;
  /** x-persist-smart=on: the SMART state file (`<dataDir>/nvme/<subsys id or serial>-<cntlid>.smart`). */
  readonly smartStateFile: string | undefined;
  /** SR-IOV properties when sriov_max_vfs > 0, with the cntlids reserved for the VFs. */
  readonly sriov: (SriovConfig & { readonly scids: readonly number[] }) | undefined;
  /** The machine's QEMU compatibility level (spec/levels.ts). */
  readonly compat: QemuCompat;
  /** QEMU 10.0's properties (their defaults at 7.2, where they do not exist). */
  readonly mqes: number;
  readonly dbcs: boolean;
  readonly ctrattMem: boolean;
  readonly awun: number;
  readonly awupf: number;
  readonly atomicDn: boolean;
  readonly ocp: boolean;
  /** DevCap Extended Tag and ARI next function 1 (`x-pcie-*`; the 7.2 types: off / on). */
  readonly pcieExtTag: boolean;
  readonly ariNextFn1: boolean;
}

/** Checks one link property value against the plans so far (QEMU's link/drive setters). */
function resolveLink(def: PropDef, value: string, ctx: PlanContext): Planned | undefined {
  if (def.type.kind !== 'link') return undefined;
  switch (def.type.target) {
    case 'drive': {
      const p = ctx.lookup(value, 'drive');
      // set_drive_helper: a block backend by name; anything else is "can't find value".
      if (p?.kind !== 'drive') {
        throw new ConfigError(`Property 'nvme.${def.name}' can't find value '${value}'`, def.name);
      }
      return p;
    }
    case 'nvme-subsys':
    case 'memdev': {
      const p = ctx.lookup(value, def.type.target === 'memdev' ? 'object' : 'device');
      // object_resolve_link: unknown path -> QERR_DEVICE_NOT_FOUND; wrong type ->
      // QERR_INVALID_PARAMETER_TYPE naming the link's target type.
      if (p === undefined) {
        throw new ConfigError(`Device '${value}' not found`, def.name);
      }
      const ok =
        def.type.target === 'nvme-subsys'
          ? p.typeName === 'nvme-subsys'
          : p.kind === 'object' && p.typeName.startsWith('memory-backend');
      if (!ok) {
        const expected = def.type.target === 'nvme-subsys' ? 'nvme-subsys' : 'memory-backend';
        throw new ConfigError(
          `Invalid parameter type for '${def.name}', expected: ${expected}`,
          def.name,
        );
      }
      return p;
    }
  }
}

let domainCounter = 0;

export function checkNvme(props: Props, id: string | undefined, ctx: PlanContext): NvmeCtrlConfig {
  checkLevelProps(props, ctx);
  const level = nvmeLevel(ctx.settings.compat);
  // 1. Link properties, in the order the user gave them.
  const links = new Map<string, Planned>();
  const byName = new Map(NVME_SCHEMA.props.map((p) => [p.name, p]));
  for (const [name, value] of props.entries()) {
    const def = byName.get(name);
    if (def?.type.kind === 'link' && typeof value === 'string') {
      const p = resolveLink(def, value, ctx);
      if (p !== undefined) links.set(name, p);
    }
  }
  const drive = props.str('drive');
  const subsys = links.get('subsys');

  // 2. nvme_check_params, in QEMU 7.2's order.
  let maxIoqpairs = props.num('max_ioqpairs');
  const numQueues = props.num('num_queues');
  if (numQueues !== 0) {
    ctx.warn('num_queues is deprecated; please use max_ioqpairs instead');
    maxIoqpairs = numQueues - 1;
  }
  if (drive !== undefined && subsys !== undefined) {
    throw new ConfigError(
      "subsystem support is unavailable with legacy namespace ('drive' property)",
      'subsys',
    );
  }
  if (maxIoqpairs < 1 || maxIoqpairs > 65535) {
    throw new ConfigError('max_ioqpairs must be between 1 and 65535', 'max_ioqpairs');
  }
  const msixQsize = props.num('msix_qsize');
  if (msixQsize < 1 || msixQsize > 2048) {
    throw new ConfigError('msix_qsize must be between 1 and 2048', 'msix_qsize');
  }
  const serial = props.str('serial');
  if (serial === undefined) throw new ConfigError('serial property not set', 'serial');
  const mqes = props.num('mqes');
  if (mqes < 1) throw new ConfigError('mqes property cannot be less than 1', 'mqes');
  const pmrdev = props.str('pmrdev');
  if (pmrdev !== undefined) checkPmr(props, pmrdev, links.get('pmrdev'), ctx);
  const mdts = props.num('mdts');
  const zasl = props.num('zoned.zasl');
  if (zasl > mdts) {
    throw new ConfigError(
      'zoned.zasl (Zone Append Size Limit) must be less than or equal to mdts (Maximum Data Transfer Size)',
      'zoned.zasl',
    );
  }
  if (props.num('vsl') === 0) throw new ConfigError('vsl must be non-zero', 'vsl');
  const sriov = checkSriov(props, subsys !== undefined, maxIoqpairs, msixQsize);
  if (ctx.settings.instance !== undefined && subsys === undefined) {
    // Paths of one subsystem in several processes need its NQN and distinct controller IDs.
    throw new ConfigError(
      `nvme needs subsys= in an instance (--instance ${ctx.settings.instance}): an nvme-subsys whose cntlid-min/cntlid-max differ from the other processes'`,
      'subsys',
    );
  }

  // nvmemu refuses a CMB size QEMU would crash on (pci_register_bar asserts a power of 2).
  const cmbSizeMb = props.num('cmb_size_mb');
  if (cmbSizeMb !== 0 && !isPowerOfTwo(cmbSizeMb)) {
    throw new ConfigError('cmb_size_mb must be a power of 2', 'cmb_size_mb');
  }
  const scw = props.has('smart_critical_warning') ? props.num('smart_critical_warning') : 0;
  const scwBad = scw & ~(pmrdev === undefined ? 0x1f : 0x3f);
  if (scwBad !== 0) {
    throw new ConfigError(
      `unsupported smart critical warning bits: 0x${scwBad.toString(16)}`,
      'smart_critical_warning',
    );
  }

  // 3. Subsystem registration (nvme_init_subsys): cntlid slot and identical serial.
  let cntlid = 0;
  let scids: number[] = [];
  let nsidDomain = `ctrl#${++domainCounter}`;
  if (subsys !== undefined) {
    cntlid = registerControllerInSubsys(subsys, serial, ctx);
    if (sriov !== undefined) scids = reserveSecondaryCntlids(subsys, cntlid, sriov.maxVfs, ctx);
    nsidDomain = `subsys:${subsys.id ?? ''}`;
  }
  const smartStateFile = props.bool('x-persist-smart')
    ? planSmartStateFile(subsys?.id ?? serial, cntlid, ctx)
    : undefined;
  const legacy: LegacyNamespaceConfig | undefined =
    drive === undefined
      ? undefined
      : {
          drive,
          logicalBlockSize: Number(props.big('logical_block_size')),
          physicalBlockSize: Number(props.big('physical_block_size')),
          discardGranularity: props.big('discard_granularity'),
          writeCache: (props.str('write-cache') ?? 'auto') as 'on' | 'off' | 'auto',
        };
  const legacyNs =
    drive === undefined
      ? undefined
      : planLegacyNamespace(props, id, { nsidDomain, subsys: undefined }, ctx);
  return {
    id,
    serial,
    legacy,
    legacyNs,
    subsys,
    cntlid,
    nsidDomain,
    pmrdev,
    cmbSizeMb,
    maxIoqpairs,
    msixQsize,
    aerl: props.num('aerl'),
    aerMaxQueued: props.num('aer_max_queued'),
    mdts,
    vsl: props.num('vsl'),
    useIntelId: props.bool('use-intel-id'),
    legacyCmb: props.bool('legacy-cmb'),
    zasl,
    zonedAutoTransition: props.bool('zoned.auto_transition'),
    smartCriticalWarning: scw,
    smartStateFile,
    sriov: sriov === undefined ? undefined : { ...sriov, scids },
    compat: level.compat,
    mqes,
    dbcs: props.bool('dbcs'),
    ctrattMem: props.bool('ctratt.mem'),
    ...atomicParams(props),
    ocp: props.bool('ocp'),
    // At 7.2 the knobs do not exist: the 7.2 machine types' values.
    pcieExtTag: level.compat === '7.2' ? level.pcieExtTag : props.bool('x-pcie-ext-tag'),
    ariNextFn1: level.compat === '7.2' ? level.ariNextFn1 : props.bool('x-pcie-ari-nextfn-1'),
  };
}

/** The SMART state file of a controller; two controllers cannot share one. */
function planSmartStateFile(owner: string, cntlid: number, ctx: PlanContext): string {
  const file = join(ctx.dataDir, 'nvme', `${fileSafe(owner)}-${cntlid}.smart`);
  if (!ctx.claim(`smart-state:${file}`)) {
    throw new ConfigError(
      `x-persist-smart: another controller already keeps its SMART state in '${file}' (give it another serial)`,
      'x-persist-smart',
    );
  }
  return file;
}

function checkPmr(
  props: Props,
  pmrdev: string,
  backend: Planned | undefined,
  ctx: PlanContext,
): void {
  if (props.bool('msix-exclusive-bar')) {
    throw new ConfigError('not enough BARs available to enable PMR', 'pmrdev');
  }
  if (!ctx.claim(`memdev:${pmrdev}`)) {
    throw new ConfigError(`can't use already busy memdev: ${pmrdev}`, 'pmrdev');
  }
  // The memory backend's plan carries its size (memory/ owns the shape; read it duck-typed).
  const sizeOf = (backend?.config as { size?: unknown } | undefined)?.size;
  if (typeof sizeOf === 'bigint' && !isPowerOfTwo(sizeOf)) {
    throw new ConfigError('pmr backend size needs to be power of 2 in size', 'pmrdev');
  }
}

/**
 * nvme_subsys_reserve_cntlids: the first `n` free cntlids after the PF's become the secondary
 * controllers' (claimed with the subsystem's cntlid keys, subsys/config.ts).
 */
function reserveSecondaryCntlids(
  subsys: Planned,
  pf: number,
  n: number,
  ctx: PlanContext,
): number[] {
  const out: number[] = [];
  const last = (subsys.config as NvmeSubsysConfig).cntlids.max;
  for (let id = pf + 1; id <= last && out.length < n; id++) {
    if (ctx.claim(`nvme-cntlid:${subsys.id ?? ''}:${id}`)) out.push(id);
  }
  if (out.length < n) {
    throw new ConfigError('no more free controller ids for secondary controllers', 'subsys');
  }
  return out;
}

/** SR-IOV parameter checks, QEMU 7.2's order and texts (reference §1.1 item 11). */
function checkSriov(
  props: Props,
  hasSubsys: boolean,
  ioqpairs: number,
  msix: number,
): SriovConfig | undefined {
  const vfs = props.num('sriov_max_vfs');
  if (vfs === 0) return undefined;
  const fail = (m: string, p: string): never => {
    throw new ConfigError(m, p);
  };
  if (!hasSubsys) fail('subsystem is required for the use of SR-IOV', 'sriov_max_vfs');
  if (vfs > 127) fail('sriov_max_vfs must be between 0 and 127', 'sriov_max_vfs');
  if (props.num('cmb_size_mb') !== 0) fail('CMB is not supported with SR-IOV', 'cmb_size_mb');
  if (props.str('pmrdev') !== undefined) fail('PMR is not supported with SR-IOV', 'pmrdev');
  const vq = props.num('sriov_vq_flexible');
  const vi = props.num('sriov_vi_flexible');
  if (vq === 0 || vi === 0) {
    fail(
      'both sriov_vq_flexible and sriov_vi_flexible must be set for the use of SR-IOV',
      'sriov_vq_flexible',
    );
  }
  if (vq < vfs * 2) {
    fail(
      `sriov_vq_flexible must be greater than or equal to ${vfs * 2} (sriov_max_vfs * 2)`,
      'sriov_vq_flexible',
    );
  }
  if (ioqpairs - vq < 2) {
    fail(
      '(max_ioqpairs - sriov_vq_flexible) must be greater than or equal to 2',
      'sriov_vq_flexible',
    );
  }
  if (vi < vfs) {
    fail(
      `sriov_vi_flexible must be greater than or equal to ${vfs} (sriov_max_vfs)`,
      'sriov_vi_flexible',
    );
  }
  if (msix - vi < 1) {
    fail(
      '(msix_qsize - sriov_vi_flexible) must be greater than or equal to 1',
      'sriov_vi_flexible',
    );
  }
  if (props.num('sriov_max_vq_per_vf') === 1) {
    fail(
      'sriov_max_vq_per_vf must meet: (sriov_max_vq_per_vf - 1) % 1 == 0 and sriov_max_vq_per_vf >= 2',
      'sriov_max_vq_per_vf',
    );
  }
  return {
    maxVfs: vfs,
    vqFlexible: vq,
    viFlexible: vi,
    maxVqPerVf: props.num('sriov_max_vq_per_vf'),
    maxViPerVf: props.num('sriov_max_vi_per_vf'),
  };
}

/** The controller parameters of a checked `-device nvme` (ctrl/params.ts). */
export function paramsFromConfig(
  cfg: NvmeCtrlConfig,
  clock: Clock = systemClock,
): ControllerParams {
  return defaultParams(cfg.serial, {
    cntlid: cfg.cntlid,
    maxIoqpairs: cfg.maxIoqpairs,
    msixQsize: cfg.msixQsize,
    aerl: cfg.aerl,
    aerMaxQueued: cfg.aerMaxQueued,
    mdts: cfg.mdts,
    vsl: cfg.vsl,
    zasl: cfg.zasl,
    zonedAutoTransition: cfg.zonedAutoTransition,
    useIntelId: cfg.useIntelId,
    cmbSizeMb: cfg.cmbSizeMb,
    pmr: cfg.pmrdev !== undefined,
    smartCriticalWarning: cfg.smartCriticalWarning,
    clock,
    compat: cfg.compat,
    mqes: cfg.mqes,
    dbcs: cfg.dbcs,
    ctrattMem: cfg.ctrattMem,
    awun: cfg.awun,
    awupf: cfg.awupf,
    atomicDn: cfg.atomicDn,
    ocp: cfg.ocp,
    pcieExtTag: cfg.pcieExtTag,
    ariNextFn1: cfg.ariNextFn1,
  });
}
