// Block and metadata storage of one namespace in its raw image, QEMU 7.2's layout
// (reference qemu-nvme.md §5.1): the data of LBA n at n * lbaSize, its metadata at
// metaOffset + n * ms where metaOffset = NSZE * lbaSize (all data first, then all metadata).
// Bytes past the metadata area (the image remainder) are never touched except by Format.
//
// Also the host-side buffer layouts of §9.1: extended LBAs interleave each block's metadata
// after its data in the data buffer; otherwise metadata travels in a separate buffer.

import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ioBuffer } from '../../block/drive.js';
import type { Drive } from '../../block/drive.js';
import type { Geometry } from './lbaf.js';
import type { MediaFaults } from './media-faults.js';
import { then, type MaybePromise } from '../../util/maybe.js';

/** Largest piece of image I/O one command step does (bounds memory for huge commands). */
export const CHUNK_BYTES = 1024 * 1024;

const NO_META = new Uint8Array(0);

export interface Blocks {
  /** nlb * lbaSize bytes. */
  readonly data: Uint8Array;
  /** nlb * ms bytes (empty when ms is 0). */
  readonly meta: Uint8Array;
}

/**
 * A volatile write cache in front of the image (the power-cut model, nvme/ns/write-cache.ts):
 * writes go into it instead of the image, reads see it over the image, and flushes write its
 * content back. The image then always holds exactly the durable content.
 */
export interface StoreJournal {
  /** Takes a write: `data`/`meta` are the bytes, 'zero' for zeros, undefined when unchanged. */
  absorb(lba: number, nlb: number, data: StoreBytes, meta: StoreBytes): MaybePromise<void>;
  /** Lays the cached content of [lba, lba + nlb) over `blocks` read from the image. */
  overlay(lba: number, nlb: number, blocks: Blocks): void;
  /** Taken before a flush starts: writes completed up to here are what it covers. */
  mark(): number;
  /** Writes back everything up to `mark`, or only `range`'s blocks (FUA, write through). */
  writeBack(
    mark: number,
    range?: { readonly lba: number; readonly nlb: number },
  ): MaybePromise<void>;
  /** Format NVM rewrote the image: nothing cached is left. */
  formatted(): void;
}

export type StoreBytes = Uint8Array | 'zero' | undefined;

export class BlockStore {
  readonly drive: Drive;
  geometry: Geometry;
  /** Injected media errors: an access that meets one throws like a failing backend. */
  faults: MediaFaults | undefined;
  /** Volatile write cache model (power cuts); undefined costs nothing. */
  journal: StoreJournal | undefined;

  constructor(drive: Drive, geometry: Geometry) {
    this.drive = drive;
    this.geometry = geometry;
  }

  /** Blocks per I/O step: about CHUNK_BYTES of data, at least one block. */
  get chunkBlocks(): number {
    return Math.max(1, Math.floor(CHUNK_BYTES / this.geometry.lbaSize));
  }

