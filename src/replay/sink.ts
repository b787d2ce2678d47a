// Where a recorder's bytes go (docs/record-replay.md "Cost"): records are encoded into a reused
// chunk; a full chunk is handed to one asynchronous positional write (libuv's thread pool), so
// the command path never waits for the file. Chunks queued while a write is in flight go out
// together in the next write (fs.writev): one system call per several MiB under load.
//
// The file is always a prefix of the recording (writes are issued one at a time, in order), so
// a recorder killed mid-run leaves a file that ends at a chunk boundary, which is a record
// boundary (parse.ts reads it and says the end record is missing). flushSync() writes
// everything (again, for a chunk whose write is still in flight: the same bytes at the same
// position) before it returns; the descriptor is closed once the last in-flight write is back.
//
// Checks (format version 3): the sink closes a block with a check record once it holds BLOCK
// bytes (at a record boundary: `reserve`) and before a chunk goes to the file, so every write
// ends with a check record and a file cut at a chunk boundary is all checked. markChecked()
// says where the first block starts (after the file header, which has its own check).
//
// Without a file the chunks are kept (bytes()).

import { closeSync, openSync, writeSync, writev } from 'node:fs';
import { LeStore } from '../util/bytes.js';
import { BLOCK, CHECK_SIZE, writeCheck } from './format.js';

/** Bytes of one chunk (one write each when the file keeps up). */
export const CHUNK = 1 << 20;
/** Spare chunks kept for reuse (a new chunk is a zeroed 1 MiB allocation the GC must count). */
const POOL = 8;
/**
 * Queued bytes beyond which the command path writes them synchronously: the file cannot keep
 * up, or the event loop never turns to hear that a write is done (a host in the same process
 * whose commands complete synchronously, chained by promises: the in-process bench). As many
 * as the spare chunks, so the chunks written synchronously come back to be reused and a long
 * run allocates none: memory stays within the in-flight write, the queue, the spare chunks and
 * the chunk being filled.
 */
const MAX_QUEUED = POOL * CHUNK;

interface Piece {
  readonly bytes: Uint8Array;
  /** Its position in the file. */
  readonly at: number;
}

export class RecordSink {
  /** The chunk records are encoded into: `reserve` says where, `advance` commits them. */
  chunk: Uint8Array = new Uint8Array(CHUNK);
  /** Little-endian stores into `chunk`. */
  store = new LeStore(this.chunk);
  #pos = 0;
  /** Where the open block starts in `chunk` (the bytes the next check record covers). */
  #block = 0;
  readonly #fd: number | undefined;
  /** File position of the current chunk's first byte. */
  #at = 0;
  readonly #queue: Piece[] = [];
  #queued = 0;
  #inflight: Piece[] | undefined;
  readonly #free: Uint8Array[] = [];
  readonly #kept: Uint8Array[] = [];
  #closed = false;
  #failure: Error | undefined;
  #writes = 0;

  readonly #file: string | undefined;
  readonly #onFail: ((e: Error) => void) | undefined;

  /**
   * `file`: created or truncated now (a failure throws here, before anything is recorded).
   * `onFail`: told once, on a later write error (a full disk): from then on the sink drops what
   * it is given, so its owner should stop recording.
   */
  constructor(file: string | undefined, onFail?: (e: Error) => void) {
    this.#fd = file === undefined ? undefined : openSync(file, 'w');
    this.#file = file;
    this.#onFail = onFail;
  }

  /** The first write error (later bytes are dropped: the recording is incomplete). */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Write system calls issued so far (the batching the docs describe). */
  get writes(): number {
    return this.#writes;
  }

  /** The bytes so far are checked on their own (the file header): the first block starts here. */
  markChecked(): void {
    this.#block = this.#pos;
  }

  /** Bytes of the recording so far, check records included. */
  get size(): number {
    return this.#at + this.#kept.reduce((n, b) => n + b.length, 0) + this.#pos;
  }

