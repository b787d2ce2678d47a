// pmem2_vm_reservation (pmdk.md §3.5, §11 item 11): a PROT_NONE anonymous range that maps are
// placed into; unmapped map ranges are re-filled with PROT_NONE so the range stays reserved.

import { constants } from 'node:os';
import {
  HostCallError,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  mmap,
  munmap,
  MAP_FIXED_NOREPLACE,
  PAGE_SIZE,
} from '../memory/libc.js';
import { fail } from './errors.js';

const MiB2 = 2 * 1024 * 1024;
const GiB = 1024 * 1024 * 1024;
const hex = (n: number): string => `0x${n.toString(16)}`;

/** What a reservation knows of a map placed in it (a M). */
export interface ReservedMap {
  readonly address: number;
  readonly size: number;
}

/**
 * pmem2_vm_reservation: a range of address space that maps are placed in. Generic over the map
 * type so that it does not depend on map.ts (which places maps in it): the public surface uses
 * Pmem2VmReservation<M>.
 */
export class Pmem2VmReservation<M extends ReservedMap = ReservedMap> {
  #addr: number;
  #size: number;
  /** Maps inside, sorted by address. */
  readonly #maps: M[] = [];

  private constructor(addr: number, size: number) {
    this.#addr = addr;
    this.#size = size;
  }