  #check(lba: number, nlb: number): void {
    if (!Number.isSafeInteger(lba) || nlb < 0 || lba + nlb > this.geometry.nsze) {
      assert.fail(`LBA range [${lba}, +${nlb}) outside NSZE ${this.geometry.nsze}`);
    }
  }

  /**
   * Reads data and metadata of `nlb` blocks from `lba` (no deallocation semantics here); the
   * data goes into `into` (nlb * lbaSize bytes: the host's buffer) when given. Synchronous when
   * the drive is (a failure throws), else a promise (a failure rejects).
   */
  read(lba: number, nlb: number, into?: Uint8Array): MaybePromise<Blocks> {
    this.#check(lba, nlb);
    this.faults?.check('read', lba, nlb);
    const { lbaSize, ms, metaOffset } = this.geometry;
    // Drive.read fills every byte (zeros past EOF), so the buffers need no zeroing first.
    const data = into ?? ioBuffer(nlb * lbaSize, false);
    const blocks: Blocks = { data, meta: ms > 0 ? ioBuffer(nlb * ms, false) : NO_META };
    const d = this.drive.read(data, lba * lbaSize);
    const j = this.journal;
    if (ms === 0 && j === undefined) return d instanceof Promise ? d.then(() => blocks) : blocks;
    const m = ms === 0 ? d : then(d, () => this.drive.read(blocks.meta, metaOffset + lba * ms));
    return then(m, () => {
      j?.overlay(lba, nlb, blocks);
      return blocks;
    });
  }

  /** Writes data (and metadata when given) of whole blocks starting at `lba`; like read(). */
  write(lba: number, data: Uint8Array, meta: Uint8Array | undefined): MaybePromise<void> {
    const { lbaSize, ms } = this.geometry;
    assert(data.length % lbaSize === 0, 'partial block write');
    const nlb = data.length / lbaSize;
    this.#check(lba, nlb);
    this.faults?.check('write', lba, nlb);
    if (ms > 0 && meta !== undefined) {
      assert(meta.length === nlb * ms, 'metadata length does not match the block count');
    }
    const j = this.journal;
    if (j !== undefined) return j.absorb(lba, nlb, data, ms > 0 ? meta : undefined);
    return this.#put(lba, data, meta);
  }

  #put(lba: number, data: Uint8Array, meta: Uint8Array | undefined): MaybePromise<void> {
    const { lbaSize, ms, metaOffset } = this.geometry;
    const d = this.drive.write(data, lba * lbaSize);
    if (ms === 0 || meta === undefined) return d;
    return then(d, () => this.drive.write(meta, metaOffset + lba * ms));
  }

  /** Makes completed writes durable: all of them (Flush), or one range (FUA, write-through). */
  async flush(range?: { readonly lba: number; readonly nlb: number }): Promise<void> {
    const j = this.journal;
    if (j !== undefined) await j.writeBack(j.mark(), range);
    await this.drive.flush();
  }

  /** Writes zeros to the metadata of [lba, lba + nlb). */
  zeroMeta(lba: number, nlb: number): MaybePromise<void> {
    this.#check(lba, nlb);
    const { ms, metaOffset } = this.geometry;
    if (ms === 0) return;
    const j = this.journal;
    if (j !== undefined) return j.absorb(lba, nlb, undefined, 'zero');
    return writeZeros(this.drive, metaOffset + lba * ms, nlb * ms);
  }

  /** Writes zeros to data and metadata of [lba, lba + nlb), in CHUNK_BYTES pieces. */
  zero(lba: number, nlb: number): MaybePromise<void> {
    this.#check(lba, nlb);
    this.faults?.check('write', lba, nlb);
    const { lbaSize, ms, metaOffset } = this.geometry;
    const j = this.journal;
    if (j !== undefined) return j.absorb(lba, nlb, 'zero', ms > 0 ? 'zero' : undefined);
    return then(writeZeros(this.drive, lba * lbaSize, nlb * lbaSize), () =>
      ms > 0 ? writeZeros(this.drive, metaOffset + lba * ms, nlb * ms) : undefined,
    );
  }

  /**
   * Zeroes the whole image (Format NVM). Chunks that already read as zero are not rewritten,
   * so a sparse image stays sparse and a fresh image formats quickly. Runs as background work,
   * one chunk per event-loop turn: with synchronous drive I/O (aio=sync) a multi-GiB format
   * would otherwise hold every other queue and connection of the process for its duration.
   */
  async zeroImage(): Promise<void> {
    this.journal?.formatted();
    const size = Number(this.drive.size);
    const buf = new Uint8Array(CHUNK_BYTES);
    const zeros = new Uint8Array(CHUNK_BYTES);
    for (let off = 0; off < size; off += CHUNK_BYTES) {
      await nextTurn();
      const len = Math.min(CHUNK_BYTES, size - off);
      const view = buf.subarray(0, len);
      await this.drive.read(view, off);
      if (!isZero(view)) await this.drive.write(zeros.subarray(0, len), off);
    }
  }
}

/**
 * Zero-fills a byte range in CHUNK_BYTES writes. A range of one chunk is written at once (as any
 * write); a longer one yields to the event loop between chunks (see zeroImage).
 */
function writeZeros(drive: Drive, offset: number, length: number): MaybePromise<void> {
  const zeros = zeroChunk(Math.min(length, CHUNK_BYTES));
  const step = (done: number): MaybePromise<void> => {
    const len = Math.min(zeros.length, length - done);
    return then(drive.write(zeros.subarray(0, len), offset + done), () =>
      done + len < length ? nextTurn().then(() => step(done + len)) : undefined,
    );
  };
  return length === 0 ? undefined : step(0);
}

let zeroBuf = new Uint8Array(0);
/** A shared all-zero buffer of at least `n` bytes (never written to). */
function zeroChunk(n: number): Uint8Array {
  if (zeroBuf.length < n) zeroBuf = new Uint8Array(Math.max(n, 4096));
  return zeroBuf;
}

export function isZero(buf: Uint8Array): boolean {
  for (const b of buf) if (b !== 0) return false;
  return true;
}

/** Host buffer of an extended-LBA transfer: each block's data followed by its metadata. */
export function interleave(b: Blocks, lbaSize: number, ms: number): Uint8Array {
  const nlb = b.data.length / lbaSize;
  const out = new Uint8Array(nlb * (lbaSize + ms));
  for (let i = 0; i < nlb; i++) {
    const at = i * (lbaSize + ms);
    out.set(b.data.subarray(i * lbaSize, (i + 1) * lbaSize), at);
    out.set(b.meta.subarray(i * ms, (i + 1) * ms), at + lbaSize);
  }
  return out;
}

/** Splits an extended-LBA host buffer into data and metadata. */
export function deinterleave(buf: Uint8Array, lbaSize: number, ms: number): Blocks {
  const stride = lbaSize + ms;
  assert(buf.length % stride === 0, 'extended buffer is not whole blocks');
  const nlb = buf.length / stride;
  const data = new Uint8Array(nlb * lbaSize);
  const meta = new Uint8Array(nlb * ms);
  for (let i = 0; i < nlb; i++) {
    data.set(buf.subarray(i * stride, i * stride + lbaSize), i * lbaSize);
    meta.set(buf.subarray(i * stride + lbaSize, (i + 1) * stride), i * ms);
  }
  return { data, meta };
}
