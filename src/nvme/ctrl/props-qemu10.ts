// The `-device nvme` properties QEMU 10.0 added (tests/fixtures/qemu/10.0/device-nvme-help.txt,
// docs/configuration.md): their schema entries, the level check that refuses them on a QEMU 7.2
// machine type, and their checked values. ctrl/config.ts adds them to the nvme schema.

import type { PropDef, Props } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { PlanContext } from '../../machine/registry.js';
import { nvmeLevel } from '../spec/levels.js';

const u16 = { kind: 'uint', bits: 16 } as const;
const bool = { kind: 'bool' } as const;

/**
 * Properties QEMU 10.0 added (`-device nvme,help`, tests/fixtures/qemu/10.0/): accepted on a
 * 10.0 machine type with 10.0's defaults; QEMU 7.2 has none of them, so a 7.2 machine refuses
 * them as QEMU 7.2 refuses any unknown property (checkLevelProps).
 */
export const QEMU10_PROPS: readonly PropDef[] = [
  { name: 'mqes', type: u16, default: 0x7ff, description: '' },
  { name: 'dbcs', type: bool, default: true, description: 'on/off' },
  { name: 'ctratt.mem', type: bool, default: false, description: 'on/off' },
  { name: 'atomic.dn', type: bool, default: false, description: 'on/off' },
  { name: 'atomic.awun', type: u16, default: 0, description: '' },
  { name: 'atomic.awupf', type: u16, default: 0, description: '' },
  { name: 'ocp', type: bool, default: false, description: 'on/off' },
  // SPDM over a socket to an external responder: refused unless 0 (checkLevelProps).
  { name: 'spdm_port', type: u16, default: 0, description: '' },
  // PCI compatibility knobs of QEMU 10.0's machine types (the 7.2 types set ext-tag off and
  // ari-nextfn-1 on): the Extended Tag bit of DevCap, the ARI next function number.
  { name: 'x-pcie-ext-tag', type: bool, default: true, description: 'on/off' },
  { name: 'x-pcie-ari-nextfn-1', type: bool, default: false, description: 'on/off' },
  // No AER capability and no bounce buffers (DMA maps guest memory directly): no effect.
  { name: 'x-pcie-err-unc-mask', type: bool, default: true, description: 'on/off', inert: true },
  {
    name: 'x-max-bounce-buffer-size',
    type: { kind: 'size' },
    default: 4096n,
    description:
      'Maximum buffer size allocated for bounce buffers used for mapped access to indirect DMA memory',
    inert: true,
  },
  { name: 'busnr', type: { kind: 'str' }, label: 'busnr', description: '', inert: true },
];

const QEMU10_NAMES = new Set(QEMU10_PROPS.map((p) => p.name));

/**
 * A property of QEMU 10.0 on a 7.2 machine is unknown, with QEMU 7.2's message and a hint
 * naming the machine types that have it; at 10.0, `spdm_port` (an SPDM responder over a
 * socket) is refused as unsupported.
 */
export function checkLevelProps(props: Props, ctx: PlanContext): void {
  const level = nvmeLevel(ctx.settings.compat);
  for (const name of props.given) {
    if (QEMU10_NAMES.has(name) && level.compat === '7.2') {
      throw new ConfigError(
        `Property 'nvme.${name}' not found\n` +
          `${name} is a property of QEMU 10.0: use -machine pc-q35-10.0 or pc-i440fx-10.0`,
        name,
      );
    }
  }
  if (props.num('spdm_port') !== 0) {
    throw new ConfigError(
      'spdm_port: nvmemu does not implement SPDM (no responder connection); leave it 0',
      'spdm_port',
    );
  }
}

/** AWUN/AWUPF (0's based blocks) and DN: QEMU 10.0 drops an AWUPF above AWUN to 0. */
export function atomicParams(props: Props): { awun: number; awupf: number; atomicDn: boolean } {
  const awun = props.num('atomic.awun');
  const awupf = props.num('atomic.awupf');
  return { awun, awupf: awupf > awun ? 0 : awupf, atomicDn: props.bool('atomic.dn') };
}