  /**
   * Offset in `chunk` where `n` bytes go: a block of BLOCK bytes is closed first, and a chunk
   * without room for them and a check record is sealed.
   */
  reserve(n: number): number {
    if (this.#pos - this.#block >= BLOCK) this.#check();
    if (this.#pos + n + CHECK_SIZE > this.chunk.length) {
      this.#seal();
      if (n + CHECK_SIZE > this.chunk.length) this.#use(new Uint8Array(n + CHECK_SIZE));
    }
    return this.#pos;
  }

  /** Closes the open block with its check record (format.ts writeCheck). */
  #check(): void {
    if (this.#pos === this.#block) return;
    this.#pos = writeCheck(this.chunk, this.#block, this.#pos);
    this.#block = this.#pos;
  }

  /** The bytes up to `end` of `chunk` are a whole record (or several). */
  advance(end: number): void {
    this.#pos = end;
  }

  put(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.chunk.set(b, at);
    this.#pos = at + b.length;
  }

  #seal(): void {
    this.#check();
    if (this.#pos === 0) return;
    const bytes = this.chunk.subarray(0, this.#pos);
    if (this.#failure !== undefined) {
      // The recording ended at the failure: its bytes go nowhere, the chunk is reused.
      this.#use(this.chunk);
      return;
    }
    if (this.#fd === undefined) {
      this.#kept.push(bytes);
      this.#use(new Uint8Array(CHUNK));
      return;
    }
    this.#queue.push({ bytes, at: this.#at });
    this.#queued += bytes.length;
    this.#at += bytes.length;
    this.#use(this.#free.pop() ?? new Uint8Array(CHUNK));
    if (this.#queued > MAX_QUEUED) this.#drainSync(false);
    else this.#pump();
  }

  #use(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.store = new LeStore(chunk);
    this.#pos = 0;
    this.#block = 0;
  }

  /** One asynchronous write of everything queued, unless one is in flight. */
  #pump(): void {
    if (this.#inflight !== undefined || this.#queue.length === 0 || this.#fd === undefined) return;
    if (this.#failure !== undefined) {
      this.#queue.length = 0;
      this.#queued = 0;
      return;
    }
    const pieces = this.#queue.splice(0);
    this.#queued = 0;
    this.#inflight = pieces;
    this.#writes++;
    const fd = this.#fd;
    writev(
      fd,
      pieces.map((p) => p.bytes),
      pieces[0]!.at,
      (err, written) => {
        this.#inflight = undefined;
        const total = pieces.reduce((a, p) => a + p.bytes.length, 0);
        if (err === null && written < total) {
          // A short write (a full disk returns what fitted first): finish it or learn why.
          this.#writeSyncFrom(pieces, written);
        } else if (err !== null) {
          this.#fail(err, pieces[0]!.at);
        }
        for (const p of pieces) this.#recycle(p.bytes);
        if (this.#closed) {
          if (this.#inflight === undefined) closeSync(fd);
          return;
        }
        this.#pump();
      },
    );
  }

  #recycle(bytes: Uint8Array): void {
    if (bytes.buffer.byteLength === CHUNK && this.#free.length < POOL) {
      this.#free.push(new Uint8Array(bytes.buffer, 0, CHUNK));
    }
  }

  #fail(e: Error, at: number): void {
    if (this.#failure !== undefined) return;
    this.#failure = new Error(
      `recording stopped: writing ${this.#file ?? 'the recording'} at byte ${at} failed: ${e.message}`,
    );
    this.#queue.length = 0;
    this.#queued = 0;
    this.#onFail?.(this.#failure);
  }

  /** Writes `pieces` from byte `skip` of their concatenation, synchronously. */
  #writeSyncFrom(pieces: readonly Piece[], skip: number): void {
    if (this.#fd === undefined || this.#failure !== undefined) return;
    let at = pieces[0]?.at ?? 0;
    try {
      for (const p of pieces) {
        let off = Math.min(skip, p.bytes.length);
        skip -= off;
        while (off < p.bytes.length) {
          this.#writes++;
          at = p.at + off;
          off += writeSync(this.#fd, p.bytes, off, p.bytes.length - off, p.at + off);
        }
      }
    } catch (e) {
      this.#fail(e as Error, at);
    }
  }

  /** Everything queued (and, with `inflight`, what is in flight) written before returning. */
  #drainSync(inflight: boolean): void {
    const pieces = [...(inflight ? (this.#inflight ?? []) : []), ...this.#queue.splice(0)];
    this.#queued = 0;
    this.#writeSyncFrom(pieces, 0);
    // In-flight pieces are recycled by their write's callback.
    for (const p of pieces) if (!this.#inflight?.includes(p)) this.#recycle(p.bytes);
  }

  /**
   * Every byte written to the file before this returns; no more bytes are accepted. The
   * descriptor closes now, or when a write still in flight is back. Returns the write error,
   * if any.
   */
  flushSync(): Error | undefined {
    if (this.#closed) return this.#failure;
    this.#seal();
    this.#closed = true;
    if (this.#fd !== undefined) {
      this.#drainSync(true);
      if (this.#inflight === undefined) closeSync(this.#fd);
    }
    return this.#failure;
  }

  /** The bytes so far (a sink without a file), the open block closed by a check record. */
  bytes(): Uint8Array {
    const open = this.chunk.subarray(this.#block, this.#pos);
    if (open.length === 0) return Buffer.concat([...this.#kept, this.chunk.subarray(0, this.#pos)]);
    const tail = new Uint8Array(open.length + CHECK_SIZE);
    tail.set(open, 0);
    writeCheck(tail, 0, open.length);
    return Buffer.concat([...this.#kept, this.chunk.subarray(0, this.#block), tail]);
  }
}
