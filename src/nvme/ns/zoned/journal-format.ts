// The zone state file's bytes (`<image>.zones`, docs/zns.md; journal.ts writes and replays it).
//
// Format (all little endian):
//   header, 64 bytes: magic "NVMZONES", version u32, LBA size u32, zone size u64 (blocks),
//     zone capacity u64 (blocks), number of zones u32, descriptor extension size u32,
//     reserved, CRC32C of bytes 0..59 at 60;
//   then records, appended: type u16, payload length u16, zone index u32, payload,
//     CRC32C (u32) of everything before it in the record.
//     type 1 (zone): state u8, attributes u8, 6 reserved, write pointer u64 (absolute LBA);
//     type 2 (extension): descriptor extension bytes (written before its zone's entry);
//     type 3 (zones, version 2): up to 4095 entries of 16 bytes — zone index u32, state u8,
//       attributes u8, 2 reserved, write pointer u64 — under one CRC; the record's zone index
//       is its first entry's. Snapshots are written as these: a million zones load with 250
//       CRCs instead of a million.
// Version 2 files may hold type 3 records; version 1 files (nvmemu before them) are read as
// they are and become version 2 at their next compaction. Other versions are refused by name.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32c } from '../../../util/crc.js';
import { defineLayout } from '../../../util/layout.js';
import {
  readU16le,
  readU32le,
  readU8,
  writeU16le,
  writeU32le,
  writeU8,
} from '../../../util/bytes.js';
import { ErrorCode, EmuError } from '../../../util/errors.js';
import { ZA_ZDEV, ZONE_STATE_VALUES, type Zone, type ZoneStateValue } from './state.js';

const MAGIC = 'NVMZONES';
/** Written by this version; READABLE lists what it loads. */
const VERSION = 2;
const READABLE: readonly number[] = [1, 2];
export const HEADER_SIZE = 64;
const REC_HEAD = 8;
const REC_ZONE = 1;
const REC_EXT = 2;
const REC_ZONES = 3;
const ZONE_PAYLOAD = 16;
/** Bytes of a zone record. */
const ZONE_RECORD = REC_HEAD + ZONE_PAYLOAD + 4;
/** A type 3 entry, and the most entries one record holds (payload length is a u16). */
const ENTRY = 16;
const ENTRIES_PER_BLOCK = Math.floor(0xffff / ENTRY);

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

