// Parses a recording (format.ts) into a typed value before anything acts on it (house rule 1).
// Every rejection names what is wrong and where: "record 12 at offset 4096: CRC mismatch".
// A file that ends exactly at a record boundary without the end record is accepted (the
// recorder was killed) and says so (`end` undefined); a frame cut in the middle is not.

import { EmuError, ErrorCode } from '../util/errors.js';
import { readU32le } from '../util/bytes.js';
import {
  checkOf,
  COMMAND_FIXED,
  CommandLayout,
  DATA_MODES,
  DataKind,
  FileHeaderLayout,
  FILE_HEADER_SIZE,
  CHECK_SIZE,
  FRAME_HEADER,
  FRAME_TRAILER,
  frameOverhead,
  framesChecked,
  HASH_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  Outcome,
  READABLE_VERSIONS,
  RecordType,
  type CommandRecord,
  type DataKindValue,
  type EndInfo,
  type MachineInfo,
  type RecordedEvent,
  type Recording,
  type Section,
} from './format.js';

/** A recording that cannot be read: `message` says what and where. */
export class RecordingError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_DECODE, message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks the 16-byte file header; returns the version. */
export function parseFileHeader(buf: Uint8Array): number {
  if (buf.length < FILE_HEADER_SIZE) {
    throw new RecordingError(
      `not an nvmemu recording: ${buf.length} bytes, shorter than the ${FILE_HEADER_SIZE}-byte header`,
    );
  }
  const h = FileHeaderLayout.decode(buf, 0);
  if (h.magic !== MAGIC) {
    throw new RecordingError(`not an nvmemu recording: magic is not "${MAGIC}"`);
  }
  // The version says which check the header carries, so it is read before the check: a
  // version this reader does not know is named as such (it may be newer, or damaged).
  if (!READABLE_VERSIONS.includes(h.version)) {
    throw new RecordingError(
      `recording format version ${h.version} is not supported (this nvmemu reads versions ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)})`,
    );
  }
  if (readU32le(buf, 12) !== checkOf(h.version)(buf.subarray(0, 12))) {
    throw new RecordingError('recording header: CRC mismatch (the file is damaged)');
  }
  if (h.headerSize !== FILE_HEADER_SIZE) {
    throw new RecordingError(
      `recording header: size ${h.headerSize}, expected ${FILE_HEADER_SIZE}`,
    );
  }
  return h.version;
}

/** One frame as cut from the file. */
export interface Frame {
  readonly index: number;
  readonly offset: number;
  readonly type: number;
  readonly payload: Uint8Array;
}

/**
 * Cuts the frames after the header (of a file of `version`: it says how frames are checked),
 * check records (version 3) verified and left out. `complete` is false when the bytes end
 * inside a frame, or (version 3) after records no check record covers yet: `frames` and
 * `consumed` stop at the last checked record, and `cut` says where and why (the caller decides
 * whether more bytes may come: a file may not, a stream may).
 */
export function cutFrames(
  buf: Uint8Array,
  version: number,
  from = FILE_HEADER_SIZE,
): { frames: Frame[]; consumed: number; complete: boolean; cut?: string } {
  const checked = framesChecked(version);
  const check = checkOf(version);
  const overhead = frameOverhead(version);
  const frames: Frame[] = [];
  // Version 3: frames of the open block wait for its check record.
  const block: Frame[] = [];
  let blockAt = from;
  let index = 0;
  let off = from;
  const incomplete = (why: string) => ({
    frames,
    consumed: blockAt,
    complete: false,
    cut:
      block.length === 0 || why === 'truncated'
        ? `record ${index + 1} at offset ${off}: truncated (the file ends inside it)`
        : `records ${block[0]!.index} to ${index} from offset ${blockAt}: no check record covers them (the file ends before one: it was cut)`,
  });
  while (off < buf.length) {
    const where = `record ${index + 1} at offset ${off}`;
    if (buf.length - off < overhead) return incomplete('truncated');
    const type = buf[off]!;
    if (buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) {
      throw new RecordingError(`${where}: reserved bytes are not zero`);
    }
    const length = readU32le(buf, off + 4);
    if (length > MAX_PAYLOAD) {
      throw new RecordingError(`${where}: length ${length} exceeds the cap of ${MAX_PAYLOAD}`);
    }
    if (buf.length - off - overhead < length) return incomplete('truncated');
    const end = off + FRAME_HEADER + length;
    const payload = buf.subarray(off + FRAME_HEADER, end);
    if (checked && readU32le(buf, end) !== check(buf.subarray(off, end))) {
      throw new RecordingError(`${where}: CRC mismatch (the file is damaged)`);
    }
    const top = checked ? RecordType.END : RecordType.CHECK;
    if (type < RecordType.MACHINE || type > top) {
      throw new RecordingError(`${where}: unknown record type ${type}`);
    }
    index++;
    if (type === RecordType.CHECK) {
      if (length !== 4) throw new RecordingError(`${where}: a check record of ${length} bytes`);
      if (readU32le(payload, 0) !== check(buf.subarray(blockAt, off + FRAME_HEADER))) {
        const first = block[0]?.index ?? index;
        throw new RecordingError(
          `${where}: CRC mismatch over records ${first} to ${index} from offset ${blockAt} (the file is damaged)`,
        );
      }
      frames.push(...block.splice(0));
      blockAt = off + CHECK_SIZE;
    } else if (checked) {
      frames.push({ index, offset: off, type, payload });
    } else {
      block.push({ index, offset: off, type, payload });
    }
    off = end + (checked ? FRAME_TRAILER : 0);
    if (checked) blockAt = off;
  }
  if (block.length > 0) return incomplete('unchecked');
  return { frames, consumed: off, complete: true };
}

