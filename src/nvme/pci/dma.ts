// Data pointers to scatter lists, QEMU 7.2's rules and statuses (reference qemu-nvme.md §2.5,
// §11; NVMe Base Spec 2.0 §4.1.1 PRPs, §4.1.2 SGLs):
//  - PRP1 may carry an offset; PRP2 is a second page (page aligned) when the rest fits in one
//    page, else a PRP list (the pointer may carry an offset; entries page aligned; the last
//    entry of a full list chains to the next list) -> 0x013+DNR on misalignment, 0x004 when a
//    list cannot be read.
//  - SGL: Data Block, Segment and Last Segment descriptors; Segment inside a data list 0x00e,
//    other types 0x011, bad segment length / Last Segment not ending in data 0x00d, too short or
//    excess 0x00f (metadata 0x010), all +DNR.
//  - The first address decides whether the list is host memory or controller memory (CMB);
//    mixing them is 0x012+DNR. Buffers in BAR0 registers 0x004. More than 1024 entries
//    0x006+DNR (IOV_MAX).

import { readU32le, readU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';

/** What mapping needs to know about the address space, seen from the controller. */
export interface DmaSpace {
  /** Memory page size latched at enable (4 KiB << CC.MPS). */
  readonly pageSize: number;
  /** nvme_addr_is_cmb: inside the CMB as the controller addresses it (CMSE). */
  isCmb(addr: bigint): boolean;
  /** nvme_addr_is_iomem: inside this function's BAR0. */
  isIomem(addr: bigint): boolean;
  /** nvme_addr_read: CMB when wholly inside it, else guest RAM; undefined on failure. */
  readAddr(addr: bigint, len: number): Uint8Array | undefined;
}

export interface Segment {
  readonly cmb: boolean;
  readonly addr: bigint;
  readonly len: number;
}

const IOV_MAX = 1024;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** A scatter list under construction (QEMU NvmeSg). */
export class SgList {
  readonly segs: Segment[] = [];
  constructor(
    readonly space: DmaSpace,
    /** Host memory (true) or controller memory (false), from the first address. */
    readonly dma: boolean,
  ) {}

  static for(space: DmaSpace, first: bigint): SgList {
    return new SgList(space, !space.isCmb(first));
  }

  /** nvme_map_addr: 0 or a status. */
  add(addr: bigint, len: number): number {
    if (len === 0) return 0;
    const space = this.space;
    if (space.isCmb(addr)) {
      if (this.dma) return withDnr(Status.INVALID_USE_OF_CMB);
      if (this.segs.length + 1 > IOV_MAX) return withDnr(Status.INTERNAL_DEVICE_ERROR);
      if (!space.isCmb(addr + BigInt(len - 1))) return Status.DATA_TRANSFER_ERROR;
      this.segs.push({ cmb: true, addr, len });
      return 0;
    }
    if (space.isIomem(addr)) return Status.DATA_TRANSFER_ERROR;
    if (!this.dma) return withDnr(Status.INVALID_USE_OF_CMB);
    if (this.segs.length + 1 > IOV_MAX) return withDnr(Status.INTERNAL_DEVICE_ERROR);
    this.segs.push({ cmb: false, addr, len });
    return 0;
  }

  get length(): number {
    let n = 0;
    for (const s of this.segs) n += s.len;
    return n;
  }
}

/** nvme_map_prp. */
export function mapPrp(space: DmaSpace, prp1: bigint, prp2: bigint, len: number): SgList | number {
  const ps = space.pageSize;
  const psMask = BigInt(ps - 1);
  const maxEnts = ps / 8;
  const sg = SgList.for(space, prp1);
  let trans = Math.min(len, ps - Number(prp1 & psMask));
  let st = sg.add(prp1, trans);
  if (st !== 0) return st;
  len -= trans;
  if (len === 0) return sg;
  if (len <= ps) {
    if ((prp2 & psMask) !== 0n) return withDnr(Status.INVALID_PRP_OFFSET);
    st = sg.add(prp2, len);
    return st !== 0 ? st : sg;
  }
  // PRP2 points to a list; the first list may start mid-page.
  let nents = (ps - Number(prp2 & psMask)) >>> 3;
  let list = space.readAddr(prp2, Math.min(maxEnts, nents) * 8);
  if (list === undefined) return Status.DATA_TRANSFER_ERROR;
  let i = 0;
  while (len > 0) {
    let ent = readU64le(list, i * 8);
    if (i === nents - 1 && len > ps) {
      if ((ent & psMask) !== 0n) return withDnr(Status.INVALID_PRP_OFFSET);
      i = 0;
      nents = Math.min(Math.ceil(len / ps), maxEnts);
      list = space.readAddr(ent, nents * 8);
      if (list === undefined) return Status.DATA_TRANSFER_ERROR;
      ent = readU64le(list, 0);
    }
    if ((ent & psMask) !== 0n) return withDnr(Status.INVALID_PRP_OFFSET);
    trans = Math.min(len, ps);
    st = sg.add(ent, trans);
    if (st !== 0) return st;
    len -= trans;
    i++;
  }
  return sg;
}

const SGL_DATA_BLOCK = 0x0;
const SGL_SEGMENT = 0x2;
const SGL_LAST_SEGMENT = 0x3;
const SEG_CHUNK = 256;

interface Descriptor {
  readonly addr: bigint;
  readonly len: number;
  readonly type: number;
}

function descriptor(buf: Uint8Array, i: number): Descriptor {
  return {
    addr: readU64le(buf, 16 * i),
    len: readU32le(buf, 16 * i + 8),
    type: buf[16 * i + 15]! >>> 4,
  };
}

/** nvme_map_sgl_data: data block descriptors only; `left` is the length still to map. */
function mapSglData(sg: SgList, descs: readonly Descriptor[], left: { n: number }): number {
  for (const d of descs) {
    switch (d.type) {
      case SGL_DATA_BLOCK:
        break;
      case SGL_SEGMENT:
      case SGL_LAST_SEGMENT:
        return withDnr(Status.INVALID_NUM_SGL_DESCRS);
      default:
        return withDnr(Status.SGL_DESCR_TYPE_INVALID);
    }
    if (d.len === 0) continue;
    // SGLS bit 18 (excess length allowed) is clear in QEMU 7.2's SGLS 0x1.
    if (left.n === 0) return withDnr(Status.DATA_SGL_LEN_INVALID);
    if (U64_MAX - d.addr < BigInt(d.len)) return withDnr(Status.DATA_SGL_LEN_INVALID);
    const trans = Math.min(left.n, d.len);
    const st = sg.add(d.addr, trans);
    if (st !== 0) return st;
    left.n -= trans;
  }
  return 0;
}

/** nvme_map_sgl: `sgl1` is the 16-byte descriptor of the command (or MPTR's). */
export function mapSgl(space: DmaSpace, sgl1: Uint8Array, len: number): SgList | number {
  let cur = descriptor(sgl1, 0);
  const sg = SgList.for(space, cur.addr);
  const left = { n: len };
  if (cur.type === SGL_DATA_BLOCK) {
    const st = mapSglData(sg, [cur], left);
    if (st !== 0) return st;
    return left.n !== 0 ? withDnr(Status.DATA_SGL_LEN_INVALID) : sg;
  }
  let addr = cur.addr;
  for (;;) {
    if (cur.type !== SGL_SEGMENT && cur.type !== SGL_LAST_SEGMENT) {
      return withDnr(Status.INVALID_SGL_SEG_DESCR);
    }
    const segLen = cur.len;
    if (segLen === 0 || (segLen & 0xf) !== 0) return withDnr(Status.INVALID_SGL_SEG_DESCR);
    if (U64_MAX - addr < BigInt(segLen)) return withDnr(Status.DATA_SGL_LEN_INVALID);
    let n = segLen / 16;
    while (n > SEG_CHUNK) {
      const chunk = space.readAddr(addr, SEG_CHUNK * 16);
      if (chunk === undefined) return Status.DATA_TRANSFER_ERROR;
      const descs = Array.from({ length: SEG_CHUNK }, (_, i) => descriptor(chunk, i));
      const st = mapSglData(sg, descs, left);
      if (st !== 0) return st;
      n -= SEG_CHUNK;
      addr += BigInt(SEG_CHUNK * 16);
    }
    const seg = space.readAddr(addr, n * 16);
    if (seg === undefined) return Status.DATA_TRANSFER_ERROR;
    const descs = Array.from({ length: n }, (_, i) => descriptor(seg, i));
    const last = descs[n - 1]!;
    if (last.type === SGL_DATA_BLOCK) {
      const st = mapSglData(sg, descs, left);
      if (st !== 0) return st;
      break;
    }
    // A segment that does not end in data must not be the last one.
    if (cur.type === SGL_LAST_SEGMENT) return withDnr(Status.INVALID_SGL_SEG_DESCR);
    cur = last;
    addr = last.addr;
    const st = mapSglData(sg, descs.slice(0, n - 1), left);
    if (st !== 0) return st;
  }
  return left.n !== 0 ? withDnr(Status.DATA_SGL_LEN_INVALID) : sg;
}

/** nvme_map_dptr: PSDT 0 PRPs, 1/2 SGL, 3 Invalid Field (no DNR). */
export function mapDptr(
  space: DmaSpace,
  psdt: number,
  dptr: Uint8Array,
  len: number,
): SgList | number {
  switch (psdt) {
    case 0:
      return mapPrp(space, readU64le(dptr, 0), readU64le(dptr, 8), len);
    case 1:
    case 2:
      return mapSgl(space, dptr, len);
    default:
      return Status.INVALID_FIELD;
  }
}

/** nvme_map_mdata: MPTR is a buffer (PSDT 0/1) or points to an SGL descriptor (PSDT 2). */
export function mapMptr(space: DmaSpace, psdt: number, mptr: bigint, len: number): SgList | number {
  if (psdt === 2) {
    const d = space.readAddr(mptr, 16);
    if (d === undefined) return Status.DATA_TRANSFER_ERROR;
    const r = mapSgl(space, d, len);
    if (typeof r === 'number' && (r & 0x7ff) === Status.DATA_SGL_LEN_INVALID) {
      return withDnr(Status.MD_SGL_LEN_INVALID);
    }
    return r;
  }
  const sg = SgList.for(space, mptr);
  const st = sg.add(mptr, len);
  return st !== 0 ? st : sg;
}
