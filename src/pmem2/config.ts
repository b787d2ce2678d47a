// pmem2_config (pmdk.md §1.2 "Config", §1.3). Defaults: offset 0, length 0 (= to the end of the
// source), granularity unset, SHARED, READ|WRITE, no reservation.

import { fail } from './errors.js';
import type { Pmem2VmReservation } from './reservation.js';

/** Store granularity BYTE: stores are durable as they reach the CPU (eADR). */
export const PMEM2_GRANULARITY_BYTE = 0;
/** Store granularity CACHE_LINE: cache lines must be flushed (ADR, MAP_SYNC). */
export const PMEM2_GRANULARITY_CACHE_LINE = 1;
/** Store granularity PAGE: pages must be written back (msync; page cache, virtio-pmem). */
export const PMEM2_GRANULARITY_PAGE = 2;
/** One of the PMEM2_GRANULARITY_* values. */
export type Granularity = 0 | 1 | 2;
/** Names of the granularities, by value. */
export const GRANULARITY_NAMES = ['BYTE', 'CACHE_LINE', 'PAGE'] as const;

/** Sharing SHARED: stores reach the source (MAP_SHARED). */
export const PMEM2_SHARED = 0;
/** Sharing PRIVATE: copy-on-write mapping (MAP_PRIVATE). */
export const PMEM2_PRIVATE = 1;
/** PMEM2_SHARED or PMEM2_PRIVATE. */
export type Sharing = 0 | 1;

/** Protection flag: executable. */
export const PMEM2_PROT_EXEC = 2 ** 29;
/** Protection flag: readable. */
export const PMEM2_PROT_READ = 2 ** 30;
/** Protection flag: writable. */
export const PMEM2_PROT_WRITE = 2 ** 31;
/** Protection: no access. */
export const PMEM2_PROT_NONE = 0;

const INT64_MAX = (1n << 63n) - 1n;
const SIZE_MAX = (1n << 64n) - 1n;

/** nvmemu's extension of pmem2_config: the power-failure simulation. */
export interface SimulationOptions {
  /** Keep stores volatile until persisted and allow simulatePowerFailure() (power-fail.ts). */
  readonly powerFail: boolean;
}

/** Accept number or bigint for size_t arguments (offsets past 2^53 matter for the range checks). */
function sizeT(v: number | bigint): bigint {
  const b = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  return BigInt.asUintN(64, b) & SIZE_MAX;
}

/** pmem2_config: what to map and how (offset, length, granularity, sharing, protection, reservation). */
export class Pmem2Config {
  /** Source offset of the mapping (pmem2_config_set_offset). */
  offset = 0n;
  /** Mapping length; 0 maps to the end of the source. */
  length = 0n;
  /** -1 = not set (PMEM2_GRANULARITY_INVALID upstream). */
  requiredGranularity: Granularity | -1 = -1;
  /** PMEM2_SHARED (default) or PMEM2_PRIVATE. */
  sharing: Sharing = PMEM2_SHARED;
  /** PMEM2_PROT_* flags (default READ|WRITE). */
  protection: number = (PMEM2_PROT_READ | PMEM2_PROT_WRITE) >>> 0;
  /** The reservation to map into, if any. */
  reservation: Pmem2VmReservation | null = null;
  /** Offset of the mapping inside the reservation. */
  reservationOffset = 0n;
  /** Power-failure simulation settings (setPowerFailSimulation). */
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
