// A BTT (sector mode) over a namespace's bytes (reference qemu-pmem-ndctl.md §8): layout
// creation, open with crash recovery, atomic sector writes through the flog, and reads.

import { readU32le, writeU32le } from '../../util/bytes.js';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { nextSeq } from './label-format.js';
import { mediaSize, zeroRange, type Media } from './media.js';
import {
  BTT_INFO_SIZE,
  BTT_LOG_SIZE,
  BTT_NFREE,
  MAP_E,
  MAP_Z,
  bttLayout,
  decodeMapEntry,
  encodeBttInfo,
  infoVersion,
  initialOffset,
  validateBttInfo,
  type ArenaGeometry,
  type BttInfoValue,
  type BttVersion,
  type LogEntry,
} from './btt-format.js';

export class BttError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_STATE, message);
  }
}

/** A lane's two live flog slots and which of them is newest. */
interface Lane {
  readonly slots: [number, number];
  entries: [LogEntry, LogEntry];
  newest: 0 | 1;
}

function readLogEntry(m: Media, off: number): LogEntry {
  const b = m.read(off, 16);
  return {
    lba: readU32le(b, 0),
    oldMap: readU32le(b, 4),
    newMap: readU32le(b, 8),
    seq: readU32le(b, 12),
  };
}

const isZeroEntry = (e: LogEntry): boolean =>
  e.lba === 0 && e.oldMap === 0 && e.newMap === 0 && e.seq === 0;

/** Which of two seqs is newer (§8.5); undefined when they cannot be ordered (corrupt lane). */
export function newerOf(a: number, b: number): 0 | 1 | undefined {
  if (a > 3 || b > 3 || (a === 0 && b === 0) || a === b) return undefined;
  if (b === 0) return 0;
  if (a === 0) return 1;
  return nextSeq(a) === b ? 1 : 0;
}

/** One arena at runtime. */
export class Arena {
  readonly lanes: Lane[] = [];

  constructor(
    readonly media: Media,
    readonly g: ArenaGeometry,
    readonly info: BttInfoValue,
  ) {}

  laneOff(lane: number, slot: number): number {
    return this.g.base + this.g.logoff + lane * 64 + slot * 16;
  }

  /** Reads the flog; current kernels use slots 0/1, pre-4.15 kernels 0/2 (§8.5). */
  loadLanes(): string[] {
    const problems: string[] = [];
    this.lanes.length = 0;
    for (let i = 0; i < BTT_NFREE; i++) {
      const e = [0, 1, 2, 3].map((s) => readLogEntry(this.media, this.laneOff(i, s)));
      const old = isZeroEntry(e[1]!) && !isZeroEntry(e[2]!) && isZeroEntry(e[3]!);
      const slots: [number, number] = old ? [0, 2] : [0, 1];
      const entries: [LogEntry, LogEntry] = [e[slots[0]]!, e[slots[1]]!];
      const newest = newerOf(entries[0].seq, entries[1].seq);
      if (newest === undefined) {
        problems.push(
          `arena ${this.g.base}: log lane ${i} has seqs ${entries[0].seq}/${entries[1].seq}`,
        );
      }
      this.lanes.push({ slots, entries, newest: newest ?? 0 });
    }
    return problems;
  }

  mapRaw(lba: number): number {
    return readU32le(this.media.read(this.g.base + this.g.mapoff + lba * 4, 4), 0);
  }

  writeMap(lba: number, raw: number): void {
    const b = new Uint8Array(4);
    writeU32le(b, 0, raw >>> 0);
    const off = this.g.base + this.g.mapoff + lba * 4;
    this.media.write(off, b);
    this.media.flush?.(off, 4);
  }

  blockOff(block: number): number {
    return this.g.base + this.g.dataoff + block * this.g.internalLbasize;
  }

