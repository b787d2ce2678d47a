// The zoned part of a namespace (reference qemu-nvme.md §6): geometry, the zone table, the
// read and write rules the NVM I/O path consults (§6.3, §6.5), ZRWA, persisted zone state,
// shutdown behaviour, and the Identify structure of CSI 02h. The command handlers (Zone
// Management Send/Receive, Zone Append) are in commands.ts.

import { Status, withDnr } from '../../spec/status.js';
import type { ZonedParams } from '../config.js';
import type { BlockStore } from '../store.js';
import { encodeIdNsZoned } from './layout.js';
import { ZoneJournal, type SavedZones } from './journal.js';
import {
  isOpen,
  ZA_ZDEV,
  ZA_ZRWAV,
  ZoneState,
  ZoneTable,
  type Zone,
  type ZoneStateValue,
} from './state.js';

/** The outcome of admitting a write: a status, and on success the completion hook. */
export interface WriteAdmission {
  readonly status: number;
  /** Call once the data reached the image (or the write failed after admission). */
  commit(): void;
}

/** What the NVM I/O path asks of a zoned namespace (io.ts NsCore.zoned). */
export interface ZonedIo {
  /** Read rules: Offline zones, crossing a zone boundary without cross_read. 0 or status. */
  checkRead(slba: number, nlb: number): number;
  /** Write rules and implicit open; reserves the range on success. */
  admitWrite(slba: number, nlb: number, autoTransition: boolean): WriteAdmission;
}

const NO_COMMIT = (): void => undefined;
const fail = (s: number): WriteAdmission => ({ status: withDnr(s), commit: NO_COMMIT });

export interface ZonedNsOptions {
  /** Metadata file for `zoned.persist=on`; undefined keeps zone state in memory (QEMU). */
  readonly stateFile?: string;
  /** The image is read-only: load a state file but never write it. */
  readonly readOnly?: boolean;
}

export class ZonedNs implements ZonedIo {
  readonly params: ZonedParams;
  readonly table: ZoneTable;
  /** Blocks per zone (ZSZE) and writable blocks per zone (ZCAP). */
  readonly zsze: number;
  readonly zcap: number;
  /** NSZE rounded down to whole zones. */
  readonly nsze: number;
  readonly zrwasBlocks: number;
  readonly zrwafgBlocks: number;
  readonly store: BlockStore;
  readonly journal: ZoneJournal | undefined;
  /**
   * Per zone, blocks from ZSLBA that may hold data (what a Reset must zero). Unknown at start
   * (the image may hold anything), so the whole zone; 0 after a reset.
   */
  readonly #dirty: Uint32Array | Float64Array;

