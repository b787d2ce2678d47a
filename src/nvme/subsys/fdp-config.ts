// `-device nvme-subsys` Flexible Data Placement properties (TP 4146; reference qemu-nvme.md
// §1.3, §8; post-7.2 QEMU): fdp=on makes the subsystem's endurance group 1 FDP-enabled with
// `fdp.nrg` reclaim groups, `fdp.nruh` reclaim unit handles and reclaim units of `fdp.runs`
// bytes. Checked once, at plan time, with QEMU's messages.

import type { PropDef } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import type { Props } from '../../config/schema.js';

/** QEMU's NVME_DEFAULT_RU_SIZE. */
export const DEFAULT_RUNS = 96n * 1024n * 1024n;
/** Placement identifiers one namespace may use (MAXPIDS 0's based = 127). */
export const FDP_MAX_PIDS = 128;

export const FDP_SUBSYS_PROPS: readonly PropDef[] = [
  { name: 'fdp', type: { kind: 'bool' }, default: false, description: '' },
  { name: 'fdp.runs', type: { kind: 'size' }, default: DEFAULT_RUNS, description: '' },
  { name: 'fdp.nrg', type: { kind: 'uint', bits: 32 }, default: 1, description: '' },
  { name: 'fdp.nruh', type: { kind: 'uint', bits: 16 }, default: 0, description: '' },
];

/** The endurance group's FDP configuration. */
export interface FdpParams {
  /** Reclaim unit nominal size in bytes. */
  readonly runs: bigint;
  /** Reclaim groups. */
  readonly nrg: number;
  /** Reclaim unit handles. */
  readonly nruh: number;
  /** Reclaim Group Identifier Format: bits of a placement identifier naming the group. */
  readonly rgif: number;
}

/** RGIF: the bit length of NRG, 0 for a single group (reference §8: nrg 2 -> 2). */
export function rgifOf(nrg: number): number {
  return nrg <= 1 ? 0 : 32 - Math.clz32(nrg);
}

/** nvme_subsys_setup_fdp's checks; undefined when fdp=off. */
export function checkFdpSubsys(props: Props): FdpParams | undefined {
  if (!props.bool('fdp')) return undefined;
  const runs = props.big('fdp.runs');
  if (runs === 0n) throw new ConfigError('fdp.runs must be non-zero', 'fdp.runs');
  const nrg = props.num('fdp.nrg');
  if (nrg === 0) throw new ConfigError('fdp.nrg must be non-zero', 'fdp.nrg');
  const nruh = props.num('fdp.nruh');
  if (nruh === 0 || nruh > FDP_MAX_PIDS) {
    throw new ConfigError('fdp.nruh must be non-zero and less than 128', 'fdp.nruh');
  }
  const rgif = rgifOf(nrg);
  // The handle part of a placement identifier (16 - RGIF bits) must be able to name every RUH.
  if (rgif > 16 || 2 ** (16 - rgif) < nruh) {
    throw new ConfigError(`cannot derive a valid rgif (nruh ${nruh} nrg ${nrg})`, 'fdp.nrg');
  }
  return { runs, nrg, nruh, rgif };
}
