// The zone state machine of a zoned namespace (NVMe ZNS Command Set 1.1 §2.1.1 Figure 7;
// reference qemu-nvme.md §6.2): zone states, the active/open resource accounting with
// `zoned.max_active` / `zoned.max_open`, auto-transition of implicitly opened zones, and the
// zone random write area (ZRWA) resources. Pure logic: no I/O, no command decoding.
//
// Accounting derives from the states (house rule 5): a zone is *open* in IOpen/EOpen and
// *active* in IOpen/EOpen/Closed, and every state change goes through #assign(), which moves
// the counters and the per-state lists. The checks happen before a transition, so the counters
// never exceed a non-zero limit through this API. Lists keep insertion order, which is the
// order QEMU walks them (oldest implicitly open zone first; Select All Open in the order the
// zones were closed).

import assert from 'node:assert/strict';
import { Status, withDnr } from '../../spec/status.js';
import { ZoneLists } from './lists.js';
import { zoneArray, ZoneView, type Rows } from './views.js';
import { ZA_ZDEV, ZA_ZRWAV, ZoneState, type Zone, type ZoneStateValue } from './zone.js';

export {
  ZA_ZDEV,
  ZA_ZRWAV,
  ZONE_STATE_VALUES,
  ZoneState,
  type Zone,
  type ZoneStateValue,
} from './zone.js';

export interface ZoneLimits {
  /** 0 = unlimited. */
  readonly maxActive: number;
  /** 0 = unlimited (QEMU sets it to max_active when only max_active is given). */
  readonly maxOpen: number;
  /** ZRWA resources; 0 = one per zone (no limit). */
  readonly numZrwa: number;
}

export function isOpen(s: ZoneStateValue): boolean {
  return s === ZoneState.IMPLICITLY_OPEN || s === ZoneState.EXPLICITLY_OPEN;
}

export function isActive(s: ZoneStateValue): boolean {
  return isOpen(s) || s === ZoneState.CLOSED;
}

/** How a zone is being opened: by a write (implicit) or by Zone Management Send Open. */
export type OpenMode = 'implicit' | 'explicit';

const OK = Status.SUCCESS;
const inval = withDnr(Status.ZONE_INVAL_TRANSITION);

/** The states whose zones are kept in insertion order (the lists QEMU walks), by list number. */
const LISTED: readonly ZoneStateValue[] = [
  ZoneState.IMPLICITLY_OPEN,
  ZoneState.EXPLICITLY_OPEN,
  ZoneState.CLOSED,
  ZoneState.READ_ONLY,
  ZoneState.OFFLINE,
];
/** State -> list number (-1: not listed), indexed by the 4-bit state value. */
const LIST_OF: readonly number[] = Array.from({ length: 16 }, (_, s) =>
  LISTED.indexOf(s as ZoneStateValue),
);

export class ZoneTable {
  readonly zones: readonly Zone[];
  readonly limits: ZoneLimits;
  /** Number of zones. */
  readonly count: number;
  readonly #rows: Rows;
  #open = 0;
  #active = 0;
  #zrwaUsed = 0;
  /** Zones per listed state, in the order they entered it (Empty and Full are not listed). */
  readonly #lists: ZoneLists;
  /** Called after a zone's state, attributes or write pointer changed (persistence). */
  onChange: ((index: number) => void) | undefined;

