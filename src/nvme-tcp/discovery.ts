// Discovery Log Page (LID 70h, reference nvme-tcp.md §2.6): a 1024-byte header (GENCTR, NUMREC,
// RECFMT) followed by 1024-byte entries. Shared by the target's discovery controller (encode)
// and the host library / `nvmemu nvme discover` (decode).

import {
  asciiField,
  readU16le,
  readU64le,
  readU8,
  writeAscii,
  writeU16le,
  writeU64le,
  writeU8,
} from '../util/bytes.js';
import { defineLayout } from '../util/layout.js';

export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';
export const DISCOVERY_LOG_LID = 0x70;
export const DISC_HEADER_LEN = 1024;
export const DISC_ENTRY_LEN = 1024;

/** Entry layout (§2.6 table); the size is pinned by a test (house rule 3). */
export const DiscEntryLayout = defineLayout('discovery-entry', DISC_ENTRY_LEN, [
  { name: 'trtype', offset: 0, type: 'u8' },
  { name: 'adrfam', offset: 1, type: 'u8' },
  { name: 'subtype', offset: 2, type: 'u8' },
  { name: 'treq', offset: 3, type: 'u8' },
  { name: 'portid', offset: 4, type: 'u16le' },
  { name: 'cntlid', offset: 6, type: 'u16le' },
  { name: 'asqsz', offset: 8, type: 'u16le' },
  { name: 'eflags', offset: 10, type: 'u16le' },
  { name: 'trsvcid', offset: 32, type: { bytes: 32 } },
  { name: 'subnqn', offset: 256, type: { bytes: 256 } },
  { name: 'traddr', offset: 512, type: { bytes: 256 } },
  { name: 'tsas', offset: 768, type: { bytes: 256 } },
]);

export const TrType = { RDMA: 1, FC: 2, TCP: 3, LOOP: 254 } as const;
export const AdrFam = { IPV4: 1, IPV6: 2 } as const;
export const SubType = { REFERRAL: 1, NVME: 2, CURRENT_DISCOVERY: 3 } as const;
/** TREQ bit 2: the port supports disabling SQ flow control (and so C2HData SUCCESS, §1.9). */
export const TREQ_DISABLE_SQFLOW = 0x04;

export interface DiscoveryEntry {
  readonly trtype: number;
  readonly adrfam: number;
  readonly subtype: number;
  readonly treq: number;
  readonly portid: number;
  readonly cntlid: number;
  readonly asqsz: number;
  readonly eflags: number;
  readonly trsvcid: string;
  readonly subnqn: string;
  readonly traddr: string;
  /** TSAS byte 0 for TCP: security type (0 none). */
  readonly sectype: number;
}

export interface DiscoveryLog {
  readonly genctr: bigint;
  readonly numrec: bigint;
  readonly recfmt: number;
  readonly entries: DiscoveryEntry[];
}

/** The whole log (header + every entry). */
export function encodeDiscoveryLog(genctr: bigint, entries: readonly DiscoveryEntry[]): Uint8Array {
  const out = new Uint8Array(DISC_HEADER_LEN + entries.length * DISC_ENTRY_LEN);
  writeU64le(out, 0, genctr);
  writeU64le(out, 8, BigInt(entries.length));
  writeU16le(out, 16, 0);
  entries.forEach((e, i) => {
    const b = out.subarray(DISC_HEADER_LEN + i * DISC_ENTRY_LEN);
    writeU8(b, 0, e.trtype);
    writeU8(b, 1, e.adrfam);
    writeU8(b, 2, e.subtype);
    writeU8(b, 3, e.treq);
    writeU16le(b, 4, e.portid);
    writeU16le(b, 6, e.cntlid);
    writeU16le(b, 8, e.asqsz);
    writeU16le(b, 10, e.eflags);
    // Text fields are NUL padded (nvmet pads TRSVCID/TRADDR with spaces in older kernels; both
    // are accepted by libnvme, which trims either).
    writeAscii(b, 32, e.trsvcid, 32, 0);
    writeAscii(b, 256, e.subnqn, 256, 0);
    writeAscii(b, 512, e.traddr, 256, 0);
    writeU8(b, 768, e.sectype);
  });
  return out;
}

/** The 20 meaningful header bytes (libnvme reads these first). */
export function decodeDiscoveryHeader(b: Uint8Array): {
  genctr: bigint;
  numrec: bigint;
  recfmt: number;
} {
  return { genctr: readU64le(b, 0), numrec: readU64le(b, 8), recfmt: readU16le(b, 16) };
}

const trimText = (s: string): string => s.replace(/[\0 ]+$/, '');

export function decodeDiscoveryEntry(b: Uint8Array, off = 0): DiscoveryEntry {
  const e = b.subarray(off, off + DISC_ENTRY_LEN);
  return {
    trtype: readU8(e, 0),
    adrfam: readU8(e, 1),
    subtype: readU8(e, 2),
    treq: readU8(e, 3),
    portid: readU16le(e, 4),
    cntlid: readU16le(e, 6),
    asqsz: readU16le(e, 8),
    eflags: readU16le(e, 10),
    trsvcid: trimText(asciiField(e, 32, 32)),
    subnqn: trimText(asciiField(e, 256, 256)),
    traddr: trimText(asciiField(e, 512, 256)),
    sectype: readU8(e, 768),
  };
}

/** Decodes a complete log (header + NUMREC entries present in `b`). */
export function decodeDiscoveryLog(b: Uint8Array): DiscoveryLog {
  const h = decodeDiscoveryHeader(b);
  const entries: DiscoveryEntry[] = [];
  const n = Math.min(Number(h.numrec), Math.floor((b.length - DISC_HEADER_LEN) / DISC_ENTRY_LEN));
  for (let i = 0; i < n; i++)
    entries.push(decodeDiscoveryEntry(b, DISC_HEADER_LEN + i * DISC_ENTRY_LEN));
  return { ...h, entries };
}

/** Text names nvme-cli prints for the numeric fields. */
export function trtypeName(v: number): string {
  return v === TrType.TCP
    ? 'tcp'
    : v === TrType.RDMA
      ? 'rdma'
      : v === TrType.FC
        ? 'fc'
        : v === TrType.LOOP
          ? 'loop'
          : 'unrecognized';
}
export function adrfamName(v: number): string {
  return v === AdrFam.IPV4 ? 'ipv4' : v === AdrFam.IPV6 ? 'ipv6' : 'unrecognized';
}
export function subtypeName(v: number): string {
  switch (v) {
    case SubType.REFERRAL:
      return 'discovery subsystem referral';
    case SubType.NVME:
      return 'nvme subsystem';
    case SubType.CURRENT_DISCOVERY:
      return 'current discovery subsystem';
    default:
      return 'unrecognized';
  }
}
export function treqName(v: number): string {
  const base = ['not specified', 'required', 'not required', 'reserved'][v & 3] ?? 'reserved';
  return (v & TREQ_DISABLE_SQFLOW) !== 0 ? `${base}, sq flow control disable supported` : base;
}
