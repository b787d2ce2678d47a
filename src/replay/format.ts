// The recording format, version 3 (docs/record-replay.md): a file header, then framed records.
// Every multi-byte field is little endian; every structure is a layout table whose size a test
// pins (format.test.ts, with golden bytes).
//
//   file header (16)   magic "NVMEMURC", version, header size, check of bytes 0..11
//   record frame       header (8): type, 3 reserved bytes, payload length; the payload;
//                      versions 1 and 2: a trailer (4), the check of the header and the payload
//   check record       (version 3) type 5, payload: the check of every byte since the previous
//                      check record (or the file header) up to and including its own header
//
// The checks are what the versions differ in. Version 1: CRC-32C of each frame. Version 2:
// CRC-32 (zlib's) of each frame, about 2.5 times faster here than the library's CRC-32C (it
// uses carry-less multiplication). Version 3: CRC-32 of blocks of records (at most BLOCK bytes
// and a record, closed by a check record), because a native call per record cost a recorder
// as much as the checksumming itself (about 0.2 µs a command, 2% of an NVMe/TCP command's
// CPU); the recorder ends every write to the file with a check record, so a killed recorder
// leaves a file whose every record is checked. All three detect every burst of up to 32 bits
// in what they cover; none is a defence against tampering. A reader reads all three.
//
// Record types: 1 machine (JSON: how to build the machine; first, exactly once), 2 command
// (binary: CommandLayout + data sections), 3 event (JSON: faults, power cuts, hotplug,
// controllers), 4 end (JSON: totals; last but for a check record), 5 check (version 3). A
// reader rejects an unknown type, a reserved byte that is not zero, a bad CRC, a length over
// the cap, a truncated frame and records no check covers, naming the record and its offset
// (parse.ts).

import { crc32, crc32c } from '../util/crc.js';
import { defineLayout } from '../util/layout.js';
import { writeU32le, type LeStore } from '../util/bytes.js';
import type { NvmeCmd } from '../nvme/spec/command.js';

export const MAGIC = 'NVMEMURC';
/** The version recorders write. */
export const FORMAT_VERSION = 3;
/** The versions a reader accepts. */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];

/** The check of the file header and of each frame in `version` (see the top of this file). */
export function checkOf(version: number): (b: Uint8Array) => number {
  return version === 1 ? crc32c : crc32;
}
export const FILE_HEADER_SIZE = 16;
/** Frame header (8) and, in versions 1 and 2, CRC trailer (4): a record besides its payload. */
export const FRAME_HEADER = 8;
export const FRAME_TRAILER = 4;
export const FRAME_SIZE = FRAME_HEADER + FRAME_TRAILER;

/** Whether frames of `version` carry their own check (versions 1 and 2) or blocks do (3). */
export function framesChecked(version: number): boolean {
  return version < 3;
}

/** Bytes a frame of `version` takes besides its payload. */
export function frameOverhead(version: number): number {
  return framesChecked(version) ? FRAME_SIZE : FRAME_HEADER;
}

/** A check record (version 3): frame header and the 4-byte check. */
export const CHECK_SIZE = FRAME_HEADER + 4;
/**
 * A recorder closes a block with a check record once it holds this many bytes (and when it
 * hands its bytes to the file): one CRC call per 64 KiB, over bytes still in the cache.
 */
export const BLOCK = 64 * 1024;
/** The largest payload a reader accepts (a command with 64 MiB of data and its header). */
export const MAX_PAYLOAD = 64 * 1024 * 1024 + 4096;

export const FileHeaderLayout = defineLayout('recording header', FILE_HEADER_SIZE, [
  { name: 'magic', offset: 0, type: { ascii: 8 } },
  { name: 'version', offset: 8, type: 'u16le' },
  { name: 'headerSize', offset: 10, type: 'u16le' },
  { name: 'crc', offset: 12, type: 'u32le' },
] as const);

export const FrameLayout = defineLayout('record frame header', FRAME_HEADER, [
  { name: 'type', offset: 0, type: 'u8' },
  { name: 'reserved', offset: 1, type: { bytes: 3 } },
  { name: 'length', offset: 4, type: 'u32le' },
] as const);

export const RecordType = { MACHINE: 1, COMMAND: 2, EVENT: 3, END: 4, CHECK: 5 } as const;
export type RecordTypeValue = (typeof RecordType)[keyof typeof RecordType];

/** How a data section is kept: absent, whole bytes, an 8-byte hash, or unreadable. */
export const DataKind = { NONE: 0, WHOLE: 1, HASH: 2, UNAVAILABLE: 3 } as const;
export type DataKindValue = (typeof DataKind)[keyof typeof DataKind];

