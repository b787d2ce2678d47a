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
// Crash safety. A record is appended (one write(2)) after the data it describes reached the
// image and before the command completes, so the file never claims more than the image holds
// after a kill: a torn last record fails its CRC and is cut off when the file is loaded. The
// journal is fsync'ed whenever the namespace is flushed (Flush, FUA, shutdown), like the data.
// When the journal grows past a threshold it is compacted: the current state goes to
// `<file>.tmp`, which is fsync'ed and renamed over the file (an atomic replace).

import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
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
  writeU64le,
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
/** Compact once the appended records exceed this many bytes (plus the snapshot size). */
const COMPACT_BYTES = 1 << 20;

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

/** The records that describe `z` (extension first, so a zone record never lacks its data). */
export function zoneRecords(z: Zone): Uint8Array[] {
  const out: Uint8Array[] = [];
  if ((z.za & ZA_ZDEV) !== 0 && z.ext !== undefined)
    out.push(encodeRecord(REC_EXT, z.index, z.ext));
  const p = new Uint8Array(ZONE_PAYLOAD);
  p[0] = z.state;
  p[1] = z.za;
  writeU64le(p, 8, BigInt(z.wp));
  out.push(encodeRecord(REC_ZONE, z.index, p));
  return out;
}

const isDefault = (z: Zone): boolean =>
  z.state === ZoneState.EMPTY && z.wp === z.zslba && z.za === 0;

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

export class ZoneJournal {
  readonly file: string;
  readonly #geometry: JournalGeometry;
  /** Open for appending; undefined until the first record (the file is created lazily). */
  #fd: number | undefined;
  #closed = false;
  #appended = 0;
  readonly #limit: number;

  private constructor(file: string, g: JournalGeometry, fd: number | undefined) {
    this.file = file;
    this.#geometry = g;
    this.#fd = fd;
    this.#limit = COMPACT_BYTES + g.nrZones * (64 + g.descrExtSize);
  }

  /**
   * Loads `file` (if it exists) and opens it for appending; a torn tail is cut off. A missing
   * file is only created by the first change. With `readOnly` the saved state is returned but
   * nothing is ever written.
   */
  static open(
    file: string,
    g: JournalGeometry,
    readOnly: boolean,
  ): { journal: ZoneJournal | undefined; saved: Map<number, SavedZone> } {
    let saved = new Map<number, SavedZone>();
    if (existsSync(file)) {
      const bytes = new Uint8Array(readFileSync(file));
      const parsed = parseJournal(bytes, g, file);
      saved = parsed.zones;
      if (!readOnly && parsed.validLength < bytes.length) {
        const fd = openSync(file, 'r+');
        try {
          ftruncateSync(fd, parsed.validLength);
        } finally {
          closeSync(fd);
        }
      }
    }
    if (readOnly) return { journal: undefined, saved };
    const fd = existsSync(file) ? openSync(file, 'a') : undefined;
    return { journal: new ZoneJournal(file, g, fd), saved };
  }

  /** Appends the records of `z`; compacts when the journal has grown too long. */
  record(z: Zone, all: readonly Zone[]): void {
    if (this.#closed) return;
    const fd = this.#fd;
    if (fd === undefined) {
      this.compact(all);
      return;
    }
    for (const r of zoneRecords(z)) {
      writeSync(fd, r);
      this.#appended += r.length;
    }
    if (this.#appended > this.#limit) this.compact(all);
  }

  /** Rewrites the file as header + the records of every zone not in its initial state. */
  compact(all: readonly Zone[]): void {
    if (this.#closed) return;
    const parts = [encodeHeader(this.#geometry)];
    for (const z of all) if (!isDefault(z)) parts.push(...zoneRecords(z));
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    writeAtomically(this.file, parts);
    this.#fd = openSync(this.file, 'a');
    this.#appended = 0;
  }

  /** Makes the recorded state durable (called with the namespace's flush). */
  sync(): void {
    if (this.#fd !== undefined) fdatasyncSync(this.#fd);
  }

  /** True once the state file exists (a change was recorded or it was loaded). */
  get created(): boolean {
    return this.#fd !== undefined;
  }

  close(): void {
    this.#closed = true;
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
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
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
