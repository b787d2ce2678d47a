// Persisted zone state (`zoned.persist=on`, an nvmemu extension; docs/zns.md): a small
// metadata file beside the image, `<image>.zones`, so that zones survive a restart of the
// emulator the way a real zoned drive keeps them. QEMU keeps zone state in memory only
// (reference §5.2); `zoned.persist=off` reproduces that.
//
// The bytes are journal-format.ts's.
//
// Crash safety. A zone's records are appended (one write(2)) after the data they describe reached
// the image and before the command completes, so the file never claims more than the image holds
// after a kill: a torn last record fails its CRC and is cut off when the file is loaded. The
// journal is fsync'ed whenever the namespace is flushed (Flush, FUA, shutdown), like the data.
// The file is created by the first change as the header and that change's records in one
// write(2) (a zero-length file, a creation the power took before its data, loads as no state).
//
// Compaction, without stalling the event loop (issue 20: 1,000,000 zones, no stall over 2 ms):
// once the records appended since the last compaction exceed max(1 MiB, twice the last
// snapshot), the current state is snapshotted a quarter of a millisecond of zones per event-loop turn
// into `<file>.tmp`, written there in 1 MiB positional writes on the thread pool (so the kernel's
// write throttling never blocks the loop), while new records still go to the live file and are
// also kept in memory (one growing buffer; journal-buffers.ts); those records follow the snapshot, written on the
// thread pool in rounds until few are left, the file is fsync'ed on the thread pool, and at the
// hand-over the records of the fsync's time are appended (one write(2) of a few KiB) and the
// file renamed over the live one (an atomic replace). Until the rename the live file is complete
// on its own; after it the new file is. Records replay in order and the last one of a zone wins,
// so a zone that changed while the slices were taken is right either way.
//
// Durability across the hand-over: a flush (sync()) while a compaction runs makes the live
// file's records durable; the records it covered must then be durable in the new file before
// the rename, so a flush after the fsync of the new file began sends the compaction round again
// (write what came, fsync) instead of handing over. A namespace flushed without pause would keep
// it going round; after MAX_ROUNDS the last round's write and fdatasync run at the hand-over.
// compact() does the whole at once, synchronously (power-cut roll-back, tests).

