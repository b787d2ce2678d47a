// The buffers of a background compaction (journal.ts): the records that come while it runs, and
// the snapshot's bytes gathered into large buffers for the thread pool. Both reuse their memory:
// a million-zone snapshot is 16 MiB, and as 250 fresh 64 KiB copies it made V8 count external
// memory fast enough to start full garbage collections in the middle of the commands.

/** Records kept in memory while a compaction runs, in order, in one growing buffer. */
export class RecordTail {
  #buf = new Uint8Array(64 << 10);
  length = 0;

  push(rec: Uint8Array): void {
    if (this.length + rec.length > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(2 * this.#buf.length, this.length + rec.length));
      bigger.set(this.#buf.subarray(0, this.length));
      this.#buf = bigger;
    }
    this.#buf.set(rec, this.length);
    this.length += rec.length;
  }

  /** The records so far, as a copy of their own (they go to the thread pool); empties it. */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

/** Bytes per buffer handed to the thread pool (one positional write each). */
const BATCH = 1 << 20;

/**
 * Gathers bytes into BATCH-sized buffers; a full one goes to `issue` with a `release` to call
 * once its write is done, after which it takes bytes again. As many buffers exist as writes
 * are under way at once (one or two: the pool writes a MiB faster than the scan fills one).
 */
export class BatchWriter {
  readonly #issue: (bytes: Uint8Array, release: () => void) => void;
  readonly #free: Uint8Array[] = [];
  #buf: Uint8Array | undefined;
  #len = 0;

  constructor(issue: (bytes: Uint8Array, release: () => void) => void) {
    this.#issue = issue;
  }

  /** Adds `bytes` (copied: the caller may reuse them at once). */
  add(bytes: Uint8Array): void {
    if (this.#buf !== undefined && this.#len + bytes.length > this.#buf.length) this.flush();
    if (this.#buf === undefined) {
      this.#buf = this.#free.pop() ?? new Uint8Array(Math.max(BATCH, bytes.length));
      if (this.#buf.length < bytes.length) this.#buf = new Uint8Array(bytes.length);
    }
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Hands the bytes gathered so far to `issue`. */
  flush(): void {
    const buf = this.#buf;
    if (buf === undefined || this.#len === 0) return;
    this.#buf = undefined;
    const n = this.#len;
    this.#len = 0;
    this.#issue(buf.subarray(0, n), () => {
      if (buf.length === BATCH) this.#free.push(buf);
    });
  }
}