  constructor(
    params: ZonedParams,
    lbaSize: number,
    nsze: number,
    store: BlockStore,
    o: ZonedNsOptions = {},
  ) {
    this.params = params;
    this.store = store;
    const lbs = BigInt(lbaSize);
    this.zsze = Number(params.zoneSize / lbs);
    this.zcap = Number(params.zoneCapacity / lbs);
    const nrZones = Math.floor(nsze / this.zsze);
    this.nsze = nrZones * this.zsze;
    this.zrwasBlocks = Number(params.zrwas / lbs);
    this.zrwafgBlocks = Number(params.zrwafg / lbs);
    this.table = new ZoneTable(nrZones, this.zsze, this.zcap, {
      maxActive: params.maxActive,
      maxOpen: params.maxOpen,
      numZrwa: this.zrwasBlocks !== 0 ? params.numZrwa : 0,
    });
    // Zones below 2^32 blocks (all but the largest) count their dirty blocks in half the space.
    this.#dirty = (this.zsze < 2 ** 32 ? new Uint32Array(nrZones) : new Float64Array(nrZones)).fill(
      this.zsze,
    );
    if (o.stateFile !== undefined) {
      const { journal, saved } = ZoneJournal.open(
        o.stateFile,
        {
          lbaSize,
          zoneSize: this.zsze,
          zoneCap: this.zcap,
          nrZones,
          descrExtSize: params.descrExtSize,
        },
        o.readOnly === true,
      );
      this.#restore(saved);
      this.journal = journal;
      if (journal !== undefined) {
        // A loaded file already lost its torn tail; zones it records as open come back Closed
        // (#restore) and the next record of each says so. Nothing is rewritten at start.
        journal.attach(this.table);
        this.table.onChange = (i) => journal.record(i);
      }
    }
  }

  /** Applies saved zones as a power cycle leaves them: open zones come back Closed or Empty. */
  #restore(saved: SavedZones): void {
    const t = this.table;
    saved.each((index, saved, za, savedWp, ext) => {
      const zslba = t.zslbaOf(index);
      const end = t.writeEndOf(index);
      const wp = Math.min(Math.max(savedWp, zslba), end);
      let state: ZoneStateValue = saved;
      if (isOpen(state) || state === ZoneState.CLOSED) {
        state = wp > zslba || (za & ZA_ZDEV) !== 0 ? ZoneState.CLOSED : ZoneState.EMPTY;
      }
      if (state === ZoneState.EMPTY) return;
      t.restoreAt(index, state, state === ZoneState.FULL ? end : wp, za, ext);
    });
  }

  get nrZones(): number {
    return this.table.count;
  }

  /** The zone holding `lba` (which must be below NSZE). */
  zoneOf(lba: number): Zone {
    return this.table.zone(Math.floor(lba / this.zsze));
  }

  /** Blocks of zone `z` that may hold data. */
  dirtyBlocks(z: Zone): number {
    return this.#dirty[z.index]!;
  }
  markClean(z: Zone): void {
    this.#dirty[z.index] = 0;
  }

  checkRead(slba: number, nlb: number): number {
    const t = this.table;
    const first = Math.floor(slba / this.zsze);
    if (t.stateOf(first) === ZoneState.OFFLINE) return withDnr(Status.ZONE_OFFLINE);
    const end = slba + nlb;
    if (end <= (first + 1) * this.zsze) return Status.SUCCESS;
    if (!this.params.crossRead) return withDnr(Status.ZONE_BOUNDARY_ERROR);
    for (let i = first + 1; i * this.zsze < end; i++) {
      if (t.stateOf(i) === ZoneState.OFFLINE) return withDnr(Status.ZONE_OFFLINE);
    }
    return Status.SUCCESS;
  }

  /** nvme_check_zone_write: state, write pointer (or ZRWA window), zone capacity. */
  checkWrite(z: Zone, slba: number, nlb: number): number {
    return this.#checkWrite(z.index, slba, nlb);
  }

  #checkWrite(i: number, slba: number, nlb: number): number {
    const t = this.table;
    switch (t.stateOf(i)) {
      case ZoneState.FULL:
        return withDnr(Status.ZONE_FULL);
      case ZoneState.READ_ONLY:
        return withDnr(Status.ZONE_READ_ONLY);
      case ZoneState.OFFLINE:
        return withDnr(Status.ZONE_OFFLINE);
      case ZoneState.EMPTY:
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
      case ZoneState.CLOSED:
        break;
    }
    const wptr = t.wptrOf(i);
    if ((t.zaOf(i) & ZA_ZRWAV) !== 0) {
      // §6.5: anywhere in [WP, WP + 2 * ZRWAS).
      if (slba < wptr || slba + nlb > wptr + 2 * this.zrwasBlocks) {
        return withDnr(Status.ZONE_INVALID_WRITE);
      }
    } else if (slba !== wptr) {
      return withDnr(Status.ZONE_INVALID_WRITE);
    }
    if (slba + nlb > t.writeEndOf(i)) return withDnr(Status.ZONE_BOUNDARY_ERROR);
    return Status.SUCCESS;
  }

  /** The write path: O(1) per command, on the table's rows (no zone objects). */
  admitWrite(slba: number, nlb: number, autoTransition: boolean): WriteAdmission {
    const t = this.table;
    const i = Math.floor(slba / this.zsze);
    const s = this.#checkWrite(i, slba, nlb);
    if (s !== Status.SUCCESS) return fail(s);
    const opened = t.openAt(i, 'implicit', false, autoTransition);
    if (opened !== Status.SUCCESS) return { status: opened, commit: NO_COMMIT };
    const generation = t.generationOf(i);
    const zrwa = (t.zaOf(i) & ZA_ZRWAV) !== 0;
    if (zrwa) this.#implicitFlush(i, slba + nlb - 1);
    else t.reserveAt(i, nlb);
    return {
      status: Status.SUCCESS,
      commit: () => {
        if (t.generationOf(i) !== generation) return;
        const written = slba + nlb - t.zslbaOf(i);
        if (written > this.#dirty[i]!) this.#dirty[i] = written;
        if (!zrwa) t.advanceAt(i, nlb);
      },
    };
  }

  /** §6.5: a write ending past WP + ZRWAS - 1 commits whole flush-granularity units. */
  #implicitFlush(i: number, elba: number): void {
    const t = this.table;
    const wptr = t.wptrOf(i);
    const last = wptr + this.zrwasBlocks - 1;
    if (elba <= last) return;
    const fg = this.zrwafgBlocks;
    const n = Math.min(Math.ceil((elba - last) / fg) * fg, t.writeEndOf(i) - wptr);
    t.commitZrwaAt(i, n);
  }

  /** Controller shutdown: zones closed as a power cycle would (§2.4), state made durable. */
  shutdown(): void {
    this.table.shutdown();
    this.journal?.sync();
  }

  flush(): void {
    this.journal?.sync();
  }

  close(): void {
    this.journal?.close();
  }

  /** CNS 05h CSI 02h. */
  identify(nlbaf: number): Uint8Array {
    return encodeIdNsZoned({
      crossRead: this.params.crossRead,
      maxActive: this.params.maxActive,
      maxOpen: this.params.maxOpen,
      numZrwa: this.params.numZrwa,
      zrwasBlocks: this.zrwasBlocks,
      zrwafgBlocks: this.zrwafgBlocks,
      zsze: this.zsze,
      zdes: this.params.descrExtSize / 64,
      nlbaf,
    });
  }

  /** Fault injection (in-process API, tests): a zone becomes Read Only or Offline. */
  injectState(index: number, state: 'read-only' | 'offline'): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.nrZones) {
      throw new RangeError(`no zone ${index}`);
    }
    const t = this.table;
    t.restoreAt(
      index,
      state === 'read-only' ? ZoneState.READ_ONLY : ZoneState.OFFLINE,
      t.wpOf(index),
      0,
    );
  }
}