/** 0: the command completed; 1: it never did (held at a power cut, or at the end). */
export const Outcome = { COMPLETED: 0, NONE: 1 } as const;

export const COMMAND_FIXED = 128;
export const HASH_SIZE = 4;

/** The fixed part of a command record; data then metadata sections follow it. */
export const CommandLayout = defineLayout('command record', COMMAND_FIXED, [
  { name: 'ctrl', offset: 0, type: 'u16le' },
  { name: 'sqid', offset: 2, type: 'u16le' },
  { name: 'outcome', offset: 4, type: 'u8' },
  { name: 'dataKind', offset: 5, type: 'u8' },
  { name: 'status', offset: 6, type: 'u16le' },
  { name: 'beginTick', offset: 8, type: 'u64le' },
  { name: 'endTick', offset: 16, type: 'u64le' },
  { name: 'beginNs', offset: 24, type: 'u64le' },
  { name: 'elapsedNs', offset: 32, type: 'u64le' },
  { name: 'dw0', offset: 40, type: 'u32le' },
  { name: 'dw1', offset: 44, type: 'u32le' },
  { name: 'dataLength', offset: 48, type: 'u32le' },
  { name: 'metaLength', offset: 52, type: 'u32le' },
  { name: 'metaKind', offset: 56, type: 'u8' },
  { name: 'transport', offset: 57, type: 'u8' },
  { name: 'reserved', offset: 58, type: { bytes: 6 } },
  { name: 'sqe', offset: 64, type: { bytes: 64 } },
] as const);

/**
 * What `--record-data` keeps. `hash` (default): what the host sent (writes: needed to replay
 * them) whole, what the device returned as a hash; `whole`: everything; `hash-all`: every
 * section hashed (compact; `replay --diff` only, it cannot be re-run).
 */
export type DataMode = 'hash' | 'whole' | 'hash-all';
export const DATA_MODES: readonly DataMode[] = ['hash', 'whole', 'hash-all'];

/**
 * The data hash: CRC-32 (zlib's polynomial; with the section's length). It detects a changed
 * block, not an adversary: two different blocks agree with probability 2^-32.
 */
export function dataHash(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_SIZE);
  writeU32le(out, 0, crc32(data));
  return out;
}

/** The machine record: how replay builds the same machine. */
export interface MachineInfo {
  /** The `nvmemu run` words that built it (QEMU options and nvmemu's own). */
  readonly argv: readonly string[];
  /** Image and memory files the options name, with their size at the start (replay: fresh). */
  readonly images: readonly { readonly path: string; readonly size: number }[];
  readonly nvmemu: string;
  readonly data: DataMode;
  /** The write cache model was attached when the recording started. */
  readonly trackWrites: boolean;
  /** Unix ms when the recording started. */
  readonly startedMs: number;
}

/** A decoded command record. Sections are whole bytes, a hash, or absent. */
export interface CommandRecord {
  readonly ctrl: number;
  readonly sqid: number;
  readonly completed: boolean;
  readonly status: number;
  readonly dw0: number;
  readonly dw1: number;
  readonly beginTick: bigint;
  readonly endTick: bigint;
  readonly beginNs: bigint;
  readonly elapsedNs: bigint;
  readonly sqe: Uint8Array;
  readonly data: Section;
  readonly meta: Section;
  /** The personality the command came through (0 PCIe, 1 fabrics). */
  readonly transport: 0 | 1;
}

export interface Section {
  readonly kind: DataKindValue;
  /** Bytes the host buffer covered. */
  readonly length: number;
  /** WHOLE: the bytes; HASH: the 8-byte hash; else empty. */
  readonly bytes: Uint8Array;
}

export const NO_SECTION: Section = { kind: DataKind.NONE, length: 0, bytes: new Uint8Array(0) };

/** Events (JSON records), each at a tick of the recording's one clock. */
export type RecordedEvent =
  | {
      readonly kind: 'controller';
      readonly tick: number;
      readonly index: number;
      readonly id: string | null;
      readonly serial: string;
    }
  | {
      readonly kind: 'fault-inject';
      readonly tick: number;
      readonly fault: number;
      /** The fault as x-nvmemu-inject-fault takes it, with its stream seed. */
      readonly spec: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'fault-clear'; readonly tick: number; readonly fault: number }
  | {
      readonly kind: 'power-cut';
      readonly tick: number;
      readonly seed: number;
      readonly mode: 'all' | 'prefix' | 'subset';
    }
  | {
      readonly kind: 'hotplug-add';
      readonly tick: number;
      readonly item: {
        readonly kind: 'object' | 'drive' | 'device';
        readonly values: Readonly<Record<string, string | number | boolean>>;
        readonly json: boolean;
        readonly location: string;
      };
    }
  | {
      readonly kind: 'hotplug-del';
      readonly tick: number;
      readonly item: { readonly kind: 'object' | 'drive' | 'device'; readonly id: string };
    }
  | { readonly kind: 'track-writes'; readonly tick: number };

