// Device state snapshots beside the images (SMART counters, FDP state; docs/faults.md "Device
// state across restarts"). Same conventions as the zone state file (nvme/ns/zoned/journal.ts),
// whose record framing and atomic replace this reuses:
//
//   header, 64 bytes: magic (8 ASCII bytes), version u32 at 8, kind-specific fields at 12..59
//     (e.g. the FDP geometry), CRC32C of bytes 0..59 at 60;
//   then records: type u16, payload length u16, index u32, payload, CRC32C of the record.
//
// A snapshot is always written whole to `<file>.tmp`, fsync'ed and renamed over the file, and
// the folder is fsync'ed: a crash leaves the old or the new snapshot, never a mix. So a record
// that fails its CRC is damage, not a torn append, and the file is refused.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32c } from '../../util/crc.js';
import { readU16le, readU32le, writeU32le } from '../../util/bytes.js';
import { ErrorCode, EmuError } from '../../util/errors.js';
import { encodeRecord, writeAtomically } from '../ns/zoned/journal.js';

export const STATE_HEADER_SIZE = 64;
const REC_HEAD = 8;

export interface StateRecord {
  readonly type: number;
  readonly index: number;
  readonly payload: Uint8Array;
}

/** A device state file that cannot be used (foreign, damaged, other geometry). */
export class DeviceStateFileError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_CONFIG, message);
  }
}

/** Writes header (magic, version, `fields` at 12) + records atomically, creating the folder. */
export function writeStateFile(
  file: string,
  magic: string,
  version: number,
  fields: Uint8Array,
  records: readonly StateRecord[],
): void {
  if (magic.length !== 8 || fields.length > 48) throw new Error('bad state file header');
  const h = new Uint8Array(STATE_HEADER_SIZE);
  for (let i = 0; i < 8; i++) h[i] = magic.charCodeAt(i);
  writeU32le(h, 8, version);
  h.set(fields, 12);
  writeU32le(h, 60, crc32c(h.subarray(0, 60)));
  mkdirSync(dirname(file), { recursive: true });
  writeAtomically(file, [h, ...records.map((r) => encodeRecord(r.type, r.index, r.payload))]);
}

/**
 * Reads a snapshot: undefined when the file does not exist; the header's kind-specific bytes
 * (12..59) and the records otherwise. `what` names the file in messages.
 */
export function readStateFile(
  file: string,
  magic: string,
  version: number,
  what: string,
): { fields: Uint8Array; records: StateRecord[] } | undefined {
  if (!existsSync(file)) return undefined;
  const b = new Uint8Array(readFileSync(file));
  const foreign = (): DeviceStateFileError =>
    new DeviceStateFileError(`${what} '${file}' is not an nvmemu ${what}; remove it`);
  if (b.length < STATE_HEADER_SIZE || readU32le(b, 60) !== crc32c(b.subarray(0, 60))) {
    throw foreign();
  }
  const m = String.fromCharCode(...b.subarray(0, 8));
  if (m !== magic || readU32le(b, 8) !== version) throw foreign();
  const records: StateRecord[] = [];
  let off = STATE_HEADER_SIZE;
  while (off < b.length) {
    if (off + REC_HEAD > b.length) throw damaged(what, file);
    const len = readU16le(b, off + 2);
    const end = off + REC_HEAD + len + 4;
    if (end > b.length || readU32le(b, end - 4) !== crc32c(b.subarray(off, end - 4))) {
      throw damaged(what, file);
    }
    records.push({
      type: readU16le(b, off),
      index: readU32le(b, off + 4),
      payload: b.slice(off + REC_HEAD, off + REC_HEAD + len),
    });
    off = end;
  }
  return { fields: b.slice(12, 60), records };
}

function damaged(what: string, file: string): DeviceStateFileError {
  return new DeviceStateFileError(
    `${what} '${file}' is damaged (a record fails its CRC); remove it`,
  );
}

/** A file name part from an id or serial: characters outside [A-Za-z0-9._-] become '_'. */
export function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_');
}