  /** pmem2_vm_reservation_new(addr or null, size). */
  static create<M extends ReservedMap = ReservedMap>(
    addr: number | null,
    size: number,
  ): Pmem2VmReservation<M> {
    if (addr !== null && addr % PAGE_SIZE !== 0)
      throw fail(
        'PMEM2_E_ADDRESS_UNALIGNED',
        `address ${hex(addr)} is not a multiple of ${hex(PAGE_SIZE)}`,
      );
    if (size % PAGE_SIZE !== 0)
      throw fail(
        'PMEM2_E_LENGTH_UNALIGNED',
        `reservation size ${size} is not a multiple of ${PAGE_SIZE}`,
      );
    if (addr !== null) {
      let got: number;
      try {
        got = Number(
          mmap(size, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, BigInt(addr)),
        );
      } catch (e) {
        if (e instanceof HostCallError && e.errno === constants.errno.EEXIST)
          throw fail('PMEM2_E_MAPPING_EXISTS', `mmap: ${e.message.split(': ')[1] ?? ''}`);
        if (e instanceof HostCallError) throw fail(-e.errno, e.message);
        throw e;
      }
      if (got !== addr) {
        munmap(BigInt(got), size);
        throw fail('PMEM2_E_MAPPING_EXISTS', `mapping at address ${hex(addr)} already exists`);
      }
      return new Pmem2VmReservation<M>(addr, size);
    }
    const align = size >= 2 * GiB ? GiB : MiB2;
    const raw = Number(mmap(size + align, 0, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    const at = Math.ceil(raw / align) * align;
    if (at > raw) munmap(BigInt(raw), at - raw);
    const tail = raw + size + align - (at + size);
    if (tail > 0) munmap(BigInt(at + size), tail);
    return new Pmem2VmReservation<M>(at, size);
  }

  /** Start address of the reservation. */
  get address(): number {
    return this.#addr;
  }
  /** Size of the reservation in bytes. */
  get size(): number {
    return this.#size;
  }

  /** pmem2_vm_reservation_delete */
  delete(): void {
    if (this.#maps.length > 0)
      throw fail(
        'PMEM2_E_VM_RESERVATION_NOT_EMPTY',
        `vm reservation ${hex(this.#addr)} isn't empty`,
      );
    munmap(BigInt(this.#addr), this.#size);
    this.#size = 0;
  }

  /** map_new's reservation checks (§3.1 9); returns the address to map at. */
  placeMap(offset: number, reserved: number, align: number): number {
    if (offset % PAGE_SIZE !== 0)
      throw fail('PMEM2_E_OFFSET_UNALIGNED', `offset ${offset} is not a multiple of ${PAGE_SIZE}`);
    if (offset + reserved > this.#size)
      throw fail(
        'PMEM2_E_LENGTH_OUT_OF_RANGE',
        `Reservation ${hex(this.#addr)} has not enough space for the intended content`,
      );
    const at = this.#addr + offset;
    if (at % align !== 0)
      throw fail(
        'PMEM2_E_ADDRESS_UNALIGNED',
        `reservation address ${hex(at)} is not a multiple of ${align}`,
      );
    if (this.#maps.some((m) => m.address < at + reserved && at < m.address + m.size))
      throw fail(
        'PMEM2_E_MAPPING_EXISTS',
        `mapping at address ${hex(at)} of size ${reserved} overlaps an existing mapping`,
      );
    return at;
  }

  /** Put PROT_NONE back over [at, at+len) after a map leaves (or failed to arrive). */
  refill(at: number, len: number): void {
    mmap(len, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0, BigInt(at));
  }

  /** Records a map placed inside the reservation (M.create calls it). */
  attach(m: M): void {
    this.#maps.push(m);
    this.#maps.sort((a, b) => a.address - b.address);
  }

  /** Forgets a deleted map; its range becomes reserved again. */
  detach(m: M): void {
    const i = this.#maps.indexOf(m);
    if (i >= 0) this.#maps.splice(i, 1);
  }

  /** pmem2_vm_reservation_extend: grow at the end. */
  extend(size: number): void {
    if (size % PAGE_SIZE !== 0)
      throw fail(
        'PMEM2_E_LENGTH_UNALIGNED',
        `reservation size ${size} is not a multiple of ${PAGE_SIZE}`,
      );
    const at = this.#addr + this.#size;
    let got: number;
    try {
      got = Number(
        mmap(size, 0, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0, BigInt(at)),
      );
    } catch (e) {
      if (e instanceof HostCallError && e.errno === constants.errno.EEXIST)
        throw fail('PMEM2_E_MAPPING_EXISTS', 'mmap: ' + e.message.split(': ')[1]);
      throw e;
    }
    if (got !== at) {
      munmap(BigInt(got), size);
      throw fail('PMEM2_E_MAPPING_EXISTS', `mapping at address ${hex(at)} already exists`);
    }
    this.#size += size;
  }

  /** pmem2_vm_reservation_shrink: checks in the order of §3.5. */
  shrink(offset: number, size: number): void {
    if (offset % PAGE_SIZE !== 0)
      throw fail(
        'PMEM2_E_OFFSET_UNALIGNED',
        `reservation offset ${offset} is not a multiple of ${PAGE_SIZE}`,
      );
    if (size % PAGE_SIZE !== 0)
      throw fail(
        'PMEM2_E_LENGTH_UNALIGNED',
        `reservation size ${size} is not a multiple of ${PAGE_SIZE}`,
      );
    if (offset >= this.#size)
      throw fail('PMEM2_E_OFFSET_OUT_OF_RANGE', `offset ${offset} is out of reservation range`);
    if (size === 0) throw fail('PMEM2_E_LENGTH_OUT_OF_RANGE', 'shrink size cannot be 0');
    if (offset + size > this.#size)
      throw fail('PMEM2_E_LENGTH_OUT_OF_RANGE', 'shrink range goes beyond the reservation');
    if (offset !== 0 && offset + size !== this.#size)
      throw fail('PMEM2_E_NOSUPP', 'shrinking reservation from the middle is not supported');
    if (offset === 0 && size === this.#size)
      throw fail('PMEM2_E_NOSUPP', 'shrinking whole reservation is not supported');
    const at = this.#addr + offset;
    if (this.#maps.some((m) => m.address < at + size && at < m.address + m.size))
      throw fail('PMEM2_E_VM_RESERVATION_NOT_EMPTY', 'reservation range is not empty');
    munmap(BigInt(at), size);
    if (offset === 0) this.#addr += size;
    this.#size -= size;
  }

  #notFound(): never {
    throw fail('PMEM2_E_MAPPING_NOT_FOUND', 'no mapping found');
  }

  /** pmem2_vm_reservation_map_find: earliest map intersecting [offset, offset+len). */
  mapFind(offset: number, len: number): M {
    const a = this.#addr + offset;
    return (
      this.#maps.find((m) => m.address < a + len && a < m.address + m.size) ?? this.#notFound()
    );
  }
  /** pmem2_vm_reservation_map_find_first. */
  mapFindFirst(): M {
    return this.#maps[0] ?? this.#notFound();
  }
  /** pmem2_vm_reservation_map_find_last. */
  mapFindLast(): M {
    return this.#maps[this.#maps.length - 1] ?? this.#notFound();
  }
  /** pmem2_vm_reservation_map_find_next. */
  mapFindNext(m: M): M {
    return this.#maps[this.#maps.indexOf(m) + 1] ?? this.#notFound();
  }
  /** pmem2_vm_reservation_map_find_prev. */
  mapFindPrev(m: M): M {
    const i = this.#maps.indexOf(m);
    return (i > 0 ? this.#maps[i - 1] : undefined) ?? this.#notFound();
  }
}
