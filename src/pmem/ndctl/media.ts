// Plain byte ranges the on-media formats are written to, so the label, BTT and PFN code does not
// depend on the device that exposes them. An nvdimm backing file gives two views (reference
// qemu-pmem-ndctl.md §3.2): the label area = the last L bytes, PMEM = [0, ALIGN_DOWN(B − L, A)).

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { toSafeNumber } from '../../util/u64.js';

export interface Media {
  readonly size: number | bigint;
  /** `len` bytes at `off` (a fresh copy). */
  read(off: number, len: number): Uint8Array;
  write(off: number, data: Uint8Array): void;
  /** Make [off, off+len) durable; writes before a flush reach the media before writes after it. */
  flush?(off: number, len: number): void;
}

/** The size of `m` as a number (media larger than 2^53 bytes are refused). */
export function mediaSize(m: Media): number {
  return typeof m.size === 'bigint' ? toSafeNumber(m.size, 'media size') : m.size;
}

function checkSpan(size: number, off: number, len: number, what: string): void {
  if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0) {
    throw new RangeError(`${what}: invalid range offset ${off} length ${len}`);
  }
  if (off + len > size) {
    throw new RangeError(`${what}: range [${off}, ${off + len}) is past the end (${size} bytes)`);
  }
}

/** Media held in memory (tests, scratch images). */
export class MemMedia implements Media {
  readonly bytes: Uint8Array;

  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
  }

  get size(): number {
    return this.bytes.length;
  }

  read(off: number, len: number): Uint8Array {
    checkSpan(this.bytes.length, off, len, 'MemMedia.read');
    return this.bytes.slice(off, off + len);
  }

  write(off: number, data: Uint8Array): void {
    checkSpan(this.bytes.length, off, data.length, 'MemMedia.write');
    this.bytes.set(data, off);
  }
}

/** A window [base, base+size) of another media. */
export class SubMedia implements Media {
  constructor(
    readonly parent: Media,
    readonly base: number,
    readonly size: number,
  ) {
    checkSpan(mediaSize(parent), base, size, 'SubMedia');
  }

  read(off: number, len: number): Uint8Array {
    checkSpan(this.size, off, len, 'SubMedia.read');
    return this.parent.read(this.base + off, len);
  }

  write(off: number, data: Uint8Array): void {
    checkSpan(this.size, off, data.length, 'SubMedia.write');
    this.parent.write(this.base + off, data);
  }

  flush(off: number, len: number): void {
    checkSpan(this.size, off, len, 'SubMedia.flush');
    this.parent.flush?.(this.base + off, len);
  }
}

/**
 * A byte range of a file accessed with pread/pwrite; flush is fdatasync (a plain file has no
 * finer durability unit). Call close() when done.
 */
export class FileMedia implements Media {
  #fd: number;
  readonly path: string;
  readonly base: number;
  readonly size: number;
  readonly readOnly: boolean;

  private constructor(path: string, fd: number, base: number, size: number, readOnly: boolean) {
    this.path = path;
    this.#fd = fd;
    this.base = base;
    this.size = size;
    this.readOnly = readOnly;
  }

  /** Opens `path`; the window defaults to [base, end of file). */
  static open(
    path: string,
    opts: { base?: number; size?: number; readOnly?: boolean } = {},
  ): FileMedia {
    const readOnly = opts.readOnly ?? false;
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new EmuError(ErrorCode.EMU_ERR_BACKEND_IO, `${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const fileSize = fstatSync(fd).size;
    const base = opts.base ?? 0;
    const size = opts.size ?? fileSize - base;
    if (base < 0 || size < 0 || base + size > fileSize) {
      closeSync(fd);
      throw new EmuError(
        ErrorCode.EMU_ERR_BACKEND_IO,
        `${path}: range [${base}, ${base + size}) is outside the file (${fileSize} bytes)`,
      );
    }
    return new FileMedia(path, fd, base, size, readOnly);
  }

  /** Another window of the same open file (shares the descriptor; close only the original). */
  window(base: number, size: number): SubMedia {
    return new SubMedia(this, base, size);
  }

  read(off: number, len: number): Uint8Array {
    checkSpan(this.size, off, len, 'FileMedia.read');
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.#fd, out, done, len - done, this.base + off + done);
      if (n === 0) break; // a sparse tail past EOF cannot happen (size checked at open)
      done += n;
    }
    return out;
  }

  write(off: number, data: Uint8Array): void {
    checkSpan(this.size, off, data.length, 'FileMedia.write');
    if (this.readOnly) {
      throw new EmuError(ErrorCode.EMU_ERR_BACKEND_IO, `${this.path}: opened read-only`);
    }
    let done = 0;
    while (done < data.length) {
      done += writeSync(this.#fd, data, done, data.length - done, this.base + off + done);
    }
  }

  flush(_off: number, _len: number): void {
    if (!this.readOnly) fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** Writes zeros over [off, off+len) in chunks (destroy/reconfigure wipes, BTT map init). */
export function zeroRange(m: Media, off: number, len: number): void {
  const chunk = new Uint8Array(Math.min(len, 1 << 20));
  for (let at = 0; at < len; at += chunk.length) {
    const n = Math.min(chunk.length, len - at);
    m.write(off + at, n === chunk.length ? chunk : chunk.subarray(0, n));
  }
}
