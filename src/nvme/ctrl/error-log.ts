// The Error Information log (Get Log Page 01h; NVMe Base Spec 2.0 §5.16.1.2, Figure 206) and the
// names of the command fields a failure can blame. Every command that completes with a non-zero
// status gets an entry (newest first, the oldest dropped past ELPE + 1 entries) with its queue,
// CID, status, the Parameter Error Location of the blamed field, the LBA of a block command and
// the NSID; the lifetime count is the SMART log's Number of Error Information Log Entries.
// QEMU 7.2 keeps no entries (its log page is one zeroed entry): nvmemu reports ELPE 63.

import { defineLayout } from '../../util/layout.js';

export const ERROR_ENTRY_SIZE = 64;
/** ELPE: Error Log Page Entries, 0's based (Identify Controller byte 262). */
export const ELPE = 63;

export const ErrorEntryLayout = defineLayout('error-information-entry', ERROR_ENTRY_SIZE, [
  { name: 'errorCount', offset: 0, type: 'u64le' },
  { name: 'sqid', offset: 8, type: 'u16le' },
  { name: 'cid', offset: 10, type: 'u16le' },
  { name: 'statusField', offset: 12, type: 'u16le' },
  { name: 'pel', offset: 14, type: 'u16le' },
  { name: 'lba', offset: 16, type: 'u64le' },
  { name: 'nsid', offset: 24, type: 'u32le' },
  { name: 'vsia', offset: 28, type: 'u8' },
  { name: 'trtype', offset: 29, type: 'u8' },
  { name: 'csi', offset: 30, type: 'u8' },
  { name: 'opcode', offset: 31, type: 'u8' },
  { name: 'csinfo', offset: 32, type: 'u64le' },
  { name: 'ttsi', offset: 40, type: 'u16le' },
  { name: 'lpv', offset: 63, type: 'u8' },
]);

/**
 * Field names handlers blame (Completion.field) and where they sit in the 64-byte command:
 * byte offset and bit (Parameter Error Location, bits 7:0 byte, 10:8 bit). A dotted name
 * narrows a dword to one of its fields.
 */
const FIELD_LOCATION: ReadonlyMap<string, readonly [byte: number, bit: number]> = new Map([
  ['opcode', [0, 0]],
  ['fuse', [1, 0]],
  ['psdt', [1, 6]],
  ['cid', [2, 0]],
  ['nsid', [4, 0]],
  ['cdw2', [8, 0]],
  ['cdw3', [12, 0]],
  ['mptr', [16, 0]],
  ['dptr', [24, 0]],
  ['sgl1', [24, 0]],
  ['cdw10', [40, 0]],
  ['cdw11', [44, 0]],
  ['cdw12', [48, 0]],
  ['cdw13', [52, 0]],
  ['cdw14', [56, 0]],
  ['cdw15', [60, 0]],
  // Block commands: SLBA cdw10-11, NLB cdw12 15:0, PRINFO cdw12 29:26, reference tag cdw14.
  ['slba', [40, 0]],
  ['nlb', [48, 0]],
  ['cdw12.prinfo', [51, 2]],
  ['cdw14.reftag', [56, 0]],
  // Admin: Identify CNS/CNTID/CSI, Get Log Page LID/LSP/NUMD/LPO, features FID/SV.
  ['cdw10.cns', [40, 0]],
  ['cdw10.cntid', [42, 0]],
  ['cdw11.csi', [47, 0]],
  ['cdw10.lid', [40, 0]],
  ['cdw10.lsp', [41, 0]],
  ['cdw10.numd', [42, 0]],
  ['lpo', [48, 0]],
  ['cdw10.fid', [40, 0]],
  ['cdw10.sv', [43, 7]],
  ['cdw11.thsel', [46, 4]],
  ['cdw11.iv', [44, 0]],
  ['cdw11.endgid', [44, 0]],
  ['cdw11.phndl', [44, 0]],
  ['cdw10.sel', [40, 0]],
  ['cdw10.qid', [40, 0]],
  ['cdw10.qsize', [42, 0]],
  ['cdw11.cqid', [46, 0]],
  ['cdw11.iv-cq', [46, 0]],
  ['cdw10.lbaf', [40, 0]],
  ['cdw10.pi', [40, 5]],
  ['cdw10.fctype', [4, 0]],
]);

/** The Parameter Error Location of a field name; FFFFh when none is to blame (§5.16.1.2). */
export function parameterErrorLocation(field: string | undefined): number {
  if (field === undefined) return 0xffff;
  const at = FIELD_LOCATION.get(field) ?? FIELD_LOCATION.get(field.split('.')[0]!);
  return at === undefined ? 0xffff : at[0] | (at[1] << 8);
}

/** The field names the table knows (tests keep handlers to them). */
export function knownFields(): readonly string[] {
  return [...FIELD_LOCATION.keys()];
}

export interface ErrorInit {
  readonly sqid: number;
  readonly cid: number;
  readonly status: number;
  readonly opcode: number;
  readonly nsid: number;
  readonly field: string | undefined;
  readonly lba: bigint | undefined;
  /** TRTYPE of the transport (0 PCIe, 3 TCP); CSI of the I/O command set for I/O commands. */
  readonly trtype: number;
  readonly csi: number;
}

export class ErrorLog {
  /** Entries, newest last; at most ELPE + 1. */
  readonly #entries: Uint8Array[] = [];
  /** Lifetime count (the error count of the newest entry). */
  #count = 0n;

  get count(): bigint {
    return this.#count;
  }

  add(e: ErrorInit): void {
    this.#count++;
    const entry = ErrorEntryLayout.encode({
      errorCount: this.#count,
      sqid: e.sqid,
      cid: e.cid,
      // Status Field as in the CQE: status in bits 15:1, phase tag 0.
      statusField: (e.status << 1) & 0xfffe,
      pel: parameterErrorLocation(e.field),
      lba: e.lba ?? 0n,
      nsid: e.nsid >>> 0,
      vsia: 0,
      trtype: e.trtype,
      csi: e.csi,
      opcode: e.opcode,
      csinfo: 0n,
      ttsi: 0,
      lpv: 1,
    });
    this.#entries.push(entry);
    if (this.#entries.length > ELPE + 1) this.#entries.shift();
  }

  /** The log page: ELPE + 1 entries, newest first, unused entries zero. */
  page(): Uint8Array {
    const out = new Uint8Array((ELPE + 1) * ERROR_ENTRY_SIZE);
    this.#entries.forEach((e, i) => {
      out.set(e, (this.#entries.length - 1 - i) * ERROR_ENTRY_SIZE);
    });
    return out;
  }

  /** Restores the lifetime count (persisted device state). */
  restoreCount(n: bigint): void {
    if (n > this.#count) this.#count = n;
  }
}
