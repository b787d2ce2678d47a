// The zoned part of a namespace (reference qemu-nvme.md §6): geometry, the zone table, the
// read and write rules the NVM I/O path consults (§6.3, §6.5), ZRWA, persisted zone state,
// shutdown behaviour, and the Identify structure of CSI 02h. The command handlers (Zone
// Management Send/Receive, Zone Append) are in commands.ts.

import { Status, withDnr } from '../../spec/status.js';
import type { ZonedParams } from '../config.js';
import type { BlockStore } from '../store.js';
import { encodeIdNsZoned } from './layout.js';
import { ZoneJournal, type SavedZone } from './journal.js';
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
  readonly #dirty: number[];

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
    this.#dirty = new Array<number>(nrZones).fill(this.zsze);
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
      // A loaded file is rewritten at once: torn tail gone, open zones recorded as closed.
      if (journal?.created === true) journal.compact(this.table.zones);
      this.table.onChange = (z) => journal?.record(z, this.table.zones);
    }
  }

  /** Applies saved zones as a power cycle leaves them: open zones come back Closed or Empty. */
  #restore(saved: ReadonlyMap<number, SavedZone>): void {
    for (const [index, s] of saved) {
      const z = this.table.zones[index]!;
      const end = ZoneTable.writeEnd(z);
      const wp = Math.min(Math.max(s.wp, z.zslba), end);
      let state: ZoneStateValue = s.state;
      if (isOpen(state) || state === ZoneState.CLOSED) {
        state = wp > z.zslba || (s.za & ZA_ZDEV) !== 0 ? ZoneState.CLOSED : ZoneState.EMPTY;
      }
      if (state === ZoneState.EMPTY) continue;
      this.table.restore(z, state, state === ZoneState.FULL ? end : wp, s.za, s.ext);
    }
  }

  get nrZones(): number {
    return this.table.zones.length;
  }

  /** The zone holding `lba` (which must be below NSZE). */
  zoneOf(lba: number): Zone {
    return this.table.zones[Math.floor(lba / this.zsze)]!;
  }

  /** Blocks of zone `z` that may hold data. */
  dirtyBlocks(z: Zone): number {
    return this.#dirty[z.index]!;
  }
  markClean(z: Zone): void {
    this.#dirty[z.index] = 0;
  }

  checkRead(slba: number, nlb: number): number {
    const first = this.zoneOf(slba);
    if (first.state === ZoneState.OFFLINE) return withDnr(Status.ZONE_OFFLINE);
    const end = slba + nlb;
    if (end <= first.zslba + this.zsze) return Status.SUCCESS;
    if (!this.params.crossRead) return withDnr(Status.ZONE_BOUNDARY_ERROR);
    for (let i = first.index + 1; i * this.zsze < end; i++) {
      if (this.table.zones[i]!.state === ZoneState.OFFLINE) return withDnr(Status.ZONE_OFFLINE);
    }
    return Status.SUCCESS;
  }

  /** nvme_check_zone_write: state, write pointer (or ZRWA window), zone capacity. */
  checkWrite(z: Zone, slba: number, nlb: number): number {
    switch (z.state) {
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
    if ((z.za & ZA_ZRWAV) !== 0) {
      // §6.5: anywhere in [WP, WP + 2 * ZRWAS).
      if (slba < z.wptr || slba + nlb > z.wptr + 2 * this.zrwasBlocks) {
        return withDnr(Status.ZONE_INVALID_WRITE);
      }
    } else if (slba !== z.wptr) {
      return withDnr(Status.ZONE_INVALID_WRITE);
    }
    if (slba + nlb > ZoneTable.writeEnd(z)) return withDnr(Status.ZONE_BOUNDARY_ERROR);
    return Status.SUCCESS;
  }

  admitWrite(slba: number, nlb: number, autoTransition: boolean): WriteAdmission {
    const z = this.zoneOf(slba);
    const s = this.checkWrite(z, slba, nlb);
    if (s !== Status.SUCCESS) return fail(s);
    const opened = this.table.open(z, 'implicit', false, autoTransition);
    if (opened !== Status.SUCCESS) return { status: opened, commit: NO_COMMIT };
    const generation = z.generation;
    const zrwa = (z.za & ZA_ZRWAV) !== 0;
    if (zrwa) this.#implicitFlush(z, slba + nlb - 1);
    else this.table.reserve(z, nlb);
    return {
      status: Status.SUCCESS,
      commit: () => {
        if (z.generation !== generation) return;
        const written = slba + nlb - z.zslba;
        if (written > this.#dirty[z.index]!) this.#dirty[z.index] = written;
        if (!zrwa) this.table.advance(z, nlb);
      },
    };
  }

  /** §6.5: a write ending past WP + ZRWAS - 1 commits whole flush-granularity units. */
  #implicitFlush(z: Zone, elba: number): void {
    const last = z.wptr + this.zrwasBlocks - 1;
    if (elba <= last) return;
    const fg = this.zrwafgBlocks;
    const n = Math.min(Math.ceil((elba - last) / fg) * fg, ZoneTable.writeEnd(z) - z.wptr);
    this.table.commitZrwa(z, n);
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
    const z = this.table.zones[index];
    if (z === undefined) throw new RangeError(`no zone ${index}`);
    this.table.restore(z, state === 'read-only' ? ZoneState.READ_ONLY : ZoneState.OFFLINE, z.wp, 0);
  }
}
