// Persisted zone state (`zoned.persist=on`, an nvmemu extension; docs/zns.md): a small
// metadata file beside the image, `<image>.zones`, so that zones survive a restart of the
// emulator the way a real zoned drive keeps them. QEMU keeps zone state in memory only
// (reference §5.2); `zoned.persist=off` reproduces that.
//
// Format (all little endian):
//   header, 64 bytes: magic "NVMZONES", version u32, LBA size u32, zone size u64 (blocks),
//     zone capacity u64 (blocks), number of zones u32, descriptor extension size u32,
//     reserved, CRC32C of bytes 0..59 at 60;
//   then records, appended: type u16, payload length u16, zone index u32, payload,
//     CRC32C (u32) of everything before it in the record.
//     type 1 (zone): state u8, attributes u8, 6 reserved, write pointer u64 (absolute LBA);
//     type 2 (extension): descriptor extension bytes (written before its zone record).
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
// snapshot), the current state is written to `<file>.tmp` a slice of zones per event-loop turn,
// while new records still go to the live file and are also kept in memory; then those records
// follow the snapshot in `<file>.tmp`, which is fsync'ed off the loop and renamed over the file
// (an atomic replace). Until the rename the live file is complete on its own; after it the new
// file is. Records replay in order and the last one of a zone wins, so a zone that changed while
// the slices were written is right either way. compact() does the same at once, synchronously
// (power-cut roll-back, tests).

import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { crc32c } from '../../../util/crc.js';
import { defineLayout } from '../../../util/layout.js';
import {
  readU16le,
  readU32le,
  readU64le,
  readU8,
  writeU16le,
  writeU32le,
  writeU8,
} from '../../../util/bytes.js';
import { ErrorCode, EmuError } from '../../../util/errors.js';
import { ZA_ZDEV, ZoneState, ZONE_STATE_VALUES, type Zone, type ZoneStateValue } from './state.js';

const MAGIC = 'NVMZONES';
const VERSION = 1;
const HEADER_SIZE = 64;
const REC_HEAD = 8;
const REC_ZONE = 1;
const REC_EXT = 2;
const ZONE_PAYLOAD = 16;
/** Compact once the appended records exceed this many bytes (or twice the last snapshot). */
const COMPACT_BYTES = 1 << 20;
/** A background compaction step yields the event loop after this long (ms). */
const STEP_MS = 0.5;

export const JournalHeaderLayout = defineLayout('zone-journal-header', HEADER_SIZE, [
  { name: 'magic', offset: 0, type: { ascii: 8, pad: 0 } },
  { name: 'version', offset: 8, type: 'u32le' },
  { name: 'lbaSize', offset: 12, type: 'u32le' },
  { name: 'zoneSize', offset: 16, type: 'u64le' },
  { name: 'zoneCap', offset: 24, type: 'u64le' },
  { name: 'nrZones', offset: 32, type: 'u32le' },
  { name: 'descrExtSize', offset: 36, type: 'u32le' },
  { name: 'crc', offset: 60, type: 'u32le' },
]);

export interface JournalGeometry {
  readonly lbaSize: number;
  readonly zoneSize: number;
  readonly zoneCap: number;
  readonly nrZones: number;
  readonly descrExtSize: number;
}

/** What a zone looked like when last recorded. */
export interface SavedZone {
  readonly state: ZoneStateValue;
  readonly wp: number;
  readonly za: number;
  readonly ext: Uint8Array | undefined;
}

/** The zone state file cannot be used (foreign file, other geometry, I/O error). */
export class ZoneStateFileError extends EmuError {
  constructor(message: string, code: string = ErrorCode.EMU_ERR_CONFIG) {
    super(code, message);
  }
}

function encodeHeader(g: JournalGeometry): Uint8Array {
  const h = JournalHeaderLayout.encode({
    magic: MAGIC,
    version: VERSION,
    lbaSize: g.lbaSize,
    zoneSize: BigInt(g.zoneSize),
    zoneCap: BigInt(g.zoneCap),
    nrZones: g.nrZones,
    descrExtSize: g.descrExtSize,
  });
  writeU32le(h, 60, crc32c(h.subarray(0, 60)));
  return h;
}