export function encodeHeader(g: JournalGeometry): Uint8Array {
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

/** One zone's state as recorded. */
export interface ZoneRow {
  readonly state: number;
  readonly za: number;
  readonly wp: number;
  readonly ext: Uint8Array | undefined;
}

/**
 * Writes the records of zone `index` at `off` of `buf` (extension first, so a zone record never
 * lacks its data) and returns where they end; `buf` has room for recordRoom() bytes from `off`.
 */
export function putRecords(buf: Uint8Array, off: number, index: number, z: ZoneRow): number {
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
  putWp(buf, at + REC_HEAD + 8, z.wp);
  writeU32le(buf, at + ZONE_RECORD - 4, crc32c(buf.subarray(at, at + ZONE_RECORD - 4)));
  return at + ZONE_RECORD;
}

/** Most bytes putRecords writes for one zone. */
export const recordRoom = (descrExtSize: number): number =>
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

/** A write pointer as u64: two halves of a number below 2^53 (no bigint per record). */
function putWp(buf: Uint8Array, off: number, wp: number): void {
  writeU32le(buf, off, wp % 2 ** 32);
  writeU32le(buf, off + 4, Math.floor(wp / 2 ** 32));
}
const getWp = (buf: Uint8Array, off: number): number =>
  readU32le(buf, off + 4) * 2 ** 32 + readU32le(buf, off);

/**
 * Builds snapshot bytes: zones in type 3 blocks, each block preceded by the extension records
 * of its zones. Complete records go to `sink` as they are made, as a view of the writer's own
 * buffer that is valid only during the call (write it out or copy it); end() sends the rest.
 */
export class SnapshotWriter {
  readonly #extSize: number;
  readonly #sink: (bytes: Uint8Array) => void;
  #exts: Uint8Array;
  #extLen = 0;
  readonly #block = new Uint8Array(REC_HEAD + ENTRIES_PER_BLOCK * ENTRY + 4);
  #entries = 0;
  /** Bytes sent to the sink. */
  bytes = 0;

  constructor(descrExtSize: number, sink: (bytes: Uint8Array) => void) {
    this.#extSize = descrExtSize;
    this.#sink = sink;
    this.#exts = new Uint8Array(descrExtSize > 0 ? 64 * (REC_HEAD + descrExtSize + 4) : 0);
  }

  add(index: number, state: number, za: number, wp: number, ext: Uint8Array | undefined): void {
    if ((za & ZA_ZDEV) !== 0 && ext !== undefined) {
      const len = REC_HEAD + this.#extSize + 4;
      if (this.#extLen + len > this.#exts.length) {
        const bigger = new Uint8Array(this.#exts.length * 2);
        bigger.set(this.#exts.subarray(0, this.#extLen));
        this.#exts = bigger;
      }
      writeU16le(this.#exts, this.#extLen, REC_EXT);
      writeU16le(this.#exts, this.#extLen + 2, this.#extSize);
      writeU32le(this.#exts, this.#extLen + 4, index);
      this.#exts.set(ext.subarray(0, this.#extSize), this.#extLen + REC_HEAD);
      const end = this.#extLen + REC_HEAD + this.#extSize;
      writeU32le(this.#exts, end, crc32c(this.#exts.subarray(this.#extLen, end)));
      this.#extLen = end + 4;
    }
    const b = this.#block;
    if (this.#entries === 0) writeU32le(b, 4, index);
    const at = REC_HEAD + this.#entries * ENTRY;
    writeU32le(b, at, index);
    writeU8(b, at + 4, state);
    writeU8(b, at + 5, za);
    writeU16le(b, at + 6, 0);
    putWp(b, at + 8, wp);
    if (++this.#entries === ENTRIES_PER_BLOCK) this.#flush();
  }

  #flush(): void {
    if (this.#entries === 0) return;
    if (this.#extLen > 0) this.#send(this.#exts.subarray(0, this.#extLen));
    this.#extLen = 0;
    const len = this.#entries * ENTRY;
    const b = this.#block;
    writeU16le(b, 0, REC_ZONES);
    writeU16le(b, 2, len);
    writeU32le(b, REC_HEAD + len, crc32c(b.subarray(0, REC_HEAD + len)));
    this.#send(b.subarray(0, REC_HEAD + len + 4));
    this.#entries = 0;
  }

  #send(bytes: Uint8Array): void {
    this.#sink(bytes);
    this.bytes += bytes.length;
  }

  /** Sends the last, partial block. */
  end(): void {
    this.#flush();
  }
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

/**
 * The zones a state file records, by zone index, as the last record of each left them; kept in
 * columns (a million recorded zones would otherwise be a million objects at every start).
 * Iterates in zone order.
 */
export class SavedZones implements ReadonlyMap<number, SavedZone> {
  /** 0: not recorded. */
  readonly #state: Uint8Array;
  readonly #za: Uint8Array;
  readonly #wp: Float64Array;
  readonly #ext = new Map<number, Uint8Array>();
  #size = 0;

  constructor(nrZones: number) {
    this.#state = new Uint8Array(nrZones);
    this.#za = new Uint8Array(nrZones);
    this.#wp = new Float64Array(nrZones);
  }

  /** Records zone `i` (a later call for the same zone replaces it). */
  set(i: number, state: ZoneStateValue, za: number, wp: number, ext: Uint8Array | undefined): void {
    if (this.#state[i] === 0) this.#size++;
    this.#state[i] = state;
    this.#za[i] = za;
    this.#wp[i] = wp;
    if (ext !== undefined) this.#ext.set(i, ext);
    else this.#ext.delete(i);
  }

  get size(): number {
    return this.#size;
  }
  has(i: number): boolean {
    return this.#state[i] !== undefined && this.#state[i] !== 0;
  }
  get(i: number): SavedZone | undefined {
    if (!this.has(i)) return undefined;
    return {
      state: this.#state[i] as ZoneStateValue,
      za: this.#za[i]!,
      wp: this.#wp[i]!,
      ext: this.#ext.get(i),
    };
  }
  /** Each recorded zone, without an object per zone (the restore at start). */
  each(
    f: (i: number, state: ZoneStateValue, za: number, wp: number, ext?: Uint8Array) => void,
  ): void {
    const st = this.#state;
    for (let i = 0; i < st.length; i++) {
      if (st[i] !== 0) f(i, st[i] as ZoneStateValue, this.#za[i]!, this.#wp[i]!, this.#ext.get(i));
    }
  }
  *keys(): MapIterator<number> {
    for (let i = 0; i < this.#state.length; i++) if (this.#state[i] !== 0) yield i;
  }
  *values(): MapIterator<SavedZone> {
    for (const i of this.keys()) yield this.get(i)!;
  }
  *entries(): MapIterator<[number, SavedZone]> {
    for (const i of this.keys()) yield [i, this.get(i)!];
  }
  [Symbol.iterator](): MapIterator<[number, SavedZone]> {
    return this.entries();
  }
  forEach(f: (value: SavedZone, key: number, map: ReadonlyMap<number, SavedZone>) => void): void {
    for (const [i, z] of this.entries()) f(z, i, this);
  }
}

/** Parses a state file; returns the saved zones and the length of its valid prefix. */
export function parseJournal(
  bytes: Uint8Array,
  g: JournalGeometry,
  file: string,
): { zones: SavedZones; validLength: number } {
  const p = new JournalParser(g, file, bytes.subarray(0, HEADER_SIZE));
  const r = p.records(bytes, HEADER_SIZE);
  return { zones: p.zones, validLength: r.end };
}

/**
 * Reads a state file a piece at a time (a snapshot of a million zones is 16 MiB that need not
 * be in memory at once): the saved zones, the length of its valid prefix and its length.
 */
export function readJournal(
  file: string,
  g: JournalGeometry,
): { zones: SavedZones; validLength: number; length: number } {
  const fd = openSync(file, 'r');
  try {
    const length = fstatSync(fd).size;
    const chunk = 1 << 20;
    let buf = new Uint8Array(chunk + 0x10000);
    const head = new Uint8Array(HEADER_SIZE);
    const got = readSync(fd, head, 0, HEADER_SIZE, 0);
    const p = new JournalParser(g, file, head.subarray(0, got));
    let pos = HEADER_SIZE;
    let have = 0;
    for (;;) {
      // A record is at most 64 KiB + 12 bytes, so a carried remainder always fits.
      if (have + chunk > buf.length) {
        const bigger = new Uint8Array(have + chunk);
        bigger.set(buf.subarray(0, have));
        buf = bigger;
      }
      const n = readSync(fd, buf, have, chunk, pos);
      pos += n;
      const r = p.records(buf.subarray(0, have + n), 0);
      const validEnd = pos - (have + n) + r.end;
      if (r.invalid || n === 0) return { zones: p.zones, validLength: validEnd, length };
      buf.copyWithin(0, r.end, have + n);
      have = have + n - r.end;
    }
  } finally {
    closeSync(fd);
  }
}

/** Checks a state file's header, then replays its records into `zones`. */
class JournalParser {
  readonly zones: SavedZones;
  readonly #g: JournalGeometry;
  readonly #version: number;
  readonly #pendingExt = new Map<number, Uint8Array>();

  constructor(g: JournalGeometry, file: string, header: Uint8Array) {
    this.#g = g;
    if (header.length < HEADER_SIZE || readU32le(header, 60) !== crc32c(header.subarray(0, 60))) {
      throw new ZoneStateFileError(`zone state file '${file}' is not an nvmemu zone state file`);
    }
    const h = JournalHeaderLayout.decode(header);
    if (h.magic !== MAGIC) {
      throw new ZoneStateFileError(`zone state file '${file}' is not an nvmemu zone state file`);
    }
    if (!READABLE.includes(h.version)) {
      throw new ZoneStateFileError(
        `zone state file '${file}' has format version ${h.version}; this nvmemu reads ` +
          `versions ${READABLE.join(' and ')}: remove it or set zoned.persist=off`,
      );
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
    this.#version = h.version;
    this.zones = new SavedZones(g.nrZones);
  }

  /**
   * Replays the whole records of `bytes` from `off`: where they end, and whether a record
   * there is invalid (a torn or foreign tail: nothing after it counts) rather than incomplete.
   */
  records(bytes: Uint8Array, off: number): { end: number; invalid: boolean } {
    const g = this.#g;
    const zones = this.zones;
    const pendingExt = this.#pendingExt;
    for (;;) {
      if (off + REC_HEAD > bytes.length) return { end: off, invalid: false };
      const type = readU16le(bytes, off);
      const len = readU16le(bytes, off + 2);
      const zone = readU32le(bytes, off + 4);
      const end = off + REC_HEAD + len + 4;
      if (end > bytes.length) return { end: off, invalid: false };
      if (readU32le(bytes, end - 4) !== crc32c(bytes.subarray(off, end - 4))) break;
      const p = bytes.subarray(off + REC_HEAD, off + REC_HEAD + len);
      if (zone >= g.nrZones) break;
      if (type === REC_EXT && len === g.descrExtSize) {
        pendingExt.set(zone, p.slice());
      } else if (type === REC_ZONE && len === ZONE_PAYLOAD && STATES.has(readU8(p, 0))) {
        const za = readU8(p, 1);
        const ext = (za & ZA_ZDEV) !== 0 ? pendingExt.get(zone) : undefined;
        const state = readU8(p, 0) as ZoneStateValue;
        zones.set(zone, state, ext === undefined ? za & ~ZA_ZDEV : za, getWp(p, 8), ext);
      } else if (type === REC_ZONES && this.#version >= 2 && len % ENTRY === 0) {
        if (!zoneEntries(p, g.nrZones, pendingExt, zones)) break;
      } else {
        break;
      }
      off = end;
    }
    return { end: off, invalid: true };
  }
}

/** Applies a type 3 record's entries; false when one is invalid (the record is not used). */
function zoneEntries(
  p: Uint8Array,
  nrZones: number,
  pendingExt: ReadonlyMap<number, Uint8Array>,
  zones: SavedZones,
): boolean {
  for (let at = 0; at < p.length; at += ENTRY) {
    if (readU32le(p, at) >= nrZones || !STATES.has(readU8(p, at + 4))) return false;
  }
  for (let at = 0; at < p.length; at += ENTRY) {
    const zone = readU32le(p, at);
    const za = readU8(p, at + 5);
    const ext = (za & ZA_ZDEV) !== 0 ? pendingExt.get(zone) : undefined;
    const state = readU8(p, at + 4) as ZoneStateValue;
    zones.set(zone, state, ext === undefined ? za & ~ZA_ZDEV : za, getWp(p, at + 8), ext);
  }
  return true;
}
