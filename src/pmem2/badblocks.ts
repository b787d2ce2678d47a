// pmem2_badblock_* (pmdk.md §4, §11 item 14). Device bad blocks come from sysfs `badblocks`
// files (512-byte sectors): the block device's for fsdax namespaces (namespace relative), else the
// region's, clipped to the namespace window. Regular files translate device ranges to file
// offsets through FS_IOC_FIEMAP extents, aligned to st_blksize.

import { fstatSync, readFileSync } from 'node:fs';
import {
  FALLOC_FL_KEEP_SIZE as FALLOCATE_KEEP,
  FALLOC_FL_PUNCH_HOLE as FALLOCATE_PUNCH,
  fallocate,
  strerror,
  FS_IOC_FIEMAP,
  ioctlBuf,
} from '../memory/libc.js';
import { readU32le, readU64le, writeU32le, writeU64le } from '../util/bytes.js';
import { fail } from './errors.js';
import { regionAttr, sysfs } from './nd.js';
import { windowBadBlocks } from './nvmemu.js';
import type { Pmem2Source } from './source.js';

/** pmem2_badblock: a bad range in bytes, relative to the source. */
export interface Pmem2BadBlock {
  offset: number;
  length: number;
}

interface Extent {
  logical: number;
  physical: number;
  length: number;
}

const INT64_MAX = 2 ** 63 - 1;
const FIEMAP_HDR = 32;
const FIEMAP_EXT = 56;

/** "sector count" lines → byte ranges. */
export function parseBadblocks(text: string): Pmem2BadBlock[] {
  const out: Pmem2BadBlock[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (m !== null) out.push({ offset: Number(m[1]) * 512, length: Number(m[2]) * 512 });
  }
  return out;
}

/** Extents of an open file via two FIEMAP calls (count, then fetch); [] when unsupported. */
export function fileExtents(fd: number): Extent[] {
  const q = new Uint8Array(FIEMAP_HDR);
  writeU64le(q, 8, 0xffff_ffff_ffff_ffffn); // fm_length: whole file
  if (ioctlBuf(fd, FS_IOC_FIEMAP, q) !== 0) return [];
  const count = readU32le(q, 20);
  const buf = new Uint8Array(FIEMAP_HDR + count * FIEMAP_EXT);
  writeU64le(buf, 8, 0xffff_ffff_ffff_ffffn);
  writeU32le(buf, 24, count); // fm_extent_count
  if (ioctlBuf(fd, FS_IOC_FIEMAP, buf) !== 0) return [];
  const n = readU32le(buf, 20);
  const out: Extent[] = [];
  for (let i = 0; i < n; i++) {
    const at = FIEMAP_HDR + i * FIEMAP_EXT;
    out.push({
      logical: Number(readU64le(buf, at)),
      physical: Number(readU64le(buf, at + 8)),
      length: Number(readU64le(buf, at + 16)),
    });
  }
  return out;
}

/** Clip region-relative ranges to [beg, beg+size) and make them namespace relative. */
export function clipToWindow(list: Pmem2BadBlock[], beg: number, size: number): Pmem2BadBlock[] {
  const out: Pmem2BadBlock[] = [];
  for (const b of list) {
    const s = Math.max(b.offset, beg);
    const e = Math.min(b.offset + b.length, beg + size);
    if (e > s) out.push({ offset: s - beg, length: e - s });
  }
  return out;
}

/** Map device ranges through file extents to file offsets, aligned to the block size. */
export function throughExtents(list: Pmem2BadBlock[], ext: Extent[], blk: number): Pmem2BadBlock[] {
  const out: Pmem2BadBlock[] = [];
  for (const b of list)
    for (const x of ext) {
      const s = Math.max(b.offset, x.physical);
      const e = Math.min(b.offset + b.length, x.physical + x.length);
      if (e <= s) continue;
      const off = x.logical + (s - x.physical);
      const start = off - (off % blk);
      out.push({ offset: start, length: Math.ceil((off + (e - s) - start) / blk) * blk });
    }
  return out;
}

