// Realized memory backends: real mappings of a file (memory-backend-file) or anonymous memory
// (memory-backend-ram), with the persistence model of persistence.ts on top.
//
// Mapping rules (reference qemu-pmem-ndctl.md §1.3; QEMU 7.2 file_ram_open/file_ram_alloc/
// qemu_ram_mmap): share=on → MAP_SHARED (other processes mapping the file see the stores),
// share=off → MAP_PRIVATE (copy-on-write, never reaches the file); readonly → O_RDONLY and,
// when the guest sees ROM, PROT_READ; a fresh zero-length file is extended to offset+size, an
// existing non-empty file is never truncated or grown; a directory gets an unlinked temp file;
// pmem=on with share=on first tries MAP_SYNC|MAP_SHARED_VALIDATE and, when the file system
// refuses (EOPNOTSUPP), warns with QEMU's text and maps without it.

import { closeSync, fsync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Component } from '../config/component.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import { toSafeNumber } from '../util/u64.js';
import type { BackendPlan } from './config.js';
import * as libc from './libc.js';
import {
  PersistenceModel,
  type Granularity,
  type InFlightChooser,
  type RevertedRange,
} from './persistence.js';
import { BackendIoError, linkOf, openBackingFile } from './backing-file.js';
import { PROGRESS_MIN_BYTES, ttyProgress, type ProgressSink } from './progress.js';
import { mbind } from './numa.js';

const fsyncAsync = promisify(fsync);

export { BackendIoError };

export interface BackendHooks {
  /** Raw lines QEMU prints with fprintf (no program prefix). Default: process.stderr. */
  readonly stderr?: (line: string) => void;
  /** warn_report() lines, given without prefix. Default: `nvmemu: warning: ...` on stderr. */
  readonly warn?: (message: string) => void;
  /** Prealloc progress; default a bar on a TTY stderr for large backends. */
  readonly progress?: ProgressSink;
  /** Registers host undo actions (file created → deleted, extended → truncated back). */
  readonly onRollback?: (undo: () => void) => void;
}

/** What a power failure did to one backend. */
export interface PowerFailReport {
  readonly id: string;
  readonly granularity: Granularity;
  /** 'file': the backing file now holds the post-crash image; 'none': nothing survives. */
  readonly image: 'file' | 'none';
  /** Ranges (backend offsets) whose unpersisted stores were discarded. */
  readonly reverted: readonly RevertedRange[];
}

export class MemoryBackend implements Component {
  readonly typeName: BackendPlan['typeName'];
  readonly id: string;
  readonly plan: BackendPlan;
  /** Size devices see (`size`); the mapping is `plan.mapSize` bytes. */
  readonly size: number;
  /** Memory-region alignment A (see BackendPlan.align). */
  readonly align: bigint;
  /** True when the mapping got MAP_SYNC (DAX file, share=on, pmem=on). */
  readonly mapSync: boolean;
  /** File descriptor of the backing file (undefined for ram). */
  readonly fd: number | undefined;
  /** The backing file as the kernel names it (`/proc/self/fd/N`), for messages and state. */
  readonly hostPath: string | undefined;
  readonly persistence: PersistenceModel;
  readonly #addr: bigint;
  readonly #mapLen: number;
  #closed = false;

  private constructor(plan: BackendPlan, addr: bigint, fd: number | undefined, mapSync: boolean) {
    this.plan = plan;
    this.typeName = plan.typeName;
    this.id = plan.id;
    this.size = toSafeNumber(plan.size, 'size');
    this.align = plan.align;
    this.#addr = addr;
    this.#mapLen = toSafeNumber(plan.mapSize, 'size');
    this.fd = fd;
    this.mapSync = mapSync;
    this.hostPath = fd === undefined ? undefined : linkOf(fd);
    this.persistence = new PersistenceModel(
      {
        length: this.size,
        read: (o, l) => this.view(o, l).slice(),
        write: (o, d) => this.view(o, d.length).set(d),
      },
      defaultGranularity(plan, mapSync),
      4096,
    );
  }