export function encodeRecord(type: number, zone: number, payload: Uint8Array): Uint8Array {
  const r = new Uint8Array(REC_HEAD + payload.length + 4);
  writeU16le(r, 0, type);
  writeU16le(r, 2, payload.length);
  writeU32le(r, 4, zone);
  r.set(payload, REC_HEAD);
  writeU32le(r, REC_HEAD + payload.length, crc32c(r.subarray(0, REC_HEAD + payload.length)));
  return r;
}

/** Bytes of a zone record. */
const ZONE_RECORD = REC_HEAD + ZONE_PAYLOAD + 4;

/** One zone's state as recorded. */
interface ZoneRow {
  readonly state: number;
  readonly za: number;
  readonly wp: number;
  readonly ext: Uint8Array | undefined;
}

/**
 * Writes the records of zone `index` at `off` of `buf` (extension first, so a zone record never
 * lacks its data) and returns where they end; `buf` has room for recordRoom() bytes from `off`.
 */
function putRecords(buf: Uint8Array, off: number, index: number, z: ZoneRow): number {
  let at = off;
  if ((z.za & ZA_ZDEV) !== 0 && z.ext !== undefined) {
    const len = z.ext.length;
    writeU16le(buf, at, REC_EXT);
    writeU16le(buf, at + 2, len);
    writeU32le(buf, at + 4, index);
    buf.set(z.ext, at + REC_HEAD);
    writeU32le(buf, at + REC_HEAD + len, crc32c(buf.subarray(at, at + REC_HEAD + len)));
    at += REC_HEAD + len + 4;
  }
  buf.fill(0, at, at + ZONE_RECORD);
  writeU16le(buf, at, REC_ZONE);
  writeU16le(buf, at + 2, ZONE_PAYLOAD);
  writeU32le(buf, at + 4, index);
  writeU8(buf, at + REC_HEAD, z.state);
  writeU8(buf, at + REC_HEAD + 1, z.za);
  // The write pointer as u64: two halves of a number below 2^53 (no bigint per record).
  writeU32le(buf, at + REC_HEAD + 8, z.wp % 2 ** 32);
  writeU32le(buf, at + REC_HEAD + 12, Math.floor(z.wp / 2 ** 32));
  writeU32le(buf, at + ZONE_RECORD - 4, crc32c(buf.subarray(at, at + ZONE_RECORD - 4)));
  return at + ZONE_RECORD;
}

/** Most bytes putRecords writes for one zone. */
const recordRoom = (descrExtSize: number): number =>
  ZONE_RECORD + (descrExtSize > 0 ? REC_HEAD + descrExtSize + 4 : 0);

/** The records that describe `z` (extension first, so a zone record never lacks its data). */
export function zoneRecords(z: Zone): Uint8Array[] {
  const buf = new Uint8Array(recordRoom(z.ext?.length ?? 0));
  const end = putRecords(buf, 0, z.index, z);
  const out: Uint8Array[] = [];
  for (let off = 0; off < end; off += REC_HEAD + readU16le(buf, off + 2) + 4) {
    out.push(buf.slice(off, off + REC_HEAD + readU16le(buf, off + 2) + 4));
  }
  return out;
}

/** What the journal reads of the zones it records: the zone table (state.ts ZoneTable). */
export interface ZoneRows {
  readonly count: number;
  isDefault(i: number): boolean;
  stateOf(i: number): number;
  zaOf(i: number): number;
  wpOf(i: number): number;
  extOf(i: number): Uint8Array | undefined;
}

const STATES = new Set<number>(ZONE_STATE_VALUES);

