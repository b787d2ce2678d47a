// UUIDs and GUIDs on media (reference qemu-pmem-ndctl.md §7.5, §12 fact 8): namespace, BTT and
// PFN uuids are stored in raw RFC-4122 order (bytes as printed); type and abstraction GUIDs are
// EFI guid_t, whose first three fields are little-endian.

import { randomBytes } from 'node:crypto';
import { EmuError, ErrorCode } from '../../util/errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 16 raw bytes of a UUID string, in printed order. */
export function parseUuid(s: string): Uint8Array {
  if (!UUID_RE.test(s)) {
    throw new EmuError(ErrorCode.EMU_ERR_DECODE, `invalid uuid ${JSON.stringify(s)}`);
  }
  const hex = s.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** 16 bytes formatted as an RFC string in the order they are stored. */
export function formatUuid(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`uuid must be 16 bytes, got ${b.length}`);
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The guid_t bytes of a GUID string (first three fields byte-swapped to little-endian). */
export function guidBytes(s: string): Uint8Array {
  const b = parseUuid(s);
  return Uint8Array.of(b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8));
}

/** The GUID string of guid_t bytes (inverse of guidBytes). */
export function formatGuid(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`guid must be 16 bytes, got ${b.length}`);
  return formatUuid(
    Uint8Array.of(b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)),
  );
}

/** A random (version 4) uuid's raw bytes. */
export function randomUuid(): Uint8Array {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return new Uint8Array(b);
}

export function isNullUuid(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** NFIT SPA range type GUID of persistent memory (§3.4); v1.2 labels' type_guid. */
export const PMEM_TYPE_GUID = '66f0d379-b4f3-4074-ac43-0d3318b78cdb';

/** v1.2 label abstraction GUIDs = the personality the kernel claims the namespace for (§7.5). */
export const ABSTRACTION_GUIDS = {
  btt: '8aed63a2-29a2-4c66-8b12-f05d15d3922a',
  btt2: '18633bfc-1735-4217-8ac9-17239282d3f8',
  pfn: '266400ba-fb9f-4677-bcb0-968f11d0d225',
  dax: '97a86d9c-3cdd-4eda-986f-5068b4f80088',
} as const;

export type Claim = 'none' | keyof typeof ABSTRACTION_GUIDS;

/** The claim class of a stored abstraction GUID; undefined for an unknown GUID. */
export function claimOfGuid(b: Uint8Array): Claim | undefined {
  if (isNullUuid(b)) return 'none';
  for (const [claim, guid] of Object.entries(ABSTRACTION_GUIDS)) {
    if (sameBytes(guidBytes(guid), b)) return claim as Claim;
  }
  return undefined;
}

export function claimGuidBytes(claim: Claim): Uint8Array {
  return claim === 'none' ? new Uint8Array(16) : guidBytes(ABSTRACTION_GUIDS[claim]);
}