  /** Maps a checked backend. Undo actions for host changes go to `hooks.onRollback`. */
  static async open(plan: BackendPlan, hooks: BackendHooks = {}): Promise<MemoryBackend> {
    const mapLen = toSafeNumber(plan.mapSize, 'size');
    let fd: number | undefined;
    let addr: bigint;
    let mapSync = false;
    const writableMap = !plan.rom;
    const prot = writableMap ? libc.PROT_READ | libc.PROT_WRITE : libc.PROT_READ;
    const baseFlags =
      (plan.share ? libc.MAP_SHARED : libc.MAP_PRIVATE) | (plan.reserve ? 0 : libc.MAP_NORESERVE);
    if (plan.file === undefined) {
      addr = libc.mmap(mapLen, prot, baseFlags | libc.MAP_ANONYMOUS, -1, 0);
    } else {
      fd = openBackingFile(plan, hooks);
      try {
        const offset = toSafeNumber(plan.offset, 'offset');
        try {
          if (plan.share && plan.pmem) {
            try {
              addr = libc.mmap(
                mapLen,
                prot,
                libc.MAP_SHARED_VALIDATE | libc.MAP_SYNC | baseFlags,
                fd,
                offset,
              );
              mapSync = true;
            } catch (e) {
              if (e instanceof libc.HostCallError && e.errno === libc.EOPNOTSUPP) {
                (hooks.stderr ?? ((l) => process.stderr.write(l + '\n')))(
                  `Warning: requesting persistence across crashes for backend file ${linkOf(fd)} failed. ` +
                    'Proceeding without persistence, data might become corrupted in case of host crash.',
                );
                (hooks.warn ?? ((m) => process.stderr.write(`nvmemu: warning: ${m}\n`)))(
                  "Using non DAX backing file with 'pmem=on' option is deprecated",
                );
              }
              addr = libc.mmap(mapLen, prot, baseFlags, fd, offset);
            }
          } else {
            addr = libc.mmap(mapLen, prot, baseFlags, fd, offset);
          }
        } catch (e) {
          const errnum = e instanceof libc.HostCallError ? e.errno : 5;
          throw new BackendIoError(
            `unable to map backing store for guest RAM: ${libc.strerror(errnum)}`,
            { cause: e },
          );
        }
      } catch (e) {
        closeSync(fd);
        throw e;
      }
    }
    const backend = new MemoryBackend(plan, addr, fd, mapSync);
    try {
      backend.#advise();
      if (plan.prealloc) await backend.#prealloc(hooks.progress);
    } catch (e) {
      await backend.close({ keep: true });
      throw e;
    }
    return backend;
  }

