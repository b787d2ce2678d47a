// pmem2_config (pmdk.md §1.2 "Config", §1.3). Defaults: offset 0, length 0 (= to the end of the
// source), granularity unset, SHARED, READ|WRITE, no reservation.

import { fail } from './errors.js';
import type { Pmem2VmReservation } from './reservation.js';

export const PMEM2_GRANULARITY_BYTE = 0;
export const PMEM2_GRANULARITY_CACHE_LINE = 1;
export const PMEM2_GRANULARITY_PAGE = 2;
export type Granularity = 0 | 1 | 2;
export const GRANULARITY_NAMES = ['BYTE', 'CACHE_LINE', 'PAGE'] as const;

export const PMEM2_SHARED = 0;
export const PMEM2_PRIVATE = 1;
export type Sharing = 0 | 1;

export const PMEM2_PROT_EXEC = 2 ** 29;
export const PMEM2_PROT_READ = 2 ** 30;
export const PMEM2_PROT_WRITE = 2 ** 31;
export const PMEM2_PROT_NONE = 0;

const INT64_MAX = (1n << 63n) - 1n;
const SIZE_MAX = (1n << 64n) - 1n;

export interface SimulationOptions {
  /** Keep stores volatile until persisted and allow simulatePowerFailure() (power-fail.ts). */
  readonly powerFail: boolean;
}

/** Accept number or bigint for size_t arguments (offsets past 2^53 matter for the range checks). */
function sizeT(v: number | bigint): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  return BigInt.asUintN(64, b) & SIZE_MAX;
}

export class Pmem2Config {
  offset = 0n;
  length = 0n;
  /** -1 = not set (PMEM2_GRANULARITY_INVALID upstream). */
  requiredGranularity: Granularity | -1 = -1;
  sharing: Sharing = PMEM2_SHARED;
  protection: number = (PMEM2_PROT_READ | PMEM2_PROT_WRITE) >>> 0;
  reservation: Pmem2VmReservation | null = null;
  reservationOffset = 0n;
  simulation: SimulationOptions = { powerFail: false };

  /** pmem2_config_set_required_store_granularity */
  setRequiredStoreGranularity(g: number): this {
    if (g !== 0 && g !== 1 && g !== 2)
      throw fail('PMEM2_E_GRANULARITY_NOT_SUPPORTED', `unknown granularity value ${g}`);
    this.requiredGranularity = g;
    return this;
  }

  /** pmem2_config_set_offset: > INT64_MAX fails here; alignment is checked by map_new. */
  setOffset(offset: number | bigint): this {
    const o = sizeT(offset);
    if (o > INT64_MAX)
      throw fail('PMEM2_E_OFFSET_OUT_OF_RANGE', 'offset is greater than INT64_MAX');
    this.offset = o;
    return this;
  }

  /** pmem2_config_set_length: always succeeds. */
  setLength(length: number | bigint): this {
    this.length = sizeT(length);
    return this;
  }

  /** pmem2_config_set_sharing */
  setSharing(sharing: number): this {
    if (sharing !== PMEM2_SHARED && sharing !== PMEM2_PRIVATE)
      throw fail('PMEM2_E_INVALID_SHARING_VALUE', `unknown sharing value ${sharing}`);
    this.sharing = sharing;
    return this;
  }

  /** pmem2_config_set_protection: only EXEC|READ|WRITE bits; NONE (0) allowed. */
  setProtection(prot: number): this {
    const p = prot >>> 0;
    const valid = (PMEM2_PROT_EXEC | PMEM2_PROT_READ | PMEM2_PROT_WRITE) >>> 0;
    if ((p & ~valid) >>> 0 !== 0) throw fail('PMEM2_E_INVALID_PROT_FLAG', `invalid flag ${p}`);
    this.protection = p;
    return this;
  }

  /** pmem2_config_set_vm_reservation: always succeeds; checked by map_new. */
  setVmReservation(rsv: Pmem2VmReservation | null, offset: number | bigint): this {
    this.reservation = rsv;
    this.reservationOffset = sizeT(offset);
    return this;
  }

  /** nvmemu extension: power-failure simulation for maps created from this config. */
  setPowerFailSimulation(on: boolean): this {
    this.simulation = { powerFail: on };
    return this;
  }
}