export interface EndInfo {
  readonly commands: number;
  readonly events: number;
  readonly ticks: number;
}

/** A parsed recording. */
export interface Recording {
  readonly version: number;
  readonly machine: MachineInfo;
  readonly commands: readonly CommandRecord[];
  readonly events: readonly RecordedEvent[];
  /** Undefined when the recording stopped without its end record (killed recorder). */
  readonly end: EndInfo | undefined;
}

/** The file header bytes (of this version; an older one for tests of the reader). */
export function encodeFileHeader(version = FORMAT_VERSION): Uint8Array {
  const b = FileHeaderLayout.encode({ magic: MAGIC, version, headerSize: FILE_HEADER_SIZE });
  writeU32le(b, 12, checkOf(version)(b.subarray(0, 12)));
  return b;
}

/** One framed record: header, payload and (versions 1 and 2) its check trailer. */
export function encodeFrame(
  type: RecordTypeValue,
  payload: Uint8Array,
  version = FORMAT_VERSION,
): Uint8Array {
  const out = new Uint8Array(frameOverhead(version) + payload.length);
  out[0] = type;
  writeU32le(out, 4, payload.length);
  out.set(payload, FRAME_HEADER);
  const end = FRAME_HEADER + payload.length;
  if (framesChecked(version)) writeU32le(out, end, checkOf(version)(out.subarray(0, end)));
  return out;
}

/**
 * Writes a check record (version 3) at `pos` of `out` (CHECK_SIZE bytes there) closing the
 * block that starts at `from`: CRC-32 of out[from, pos + 8), its own frame header included.
 * Returns the position after it.
 */
export function writeCheck(out: Uint8Array, from: number, pos: number): number {
  out[pos] = RecordType.CHECK;
  out[pos + 1] = 0;
  out[pos + 2] = 0;
  out[pos + 3] = 0;
  writeU32le(out, pos + 4, 4);
  writeU32le(out, pos + FRAME_HEADER, crc32(out.subarray(from, pos + FRAME_HEADER)));
  return pos + CHECK_SIZE;
}

/**
 * A whole file of `frames` (encoded for `version`): the header, the frames and, in version 3,
 * a check record after every frame (tests, tools; the recorder checks blocks of frames).
 */
export function encodeFile(frames: readonly Uint8Array[], version = FORMAT_VERSION): Uint8Array {
  const check = !framesChecked(version);
  const size = frames.reduce((n, f) => n + f.length + (check ? CHECK_SIZE : 0), FILE_HEADER_SIZE);
  const out = new Uint8Array(size);
  out.set(encodeFileHeader(version), 0);
  let pos = FILE_HEADER_SIZE;
  for (const f of frames) {
    out.set(f, pos);
    const from = pos;
    pos += f.length;
    if (check) pos = writeCheck(out, from, pos);
  }
  return out;
}

const utf8 = new TextEncoder();

export function encodeJsonFrame(
  type: RecordTypeValue,
  value: unknown,
  version = FORMAT_VERSION,
): Uint8Array {
  return encodeFrame(type, utf8.encode(JSON.stringify(value)), version);
}

function sectionBytes(s: Section): number {
  return s.kind === DataKind.WHOLE || s.kind === DataKind.HASH ? s.bytes.length : 0;
}

/** The payload of a command record. */
export function encodeCommand(r: CommandRecord): Uint8Array {
  const out = new Uint8Array(COMMAND_FIXED + sectionBytes(r.data) + sectionBytes(r.meta));
  CommandLayout.encode(
    {
      ctrl: r.ctrl,
      sqid: r.sqid,
      outcome: r.completed ? Outcome.COMPLETED : Outcome.NONE,
      dataKind: r.data.kind,
      status: r.status,
      beginTick: r.beginTick,
      endTick: r.endTick,
      beginNs: r.beginNs,
      elapsedNs: r.elapsedNs,
      dw0: r.dw0 >>> 0,
      dw1: r.dw1 >>> 0,
      dataLength: r.data.length,
      metaLength: r.meta.length,
      metaKind: r.meta.kind,
      transport: r.transport,
      sqe: r.sqe,
    },
    out,
  );
  out.set(r.data.bytes.subarray(0, sectionBytes(r.data)), COMMAND_FIXED);
  out.set(r.meta.bytes.subarray(0, sectionBytes(r.meta)), COMMAND_FIXED + sectionBytes(r.data));
  return out;
}

