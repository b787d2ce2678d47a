// `-device nvme-ns` property schema: every property QEMU 7.2 lists for `-device nvme-ns,help`
// (names, types and defaults as printed; /tmp/qt/help-nvme-ns.txt) plus the post-7.2 `nguid`.
// `fdp.ruhs` (post-7.2) lists the placement handles of a namespace in an FDP subsystem.
//
// Three properties are declared as plain strings although QEMU has dedicated types for them,
// because QEMU's property setters word their errors differently from a schema coercion and
// they run in command-line order with the other setters (see check.ts): `uuid`, `nguid` (UUID
// parser: "Property 'nvme-ns.uuid' doesn't take value 'zz'") and `drive` (a link).

import type { PropDef, TypeSchema } from '../../config/schema.js';
import { BLOCK_PROPS } from '../../block/props.js';
import { MODEL_PROPS } from '../model/params.js';

const u8 = { kind: 'uint', bits: 8 } as const;
const u16 = { kind: 'uint', bits: 16 } as const;
const u32 = { kind: 'uint', bits: 32 } as const;
const size = { kind: 'size' } as const;
const bool = { kind: 'bool' } as const;

const UUID_HELP = 'UUID (aka GUID) or "auto" for random value (default)';

export const NVME_NS_PROPS: readonly PropDef[] = Object.freeze([
  ...BLOCK_PROPS,
  { name: 'bootindex', type: { kind: 'int32' }, description: '', inert: true },
  // qdev's `bus=` is not a property in QEMU (it is not listed by `-device nvme-ns,help`); it is
  // declared here because a check only sees resolved properties (see check.ts, phase 0).
  { name: 'bus', type: { kind: 'str' }, description: '', hidden: true },
  // Namespace identity and attachment.
  { name: 'nsid', type: u32, default: 0, description: '' },
  { name: 'shared', type: bool, default: true, description: '' },
  { name: 'detached', type: bool, default: false, description: '' },
  { name: 'uuid', type: { kind: 'str' }, description: UUID_HELP },
  {
    name: 'nguid',
    type: { kind: 'str' },
    description: 'NGUID (32 hex digits) or "auto" for random value',
  },
  { name: 'eui64', type: { kind: 'uint64' }, default: 0n, description: '' },
  { name: 'eui64-default', type: bool, default: false, description: '' },
  // Metadata and protection information.
  { name: 'ms', type: u16, default: 0, description: '' },
  { name: 'mset', type: u8, default: 0, description: '' },
  { name: 'pi', type: u8, default: 0, description: '' },
  { name: 'pil', type: u8, default: 0, description: '' },
  { name: 'pif', type: u8, default: 0, description: '' },
  // Simple Copy limits (Identify NS MSSRL / MCL / MSRC).
  { name: 'mssrl', type: u16, default: 128, description: '' },
  { name: 'mcl', type: u32, default: 128, description: '' },
  { name: 'msrc', type: u8, default: 127, description: '' },
  // Flexible Data Placement (TP 4146, post-7.2): placement handle -> reclaim unit handle list.
  { name: 'fdp.ruhs', type: { kind: 'str' }, description: '' },
  // nvmemu extension: the ANA group of the namespace (NVMe 2.0 §8.20, docs/multipath.md).
  { name: 'anagrpid', type: u32, default: 0, description: 'ANA group, 1..128 (nvmemu)' },
  // Zoned namespaces (TP 4053).
  { name: 'zoned', type: bool, default: false, description: '' },
  { name: 'zoned.zone_size', type: size, default: 134217728n, description: '' },
  { name: 'zoned.zone_capacity', type: size, default: 0n, description: '' },
  { name: 'zoned.cross_read', type: bool, default: false, description: '' },
  { name: 'zoned.max_active', type: u32, default: 0, description: '' },
  { name: 'zoned.max_open', type: u32, default: 0, description: '' },
  { name: 'zoned.descr_ext_size', type: u32, default: 0, description: '' },
  { name: 'zoned.zrwas', type: size, default: 0n, description: '' },
  // 18446744073709551615 is (uint64_t)-1 = "the logical block size".
  { name: 'zoned.zrwafg', type: size, default: 18446744073709551615n, description: '' },
  { name: 'zoned.numzrwa', type: u32, default: 0, description: '' },
  // nvmemu extension: zone state survives a restart (docs/zns.md); off = QEMU (volatile).
  {
    name: 'zoned.persist',
    type: bool,
    default: true,
    description: 'keep zone state in <image>.zones across restarts (nvmemu)',
  },
  // nvmemu extension: the device model (timing, FTL, wear; docs/models.md).
  ...MODEL_PROPS,
]);

export const nvmeNsSchema: TypeSchema = {
  typeName: 'nvme-ns',
  kind: 'device',
  props: NVME_NS_PROPS,
  reserved: ['id', 'driver'],
};
