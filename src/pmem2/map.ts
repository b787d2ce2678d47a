// pmem2_map (pmdk.md §3, §2.1, §11 items 4–10).

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import {
  HostCallError,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_SYNC,
  PROT_READ,
  PROT_WRITE,
  mmap,
  msync,
  munmap,
  view,
  PAGE_SIZE,
  PROT_EXEC,
} from '../memory/libc.js';
import {
  GRANULARITY_NAMES,
  PMEM2_PROT_EXEC,
  PMEM2_PROT_READ,
  PMEM2_PROT_WRITE,
  type Granularity,
  type Pmem2Config,
} from './config.js';
import { cpu } from './cpu.js';
import { fail } from './errors.js';
import { availableGranularity, granularityError } from './granularity.js';
import { log } from './env.js';
import { MemOps, PMEM2_F_MEM_NOFLUSH, PMEM2_F_MEM_TEMPORAL } from './mem.js';
import { cpuOrder } from './order.js';
import { findNdDevice, sysfs } from './nd.js';
import { emulatedPlatform } from './nvmemu.js';
import { PowerFailSim } from './power-fail.js';
import { register, unregister, type Registered } from './registry.js';
import type { Pmem2VmReservation } from './reservation.js';
import { SimMemOps } from './sim-ops.js';
import type { Pmem2Source } from './source.js';

const MiB2 = 2 * 1024 * 1024;
const GiB = 1024 * 1024 * 1024;
const E = constants.errno;

const roundUp = (v: number, a: number): number => Math.ceil(v / a) * a;

function mmapErrno(e: HostCallError): never {
  const msg = e.message;
  if (e.errno === E.EACCES) throw fail('PMEM2_E_NO_ACCESS', msg);
  if (e.errno === E.ENOTSUP) throw fail('PMEM2_E_NOSUPP', msg);
  if (e.errno === E.EEXIST) throw fail('PMEM2_E_MAPPING_EXISTS', msg);
  throw fail(-e.errno, msg);
}

function osProt(p: number): number {
  let r = 0;
  if ((p & PMEM2_PROT_READ) !== 0) r |= PROT_READ;
  if ((p & PMEM2_PROT_WRITE) >>> 0 !== 0) r |= PROT_WRITE;
  if ((p & PMEM2_PROT_EXEC) !== 0) r |= PROT_EXEC;
  return r;
}

