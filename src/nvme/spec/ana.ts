// Asymmetric Namespace Access (NVMe Base Spec 2.0 §8.20; data only): the ANA states, the
// limits nvmemu reports in Identify Controller, and the ANA log page (LID 0Ch, §5.16.1.13
// Figures 226-228) as layout tables.

import { defineLayout } from '../../util/layout.js';

/** ANA states (Figure 228, byte 16 bits 3:0). */
export const AnaState = {
  OPTIMIZED: 0x01,
  NON_OPTIMIZED: 0x02,
  INACCESSIBLE: 0x03,
  PERSISTENT_LOSS: 0x04,
  CHANGE: 0x0f,
} as const;

export type AnaStateValue = (typeof AnaState)[keyof typeof AnaState];

/** The state names users write (QMP, scenarios, faults) and nvme-cli prints. */
export const ANA_STATE_NAMES: ReadonlyMap<string, AnaStateValue> = new Map([
  ['optimized', AnaState.OPTIMIZED],
  ['non-optimized', AnaState.NON_OPTIMIZED],
  ['inaccessible', AnaState.INACCESSIBLE],
  ['persistent-loss', AnaState.PERSISTENT_LOSS],
  ['change', AnaState.CHANGE],
]);

/** The name of a state value (inverse of ANA_STATE_NAMES). */
export function anaStateName(v: number): string {
  for (const [name, value] of ANA_STATE_NAMES) if (value === v) return name;
  return `0x${v.toString(16)}`;
}

/** ANAGRPMAX and NANAGRPID: ANA group IDs 1..128, as nvmet (NVMET_MAX_ANAGRPS). */
export const ANAGRPMAX = 128;
/** ANATT: ANA Transition Time in seconds, the longest a group stays in the change state. */
export const ANATT = 10;
/**
 * ANACAP (Identify byte 343): every state reportable (bits 4:0), ANAGRPID does not change while
 * the namespace is attached (bit 6), a non-zero ANAGRPID accepted by Namespace Management
 * (bit 7).
 */
export const ANACAP = 0x1f | 0x40 | 0x80;
/** CMIC bits of an ANA subsystem: multiple ports (0), controllers (1), ANA reporting (3). */
export const CMIC_MULTI_PORT = 0x01;
export const CMIC_ANA = 0x08;
/** OAES bit 11: ANA Change Notices; the Asynchronous Event Configuration bit with the same number. */
export const OAES_ANA_CHANGE = 1 << 11;
/** Notice event information for an ANA change (Figure 148). */
export const AER_INFO_ANA_CHANGE = 0x03;
/** Log Page Identifier of the ANA log. */
export const LID_ANA = 0x0c;
/** LSP bit 0 of the ANA log: Return Groups Only (no NSID lists). */
export const ANA_LSP_RGO = 0x01;

/** Header (Figure 227): change count, number of group descriptors. */
export const AnaLogHeaderLayout = defineLayout('ana-log-header', 16, [
  { name: 'changeCount', offset: 0, type: 'u64le' },
  { name: 'ngrps', offset: 8, type: 'u16le' },
]);

/** Group descriptor (Figure 228) without its NSID list (NNSID dwords follow it). */
export const AnaGroupDescLayout = defineLayout('ana-group-descriptor', 32, [
  { name: 'grpid', offset: 0, type: 'u32le' },
  { name: 'nnsids', offset: 4, type: 'u32le' },
  { name: 'changeCount', offset: 8, type: 'u64le' },
  { name: 'state', offset: 16, type: 'u8' },
]);
