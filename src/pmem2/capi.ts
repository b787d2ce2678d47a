// The 1:1 libpmem2 function layer: same names, 0 / negative return values, out-parameters as
// `{ value }` boxes set to null on failed constructors and successful deletes (pmdk.md §11
// item 1), pointers as numbers. The man pages document these; the classes do the work.

import { view } from '../memory/libc.js';
import { Pmem2BadBlockContext, type Pmem2BadBlock } from './badblocks.js';
import { Pmem2Config, type Granularity } from './config.js';
import { errToErrno, errormsg, fail, perror, toRet } from './errors.js';
import { Pmem2Map } from './map.js';
import { Pmem2VmReservation } from './reservation.js';
import { Pmem2Source } from './source.js';

export interface Out<T> {
  value: T | null;
}

function make<T>(out: Out<T>, fn: () => T): number {
  out.value = null;
  return toRet(() => {
    out.value = fn();
  });
}

function del<T>(box: Out<T>, fn: (v: T) => void): number {
  if (box.value === null) return 0;
  const v = box.value;
  const r = toRet(() => fn(v));
  if (r === 0) box.value = null;
  return r;
}

// config
export const pmem2_config_new = (out: Out<Pmem2Config>): number =>
  make(out, () => new Pmem2Config());
export const pmem2_config_delete = (box: Out<Pmem2Config>): number => del(box, () => {});
export const pmem2_config_set_required_store_granularity = (c: Pmem2Config, g: number): number =>
  toRet(() => c.setRequiredStoreGranularity(g));
export const pmem2_config_set_offset = (c: Pmem2Config, o: number | bigint): number =>
  toRet(() => c.setOffset(o));
export const pmem2_config_set_length = (c: Pmem2Config, l: number | bigint): number =>
  toRet(() => c.setLength(l));
export const pmem2_config_set_sharing = (c: Pmem2Config, s: number): number =>
  toRet(() => c.setSharing(s));
export const pmem2_config_set_protection = (c: Pmem2Config, p: number): number =>
  toRet(() => c.setProtection(p));
export const pmem2_config_set_vm_reservation = (
  c: Pmem2Config,
  r: Pmem2VmReservation<Pmem2Map> | null,
  off: number | bigint,
): number => toRet(() => c.setVmReservation(r, off));

// source
export const pmem2_source_from_fd = (out: Out<Pmem2Source>, fd: number): number =>
  make(out, () => Pmem2Source.fromFd(fd));
export const pmem2_source_from_anon = (out: Out<Pmem2Source>, size: number): number =>
  make(out, () => Pmem2Source.fromAnon(size));
export const pmem2_source_delete = (box: Out<Pmem2Source>): number => del(box, (s) => s.delete());
export const pmem2_source_get_fd = (s: Pmem2Source, out: Out<number>): number =>
  toRet(() => (out.value = s.getFd()));
export const pmem2_source_size = (s: Pmem2Source, out: Out<number>): number =>
  toRet(() => (out.value = s.size()));
export const pmem2_source_alignment = (s: Pmem2Source, out: Out<number>): number =>
  toRet(() => (out.value = s.alignment()));
export const pmem2_source_numa_node = (s: Pmem2Source, out: Out<number>): number =>
  toRet(() => (out.value = s.numaNode()));
export const pmem2_source_device_usc = (s: Pmem2Source, out: Out<bigint>): number =>
  toRet(() => (out.value = s.deviceUsc()));

/**
 * pmem2_source_device_id: with `id` null, `len.value` becomes the needed size (ids + NUL);
 * otherwise the ids are written to `id` (NUL terminated) or BUFFER_TOO_SMALL is returned.
 */
export function pmem2_source_device_id(
  s: Pmem2Source,
  id: Uint8Array | null,
  len: Out<number>,
): number {
  return toRet(() => {
    const text = Buffer.from(s.deviceId(), 'utf8');
    if (id === null) {
      len.value = text.length + 1;
      return;
    }
    if (text.length + 1 > (len.value ?? 0))
      throw fail('PMEM2_E_BUFFER_TOO_SMALL', 'id buffer is too small');
    id.set(text);
    id[text.length] = 0;
  });
}
export const pmem2_source_pread_mcsafe = (s: Pmem2Source, buf: Uint8Array, off: number): number =>
  toRet(() => s.preadMcsafe(buf, off));
export const pmem2_source_pwrite_mcsafe = (s: Pmem2Source, buf: Uint8Array, off: number): number =>
  toRet(() => s.pwriteMcsafe(buf, off));

// map
export const pmem2_map_new = (out: Out<Pmem2Map>, c: Pmem2Config, s: Pmem2Source): number =>
  make(out, () => Pmem2Map.create(c, s));
export const pmem2_map_delete = (box: Out<Pmem2Map>): number => {
  if (box.value === null) return 0;
  return del(box, (m) => m.delete());
};
export const pmem2_map_from_existing = (
  out: Out<Pmem2Map>,
  s: Pmem2Source,
  addr: number,
  len: number,
  g: Granularity,
): number => make(out, () => Pmem2Map.fromExisting(s, addr, len, g));
export const pmem2_map_get_address = (m: Pmem2Map): number => m.address;
export const pmem2_map_get_size = (m: Pmem2Map): number => m.size;
export const pmem2_map_get_store_granularity = (m: Pmem2Map): Granularity => m.storeGranularity;

