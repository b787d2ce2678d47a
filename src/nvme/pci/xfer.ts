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

import { readU32le } from '../../util/bytes.js';
import type { NvmeCmd } from '../spec/command.js';
import type { NamespaceApi } from '../spec/namespace-api.js';
import { IoOpc } from '../spec/opcodes.js';
import { Status } from '../spec/status.js';
import type { HostData } from '../spec/transfer.js';
import type { SgList } from './dma.js';

/** Moves bytes of one mapped segment list. */
export interface SegmentIo {
  read(cmb: boolean, addr: bigint, len: number): Uint8Array | undefined;
  write(cmb: boolean, addr: bigint, data: Uint8Array): boolean;
}

interface Geometry {
  readonly lbaSize: number;
  readonly ms: number;
  readonly extended: boolean;
  readonly piType: number;
  /** PI tuple size: 8 (16-bit guard) or 16 (64-bit guard). */
  readonly tuple: number;
}

/** The active format from Identify Namespace (FLBAS, LBAF, DPS) and the NVM CS ELBAF. */
export function geometryOf(ns: NamespaceApi): Geometry {
  const id = ns.identify(false);
  const flbas = id[26]!;
  const idx = (flbas & 0xf) | (((flbas >>> 5) & 0x3) << 4);
  const lbaf = readU32le(id, 128 + 4 * idx);
  const ms = lbaf & 0xffff;
  const lbads = (lbaf >>> 16) & 0xff;
  let tuple = 8;
  const nvm = ns.identifyIoCs(0);
  if (typeof nvm !== 'number') {
    const pif = (readU32le(nvm, 12 + 4 * idx) >>> 7) & 0x3;
    if (pif === 2) tuple = 16;
  }
  return {
    lbaSize: 2 ** lbads,
    ms,
    extended: (flbas & 0x10) !== 0,
    piType: id[29]! & 0x7,
    tuple,
  };
}

/** Data and metadata lengths QEMU maps for a block transfer (nvme_map_data/nvme_map_mdata). */
export function blockTransferLengths(
  cmd: NvmeCmd,
  ns: NamespaceApi | undefined,
): { data: number; meta: number } | undefined {
  switch (cmd.opcode) {
    case IoOpc.READ:
    case IoOpc.WRITE:
    case IoOpc.COMPARE:
    case IoOpc.ZONE_APPEND:
      break;
    default:
      return undefined;
  }
  if (ns === undefined) return undefined;
  const g = geometryOf(ns);
  const nlb = (cmd.cdw12 & 0xffff) + 1;
  const pract = ((cmd.cdw12 >>> 29) & 1) === 1;
  const stripped = g.piType !== 0 && pract && g.ms === g.tuple;
  const metaBytes = stripped ? 0 : nlb * g.ms;
  return g.extended
    ? { data: nlb * g.lbaSize + metaBytes, meta: 0 }
    : { data: nlb * g.lbaSize, meta: metaBytes };
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
    fromHost(offset: number, len: number): Promise<Uint8Array | number> {
      const sg = ensure(offset + len);
      if (typeof sg === 'number') return Promise.resolve(sg);
      const out = new Uint8Array(len);
      const st = walk(sg, offset, len, (cmb, addr, at, n) => {
        const b = io.read(cmb, addr, n);
        if (b === undefined) return false;
        out.set(b, at);
        return true;
      });
      return Promise.resolve(st === 0 ? out : st);
    },
    toHost(offset: number, data: Uint8Array): Promise<number> {
      const sg = ensure(offset + data.length);
      if (typeof sg === 'number') return Promise.resolve(sg);
      return Promise.resolve(
        walk(sg, offset, data.length, (cmb, addr, at, n) =>
          io.write(cmb, addr, data.subarray(at, at + n)),
        ),
      );
    },
  };
}