/** Address aligned to `align` with `len` bytes reserved (anonymous, PROT_READ, private). §3.1 9. */
function placeAligned(len: number, align: number): number {
  const raw = Number(mmap(len + align, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  const at = roundUp(raw, align);
  if (at > raw) munmap(BigInt(raw), at - raw);
  const tail = raw + len + align - (at + len);
  if (tail > 0) munmap(BigInt(at + len), tail);
  return at;
}

/** pmem2_map: a mapping of a source, with the persist functions of its store granularity. */
export class Pmem2Map {
  /** Base address of the mapping. */
  readonly address: number;
  /** Content length (pmem2_map_get_size): not rounded to pages. */
  readonly size: number;
  /** pmem2_map_get_store_granularity: BYTE, CACHE_LINE or PAGE. */
  readonly storeGranularity: Granularity;
  /** The mapping itself; stores into it are stores into the file or device. */
  readonly bytes: Uint8Array;
  /** Null unless the config asked for power-failure simulation. */
  readonly sim: PowerFailSim | null;
  /** What the map was made from (a copy of the source facts). */
  readonly source: { kind: Pmem2Source['kind']; rdev: bigint; dev: bigint };
  readonly #reserved: number;
  readonly #reservation: Pmem2VmReservation | null;
  readonly #entry: Registered;
  readonly #ops: MemOps | SimMemOps;
  /** The C-style function pointers, made once: constant per map (§1.2). */
  readonly #fns: {
    persist: (addr: number, len: number) => void;
    flush: (addr: number, len: number) => void;
    drain: () => void;
  };
  #deleted = false;

  private constructor(
    address: number,
    size: number,
    reserved: number,
    g: Granularity,
    src: Pmem2Source,
    rsv: Pmem2VmReservation | null,
    simulate: boolean,
  ) {
    this.address = address;
    this.size = size;
    this.#reserved = reserved;
    this.storeGranularity = g;
    this.#reservation = rsv;
    this.source = { kind: src.kind, rdev: src.rdev, dev: src.dev };
    this.bytes = new Uint8Array(size === 0 ? new ArrayBuffer(0) : view(BigInt(address), size));
    this.#entry = { addr: address, len: size };
    if (simulate) {
      const sim = new PowerFailSim(g, this.bytes);
      this.sim = sim;
      this.#ops = new SimMemOps(g, address, this.bytes, sim);
    } else {
      this.sim = null;
      this.#ops = new MemOps(g, address, this.bytes, cpuOrder());
    }
    const ops = this.#ops;
    const persist = (p: number, n: number): void => ops.persist(checkAddr(p), checkAddr(n));
    this.#fns = {
      persist,
      // PAGE: flush_fn is persist_fn (pointer-equal in PMDK); the simulation logs them apart
      flush: g === 2 && !simulate ? persist : (p, n) => ops.flush(checkAddr(p), checkAddr(n)),
      drain: () => ops.drain(),
    };
  }

  /** pmem2_map_new, with the checks in the order of pmdk.md §3.1. */
  static create(cfg: Pmem2Config, src: Pmem2Source): Pmem2Map {
    if (cfg.requiredGranularity === -1)
      throw fail(
        'PMEM2_E_GRANULARITY_NOT_SET',
        'please define the max granularity requested for the mapping',
      );
    const required = cfg.requiredGranularity;
    const align = src.alignment();
    const fileSize = BigInt(src.size());
    const bAlign = BigInt(align);
    if (cfg.offset % bAlign !== 0n)
      throw fail('PMEM2_E_OFFSET_UNALIGNED', `offset is not a multiple of ${align}`);
    const anon = src.kind === 'anon';
    if (src.isDevdax && cfg.sharing === 1)
      throw fail('PMEM2_E_SRC_DEVDAX_PRIVATE', 'device DAX does not support private mapping');
    if (fileSize === 0n) throw fail('PMEM2_E_SOURCE_EMPTY', 'file length is equal 0');
    if (cfg.length % bAlign !== 0n)
      throw fail('PMEM2_E_LENGTH_UNALIGNED', `length is not a multiple of ${align}`);
    const end = cfg.offset + cfg.length;
    if (end >= 1n << 64n) throw fail('PMEM2_E_MAP_RANGE', 'overflow of offset and length');
    if (end > fileSize) throw fail('PMEM2_E_MAP_RANGE', 'mapping larger than file size');
    const contentBig = cfg.length !== 0n ? cfg.length : fileSize - cfg.offset;
    if (cfg.length === 0n && cfg.offset > fileSize)
      throw fail('PMEM2_E_MAP_RANGE', 'mapping larger than file size');
    const content = Number(contentBig);
    const reserved = roundUp(content, PAGE_SIZE);
    const rsv = cfg.reservation;
    let at: number;
    if (rsv !== null) at = rsv.placeMap(Number(cfg.reservationOffset), reserved, align);
    else at = placeAligned(reserved, Math.max(content >= 2 * GiB ? GiB : MiB2, align));
    const prot = osProt(cfg.protection);
    // anon: "offset is ignored" (§3.1 5); emulated devices: relative to their window.
    const fileOff = anon ? 0 : src.fileOffset + Number(cfg.offset);
    let mapSync = false;
    const undo = (): void =>
      rsv !== null ? rsv.refill(at, reserved) : munmap(BigInt(at), reserved);
    try {
      if (anon) {
        const share = cfg.sharing === 1 ? MAP_PRIVATE : MAP_SHARED;
        mmap(content, prot, share | MAP_ANONYMOUS | MAP_FIXED, -1, 0, BigInt(at));
      } else if (cfg.sharing === 1) {
        mmap(content, prot, MAP_PRIVATE | MAP_FIXED, src.fd, fileOff, BigInt(at));
      } else {
        try {
          mmap(
            content,
            prot,
            MAP_SHARED_VALIDATE | MAP_SYNC | MAP_FIXED,
            src.fd,
            fileOff,
            BigInt(at),
          );
          mapSync = true;
        } catch (e) {
          if (!(e instanceof HostCallError) || (e.errno !== E.EINVAL && e.errno !== E.EOPNOTSUPP))
            throw e;
          mmap(content, prot, MAP_SHARED | MAP_FIXED, src.fd, fileOff, BigInt(at));
        }
      }
    } catch (e) {
      undo();
      if (e instanceof HostCallError) mmapErrno(e);
      throw e;
    }
    // An emulated device answers the MAP_SYNC and eADR probes as the guest's would (nvmemu.ts).
    const emu = src.emu === null ? null : emulatedPlatform(src.emu);
    const available = availableGranularity({
      anon,
      sharing: cfg.sharing,
      mapSync: emu?.mapSync ?? mapSync,
      env: process.env,
      ...(emu === null ? {} : { eadr: () => emu.eadr }),
    });
    log(3, 'pmem2_map_new', `map_sync ${mapSync}, granularity ${GRANULARITY_NAMES[available]}`);
    const gerr = granularityError(required, available);
    if (gerr !== null) {
      undo();
      throw fail('PMEM2_E_GRANULARITY_NOT_SUPPORTED', gerr);
    }
    const map = new Pmem2Map(at, content, reserved, available, src, rsv, cfg.simulation.powerFail);
    if (!register(map.#entry)) {
      undo();
      throw fail('PMEM2_E_MAPPING_EXISTS', 'mapping overlaps an existing libpmem2 mapping');
    }
    rsv?.attach(map);
    return map;
  }

  /** pmem2_map_from_existing: wraps a caller-made mapping; delete never unmaps it (§3.4). */
  static fromExisting(src: Pmem2Source, addr: number, len: number, g: Granularity): Pmem2Map {
    const map = new Pmem2Map(addr, len, 0, g, src, null, false);
    if (!register(map.#entry))
      throw fail(
        'PMEM2_E_MAP_EXISTS',
        `Provided mapping(addr 0x${addr.toString(16)} len ${len}) is already registered by libpmem2`,
      );
    return map;
  }

  /** pmem2_map_delete: unregister, then unmap (or re-fill the reservation range). */
  delete(): void {
    if (this.#deleted || !unregister(this.#entry))
      throw fail('PMEM2_E_MAPPING_NOT_FOUND', 'map does not exist');
    this.#deleted = true;
    if (this.#reserved === 0) return;
    if (this.#reservation !== null) {
      this.#reservation.detach(this);
      this.#reservation.refill(this.address, this.#reserved);
    } else munmap(BigInt(this.address), this.size);
  }

  /** Whether delete() was called (the mapping is gone). */
  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * pmem2_get_persist_fn / flush_fn / drain_fn: address based like the C function pointers.
   * Addresses must be non-negative integers (a TypeError otherwise); as in C, a range that is not
   * mapped at all is the caller's to avoid (PAGE skips it, CACHE_LINE faults on it).
   */
  get persistFn(): (addr: number, len: number) => void {
    return this.#fns.persist;
  }
  /** pmem2_get_flush_fn, address based. */
  get flushFn(): (addr: number, len: number) => void {
    return this.#fns.flush;
  }
  /** pmem2_get_drain_fn. */
  get drainFn(): () => void {
    return this.#fns.drain;
  }

  /** Persist `len` bytes at map offset `off` (flush + drain at the map's granularity). */
  persist(off: number, len: number): void {
    this.#range(off, len);
    this.#ops.persist(this.address + off, len);
  }
  /** Flush `len` bytes at map offset `off` (no drain). */
  flush(off: number, len: number): void {
    this.#range(off, len);
    this.#ops.flush(this.address + off, len);
  }
  /** Wait for earlier flushes (the drain step of persist). */
  drain(): void {
    this.#ops.drain();
  }

  /** memcpy_fn (== memmove_fn) from a JS buffer to map offset `off`, with PMEM2_F_MEM_* flags. */
  memcpy(off: number, src: Uint8Array, flags = 0): void {
    this.#range(off, src.length);
    this.#ops.copy(off, src, flags);
  }
  /** memmove_fn within the map (overlap-safe). */
  memmove(dst: number, src: number, len: number, flags = 0): void {
    this.#range(dst, len);
    this.#range(src, len);
    this.#ops.move(dst, src, len, flags);
  }
  /** memset_fn */
  memset(off: number, c: number, len: number, flags = 0): void {
    this.#range(off, len);
    this.#ops.set(off, c, len, flags);
  }

  #range(off: number, len: number): void {
    if (
      !Number.isInteger(off) ||
      !Number.isInteger(len) ||
      off < 0 ||
      len < 0 ||
      off + len > this.size
    )
      throw new RangeError(`range [${off}, ${off + len}) outside the ${this.size}-byte map`);
  }

  /** pmem2_deep_flush (§3.6) for map offsets. */
  deepFlush(off: number, len: number): void {
    this.deepFlushAt(this.address + off, len);
  }

  /** pmem2_deep_flush with an address, as in C. */
  deepFlushAt(ptr: number, len: number): void {
    const end = this.address + this.size;
    if (ptr < this.address || ptr + len > end)
      throw fail(
        'PMEM2_E_DEEP_FLUSH_RANGE',
        `requested deep flush rage ptr 0x${ptr.toString(16)} size ${len}` +
          `exceeds map range 0x${this.address.toString(16)}`,
      );
    if (this.storeGranularity === 2) return;
    if (this.source.kind === 'anon')
      throw fail('PMEM2_E_NOSUPP', 'Anonymous source does not support deep flush');
    if (this.sim !== null) {
      this.sim.persist(ptr - this.address, len);
      return;
    }
    if (this.source.kind === 'reg') {
      const start = ptr - (ptr % PAGE_SIZE);
      try {
        msync(BigInt(start), ptr + len - start);
      } catch (e) {
        if (e instanceof HostCallError) throw fail(-e.errno, e.message);
        throw e;
      }
      return;
    }
    this.#ops.persist(ptr, len);
    deviceDeepFlush(this.source.rdev);
  }

  /**
   * A plain store of `data` at `offset` (no flush): what `map.bytes.set(data, offset)` does,
   * but seen by the power-failure simulation as it happens (the store explorer tracks each store
   * and its stack; direct stores into `bytes` are only found at the next flush or fence).
   */
  store(offset: number, data: Uint8Array): void {
    this.memcpy(offset, data, PMEM2_F_MEM_NOFLUSH | PMEM2_F_MEM_TEMPORAL);
  }

  /**
   * A marker in the power-failure simulation's log (pmreorder's markers: `NAME.BEGIN` and
   * `NAME.END` delimit a region whose engine the explorer may set; the check sees every marker
   * emitted before the crash). No effect without simulation.
   */
  mark(name: string): void {
    this.sim?.record('mark', 0, 0, 0, name);
  }

  /** Simulation only: the image a restart would see (power-fail.ts). */
  simulatePowerFailure(opts?: Parameters<PowerFailSim['simulatePowerFailure']>[0]): Uint8Array {
    if (this.sim === null)
      throw fail('PMEM2_E_NOSUPP', 'map was not created with power-failure simulation');
    return this.sim.simulatePowerFailure(opts);
  }

  /** Whether NT/flush kernels are active (false means msync fallbacks, see cpu.ts). */
  static get cpuFlush(): string {
    return cpu?.insn ?? 'msync';
  }
}

/** A C pointer or size passed as a number: a non-negative safe integer, or a TypeError. */
function checkAddr(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new TypeError(`address or length ${String(v)} is not a non-negative integer`);
  return v;
}

/** devdax deep flush: region's deep_flush attribute, "0\n" means nothing to do (§3.6). */
function deviceDeepFlush(rdev: bigint): void {
  const nd = findNdDevice('char', rdev);
  if (nd === null) throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', 'cannot find dax region');
  const path = sysfs('bus', 'nd', 'devices', nd.region, 'deep_flush');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return; // cannot be opened: PMDK returns 0 silently
  }
  const b = Buffer.alloc(2);
  readSync(fd, b, 0, 2, 0);
  closeSync(fd);
  if (b.toString('latin1') === '0\n') return;
  try {
    const w = openSync(path, 'w');
    writeSync(w, '1');
    closeSync(w);
  } catch (e) {
    log(2, 'pmem2_deep_flush', `deep_flush write: ${(e as Error).message}`);
  }
}