  /** Whether stores through this mapping can change the backing file. */
  get mappedWritable(): boolean {
    return !this.#closed && this.plan.share && !this.plan.rom && this.plan.file !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A Uint8Array aliasing [offset, offset+length) of the mapping (no copy). */
  view(offset = 0, length = this.size - offset): Uint8Array {
    this.#check(offset, length);
    return new Uint8Array(libc.view(this.#addr + BigInt(offset), length));
  }

  /** The whole mapping (backends up to 4 GiB; larger ones use view()). */
  get bytes(): Uint8Array {
    return this.view(0, this.size);
  }

  read(offset: number, length: number): Uint8Array {
    return this.view(offset, length).slice();
  }

  /** A tracked store: the persistence model keeps the durable pre-image first. */
  write(offset: number, data: Uint8Array): void {
    this.#writable();
    this.#check(offset, data.length);
    this.persistence.beforeStore(offset, data.length);
    this.view(offset, data.length).set(data);
  }

  fill(offset: number, length: number, value: number): void {
    this.#writable();
    this.#check(offset, length);
    this.persistence.beforeStore(offset, length);
    this.view(offset, length).fill(value);
  }

  /** msync(MS_SYNC) of the pages covering the range; the range becomes durable. */
  msync(offset = 0, length = this.size - offset): void {
    this.#check(offset, length);
    if (length === 0) return;
    const start = offset - (offset % 4096);
    libc.msync(this.#addr + BigInt(start), Math.min(this.#mapLen, offset + length) - start);
    this.persistence.persisted(offset, length);
  }

  /** fsync of the backing file, in the libuv thread pool (off the event loop). */
  async fsync(): Promise<void> {
    if (this.fd === undefined) return;
    await fsyncAsync(this.fd);
  }

  /** What a restart would see in the range if power failed now (a copy; no side effect). */
  imageAfterPowerFail(offset: number, length: number, keep?: InFlightChooser): Uint8Array {
    this.#check(offset, length);
    if (this.persistence.granularity !== 'none')
      return this.persistence.imageAfterPowerFail(offset, length, keep);
    const out = new Uint8Array(length);
    // share=off: the file was never written; ram: nothing survives.
    if (this.fd !== undefined)
      readSync(this.fd, out, 0, length, offset + toSafeNumber(this.plan.offset, 'offset'));
    return out;
  }

  /**
   * Simulated power failure: unpersisted stores are discarded from the file (so a restarted
   * machine mapping it sees exactly the durable image), then the mapping is dropped without
   * the clean-shutdown steps (no discard-data).
   */
  async powerFail(keep?: InFlightChooser): Promise<PowerFailReport> {
    if (this.#closed) throw new EmuError(ErrorCode.EMU_ERR_STATE, `backend ${this.id} is closed`);
    const granularity = this.persistence.granularity;
    const reverted = granularity === 'none' ? [] : this.persistence.powerFail(keep);
    if (this.mappedWritable) libc.msync(this.#addr, this.#mapLen);
    await this.close({ keep: true });
    return {
      id: this.id,
      granularity,
      image: granularity === 'none' || this.plan.file === undefined ? 'none' : 'file',
      reverted,
    };
  }

  /** Clean shutdown: write back, honour discard-data, unmap. Views must not be used after. */
  async close(opts: { keep?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (opts.keep !== true) {
      if (this.plan.discardData && this.plan.file !== undefined) {
        // QEMU: madvise(MADV_REMOVE) frees the pages and punches the file range.
        if (
          libc.madvise(this.#addr, this.#mapLen, libc.MADV_REMOVE) !== 0 &&
          this.fd !== undefined &&
          this.plan.share
        ) {
          libc.fallocate(
            this.fd,
            libc.FALLOC_FL_PUNCH_HOLE | libc.FALLOC_FL_KEEP_SIZE,
            toSafeNumber(this.plan.offset, 'offset'),
            this.#mapLen,
          );
        }
      } else if (this.plan.share && !this.plan.rom && this.plan.file !== undefined) {
        libc.msync(this.#addr, this.#mapLen);
      }
      this.persistence.persistedAll();
    }
    libc.munmap(this.#addr, this.#mapLen);
    if (this.fd !== undefined) {
      if (opts.keep !== true && this.plan.share) await this.fsync();
      closeSync(this.fd);
    }
  }

  describe(): string {
    const where =
      this.plan.file === undefined ? 'anonymous memory' : (this.hostPath ?? this.plan.file.path);
    return `${this.typeName} ${this.id}: ${this.size} bytes, ${where}, ${this.plan.share ? 'shared' : 'private'}${this.mapSync ? ', MAP_SYNC' : ''}`;
  }

  #advise(): void {
    const p = this.plan;
    // Advice is best effort in QEMU too (qemu_madvise failures are ignored).
    if (p.merge) libc.madvise(this.#addr, this.#mapLen, libc.MADV_MERGEABLE);
    if (!p.dump) libc.madvise(this.#addr, this.#mapLen, libc.MADV_DONTDUMP);
    if (p.hostNodes.length > 0) {
      const errnum = mbind(this.#addr, this.#mapLen, p.policy, p.hostNodes);
      if (errnum !== 0)
        throw new BackendIoError(`cannot bind memory to host NUMA nodes: ${libc.strerror(errnum)}`);
    }
  }

  /** Touches every page (MADV_POPULATE_*; a JS touch loop on kernels before 5.14). */
  async #prealloc(progress?: ProgressSink): Promise<void> {
    const total = this.#mapLen;
    const sink =
      progress ??
      (BigInt(total) >= PROGRESS_MIN_BYTES ? ttyProgress(`Preallocating ${this.id}`) : undefined);
    const chunk = 32 << 20;
    const advice = this.plan.rom ? libc.MADV_POPULATE_READ : libc.MADV_POPULATE_WRITE;
    try {
      for (let off = 0; off < total; off += chunk) {
        const len = Math.min(chunk, total - off);
        const errnum = libc.madvise(this.#addr + BigInt(off), len, advice);
        if (errnum === libc.EINVAL) {
          const v = new Uint8Array(libc.view(this.#addr + BigInt(off), len));
          // Read-modify-write of one byte per page keeps the content (as QEMU's touch_all_pages).
          for (let i = 0; i < len; i += 4096) v[i] = this.plan.rom ? v[i]! : v[i]! | 0;
        } else if (errnum !== 0) {
          throw new BackendIoError(
            `os_mem_prealloc: preallocating memory failed: ${libc.strerror(errnum)}`,
          );
        }
        sink?.update(BigInt(off + len), BigInt(total));
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      sink?.end();
    }
  }

  #check(offset: number, length: number): void {
    if (this.#closed) throw new EmuError(ErrorCode.EMU_ERR_STATE, `backend ${this.id} is closed`);
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw new RangeError(
        `range [${offset}, +${length}) outside backend ${this.id} of ${this.size} bytes`,
      );
    }
  }

  #writable(): void {
    if (this.plan.rom)
      throw new EmuError(ErrorCode.EMU_ERR_STATE, `backend ${this.id} is read-only`);
  }
}

function defaultGranularity(plan: BackendPlan, mapSync: boolean): Granularity {
  if (!plan.share || plan.file === undefined) return 'none';
  // A bare backend on DAX with MAP_SYNC: stores must still leave the CPU caches (ADR).
  return mapSync ? 'cache-line' : 'page';
}