/** A data section as the recorder holds it before writing: the bytes (whole) or their hash. */
export interface PendingSection {
  readonly kind: DataKindValue;
  readonly length: number;
  /** WHOLE: the bytes to copy; HASH: the bytes to hash; else unused. */
  readonly bytes: Uint8Array | undefined;
}

/**
 * What a command frame holds, with the SQE still as the command object and the 64-bit counters
 * as safe integers (the recorder's ticks and nanoseconds never approach 2^53: a tick per event
 * at 10^9 a second lasts 104 days; the writer refuses a value that does).
 */
export interface CommandFields {
  readonly ctrl: number;
  readonly sqid: number;
  readonly completed: boolean;
  readonly status: number;
  readonly dw0: number;
  readonly dw1: number;
  readonly beginTick: number;
  readonly endTick: number;
  readonly beginNs: number;
  readonly elapsedNs: number;
  readonly transport: 0 | 1;
  readonly cmd: NvmeCmd;
  readonly data: PendingSection;
  readonly meta: PendingSection;
}

const kept = (s: PendingSection): number =>
  s.kind === DataKind.WHOLE ? s.length : s.kind === DataKind.HASH ? HASH_SIZE : 0;

/** Bytes the command frame of `f` takes (this version: no trailer). */
export function commandFrameSize(f: CommandFields): number {
  return FRAME_HEADER + COMMAND_FIXED + kept(f.data) + kept(f.meta);
}

function putSection(out: LeStore, at: number, s: PendingSection): number {
  if (s.kind === DataKind.WHOLE) out.u8.set(s.bytes!, at);
  else if (s.kind === DataKind.HASH) out.u32(at, crc32(s.bytes!));
  return at + kept(s);
}

/**
 * Writes the command frame of `f` at `pos` of `out` (which must have commandFrameSize bytes
 * there) field by field: the recorder's per-command path, without the layout table's scratch
 * objects. The same bytes as encodeFrame(COMMAND, encodeCommand(...)) of this version
 * (format.test.ts holds them equal over random commands); the block's check record covers
 * them. Returns the position after the frame.
 */
export function writeCommandFrame(out: LeStore, pos: number, f: CommandFields): number {
  const buf = out.u8;
  const len = COMMAND_FIXED + kept(f.data) + kept(f.meta);
  // Frame header: type, 3 reserved bytes (0), payload length.
  out.u32(pos, RecordType.COMMAND);
  out.u32(pos + 4, len);
  const p = pos + FRAME_HEADER;
  out.u16(p, f.ctrl);
  out.u16(p + 2, f.sqid);
  buf[p + 4] = f.completed ? Outcome.COMPLETED : Outcome.NONE;
  buf[p + 5] = f.data.kind;
  out.u16(p + 6, f.status);
  out.u53(p + 8, f.beginTick);
  out.u53(p + 16, f.endTick);
  out.u53(p + 24, f.beginNs);
  out.u53(p + 32, f.elapsedNs);
  out.u32(p + 40, f.dw0 >>> 0);
  out.u32(p + 44, f.dw1 >>> 0);
  out.u32(p + 48, f.data.length);
  out.u32(p + 52, f.meta.length);
  // Metadata kind, transport, 6 reserved bytes (0).
  out.u16(p + 56, f.meta.kind | (f.transport << 8));
  out.u32(p + 58, 0);
  out.u16(p + 62, 0);
  // The SQE (NVMe Base Spec 2.0 Figure 88), as spec/command.ts SqeLayout lays it out.
  const q = p + 64;
  const c = f.cmd;
  buf[q] = c.opcode;
  buf[q + 1] = c.fuse | (c.psdt << 6);
  out.u16(q + 2, c.cid);
  out.u32(q + 4, c.nsid >>> 0);
  out.u32(q + 8, c.cdw2 >>> 0);
  out.u32(q + 12, c.cdw3 >>> 0);
  out.u64(q + 16, c.mptr);
  buf.set(c.dptr.length === 16 ? c.dptr : c.dptr.subarray(0, 16), q + 24);
  out.u32(q + 40, c.cdw10 >>> 0);
  out.u32(q + 44, c.cdw11 >>> 0);
  out.u32(q + 48, c.cdw12 >>> 0);
  out.u32(q + 52, c.cdw13 >>> 0);
  out.u32(q + 56, c.cdw14 >>> 0);
  out.u32(q + 60, c.cdw15 >>> 0);
  return putSection(out, putSection(out, p + COMMAND_FIXED, f.data), f.meta);
}