  /**
   * §8.7: for each lane's newest entry, a map that still holds old_map means the crash fell
   * between the log write and the map write; finish it. Returns the lanes repaired.
   */
  recover(): number {
    let fixed = 0;
    for (const lane of this.lanes) {
      const e = lane.entries[lane.newest];
      if (e.seq === 0 || e.oldMap === e.newMap || e.lba >= this.g.externalNlba) continue;
      if (decodeMapEntry(this.mapRaw(e.lba), e.lba).block === e.oldMap) {
        this.writeMap(e.lba, (e.newMap | MAP_Z | MAP_E) >>> 0);
        fixed++;
      }
    }
    return fixed;
  }

  read(lba: number): Uint8Array | 'error' {
    const { block, state } = decodeMapEntry(this.mapRaw(lba), lba);
    switch (state) {
      case 'error':
        return 'error';
      case 'trim':
        return new Uint8Array(this.g.externalLbasize);
      case 'initial':
      case 'normal':
        return this.media.read(this.blockOff(block), this.g.externalLbasize);
    }
  }

  /** §8.6 atomic sector update through lane `laneNo`. */
  write(lba: number, data: Uint8Array, laneNo: number): void {
    const lane = this.lanes[laneNo]!;
    const newest = lane.entries[lane.newest];
    const free = newest.oldMap;
    const dataOff = this.blockOff(free);
    this.media.write(dataOff, data);
    this.media.flush?.(dataOff, data.length);
    const old = decodeMapEntry(this.mapRaw(lba), lba).block;
    const entry: LogEntry = { lba, oldMap: old, newMap: free, seq: nextSeq(newest.seq) };
    const older = (1 - lane.newest) as 0 | 1;
    const off = this.laneOff(laneNo, lane.slots[older]);
    // Two 8-byte halves, the one holding seq last: a torn entry keeps its old seq (§8.6).
    const b = new Uint8Array(16);
    writeU32le(b, 0, entry.lba);
    writeU32le(b, 4, entry.oldMap);
    writeU32le(b, 8, entry.newMap);
    writeU32le(b, 12, entry.seq);
    this.media.write(off, b.subarray(0, 8));
    this.media.flush?.(off, 8);
    this.media.write(off + 8, b.subarray(8, 16));
    this.media.flush?.(off + 8, 8);
    lane.entries[older] = entry;
    lane.newest = older;
    this.writeMap(lba, (free | MAP_Z | MAP_E) >>> 0);
  }
}

export interface BttOptions {
  readonly version: BttVersion;
  readonly sectorSize: number;
  readonly uuid: Uint8Array;
  readonly parentUuid: Uint8Array;
}

/** An open BTT: a block device of `nlba` sectors of `sectorSize` bytes. */
export class Btt {
  #nextLane = 0;

  private constructor(
    readonly media: Media,
    readonly version: BttVersion,
    readonly arenas: readonly Arena[],
    /** Lanes repaired by recovery at open. */
    readonly recovered: number,
  ) {}

  get uuid(): Uint8Array {
    return this.arenas[0]!.info.uuid;
  }
  get sectorSize(): number {
    return this.arenas[0]!.g.externalLbasize;
  }
  get nlba(): number {
    return this.arenas.reduce((n, a) => n + a.g.externalNlba, 0);
  }
  /** Capacity in bytes (ndctl "size" of a sector namespace). */
  get capacity(): number {
    return this.nlba * this.sectorSize;
  }

  /**
   * Writes a fresh BTT (§8.5 creation order): per arena zero the map, initialise the log, then
   * info2 and finally info, so an interrupted creation leaves no valid info block.
   */
  static create(media: Media, o: BttOptions): Btt {
    const arenas = bttLayout(mediaSize(media), o.version, o.sectorSize);
    if (arenas.length === 0) throw new BttError('namespace too small for a BTT (16 MiB minimum)');
    for (const g of arenas) {
      zeroRange(media, g.base + g.mapoff, g.logoff - g.mapoff);
      zeroRange(media, g.base + g.logoff, BTT_LOG_SIZE);
      const e = new Uint8Array(16);
      for (let i = 0; i < BTT_NFREE; i++) {
        writeU32le(e, 0, i);
        writeU32le(e, 4, g.externalNlba + i);
        writeU32le(e, 8, g.externalNlba + i);
        writeU32le(e, 12, 1);
        media.write(g.base + g.logoff + i * 64, e);
      }
      media.flush?.(g.base + g.mapoff, g.info2off - g.mapoff);
      const info = encodeBttInfo(g, o.version, o.uuid, o.parentUuid);
      media.write(g.base + g.info2off, info);
      media.flush?.(g.base + g.info2off, BTT_INFO_SIZE);
      media.write(g.base, info);
      media.flush?.(g.base, BTT_INFO_SIZE);
    }
    const opened = Btt.open(media, o.version, o.parentUuid);
    if (!(opened instanceof Btt)) throw new BttError(`BTT did not validate: ${opened.invalid}`);
    return opened;
  }