/** pmem2_badblock_context: iterates and clears the bad blocks of a source. */
export class Pmem2BadBlockContext {
  readonly #src: Pmem2Source;
  readonly #list: Pmem2BadBlock[] | null;
  #next = 0;

  private constructor(src: Pmem2Source, list: Pmem2BadBlock[] | null) {
    this.#src = src;
    this.#list = list;
  }

  /** pmem2_badblock_context_new: no matching device still succeeds (next finds nothing). */
  static create(src: Pmem2Source): Pmem2BadBlockContext {
    if (src.kind === 'anon')
      throw fail('PMEM2_E_NOSUPP', 'Anonymous source does not support bad blocks');
    // Emulated device: the window is the device itself (no file extents to translate).
    if (src.emu !== null) return new Pmem2BadBlockContext(src, windowBadBlocks(src.emu));
    const nd = src.ndDevice();
    if (nd === null) return new Pmem2BadBlockContext(src, null);
    let list: Pmem2BadBlock[];
    if (nd.block !== null && !nd.child.startsWith('dax')) {
      list = parseBadblocks(readText(sysfs('block', nd.block, 'badblocks')));
    } else {
      const res = regionAttr(nd.region, 'resource');
      const childRes = readText(sysfs('bus', 'nd', 'devices', nd.child, 'resource')).trim();
      const childSize = readText(sysfs('bus', 'nd', 'devices', nd.child, 'size')).trim();
      if (res === null || childRes === '' || childSize === '')
        throw fail('PMEM2_E_CANNOT_READ_BOUNDS', `cannot read the bounds of ${nd.child}`);
      const all = parseBadblocks(readText(sysfs('bus', 'nd', 'devices', nd.region, 'badblocks')));
      list = clipToWindow(all, Number(childRes) - Number(res), Number(childSize));
    }
    if (src.kind === 'reg') {
      const blk = Number(fstatSync(src.fd).blksize) || 4096;
      list = throughExtents(list, fileExtents(src.fd), blk);
    }
    return new Pmem2BadBlockContext(src, list);
  }

  /** pmem2_badblock_next */
  next(): Pmem2BadBlock {
    if (this.#list === null)
      throw fail(
        'PMEM2_E_NO_BAD_BLOCK_FOUND',
        'Cannot find any matching device, no bad blocks found',
      );
    const b = this.#list[this.#next];
    if (b === undefined) throw fail('PMEM2_E_NO_BAD_BLOCK_FOUND', 'no bad blocks found');
    this.#next++;
    return { ...b };
  }

  /** pmem2_badblock_clear: files get punched and re-allocated (data lost); devdax needs ARS. */
  clear(bb: Pmem2BadBlock): void {
    if (this.#src.emu !== null)
      throw fail(
        'PMEM2_E_NOSUPP',
        'clearing bad blocks of an nvmemu device goes through its monitor: use ' +
          'clearNvmemuBadBlock() or `nvmemu ndctl clear-errors`',
      );
    if (this.#src.kind !== 'reg')
      throw fail('PMEM2_E_NOSUPP', 'clearing bad blocks of device DAX (ARS) is not supported');
    if (bb.offset > INT64_MAX) throw fail('PMEM2_E_OFFSET_OUT_OF_RANGE', 'offset too big');
    if (bb.length > INT64_MAX) throw fail('PMEM2_E_LENGTH_OUT_OF_RANGE', 'length too big');
    const fd = this.#src.fd;
    let r = fallocate(fd, FALLOCATE_PUNCH | FALLOCATE_KEEP, bb.offset, bb.length);
    if (r !== 0) throw fail(-r, `fallocate: ${strerror(r)}`);
    r = fallocate(fd, FALLOCATE_KEEP, bb.offset, bb.length);
    if (r !== 0) throw fail(-r, `fallocate: ${strerror(r)}`);
  }

  /** pmem2_badblock_context_delete */
  delete(): void {
    this.#next = Number.MAX_SAFE_INTEGER;
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