export const pmem2_get_persist_fn = (m: Pmem2Map): ((p: number, n: number) => void) => m.persistFn;
export const pmem2_get_flush_fn = (m: Pmem2Map): ((p: number, n: number) => void) => m.flushFn;
export const pmem2_get_drain_fn = (m: Pmem2Map): (() => void) => m.drainFn;

export type MemmoveFn = (
  dst: number,
  src: number | Uint8Array,
  len: number,
  flags: number,
) => number;
export type MemsetFn = (dst: number, c: number, len: number, flags: number) => number;

const within = (m: Pmem2Map, p: number, n: number): boolean =>
  p >= m.address && p + n <= m.address + m.size;

/** memmove_fn (memcpy_fn is the same function, §1.2): pointers inside the map take the fast path. */
export function pmem2_get_memmove_fn(m: Pmem2Map): MemmoveFn {
  return (dst, src, len, flags) => {
    if (len === 0) return dst;
    const from = typeof src === 'number' ? null : src.subarray(0, len);
    if (within(m, dst, len)) {
      if (from !== null) m.memcpy(dst - m.address, from, flags);
      else if (within(m, src as number, len))
        m.memmove(dst - m.address, (src as number) - m.address, len, flags);
      else
        m.memcpy(dst - m.address, new Uint8Array(view(BigInt(src as number), len)).slice(), flags);
      return dst;
    }
    // Outside every byte of this map: copy, then use the map's flush/drain as C would.
    const target = new Uint8Array(view(BigInt(dst), len));
    target.set(from ?? new Uint8Array(view(BigInt(src as number), len)).slice());
    if ((flags & 0x20) === 0) m.flushFn(dst, len);
    if ((flags & 0x21) === 0) m.drainFn();
    return dst;
  };
}
export const pmem2_get_memcpy_fn = pmem2_get_memmove_fn;

export function pmem2_get_memset_fn(m: Pmem2Map): MemsetFn {
  return (dst, c, len, flags) => {
    if (len === 0) return dst;
    if (within(m, dst, len)) m.memset(dst - m.address, c, len, flags);
    else {
      new Uint8Array(view(BigInt(dst), len)).fill(c & 0xff);
      if ((flags & 0x20) === 0) m.flushFn(dst, len);
      if ((flags & 0x21) === 0) m.drainFn();
    }
    return dst;
  };
}

export const pmem2_deep_flush = (m: Pmem2Map, ptr: number, size: number): number =>
  toRet(() => m.deepFlushAt(ptr, size));

// bad blocks
export const pmem2_badblock_context_new = (
  out: Out<Pmem2BadBlockContext>,
  s: Pmem2Source,
): number => make(out, () => Pmem2BadBlockContext.create(s));
export const pmem2_badblock_next = (c: Pmem2BadBlockContext, bb: Pmem2BadBlock): number =>
  toRet(() => Object.assign(bb, c.next()));
export const pmem2_badblock_clear = (c: Pmem2BadBlockContext, bb: Pmem2BadBlock): number =>
  toRet(() => c.clear(bb));
export function pmem2_badblock_context_delete(box: Out<Pmem2BadBlockContext>): void {
  box.value?.delete();
  box.value = null;
}

// vm reservations
export const pmem2_vm_reservation_new = (
  out: Out<Pmem2VmReservation<Pmem2Map>>,
  addr: number | null,
  size: number,
): number => make(out, () => Pmem2VmReservation.create<Pmem2Map>(addr, size));
export const pmem2_vm_reservation_delete = (box: Out<Pmem2VmReservation<Pmem2Map>>): number =>
  del(box, (r) => r.delete());
export const pmem2_vm_reservation_get_address = (r: Pmem2VmReservation<Pmem2Map>): number =>
  r.address;
export const pmem2_vm_reservation_get_size = (r: Pmem2VmReservation<Pmem2Map>): number => r.size;
export const pmem2_vm_reservation_extend = (
  r: Pmem2VmReservation<Pmem2Map>,
  size: number,
): number => toRet(() => r.extend(size));
export const pmem2_vm_reservation_shrink = (
  r: Pmem2VmReservation<Pmem2Map>,
  off: number,
  size: number,
): number => toRet(() => r.shrink(off, size));
export const pmem2_vm_reservation_map_find = (
  r: Pmem2VmReservation<Pmem2Map>,
  off: number,
  len: number,
  out: Out<Pmem2Map>,
): number => make(out, () => r.mapFind(off, len));
export const pmem2_vm_reservation_map_find_first = (
  r: Pmem2VmReservation<Pmem2Map>,
  out: Out<Pmem2Map>,
): number => make(out, () => r.mapFindFirst());
export const pmem2_vm_reservation_map_find_last = (
  r: Pmem2VmReservation<Pmem2Map>,
  out: Out<Pmem2Map>,
): number => make(out, () => r.mapFindLast());
export const pmem2_vm_reservation_map_find_next = (
  r: Pmem2VmReservation<Pmem2Map>,
  m: Pmem2Map,
  out: Out<Pmem2Map>,
): number => make(out, () => r.mapFindNext(m));
export const pmem2_vm_reservation_map_find_prev = (
  r: Pmem2VmReservation<Pmem2Map>,
  m: Pmem2Map,
  out: Out<Pmem2Map>,
): number => make(out, () => r.mapFindPrev(m));

// errors
export const pmem2_errormsg = errormsg;
export const pmem2_perror = perror;
export const pmem2_err_to_errno = errToErrno;