/** Parses a state file; returns the saved zones and the length of its valid prefix. */
export function parseJournal(
  bytes: Uint8Array,
  g: JournalGeometry,
  file: string,
): { zones: Map<number, SavedZone>; validLength: number } {
  if (bytes.length < HEADER_SIZE || readU32le(bytes, 60) !== crc32c(bytes.subarray(0, 60))) {
    throw new ZoneStateFileError(`zone state file '${file}' is not an nvmemu zone state file`);
  }
  const h = JournalHeaderLayout.decode(bytes);
  if (h.magic !== MAGIC || h.version !== VERSION) {
    throw new ZoneStateFileError(`zone state file '${file}' is not an nvmemu zone state file`);
  }
  const same =
    h.lbaSize === g.lbaSize &&
    h.zoneSize === BigInt(g.zoneSize) &&
    h.zoneCap === BigInt(g.zoneCap) &&
    h.nrZones === g.nrZones &&
    h.descrExtSize === g.descrExtSize;
  if (!same) {
    throw new ZoneStateFileError(
      `zone state file '${file}' was written for another zone geometry ` +
        `(${h.nrZones} zones of ${h.zoneSize} blocks, capacity ${h.zoneCap}, ` +
        `${h.lbaSize}-byte blocks, extension ${h.descrExtSize} bytes); ` +
        'remove it or set zoned.persist=off',
    );
  }
  const zones = new Map<number, SavedZone>();
  const pendingExt = new Map<number, Uint8Array>();
  let off = HEADER_SIZE;
  for (;;) {
    if (off + REC_HEAD > bytes.length) break;
    const type = readU16le(bytes, off);
    const len = readU16le(bytes, off + 2);
    const zone = readU32le(bytes, off + 4);
    const end = off + REC_HEAD + len + 4;
    if (end > bytes.length) break;
    if (readU32le(bytes, end - 4) !== crc32c(bytes.subarray(off, end - 4))) break;
    const p = bytes.subarray(off + REC_HEAD, off + REC_HEAD + len);
    if (zone >= g.nrZones) break;
    if (type === REC_EXT && len === g.descrExtSize) {
      pendingExt.set(zone, p.slice());
    } else if (type === REC_ZONE && len === ZONE_PAYLOAD && STATES.has(readU8(p, 0))) {
      const za = readU8(p, 1);
      const ext = (za & ZA_ZDEV) !== 0 ? pendingExt.get(zone) : undefined;
      zones.set(zone, {
        state: readU8(p, 0) as ZoneStateValue,
        za: ext === undefined ? za & ~ZA_ZDEV : za,
        wp: Number(readU64le(p, 8)),
        ext,
      });
    } else {
      break;
    }
    off = end;
  }
  return { zones, validLength: off };
}

/** A background compaction in progress (see the file comment). */
interface Compaction {
  /** `<file>.tmp`, open for writing. */
  readonly fd: number;
  /** Next zone to snapshot. */
  next: number;
  /** Records appended since the compaction started, to follow the snapshot. */
  tail: Uint8Array[];
  /** Bytes of the snapshot written so far. */
  bytes: number;
  /** Set by close() or compact(): the compaction stops at its next step and leaves no file. */
  aborted: boolean;
  /** The fsync of the finished snapshot is under way (on the thread pool). */
  syncing: boolean;
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
  /** The file was created or renamed since the folder was last fsync'ed. */
  #dirDirty = false;
  #compaction: Compaction | undefined;
  /** Background compactions finished (tests, bench). */
  compactions = 0;

