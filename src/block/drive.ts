// A `-drive file=IMG,if=none,id=ID,format=raw` backend: a raw image opened once, read and
// written at byte offsets, made durable with fdatasync.
//
// Durability model: a write completes when the kernel has the data (page cache); it is on
// stable storage only after flush(). The NVMe layer decides when to call flush() (Flush
// command, FUA, write cache disabled), exactly as QEMU's block layer is driven by hw/nvme.
//
// Data path (`aio`): QEMU's default `aio=threads` hands every request to a thread pool so the
// vCPU/iothread never blocks on the disk. In Node that is the libuv pool: one pread costs a
// thread hop and a return to the event loop (≈30–60 µs of latency and ~25% of the server's CPU
// per 4 KiB command measured on the NVMe/TCP bench), while the same pread served from the page
// cache takes 2–5 µs. So the default here is 'sync': pread/pwrite on the event loop, which is the
// right trade for images that live in the page cache (the emulator's normal case). The price: a
// read that misses the cache stalls every connection of this process for the disk's latency.
// 'threads' keeps QEMU's behaviour for images larger than RAM or on slow media. fdatasync is
// always asynchronous: it waits for the device and may take milliseconds in either mode.

import { readSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { MaybePromise } from '../util/maybe.js';
import { EmuError } from '../util/errors.js';

/** How reads and writes reach the image (see the header comment). */
export type DriveAio = 'sync' | 'threads';

export const DEFAULT_DRIVE_AIO: DriveAio = 'sync';

export interface DriveConfig {
  readonly id: string;
  readonly file: string;
  readonly readOnly: boolean;
  /** Default DEFAULT_DRIVE_AIO. */
  readonly aio?: DriveAio;
}

/** Slab size for ioBuffer; requests above SLAB_MAX_CARVE get an ArrayBuffer of their own. */
const SLAB_BYTES = 1024 * 1024;
const SLAB_MAX_CARVE = 128 * 1024;
let slab: Uint8Array = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/**
 * A zero-filled buffer for I/O data (the role of QEMU's qemu_blockalign). A fresh ArrayBuffer
 * per 4 KiB command costs ~2 µs in V8 (backing-store allocation plus its share of GC), more than
 * the pread itself; small buffers are therefore carved, never reused, from a shared slab (as
 * Node's Buffer pool does) and zeroed one by one: a zeroed slab would cost a calloc and fresh
 * page faults per slab, the per-carve memset only what is used. `zero: false` skips that memset
 * for a buffer the caller overwrites entirely before anyone reads it (e.g. Drive.read's target).
 * A carved view keeps its whole slab alive, so a caller that retains data for long should copy it.
 */
export function ioBuffer(length: number, zero = true): Uint8Array {
  if (length > SLAB_MAX_CARVE) return new Uint8Array(length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const view = new Uint8Array(slab.buffer, slab.byteOffset + slabUsed, length);
  if (zero) view.fill(0);
  // Keep every carve 8-byte aligned.
  slabUsed += (length + 7) & ~7;
  return view;
}

export class Drive {
  readonly typeName = 'drive';
  readonly id: string;
  readonly path: string;
  readonly readOnly: boolean;
  readonly aio: DriveAio;
  /** Image size in bytes, fixed at open (QEMU does not follow later growth either). */
  readonly size: bigint;
  readonly #sizeNumber: number;
  /** One descriptor serves both modes: sync calls use `fh.fd`, threads use the FileHandle. */
  #fh: FileHandle | undefined;

  private constructor(cfg: DriveConfig, fh: FileHandle, size: bigint) {
    this.id = cfg.id;
    this.path = cfg.file;
    this.readOnly = cfg.readOnly;
    this.aio = cfg.aio ?? DEFAULT_DRIVE_AIO;
    this.#fh = fh;
    this.size = size;
    this.#sizeNumber = Number(size);
  }

  static async open(cfg: DriveConfig): Promise<Drive> {
    const fh = await open(cfg.file, cfg.readOnly ? 'r' : 'r+');
    try {
      const st = await fh.stat({ bigint: true });
      return new Drive(cfg, fh, st.size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  #handle(): FileHandle {
    if (this.#fh === undefined) throw new EmuError('EMU_ERR_STATE', `drive '${this.id}' is closed`);
    return this.#fh;
  }

  #checkRange(offset: number, length: number): void {
    // Images beyond 2^53 bytes cannot be opened (fstat size → number) so number math is exact.
    if (offset < 0 || !Number.isSafeInteger(offset) || offset + length > this.#sizeNumber) {
      throw new RangeError(
        `drive '${this.id}': access [${offset}, +${length}) beyond image size ${this.size}`,
      );
    }
  }

  /**
   * Reads exactly `buf.length` bytes at `offset`; bytes past EOF of a sparse image are 0. With
   * `aio=sync` the read is done when this returns (a failure throws); with `aio=threads` it
   * returns a promise (a failure rejects).
   */
  read(buf: Uint8Array, offset: number): MaybePromise<void> {
    if (this.aio === 'threads') return this.#readThreads(buf, offset);
    this.readNow(buf, offset);
  }

  /** Like read() in `aio=sync` mode whatever the drive's mode (inspection, not guest I/O). */
  readNow(buf: Uint8Array, offset: number): void {
    this.#checkRange(offset, buf.length);
    const fd = this.#handle().fd;
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, offset + done);
      if (n === 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  async #readThreads(buf: Uint8Array, offset: number): Promise<void> {
    this.#checkRange(offset, buf.length);
    const fh = this.#handle();
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await fh.read(buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) {
        buf.fill(0, done);
        return;
      }
      done += bytesRead;
    }
  }

  /** Writes all of `data` at `offset` (into the page cache; see flush()); like read(). */
  write(data: Uint8Array, offset: number): MaybePromise<void> {
    if (this.aio === 'threads') return this.#writeThreads(data, offset);
    this.#checkWritable();
    this.#checkRange(offset, data.length);
    const fd = this.#handle().fd;
    let done = 0;
    while (done < data.length) {
      done += writeSync(fd, data, done, data.length - done, offset + done);
    }
  }

  async #writeThreads(data: Uint8Array, offset: number): Promise<void> {
    this.#checkWritable();
    this.#checkRange(offset, data.length);
    const fh = this.#handle();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  #checkWritable(): void {
    if (this.readOnly) throw new EmuError('EMU_ERR_BACKEND_IO', `drive '${this.id}' is read-only`);
  }

  /** Makes every completed write durable (fdatasync, always off the event loop). */
  async flush(): Promise<void> {
    if (this.readOnly) return;
    await this.#handle().datasync();
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh === undefined) return;
    try {
      if (!this.readOnly) await fh.datasync();
    } finally {
      await fh.close();
    }
  }
}