function json(f: Frame): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(f.payload));
  } catch (e) {
    throw new RecordingError(
      `record ${f.index} at offset ${f.offset}: payload is not JSON (${(e as Error).message})`,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RecordingError(`record ${f.index} at offset ${f.offset}: payload is not an object`);
  }
  return v as Record<string, unknown>;
}

/** Field checks of JSON records, each naming the record and field. */
class Fields {
  constructor(
    readonly where: string,
    readonly o: Record<string, unknown>,
  ) {}
  fail(field: string, what: string): never {
    throw new RecordingError(`${this.where}: '${field}' ${what}`);
  }
  int(k: string, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      this.fail(k, `must be an integer in [0, ${max}]`);
    }
    return v;
  }
  str(k: string): string {
    const v = this.o[k];
    if (typeof v !== 'string') this.fail(k, 'must be a string');
    return v;
  }
  bool(k: string): boolean {
    const v = this.o[k];
    if (typeof v !== 'boolean') this.fail(k, 'must be a boolean');
    return v;
  }
  obj(k: string): Record<string, unknown> {
    const v = this.o[k];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(k, 'must be an object');
    return v as Record<string, unknown>;
  }
  oneOf<T extends string>(k: string, options: readonly T[]): T {
    const v = this.o[k];
    if (typeof v !== 'string' || !options.includes(v as T)) {
      this.fail(k, `must be one of ${options.join(', ')}`);
    }
    return v as T;
  }
}

function parseMachine(f: Frame): MachineInfo {
  const x = new Fields(`record ${f.index} (machine) at offset ${f.offset}`, json(f));
  const argv = x.o.argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    x.fail('argv', 'must be a list of strings');
  }
  const images: unknown = x.o.images;
  if (!Array.isArray(images)) x.fail('images', 'must be a list');
  const imgs = (images as unknown[]).map((i, n) => {
    const y = new Fields(`${x.where}: images[${n}]`, (i ?? {}) as Record<string, unknown>);
    return { path: y.str('path'), size: y.int('size') };
  });
  return {
    argv: argv as string[],
    images: imgs,
    nvmemu: x.str('nvmemu'),
    data: x.oneOf('data', DATA_MODES),
    trackWrites: x.bool('trackWrites'),
    startedMs: x.int('startedMs'),
  };
}

const ITEM_KINDS = ['object', 'drive', 'device'] as const;
const CUT_MODES = ['all', 'prefix', 'subset'] as const;

function parseEvent(f: Frame): RecordedEvent {
  const x = new Fields(`record ${f.index} (event) at offset ${f.offset}`, json(f));
  const tick = x.int('tick');
  const kind = x.str('kind');
  switch (kind) {
    case 'controller': {
      const id: unknown = x.o.id;
      if (id !== null && typeof id !== 'string') x.fail('id', 'must be a string or null');
      return {
        kind,
        tick,
        index: x.int('index', 0xffff),
        id: id as string | null,
        serial: x.str('serial'),
      };
    }
    case 'fault-inject':
      return { kind, tick, fault: x.int('fault'), spec: x.obj('spec') };
    case 'fault-clear':
      return { kind, tick, fault: x.int('fault') };
    case 'power-cut':
      return { kind, tick, seed: x.int('seed', 0xffff_ffff), mode: x.oneOf('mode', CUT_MODES) };
    case 'hotplug-add': {
      const item = new Fields(`${x.where}: item`, x.obj('item'));
      const values = item.obj('values');
      for (const [k, v] of Object.entries(values)) {
        if (!['string', 'number', 'boolean'].includes(typeof v)) {
          item.fail(`values.${k}`, 'must be a string, number or boolean');
        }
      }
      return {
        kind,
        tick,
        item: {
          kind: item.oneOf('kind', ITEM_KINDS),
          values: values as Record<string, string | number | boolean>,
          json: item.bool('json'),
          location: item.str('location'),
        },
      };
    }
    case 'hotplug-del': {
      const item = new Fields(`${x.where}: item`, x.obj('item'));
      return { kind, tick, item: { kind: item.oneOf('kind', ITEM_KINDS), id: item.str('id') } };
    }
    case 'track-writes':
      return { kind, tick };
    default:
      return x.fail('kind', `'${kind}' is not an event kind`);
  }
}

