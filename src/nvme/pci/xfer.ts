// A command's data pointer as a HostData (spec/transfer.ts) over guest memory and the CMB.
//
// QEMU maps a data pointer with the length the command handler computes (nvme_map_dptr(len)),
// and for PRPs that length decides what PRP2 is (second page or list). The executors here are
// transport independent and only say which bytes they move, so the mapping length comes from:
//  - Read/Write/Compare/Zone Append: the command and the namespace format (NLB x LBA size,
//    plus interleaved metadata unless PRACT strips/inserts an 8/16-byte PI tuple, §9.1/§9.4),
//    because those executors move data in chunks;
//  - every other command: its first access (admin data, DSM ranges, logs, reports are moved
//    in one piece, as QEMU's nvme_c2h/nvme_h2c do).
// The whole pointer is mapped (and validated) at the first access, before any data moves.

import type { NvmeCmd } from '../spec/command.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import { Status } from '../spec/status.js';
import type { HostData } from '../spec/transfer.js';
import type { SgList } from './dma.js';

/** Moves bytes of one mapped segment list. */
export interface SegmentIo {
  read(cmb: boolean, addr: bigint, len: number): Uint8Array | undefined;
  write(cmb: boolean, addr: bigint, data: Uint8Array): boolean;
}

/** Data and metadata lengths QEMU maps for a block transfer (nvme_map_data/nvme_map_mdata). */
export function blockTransferLengths(
  cmd: NvmeCmd,
  ns: NamespaceApi | undefined,
): { data: number; meta: number } | undefined {
  return ns?.transferLength(cmd);
}

/**
 * A HostData that maps lazily: `map(len)` builds the scatter list (or returns a status) for
 * `knownLength()` bytes, or for the extent of the first access when that is undefined.
 */
export function lazyHostData(
  io: SegmentIo,
  map: (len: number) => SgList | number,
  knownLength: () => number | undefined,
  fallbackLength: number,
): HostData {
  let known: number | undefined;
  let knownDone = false;
  const getKnown = (): number | undefined => {
    if (!knownDone) {
      known = knownLength();
      knownDone = true;
    }
    return known;
  };
  let mapped: SgList | number | undefined;
  let mappedLen = 0;
  const ensure = (end: number): SgList | number => {
    if (mapped === undefined) {
      mappedLen = getKnown() ?? end;
      mapped = map(mappedLen);
    }
    return mapped;
  };
  const walk = (
    sg: SgList,
    offset: number,
    len: number,
    fn: (cmb: boolean, addr: bigint, at: number, n: number) => boolean,
  ): number => {
    if (offset < 0 || len < 0 || offset + len > mappedLen) return Status.DATA_TRANSFER_ERROR;
    let skip = offset;
    let at = 0;
    for (const s of sg.segs) {
      if (at >= len) break;
      if (skip >= s.len) {
        skip -= s.len;
        continue;
      }
      const n = Math.min(s.len - skip, len - at);
      if (!fn(s.cmb, s.addr + BigInt(skip), at, n)) return Status.DATA_TRANSFER_ERROR;
      at += n;
      skip = 0;
    }
    return at === len ? 0 : Status.DATA_TRANSFER_ERROR;
  };
  return {
    get length(): number {
      if (mapped !== undefined) return mappedLen;
      return getKnown() ?? fallbackLength;
    },
    fromHost(offset: number, len: number): Uint8Array | number {
      const sg = ensure(offset + len);
      if (typeof sg === 'number') return sg;
      const out = new Uint8Array(len);
      const st = walk(sg, offset, len, (cmb, addr, at, n) => {
        const b = io.read(cmb, addr, n);
        if (b === undefined) return false;
        out.set(b, at);
        return true;
      });
      return st === 0 ? out : st;
    },
    toHost(offset: number, data: Uint8Array): number {
      const sg = ensure(offset + data.length);
      if (typeof sg === 'number') return sg;
      return walk(sg, offset, data.length, (cmb, addr, at, n) =>
        io.write(cmb, addr, data.subarray(at, at + n)),
      );
    },
  };
}