  private constructor(file: string, g: JournalGeometry, fd: number | undefined, size: number) {
    this.file = file;
    this.#geometry = g;
    this.#fd = fd;
    this.#limit = Math.max(COMPACT_BYTES, 2 * size);
    this.#scratch = new Uint8Array(recordRoom(g.descrExtSize));
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
  ): { journal: ZoneJournal | undefined; saved: Map<number, SavedZone> } {
    let saved = new Map<number, SavedZone>();
    let size = 0;
    if (existsSync(file)) {
      const bytes = new Uint8Array(readFileSync(file));
      if (bytes.length > 0) {
        const parsed = parseJournal(bytes, g, file);
        saved = parsed.zones;
        size = parsed.validLength;
        if (!readOnly && parsed.validLength < bytes.length) {
          const fd = openSync(file, 'r+');
          try {
            ftruncateSync(fd, parsed.validLength);
          } finally {
            closeSync(fd);
          }
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
      first.set(encodeHeader(this.#geometry));
      first.set(rec, HEADER_SIZE);
      rec = first;
      this.#fd = openSync(this.file, 'w');
      this.#dirDirty = true;
    }
    writeSync(this.#fd, rec);
    this.#appended += rec.length;
    const c = this.#compaction;
    if (c !== undefined) c.tail.push(this.#scratch.slice(0, end));
    else if (this.#appended > this.#limit) this.#startCompaction();
  }

  #startCompaction(): void {
    const c: Compaction = {
      fd: openSync(`${this.file}.tmp`, 'w'),
      next: 0,
      tail: [],
      bytes: HEADER_SIZE,
      aborted: false,
      syncing: false,
    };
    this.#compaction = c;
    writeSync(c.fd, encodeHeader(this.#geometry));
    setImmediate(() => this.#step(c));
  }

  /** Snapshots zones until STEP_MS has passed, then yields; at the end, hands over. */
  #step(c: Compaction): void {
    if (c.aborted) return;
    try {
      const rows = this.#rows!;
      const room = recordRoom(this.#geometry.descrExtSize);
      const buf = new Uint8Array(256 * room);
      const t0 = performance.now();
      while (c.next < rows.count && performance.now() - t0 < STEP_MS) {
        let off = 0;
        const stop = Math.min(rows.count, c.next + 4096);
        for (; c.next < stop && off + room <= buf.length; c.next++) {
          if (!rows.isDefault(c.next)) off = putRecords(buf, off, c.next, this.#row(c.next));
        }
        if (off > 0) writeSync(c.fd, buf, 0, off);
        c.bytes += off;
      }
      if (c.next < rows.count) {
        setImmediate(() => this.#step(c));
        return;
      }
      this.#writeTail(c);
      c.syncing = true;
      fsync(c.fd, (err) => this.#synced(c, err));
    } catch {
      this.#abandon(c);
    }
  }

  #writeTail(c: Compaction): void {
    for (const r of c.tail) writeSync(c.fd, r);
    c.tail = [];
  }

  /** The snapshot is durable: append what came meanwhile and rename it over the live file. */
  #synced(c: Compaction, err: Error | null): void {
    c.syncing = false;
    if (c.aborted || err !== null) {
      this.#abandon(c);
      return;
    }
    try {
      this.#writeTail(c);
      renameSync(`${this.file}.tmp`, this.file);
    } catch {
      this.#abandon(c);
      return;
    }
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = c.fd;
    this.#dirDirty = true;
    this.#compaction = undefined;
    this.#appended = 0;
    this.#limit = Math.max(COMPACT_BYTES, 2 * c.bytes);
    this.compactions++;
  }

  /** Gives up a compaction: the live file stays as it is (complete on its own). */
  #abandon(c: Compaction): void {
    if (this.#compaction === c) this.#compaction = undefined;
    c.aborted = true;
    // An fsync still under way finishes first (its callback comes back here).
    if (c.syncing) return;
    try {
      closeSync(c.fd);
    } catch {
      // already closed
    }
    // Failed compactions retry only after as many records again.
    this.#appended = 0;
  }

  /** Stops a background compaction (its temporary file is overwritten by the next one). */
  #stopCompaction(): void {
    const c = this.#compaction;
    if (c === undefined) return;
    this.#abandon(c);
    if (!c.syncing) {
      try {
        unlinkSync(`${this.file}.tmp`);
      } catch {
        // never created or already gone
      }
    }
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
    const room = recordRoom(g.descrExtSize);
    let buf = new Uint8Array(HEADER_SIZE + Math.min(all.length, 65536) * room);
    buf.set(encodeHeader(g));
    let off = HEADER_SIZE;
    for (const z of all) {
      const index = z.index;
      const row: ZoneRow = {
        state: z.state,
        wp: z.wp,
        za: 'za' in z ? z.za : (this.#rows?.zaOf(index) ?? 0),
        ext: 'ext' in z ? z.ext : this.#rows?.extOf(index),
      };
      if (row.state === ZoneState.EMPTY && row.wp === index * g.zoneSize && row.za === 0) {
        continue;
      }
      if (off + room > buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf.subarray(0, off));
        buf = bigger;
      }
      off = putRecords(buf, off, index, row);
    }
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    writeAtomically(this.file, [buf.subarray(0, off)]);
    this.#fd = openSync(this.file, 'a');
    this.#appended = 0;
    this.#limit = Math.max(COMPACT_BYTES, 2 * off);
  }

  /** Makes the recorded state durable (called with the namespace's flush). */
  sync(): void {
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