const KINDS = new Set<number>(Object.values(DataKind));

function section(
  where: string,
  name: string,
  kind: number,
  length: number,
  payload: Uint8Array,
  at: number,
): { s: Section; next: number } {
  if (!KINDS.has(kind)) throw new RecordingError(`${where}: ${name} kind ${kind} is not defined`);
  const k = kind as DataKindValue;
  const n = k === DataKind.WHOLE ? length : k === DataKind.HASH ? HASH_SIZE : 0;
  if (payload.length - at < n) {
    throw new RecordingError(`${where}: ${name} section needs ${n} bytes, the record ends first`);
  }
  return { s: { kind: k, length, bytes: payload.slice(at, at + n) }, next: at + n };
}

function parseCommand(f: Frame): CommandRecord {
  const where = `record ${f.index} (command) at offset ${f.offset}`;
  if (f.payload.length < COMMAND_FIXED) {
    throw new RecordingError(`${where}: ${f.payload.length} bytes, shorter than ${COMMAND_FIXED}`);
  }
  const c = CommandLayout.decode(f.payload, 0);
  if (c.outcome !== Outcome.COMPLETED && c.outcome !== Outcome.NONE) {
    throw new RecordingError(`${where}: outcome ${c.outcome} is not defined`);
  }
  if (c.transport > 1)
    throw new RecordingError(`${where}: transport ${c.transport} is not defined`);
  if (c.reserved.some((b) => b !== 0)) {
    throw new RecordingError(`${where}: reserved bytes are not zero`);
  }
  const completed = c.outcome === Outcome.COMPLETED;
  if (completed && c.endTick <= c.beginTick) {
    throw new RecordingError(
      `${where}: end tick ${c.endTick} is not after begin tick ${c.beginTick}`,
    );
  }
  const d = section(where, 'data', c.dataKind, c.dataLength, f.payload, COMMAND_FIXED);
  const m = section(where, 'metadata', c.metaKind, c.metaLength, f.payload, d.next);
  if (m.next !== f.payload.length) {
    throw new RecordingError(`${where}: ${f.payload.length - m.next} bytes after the sections`);
  }
  return {
    ctrl: c.ctrl,
    sqid: c.sqid,
    completed,
    status: c.status,
    dw0: c.dw0,
    dw1: c.dw1,
    beginTick: c.beginTick,
    endTick: c.endTick,
    beginNs: c.beginNs,
    elapsedNs: c.elapsedNs,
    sqe: c.sqe,
    data: d.s,
    meta: m.s,
    transport: c.transport as 0 | 1,
  };
}

function parseEnd(f: Frame): EndInfo {
  const x = new Fields(`record ${f.index} (end) at offset ${f.offset}`, json(f));
  return { commands: x.int('commands'), events: x.int('events'), ticks: x.int('ticks') };
}

/** Parses a whole recording; throws RecordingError naming the first problem. */
export function parseRecording(input: Uint8Array): Recording {
  // A plain Uint8Array view: the sections copied out of it are Uint8Arrays, not Buffers.
  const buf = new Uint8Array(input.buffer, input.byteOffset, input.length);
  const version = parseFileHeader(buf);
  const { frames, complete, cut } = cutFrames(buf, version);
  if (!complete) throw new RecordingError(cut!);
  const first = frames[0];
  if (first?.type !== RecordType.MACHINE) {
    throw new RecordingError(
      first === undefined
        ? 'recording has no machine record'
        : `record 1 at offset ${first.offset}: the first record must be the machine record`,
    );
  }
  const machine = parseMachine(first);
  const commands: CommandRecord[] = [];
  const events: RecordedEvent[] = [];
  let end: EndInfo | undefined;
  for (const f of frames.slice(1)) {
    if (end !== undefined) {
      throw new RecordingError(`record ${f.index} at offset ${f.offset}: after the end record`);
    }
    switch (f.type) {
      case RecordType.MACHINE:
        throw new RecordingError(
          `record ${f.index} at offset ${f.offset}: a second machine record`,
        );
      case RecordType.COMMAND:
        commands.push(parseCommand(f));
        break;
      case RecordType.EVENT:
        events.push(parseEvent(f));
        break;
      case RecordType.END:
        end = parseEnd(f);
        if (end.commands !== commands.length || end.events !== events.length) {
          throw new RecordingError(
            `record ${f.index} (end) at offset ${f.offset}: it counts ${end.commands} commands and ${end.events} events, the file holds ${commands.length} and ${events.length}`,
          );
        }
        break;
    }
  }
  return { version, machine, commands, events, end };
}
