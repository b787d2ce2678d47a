// The namespaces Namespace Management created, recorded in the data folder so that they are
// there again at the next start (docs/nvme.md "Namespace Management"):
// `<data>/nvme/<subsystem NQN>.nsmgmt`, a snapshot (state-file.ts: atomic, CRC'd) with one
// record per namespace; its image is `<data>/nvme/ns/<subsystem NQN>-<nsid>.img`.
//
// Record payload: NSZE u64, FLBAS u8, DPS u8, NMIC u8, reserved u8, ANAGRPID u32, UUID 16
// bytes, attached controller count u16, then the attached controller IDs (u16 each). The
// record index is the NSID.

import { join } from 'node:path';
import {
  readU16le,
  readU32le,
  readU64le,
  writeU16le,
  writeU32le,
  writeU64le,
} from '../../util/bytes.js';
import { fileSafe, readStateFile, writeStateFile, type StateRecord } from './state-file.js';

const MAGIC = 'NVMNSMGT';
const VERSION = 1;
const REC_NAMESPACE = 1;
const FIXED = 36;

export interface ManagedNsRecord {
  readonly nsid: number;
  readonly nsze: bigint;
  readonly flbas: number;
  readonly dps: number;
  readonly nmic: number;
  readonly anagrpid: number;
  readonly uuid: Uint8Array;
  /** Controllers it is attached to. */
  readonly attached: readonly number[];
}

export function nsMgmtStateFile(dataDir: string, subnqn: string): string {
  return join(dataDir, 'nvme', `${fileSafe(subnqn)}.nsmgmt`);
}

export function managedImageFile(dataDir: string, subnqn: string, nsid: number): string {
  return join(dataDir, 'nvme', 'ns', `${fileSafe(subnqn)}-${nsid}.img`);
}

export function encodeManagedNs(r: ManagedNsRecord): Uint8Array {
  const p = new Uint8Array(FIXED + 2 * r.attached.length);
  writeU64le(p, 0, r.nsze);
  p[8] = r.flbas;
  p[9] = r.dps;
  p[10] = r.nmic;
  writeU32le(p, 12, r.anagrpid);
  p.set(r.uuid.subarray(0, 16), 16);
  writeU16le(p, 32, r.attached.length);
  r.attached.forEach((c, i) => writeU16le(p, FIXED + 2 * i, c));
  return p;
}

export function decodeManagedNs(nsid: number, p: Uint8Array): ManagedNsRecord | undefined {
  if (p.length < FIXED) return undefined;
  const n = readU16le(p, 32);
  if (p.length !== FIXED + 2 * n) return undefined;
  return {
    nsid,
    nsze: readU64le(p, 0),
    flbas: p[8]!,
    dps: p[9]!,
    nmic: p[10]!,
    anagrpid: readU32le(p, 12),
    uuid: p.slice(16, 32),
    attached: Array.from({ length: n }, (_, i) => readU16le(p, FIXED + 2 * i)),
  };
}

/** The recorded namespaces of a subsystem (none when the file does not exist). */
export function readManagedNamespaces(file: string): ManagedNsRecord[] {
  const saved = readStateFile(file, MAGIC, VERSION, 'namespace management state file');
  return (saved?.records ?? []).flatMap((r) => {
    if (r.type !== REC_NAMESPACE) return [];
    const rec = decodeManagedNs(r.index, r.payload);
    return rec === undefined ? [] : [rec];
  });
}

export function writeManagedNamespaces(file: string, recs: readonly ManagedNsRecord[]): void {
  const records: StateRecord[] = recs.map((r) => ({
    type: REC_NAMESPACE,
    index: r.nsid,
    payload: encodeManagedNs(r),
  }));
  writeStateFile(file, MAGIC, VERSION, new Uint8Array(0), records);
}