  /**
   * Opens the BTT the kernel would find for `version` (info at 4 KiB for 1.1, at 0 for 2.0;
   * exact version required, §8.1), following nextoff, and runs recovery (§8.7).
   */
  static open(
    media: Media,
    version: BttVersion,
    parentUuid?: Uint8Array,
  ): Btt | { invalid: string } {
    const arenas = Btt.openRaw(media, version, parentUuid);
    if ('invalid' in arenas) return arenas;
    let recovered = 0;
    for (const a of arenas) {
      a.loadLanes();
      recovered += a.recover();
    }
    return new Btt(media, version, arenas, recovered);
  }

  /** The arenas as found, without loading lanes or recovering (the checker's view). */
  static openRaw(
    media: Media,
    version: BttVersion,
    parentUuid?: Uint8Array,
  ): Arena[] | { invalid: string } {
    const size = mediaSize(media);
    const arenas: Arena[] = [];
    let off = initialOffset(version);
    for (;;) {
      if (off + BTT_INFO_SIZE > size)
        return { invalid: `arena at ${off} is past the namespace end` };
      const v = validateBttInfo(media.read(off, BTT_INFO_SIZE), parentUuid);
      if ('invalid' in v)
        return {
          invalid: arenas.length === 0 ? v.invalid : `arena ${arenas.length}: ${v.invalid}`,
        };
      if (infoVersion(v) !== version) return { invalid: `version ${infoVersion(v)}` };
      const asize = v.nextoff === 0n ? Number(v.info2off) + BTT_INFO_SIZE : Number(v.nextoff);
      const g: ArenaGeometry = {
        base: off,
        size: asize,
        externalLbasize: v.externalLbasize,
        internalLbasize: v.internalLbasize,
        internalNlba: v.internalNlba,
        externalNlba: v.externalNlba,
        nextoff: Number(v.nextoff),
        dataoff: Number(v.dataoff),
        mapoff: Number(v.mapoff),
        logoff: Number(v.logoff),
        info2off: Number(v.info2off),
      };
      if (off + g.info2off + BTT_INFO_SIZE > size || g.mapoff + g.externalNlba * 4 > g.logoff) {
        return { invalid: `arena ${arenas.length}: offsets outside the namespace` };
      }
      arenas.push(new Arena(media, g, v));
      if (v.nextoff === 0n) break;
      off += Number(v.nextoff);
    }
    return arenas;
  }

  #locate(lba: number): { arena: Arena; lba: number } {
    if (!Number.isSafeInteger(lba) || lba < 0) throw new RangeError(`invalid lba ${lba}`);
    let rest = lba;
    for (const arena of this.arenas) {
      if (rest < arena.g.externalNlba) return { arena, lba: rest };
      rest -= arena.g.externalNlba;
    }
    throw new RangeError(`lba ${lba} is past the end (${this.nlba} sectors)`);
  }

  /** One sector, or 'error' for a map entry with only the E bit (the kernel returns EIO). */
  readSector(lba: number): Uint8Array | 'error' {
    const { arena, lba: l } = this.#locate(lba);
    return arena.read(l);
  }

  writeSector(lba: number, data: Uint8Array): void {
    if (data.length !== this.sectorSize) {
      throw new RangeError(
        `sector data is ${data.length} bytes, the BTT sector ${this.sectorSize}`,
      );
    }
    const { arena, lba: l } = this.#locate(lba);
    const lane = this.#nextLane;
    this.#nextLane = (lane + 1) % BTT_NFREE;
    arena.write(l, data, lane);
  }
}
