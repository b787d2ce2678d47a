// A `-drive file=IMG,if=none,id=ID,format=raw` backend: a raw image opened once, read and
// written at byte offsets, made durable with fdatasync.
//
// Durability model: a write completes when the kernel has the data (page cache); it is on
// stable storage only after flush(). The NVMe layer decides when to call flush() (Flush
// command, FUA, write cache disabled), exactly as QEMU's block layer is driven by hw/nvme.

import { open, type FileHandle } from 'node:fs/promises';
import type { Component } from '../machine/registry.js';
import { EmuError } from '../util/errors.js';

export interface DriveConfig {
  readonly id: string;
  readonly file: string;
  readonly readOnly: boolean;
}

export class Drive implements Component {
  readonly typeName = 'drive';
  readonly id: string;
  readonly path: string;
  readonly readOnly: boolean;
  /** Image size in bytes, fixed at open (QEMU does not follow later growth either). */
  readonly size: bigint;
  #fh: FileHandle | undefined;

  private constructor(cfg: DriveConfig, fh: FileHandle, size: bigint) {
    this.id = cfg.id;
    this.path = cfg.file;
    this.readOnly = cfg.readOnly;
    this.#fh = fh;
    this.size = size;
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
    if (offset < 0 || !Number.isSafeInteger(offset) || BigInt(offset + length) > this.size) {
      throw new RangeError(
        `drive '${this.id}': access [${offset}, +${length}) beyond image size ${this.size}`,
      );
    }
  }

  /** Reads exactly `buf.length` bytes at `offset`; bytes past EOF of a sparse image are 0. */
  async read(buf: Uint8Array, offset: number): Promise<void> {
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

  /** Writes all of `data` at `offset` (into the page cache; see flush()). */
  async write(data: Uint8Array, offset: number): Promise<void> {
    if (this.readOnly) throw new EmuError('EMU_ERR_BACKEND_IO', `drive '${this.id}' is read-only`);
    this.#checkRange(offset, data.length);
    const fh = this.#handle();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
      done += bytesWritten;
    }
  }

  /** Makes every completed write durable (fdatasync). */
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