  constructor(nrZones: number, zoneSize: number, zoneCap: number, limits: ZoneLimits) {
    assert(nrZones > 0 && zoneCap > 0 && zoneCap <= zoneSize, 'zone geometry was checked');
    assert(Number.isSafeInteger(nrZones * zoneSize), 'LBAs fit a double exactly');
    this.limits = limits;
    this.count = nrZones;
    this.#lists = new ZoneLists(nrZones, LISTED.length);
    const wp = new Float64Array(nrZones);
    for (let i = 0; i < nrZones; i++) wp[i] = i * zoneSize;
    this.#rows = {
      zsze: zoneSize,
      zcap: zoneCap,
      state: new Uint8Array(nrZones).fill(ZoneState.EMPTY),
      za: new Uint8Array(nrZones),
      wp,
      wptr: wp.slice(),
      generation: new Uint32Array(nrZones),
      ext: new Map(),
    };
    const rows = this.#rows;
    this.zones = zoneArray(nrZones, (i) => new ZoneView(rows, i));
  }

  get openCount(): number {
    return this.#open;
  }
  get activeCount(): number {
    return this.#active;
  }
  get zrwaCount(): number {
    return this.#zrwaUsed;
  }

  /** A live view of zone `i` (which must exist). */
  zone(i: number): Zone {
    assert(i >= 0 && i < this.count, 'zone index in range');
    return new ZoneView(this.#rows, i);
  }

  // Row access by index: the I/O path, the journal and Report Zones read these instead of views.
  stateOf(i: number): ZoneStateValue {
    return this.#rows.state[i] as ZoneStateValue;
  }
  wpOf(i: number): number {
    return this.#rows.wp[i]!;
  }
  wptrOf(i: number): number {
    return this.#rows.wptr[i]!;
  }
  zaOf(i: number): number {
    return this.#rows.za[i]!;
  }
  extOf(i: number): Uint8Array | undefined {
    return this.#rows.ext.get(i);
  }
  generationOf(i: number): number {
    return this.#rows.generation[i]!;
  }
  zslbaOf(i: number): number {
    return i * this.#rows.zsze;
  }
  /** The writable end of zone `i` (ZSLBA + ZCAP). */
  writeEndOf(i: number): number {
    return i * this.#rows.zsze + this.#rows.zcap;
  }
  /** Empty at its start with no attributes: what a zone without a journal record is. */
  isDefault(i: number): boolean {
    const r = this.#rows;
    return r.state[i] === ZoneState.EMPTY && r.za[i] === 0 && r.wp[i] === i * r.zsze;
  }

  /**
   * Zones in state `s`, oldest first for the listed states (open, Closed, Read Only, Offline);
   * Empty and Full zones, which are not listed, in zone order.
   */
  inState(s: ZoneStateValue): Zone[] {
    const l = LIST_OF[s]!;
    if (l >= 0) return this.#lists.toArray(l).map((i) => this.zone(i));
    const out: Zone[] = [];
    for (let i = 0; i < this.count; i++) if (this.#rows.state[i] === s) out.push(this.zone(i));
    return out;
  }

  /** The writable end of a zone (ZSLBA + ZCAP). */
  static writeEnd(z: Zone): number {
    return z.zslba + z.zcap;
  }

  /** Moves zone `i` to `to`, keeping the counters and lists exact. */
  #assign(i: number, to: ZoneStateValue): void {
    const from = this.#rows.state[i] as ZoneStateValue;
    this.#open += Number(isOpen(to)) - Number(isOpen(from));
    this.#active += Number(isActive(to)) - Number(isActive(from));
    if (LIST_OF[from]! >= 0) this.#lists.remove(LIST_OF[from]!, i);
    if (LIST_OF[to]! >= 0) this.#lists.add(LIST_OF[to]!, i);
    this.#rows.state[i] = to;
  }

  #changed(i: number): void {
    this.onChange?.(i);
  }

  /** nvme_zns_check_resources: room for `act` more active, `opn` more open, `zrwa` ZRWAs? */
  checkResources(act: number, opn: number, zrwa: number): number {
    const { maxActive, maxOpen, numZrwa } = this.limits;
    if (maxActive !== 0 && this.#active + act > maxActive) {
      return withDnr(Status.ZONE_TOO_MANY_ACTIVE);
    }
    if (maxOpen !== 0 && this.#open + opn > maxOpen) return withDnr(Status.ZONE_TOO_MANY_OPEN);
    if (zrwa > 0 && numZrwa !== 0 && this.#zrwaUsed + zrwa > numZrwa) {
      return withDnr(Status.ZONE_NO_ZRWA);
    }
    return OK;
  }

  /** Auto-transition: with every open resource in use, close the oldest implicitly open zone. */
  #autoClose(): void {
    const { maxOpen } = this.limits;
    if (maxOpen === 0 || this.#open < maxOpen) return;
    const oldest = this.#lists.first(LIST_OF[ZoneState.IMPLICITLY_OPEN]!);
    if (oldest === undefined) return;
    this.#assign(oldest, ZoneState.CLOSED);
    this.#changed(oldest);
  }

  #hasZrwa(i: number): boolean {
    return (this.#rows.za[i]! & ZA_ZRWAV) !== 0;
  }

  #grantZrwa(i: number): void {
    if (this.#hasZrwa(i)) return;
    this.#rows.za[i]! |= ZA_ZRWAV;
    this.#zrwaUsed++;
  }

  #releaseZrwa(i: number): void {
    if (!this.#hasZrwa(i)) return;
    this.#rows.za[i]! &= ~ZA_ZRWAV;
    this.#zrwaUsed--;
  }

  /**
   * Opens `z` implicitly (a write) or explicitly (Open), optionally allocating a ZRWA.
   * Empty needs an active and an open resource, Closed an open one; auto-transition may free
   * an open resource first. Full, Read Only and Offline cannot be opened.
   */
  open(z: Zone, mode: OpenMode, zrwa: boolean, autoTransition: boolean): number {
    return this.openAt(z.index, mode, zrwa, autoTransition);
  }

  /** open() by zone index (the write path). */
  openAt(i: number, mode: OpenMode, zrwa: boolean, autoTransition: boolean): number {
    const state = this.#rows.state[i] as ZoneStateValue;
    switch (state) {
      case ZoneState.EMPTY:
      case ZoneState.CLOSED: {
        const act = state === ZoneState.EMPTY ? 1 : 0;
        if (autoTransition) this.#autoClose();
        const s = this.checkResources(act, 1, zrwa && !this.#hasZrwa(i) ? 1 : 0);
        if (s !== OK) return s;
        this.#assign(
          i,
          mode === 'implicit' ? ZoneState.IMPLICITLY_OPEN : ZoneState.EXPLICITLY_OPEN,
        );
        break;
      }
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN: {
        // A write into an open zone changes nothing.
        if (mode === 'implicit') return OK;
        if (zrwa && !this.#hasZrwa(i)) {
          const s = this.checkResources(0, 0, 1);
          if (s !== OK) return s;
        }
        if (state === ZoneState.IMPLICITLY_OPEN) this.#assign(i, ZoneState.EXPLICITLY_OPEN);
        break;
      }
      case ZoneState.FULL:
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
    if (zrwa) this.#grantZrwa(i);
    this.#changed(i);
    return OK;
  }

  /** Close: open zones become Closed; Closed stays; anything else is an invalid transition. */
  close(z: Zone): number {
    const i = z.index;
    const state = this.#rows.state[i] as ZoneStateValue;
    switch (state) {
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
        this.#assign(i, ZoneState.CLOSED);
        this.#changed(i);
        return OK;
      case ZoneState.CLOSED:
        return OK;
      case ZoneState.EMPTY:
      case ZoneState.FULL:
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
  }

  /** Finish: Empty, open and Closed zones become Full (WP at the zone's capacity). */
  finish(z: Zone): number {
    const state = this.#rows.state[z.index] as ZoneStateValue;
    switch (state) {
      case ZoneState.EMPTY:
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
      case ZoneState.CLOSED:
        this.#toFull(z.index);
        return OK;
      case ZoneState.FULL:
        return OK;
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
  }

  #toFull(i: number): void {
    this.#releaseZrwa(i);
    this.#assign(i, ZoneState.FULL);
    this.#rows.wp[i] = this.#rows.wptr[i] = this.writeEndOf(i);
    this.#changed(i);
  }

  /** Whether Reset may proceed (the caller zeroes the zone's data in between). */
  canReset(z: Zone): number {
    const state = this.#rows.state[z.index] as ZoneStateValue;
    switch (state) {
      case ZoneState.EMPTY:
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
      case ZoneState.CLOSED:
      case ZoneState.FULL:
        return OK;
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
  }

  /** Reset: back to Empty with WP = ZSLBA, attributes and extension cleared. */
  reset(z: Zone): number {
    const i = z.index;
    const s = this.canReset(z);
    if (s !== OK || this.#rows.state[i] === ZoneState.EMPTY) return s;
    this.#releaseZrwa(i);
    this.#assign(i, ZoneState.EMPTY);
    const r = this.#rows;
    r.wp[i] = r.wptr[i] = this.zslbaOf(i);
    r.za[i] = 0;
    r.ext.delete(i);
    r.generation[i] = (r.generation[i]! + 1) >>> 0;
    this.#changed(i);
    return OK;
  }

  /** Offline: only from Read Only (Offline stays Offline). */
  offline(z: Zone): number {
    const i = z.index;
    const state = this.#rows.state[i] as ZoneStateValue;
    switch (state) {
      case ZoneState.READ_ONLY:
        this.#assign(i, ZoneState.OFFLINE);
        this.#rows.za[i] = 0;
        this.#rows.ext.delete(i);
        this.#changed(i);
        return OK;
      case ZoneState.OFFLINE:
        return OK;
      case ZoneState.EMPTY:
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
      case ZoneState.CLOSED:
      case ZoneState.FULL:
        return inval;
    }
  }

  /** Set Zone Descriptor Extension: an Empty zone becomes Closed with ZDEV (needs an active). */
  setExtension(z: Zone, ext: Uint8Array): number {
    const i = z.index;
    if (this.#rows.state[i] !== ZoneState.EMPTY) return inval;
    const s = this.checkResources(1, 0, 0);
    if (s !== OK) return s;
    this.#assign(i, ZoneState.CLOSED);
    this.#rows.za[i]! |= ZA_ZDEV;
    this.#rows.ext.set(i, ext);
    this.#changed(i);
    return OK;
  }

  /** Advances the admission write pointer of an accepted write. */
  reserve(z: Zone, nlb: number): void {
    this.reserveAt(z.index, nlb);
  }
  reserveAt(i: number, nlb: number): void {
    this.#rows.wptr[i]! += nlb;
  }

  /**
   * A write of `nlb` blocks completed: the reported WP moves, and a zone whose WP reaches its
   * capacity becomes Full (releasing its resources).
   */
  advance(z: Zone, nlb: number): void {
    this.advanceAt(z.index, nlb);
  }
  advanceAt(i: number, nlb: number): void {
    if (!isActive(this.#rows.state[i] as ZoneStateValue)) return;
    const wp = (this.#rows.wp[i]! += nlb);
    if (wp >= this.writeEndOf(i)) this.#toFull(i);
    else this.#changed(i);
  }

  /** ZRWA commit (implicit or explicit flush): both write pointers move by `nlb`. */
  commitZrwa(z: Zone, nlb: number): void {
    this.commitZrwaAt(z.index, nlb);
  }
  commitZrwaAt(i: number, nlb: number): void {
    this.#rows.wptr[i]! += nlb;
    this.advanceAt(i, nlb);
  }

  /**
   * Controller shutdown / power cycle (reference §2.4): open and closed zones become Closed
   * when they hold data or a descriptor extension, otherwise Empty; ZRWAs are released. Only
   * the listed active zones are visited, not the whole table.
   */
  shutdown(): void {
    const active = [ZoneState.IMPLICITLY_OPEN, ZoneState.EXPLICITLY_OPEN, ZoneState.CLOSED]
      .flatMap((st) => this.#lists.toArray(LIST_OF[st]!))
      .sort((a, b) => a - b);
    const r = this.#rows;
    for (const i of active) {
      this.#releaseZrwa(i);
      r.wptr[i] = r.wp[i]!;
      const keep = r.wp[i]! > this.zslbaOf(i) || (r.za[i]! & ZA_ZDEV) !== 0;
      this.#assign(i, keep ? ZoneState.CLOSED : ZoneState.EMPTY);
      this.#changed(i);
    }
  }

  /**
   * Sets a zone's persisted or injected state without resource checks (restoring state from
   * the metadata file, fault injection). Open states are not restorable: a power cycle closes
   * them (callers pass Closed).
   */
  restore(z: Zone, state: ZoneStateValue, wp: number, za: number, ext?: Uint8Array): void {
    this.restoreAt(z.index, state, wp, za, ext);
  }
  restoreAt(i: number, state: ZoneStateValue, wp: number, za: number, ext?: Uint8Array): void {
    this.#releaseZrwa(i);
    this.#assign(i, state);
    const r = this.#rows;
    r.wp[i] = r.wptr[i] = wp;
    r.za[i] = za & ZA_ZDEV;
    if ((za & ZA_ZDEV) !== 0 && ext !== undefined) r.ext.set(i, ext);
    else r.ext.delete(i);
    this.#changed(i);
  }
}
