// Log pages that read the endurance group's figures (subsys/endurance.ts, the one place they
// come from) and the namespaces' counters:
// - 09h Endurance Group Information (NVMe Base Spec 2.0 §5.16.1.10, Figure 213), 512 bytes,
//   for the endurance group named by LSI (CDW11 31:16);
// - C0h OCP SMART / Health Information Extended (OCP Datacenter NVMe SSD Specification 2.5
//   §4.8.6), 512 bytes, on a controller with QEMU 10.0's `ocp=on`: physical media units read
//   and written (bytes, as QEMU 10.0 fills them), log page version 5 and the log's GUID.

import { defineLayout } from '../../util/layout.js';
import type { EnduranceFigures } from '../subsys/endurance.js';
import type { NamespaceApi } from '../spec/namespace-api.js';

export const ENDURANCE_LOG_SIZE = 512;

const U128 = { bytes: 16 } as const;

/** A 128-bit counter as 16 little-endian bytes (counters beyond 2^128 - 1 saturate). */
function u128le(x: bigint): Uint8Array {
  const out = new Uint8Array(16);
  let v = x < 0n ? 0n : x >= 1n << 128n ? (1n << 128n) - 1n : x;
  for (let i = 0; i < 16; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

export const EnduranceLogLayout = defineLayout('endurance-group-information', ENDURANCE_LOG_SIZE, [
  { name: 'criticalWarning', offset: 0, type: 'u8' },
  { name: 'availableSpare', offset: 3, type: 'u8' },
  { name: 'availableSpareThreshold', offset: 4, type: 'u8' },
  { name: 'percentageUsed', offset: 5, type: 'u8' },
  { name: 'enduranceEstimate', offset: 32, type: U128 },
  { name: 'dataUnitsRead', offset: 48, type: U128 },
  { name: 'dataUnitsWritten', offset: 64, type: U128 },
  { name: 'mediaUnitsWritten', offset: 80, type: U128 },
  { name: 'hostReadCommands', offset: 96, type: U128 },
  { name: 'hostWriteCommands', offset: 112, type: U128 },
  { name: 'mediaErrors', offset: 128, type: U128 },
  { name: 'errorEntries', offset: 144, type: U128 },
]);

/** Log 09h from the group's figures. */
export function enduranceLog(f: EnduranceFigures): Uint8Array {
  return EnduranceLogLayout.encode({
    criticalWarning: f.criticalWarning,
    availableSpare: f.availableSpare,
    availableSpareThreshold: f.availableSpareThreshold,
    percentageUsed: f.percentageUsed,
    enduranceEstimate: u128le(f.enduranceEstimate),
    dataUnitsRead: u128le(f.dataUnitsRead),
    dataUnitsWritten: u128le(f.dataUnitsWritten),
    mediaUnitsWritten: u128le(f.mediaUnitsWritten),
    hostReadCommands: u128le(f.hostReadCommands),
    hostWriteCommands: u128le(f.hostWriteCommands),
    mediaErrors: u128le(f.mediaErrors),
    errorEntries: u128le(f.errorEntries),
  });
}

export const OCP_SMART_LID = 0xc0;
export const OCP_SMART_SIZE = 512;

export const OcpSmartLayout = defineLayout('ocp-smart-extended', OCP_SMART_SIZE, [
  { name: 'physicalMediaUnitsWritten', offset: 0, type: U128 },
  { name: 'physicalMediaUnitsRead', offset: 16, type: U128 },
  { name: 'logPageVersion', offset: 494, type: 'u16le' },
  { name: 'logPageGuid', offset: 496, type: { bytes: 16 } },
]);

/** OCP's GUID of the SMART / Health Information Extended log (bytes as stored). */
const OCP_SMART_GUID = Uint8Array.of(
  0xc5,
  0xaf,
  0x10,
  0x28,
  0xea,
  0xbf,
  0xf2,
  0xa4,
  0x9c,
  0x4f,
  0x6f,
  0x7c,
  0xc9,
  0x14,
  0xd5,
  0xaf,
);

/** Log C0h over the controller's attached namespaces. */
export function ocpSmartLog(namespaces: Iterable<NamespaceApi>): Uint8Array {
  let read = 0n;
  let written = 0n;
  for (const ns of namespaces) {
    const s = ns.smart();
    read += s.bytesRead;
    written += s.bytesWritten;
  }
  return OcpSmartLayout.encode({
    physicalMediaUnitsWritten: u128le(written),
    physicalMediaUnitsRead: u128le(read),
    logPageVersion: 5,
    logPageGuid: OCP_SMART_GUID,
  });
}
