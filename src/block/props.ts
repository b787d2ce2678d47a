// The block-device properties QEMU gives every device with a drive (DEFINE_BLOCK_PROPERTIES
// plus write-cache, share-rw and the accounting switches): `nvme` (legacy namespace) and
// `nvme-ns` list exactly these in `-device TYPE,help`, with these types and defaults.

import type { PropDef } from '../config/schema.js';

const onOffAuto = { kind: 'enum', values: ['on', 'off', 'auto'] } as const;
const size = { kind: 'size' } as const;
const blockSizeHelp = 'A power of two between 512 B and 2 MiB';
const ooa = (name: string, inert: boolean): PropDef => ({
  name,
  type: onOffAuto,
  label: 'OnOffAuto',
  default: 'auto',
  description: 'on/off/auto',
  ...(inert ? { inert } : {}),
});

export const BLOCK_PROPS: readonly PropDef[] = Object.freeze([
  {
    name: 'drive',
    type: { kind: 'link', target: 'drive' },
    description: 'Node name or ID of a block device to use as a backend',
  },
  { name: 'logical_block_size', type: size, default: 0n, description: blockSizeHelp },
  { name: 'physical_block_size', type: size, default: 0n, description: blockSizeHelp },
  { name: 'min_io_size', type: size, default: 0n, description: '' },
  { name: 'opt_io_size', type: size, default: 0n, description: '' },
  // 4294967295 is QEMU's (uint32_t)-1 = "auto": max(logical block size, 4 KiB).
  { name: 'discard_granularity', type: size, default: 4294967295n, description: '' },
  ooa('write-cache', false),
  { name: 'share-rw', type: { kind: 'bool' }, default: false, description: '', inert: true },
  ooa('account-invalid', true),
  ooa('account-failed', true),
  ooa('backend_defaults', false),
]);