import {
  close,
  closeSync,
  existsSync,
  fdatasyncSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import {
  encodeHeader,
  HEADER_SIZE,
  putRecords,
  readJournal,
  recordRoom,
  SavedZones,
  SnapshotWriter,
  type JournalGeometry,
  type ZoneRow,
  type ZoneRows,
} from './journal-format.js';
import { BatchWriter, RecordTail } from './journal-buffers.js';
import { ZoneState, type Zone } from './state.js';

export {
  encodeRecord,
  JournalHeaderLayout,
  parseJournal,
  SavedZones,
  zoneRecords,
  ZoneStateFileError,
  type JournalGeometry,
  type SavedZone,
  type ZoneRows,
} from './journal-format.js';

/** Compact once the appended records exceed this many bytes (or twice the last snapshot). */
const COMPACT_BYTES = 1 << 20;
/**
 * A background compaction step yields the event loop after this long (ms): with the commands of
 * the same turn it stays well under the 2 ms a turn may take.
 */
const STEP_MS = 0.25;
/** Records of at most this many bytes are appended at the hand-over itself (one write(2)). */
const HANDOVER_BYTES = 64 << 10;
/** Write-and-fsync rounds before the hand-over does the last one itself (see the file comment). */
const MAX_ROUNDS = 8;

/** A background compaction in progress (see the file comment). */
interface Compaction {
  /** `<file>.tmp`, open for writing (positional writes on the thread pool). */
  readonly fd: number;
  /** Next zone to snapshot. */
  next: number;
  /** Every zone has been snapshotted. */
  scanned: boolean;
  /** Records appended since the compaction started and not yet written to `fd`. */
  readonly tail: RecordTail;
  /** The snapshot's bytes on their way to `fd`, in large reused buffers. */
  readonly batches: BatchWriter;
  /** The snapshot being built (its bytes count the header). */
  readonly snapshot: SnapshotWriter;
  /** Where the next write to `fd` goes. */
  pos: number;
  /** Writes to `fd` under way. */
  pending: number;
  /** The fsync of `fd` is under way. */
  syncing: boolean;
  /** The journal's flush count when the last fsync of `fd` began; -1: none yet. */
  syncedAt: number;
  /** Write-and-fsync rounds so far. */
  rounds: number;
  /** The round's write is under way and an fsync follows it. */
  syncNext: boolean;
  /** Set when it is given up (close(), compact(), an I/O error): it ends without a file. */
  aborted: boolean;
  /** `fd` was closed. */
  closed: boolean;
}

export class ZoneJournal {
  readonly file: string;
  readonly #geometry: JournalGeometry;
  /** Open for appending; undefined until the first record (the file is created lazily). */
  #fd: number | undefined;
  #closed = false;
  /** Bytes appended since the file was loaded, created or compacted. */
  #appended = 0;
  /** Compact when #appended exceeds this. */
  #limit: number;
  /** The zone table, once attached (record() and background compaction read it). */
  #rows: ZoneRows | undefined;
  /** One zone's records, encoded here before their write(2). */
  readonly #scratch: Uint8Array;
  /**
   * The file header, encoded once when the journal opens, so the first change only creates the
   * file and writes. Never modified (background writes hold it while they run).
   */
  readonly #header: Uint8Array;
  /** The file was created or renamed since the folder was last fsync'ed. */
  #dirDirty = false;
  #compaction: Compaction | undefined;
  /** sync() calls so far (a compaction's hand-over checks for flushes since its fsync). */
  #flushes = 0;
  /** Background compactions finished (tests, bench). */
  compactions = 0;
  /** The longest event-loop turn a background compaction took, ms by stepClock (bench). */
  longestStepMs = 0;
  /**
   * The clock of longestStepMs, ms: the wall clock, or what the bench sets (the main thread's CPU
   * time, which a preemption does not count). Slices are cut by the wall clock either way.
   */
  static stepClock: () => number = () => performance.now();

  private constructor(file: string, g: JournalGeometry, fd: number | undefined, size: number) {
    this.file = file;
    this.#geometry = g;
    this.#fd = fd;
    this.#limit = Math.max(COMPACT_BYTES, 2 * size);
    this.#scratch = new Uint8Array(recordRoom(g.descrExtSize));
    this.#header = encodeHeader(g);
  }

  /**
   * Loads `file` (if it exists) and opens it for appending; a torn tail is cut off. A missing
   * or zero-length file is only (re)created by the first change. With `readOnly` the saved
   * state is returned but nothing is ever written.
   */
  static open(
    file: string,
    g: JournalGeometry,
    readOnly: boolean,
  ): { journal: ZoneJournal | undefined; saved: SavedZones } {
    let saved = new SavedZones(0);
    let size = 0;
    if (existsSync(file) && statSync(file).size > 0) {
      const parsed = readJournal(file, g);
      saved = parsed.zones;
      size = parsed.validLength;
      if (!readOnly && parsed.validLength < parsed.length) {
        const fd = openSync(file, 'r+');
        try {
          ftruncateSync(fd, parsed.validLength);
        } finally {
          closeSync(fd);
        }
      }
    }
    if (readOnly) return { journal: undefined, saved };
    const fd = size > 0 ? openSync(file, 'a') : undefined;
    return { journal: new ZoneJournal(file, g, fd, size), saved };
  }

  /** The zones this journal records (record() and background compaction read them). */
  attach(rows: ZoneRows): void {
    this.#rows = rows;
  }

  #row(i: number): ZoneRow {
    const r = this.#rows!;
    return { state: r.stateOf(i), za: r.zaOf(i), wp: r.wpOf(i), ext: r.extOf(i) };
  }

  /** Appends the records of zone `index` (one write(2)); compacts in the background when due. */
  record(index: number): void {
    if (this.#closed) return;
    assert(this.#rows !== undefined, 'a zone table is attached before changes are recorded');
    const end = putRecords(this.#scratch, 0, index, this.#row(index));
    let rec = this.#scratch.subarray(0, end);
    if (this.#fd === undefined) {
      // The first change: header and records in one write.
      const first = new Uint8Array(HEADER_SIZE + end);
      first.set(this.#header);
      first.set(rec, HEADER_SIZE);
      rec = first;
      this.#fd = openSync(this.file, 'w');
      this.#dirDirty = true;
    }
    writeSync(this.#fd, rec);
    this.#appended += rec.length;
    const c = this.#compaction;
    if (c !== undefined) c.tail.push(this.#scratch.subarray(0, end));
    else if (this.#appended > this.#limit) this.#startCompaction();
  }

  /** Starts a background compaction now, unless one is under way (bench, maintenance). */
  compactSoon(): void {
    if (this.#closed || this.#fd === undefined || this.#compaction !== undefined) return;
    this.#startCompaction();
  }

  #startCompaction(): void {
    let c: Compaction | undefined;
    try {
      const fd = openSync(`${this.file}.tmp`, 'w');
      c = {
        fd,
        next: 0,
        scanned: false,
        tail: new RecordTail(),
        // Blocks are copied out of the writer's buffer into batches for the thread pool.
        batches: new BatchWriter((b, release) => this.#write(c!, b, release)),
        snapshot: new SnapshotWriter(this.#geometry.descrExtSize, (b) => c!.batches.add(b)),
        pos: 0,
        pending: 0,
        syncing: false,
        syncedAt: -1,
        rounds: 0,
        syncNext: false,
        aborted: false,
        closed: false,
      };
      this.#compaction = c;
      this.#write(c, this.#header);
      c.snapshot.bytes = HEADER_SIZE;
      const started = c;
      setImmediate(() => this.#step(started));
    } catch {
      if (c !== undefined) this.#abandon(c);
      this.#appended = 0;
    }
  }

  /** Writes `b` at the compaction's next position, off the event loop. */
  #write(c: Compaction, b: Uint8Array, release?: () => void): void {
    c.pending++;
    write(c.fd, b, 0, b.length, c.pos, (err) => {
      c.pending--;
      release?.();
      if (err !== null) this.#abandon(c);
      else this.#advance(c);
    });
    c.pos += b.length;
  }

  /** Snapshots zones until STEP_MS has passed, then yields the event loop. */
  #step(c: Compaction): void {
    if (c.aborted) return;
    const t0 = performance.now();
    const c0 = ZoneJournal.stepClock();
    try {
      const rows = this.#rows!;
      const snap = c.snapshot;
      while (c.next < rows.count && performance.now() - t0 < STEP_MS) {
        const stop = Math.min(rows.count, c.next + 1024);
        for (let i = c.next; i < stop; i++) {
          if (rows.isDefault(i)) continue;
          snap.add(i, rows.stateOf(i), rows.zaOf(i), rows.wpOf(i), rows.extOf(i));
        }
        c.next = stop;
      }
      if (c.next < rows.count) {
        setImmediate(() => this.#step(c));
        return;
      }
      snap.end();
      c.batches.flush();
      c.scanned = true;
      this.#advance(c);
    } catch {
      this.#abandon(c);
    } finally {
      this.longestStepMs = Math.max(this.longestStepMs, ZoneJournal.stepClock() - c0);
    }
  }

  /**
   * Moves a scanned compaction on once its writes are done, a round at a time (all on the thread
   * pool): the records that came meanwhile follow the snapshot, then the file is fsync'ed; it
   * hands over once few records wait and no flush came since the fsync began.
   */
  #advance(c: Compaction): void {
    if (c.aborted) {
      this.#closeWhenIdle(c);
      return;
    }
    if (!c.scanned || c.pending > 0 || c.syncing) return;
    if (c.syncNext) {
      c.syncNext = false;
      this.#fsync(c);
      return;
    }
    // The first round always syncs: the snapshot must be durable before it replaces the file.
    const flushed = c.syncedAt !== this.#flushes;
    if (c.rounds < MAX_ROUNDS && (flushed || c.tail.length > HANDOVER_BYTES)) {
      c.rounds++;
      if (c.tail.length === 0) this.#fsync(c);
      else {
        c.syncNext = flushed;
        this.#write(c, c.tail.take());
      }
      return;
    }
    const c0 = ZoneJournal.stepClock();
    try {
      this.#handOver(c, flushed);
    } finally {
      this.longestStepMs = Math.max(this.longestStepMs, ZoneJournal.stepClock() - c0);
    }
  }

  /** fsyncs the compaction's file on the thread pool, then moves it on. */
  #fsync(c: Compaction): void {
    c.syncing = true;
    c.syncedAt = this.#flushes;
    fsync(c.fd, (err) => {
      c.syncing = false;
      if (c.aborted) this.#closeWhenIdle(c);
      else if (err !== null) this.#abandon(c);
      else this.#advance(c);
    });
  }

  /**
   * The snapshot is durable: append what came since the last round (made durable too where a
   * flush asked for it: `flushed`, after MAX_ROUNDS only) and rename it over the file.
   */
  #handOver(c: Compaction, flushed: boolean): void {
    try {
      if (c.tail.length > 0) {
        const rest = c.tail.take();
        writeSync(c.fd, rest, 0, rest.length, c.pos);
        c.pos += rest.length;
      }
      if (flushed) fdatasyncSync(c.fd);
      renameSync(`${this.file}.tmp`, this.file);
    } catch {
      this.#abandon(c);
      return;
    }
    // Appends from here on go to the new file, opened for appending. The old file's last
    // descriptor closes on the thread pool: freeing a replaced file's blocks takes the file
    // system milliseconds (measured: 13 ms for 17 MB on ext4), which the loop need not wait for.
    const fd = openSync(this.file, 'a');
    if (this.#fd !== undefined) close(this.#fd, () => undefined);
    this.#fd = fd;
    this.#compaction = undefined;
    c.aborted = true; // its fd is done with
    this.#closeWhenIdle(c);
    this.#dirDirty = true;
    this.#appended = 0;
    this.#limit = Math.max(COMPACT_BYTES, 2 * c.snapshot.bytes);
    this.compactions++;
  }

  /**
   * Gives up a compaction: the live file stays as it is (complete on its own). Its temporary
   * file is unlinked at once, so writes still under way land in no file anyone opens again.
   */
  #abandon(c: Compaction): void {
    if (c.aborted) {
      this.#closeWhenIdle(c);
      return;
    }
    c.aborted = true;
    if (this.#compaction === c) this.#compaction = undefined;
    try {
      unlinkSync(`${this.file}.tmp`);
    } catch {
      // already gone
    }
    // A failed compaction is tried again only after as many records again.
    this.#appended = 0;
    this.#closeWhenIdle(c);
  }

  #closeWhenIdle(c: Compaction): void {
    if (c.closed || c.pending > 0 || c.syncing) return;
    c.closed = true;
    try {
      closeSync(c.fd);
    } catch {
      // already closed
    }
  }

  /** Stops a background compaction, if one runs. */
  #stopCompaction(): void {
    const c = this.#compaction;
    if (c !== undefined) this.#abandon(c);
  }

  /**
   * Rewrites the file at once as header + the records of every zone of `all` not in its initial
   * state. Entries are live zones or copies that change a zone's state and write pointer, such
   * as the power cut's roll-back makes (`{ ...z, wp, wptr, state }`): what a copy lacks (its
   * attributes and extension) is the zone's current value.
   */
  compact(all: readonly Zone[]): void {
    if (this.#closed) return;
    this.#stopCompaction();
    const g = this.#geometry;
    const parts = [this.#header];
    const snap = new SnapshotWriter(g.descrExtSize, (b) => parts.push(b.slice()));
    for (const z of all) {
      const index = z.index;
      const za = 'za' in z ? z.za : (this.#rows?.zaOf(index) ?? 0);
      const ext = 'ext' in z ? z.ext : this.#rows?.extOf(index);
      if (z.state !== ZoneState.EMPTY || z.wp !== index * g.zoneSize || za !== 0) {
        snap.add(index, z.state, za, z.wp, ext);
      }
    }
    snap.end();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    writeAtomically(this.file, parts);
    this.#fd = openSync(this.file, 'a');
    this.#appended = 0;
    this.#limit = Math.max(COMPACT_BYTES, 2 * (HEADER_SIZE + snap.bytes));
  }

  /** Makes the recorded state durable (called with the namespace's flush). */
  sync(): void {
    this.#flushes++;
    if (this.#fd === undefined) return;
    fdatasyncSync(this.#fd);
    if (this.#dirDirty) {
      syncFolder(this.file);
      this.#dirDirty = false;
    }
  }

  /** True once the state file exists (a change was recorded or it was loaded). */
  get created(): boolean {
    return this.#fd !== undefined;
  }

  /** A background compaction is under way (tests, bench). */
  get compacting(): boolean {
    return this.#compaction !== undefined;
  }

  close(): void {
    this.#stopCompaction();
    this.#closed = true;
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function syncFolder(file: string): void {
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Writes `parts` to `<file>.tmp`, fsyncs, renames over `file` and fsyncs the folder. */
export function writeAtomically(file: string, parts: readonly Uint8Array[]): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const p of parts) writeSync(fd, p);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncFolder(file);
}
