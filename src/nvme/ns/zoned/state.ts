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

/** Zone states (ZNS 1.1 Figure 37, ZS field). */
export const ZoneState = {
  EMPTY: 0x1,
  IMPLICITLY_OPEN: 0x2,
  EXPLICITLY_OPEN: 0x3,
  CLOSED: 0x4,
  READ_ONLY: 0xd,
  FULL: 0xe,
  OFFLINE: 0xf,
} as const;
export type ZoneStateValue = (typeof ZoneState)[keyof typeof ZoneState];

export const ZONE_STATE_VALUES: readonly ZoneStateValue[] = Object.values(ZoneState);

/** Zone Attributes (ZNS 1.1 Figure 37): ZDEV (descriptor extension valid), ZRWAV. */
export const ZA_ZDEV = 0x80;
export const ZA_ZRWAV = 0x08;

export interface Zone {
  readonly index: number;
  readonly zslba: number;
  /** Writable blocks (ZCAP). */
  readonly zcap: number;
  state: ZoneStateValue;
  /** Write pointer as reported: advanced when writes complete. */
  wp: number;
  /** Write pointer for admission: advanced when writes are accepted (in-flight included). */
  wptr: number;
  za: number;
  /** Descriptor extension data (descr_ext_size bytes) when ZDEV is set. */
  ext: Uint8Array | undefined;
  /** Bumped by every reset, so that a write admitted before a reset cannot move the new WP. */
  generation: number;
}

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

export class ZoneTable {
  readonly zones: readonly Zone[];
  readonly limits: ZoneLimits;
  #open = 0;
  #active = 0;
  #zrwaUsed = 0;
  /** Zones per state, in the order they entered it. */
  readonly #lists = new Map<ZoneStateValue, Set<Zone>>(
    ZONE_STATE_VALUES.map((s) => [s, new Set<Zone>()]),
  );
  /** Called after a zone's state, attributes or write pointer changed (persistence). */
  onChange: ((z: Zone) => void) | undefined;

  constructor(nrZones: number, zoneSize: number, zoneCap: number, limits: ZoneLimits) {
    assert(nrZones > 0 && zoneCap > 0 && zoneCap <= zoneSize, 'zone geometry was checked');
    this.limits = limits;
    const zones: Zone[] = [];
    for (let i = 0; i < nrZones; i++) {
      const zslba = i * zoneSize;
      const z: Zone = {
        index: i,
        zslba,
        zcap: zoneCap,
        state: ZoneState.EMPTY,
        wp: zslba,
        wptr: zslba,
        za: 0,
        ext: undefined,
        generation: 0,
      };
      zones.push(z);
      this.#lists.get(ZoneState.EMPTY)!.add(z);
    }
    this.zones = zones;
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

  /** Zones in state `s`, oldest first. */
  inState(s: ZoneStateValue): Zone[] {
    return [...this.#lists.get(s)!];
  }

  /** The writable end of a zone (ZSLBA + ZCAP). */
  static writeEnd(z: Zone): number {
    return z.zslba + z.zcap;
  }

  /** Moves `z` to `to`, keeping the counters and lists exact. */
  #assign(z: Zone, to: ZoneStateValue): void {
    const from = z.state;
    this.#open += Number(isOpen(to)) - Number(isOpen(from));
    this.#active += Number(isActive(to)) - Number(isActive(from));
    this.#lists.get(from)!.delete(z);
    this.#lists.get(to)!.add(z);
    z.state = to;
  }

  #changed(z: Zone): void {
    this.onChange?.(z);
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
    const oldest = this.#lists.get(ZoneState.IMPLICITLY_OPEN)!.values().next();
    if (oldest.done === true) return;
    this.#assign(oldest.value, ZoneState.CLOSED);
    this.#changed(oldest.value);
  }

  #grantZrwa(z: Zone): void {
    if ((z.za & ZA_ZRWAV) !== 0) return;
    z.za |= ZA_ZRWAV;
    this.#zrwaUsed++;
  }

  #releaseZrwa(z: Zone): void {
    if ((z.za & ZA_ZRWAV) === 0) return;
    z.za &= ~ZA_ZRWAV;
    this.#zrwaUsed--;
  }

  /**
   * Opens `z` implicitly (a write) or explicitly (Open), optionally allocating a ZRWA.
   * Empty needs an active and an open resource, Closed an open one; auto-transition may free
   * an open resource first. Full, Read Only and Offline cannot be opened.
   */
  open(z: Zone, mode: OpenMode, zrwa: boolean, autoTransition: boolean): number {
    switch (z.state) {
      case ZoneState.EMPTY:
      case ZoneState.CLOSED: {
        const act = z.state === ZoneState.EMPTY ? 1 : 0;
        if (autoTransition) this.#autoClose();
        const s = this.checkResources(act, 1, zrwa && (z.za & ZA_ZRWAV) === 0 ? 1 : 0);
        if (s !== OK) return s;
        this.#assign(
          z,
          mode === 'implicit' ? ZoneState.IMPLICITLY_OPEN : ZoneState.EXPLICITLY_OPEN,
        );
        break;
      }
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN: {
        // A write into an open zone changes nothing.
        if (mode === 'implicit') return OK;
        if (zrwa && (z.za & ZA_ZRWAV) === 0) {
          const s = this.checkResources(0, 0, 1);
          if (s !== OK) return s;
        }
        if (z.state === ZoneState.IMPLICITLY_OPEN) this.#assign(z, ZoneState.EXPLICITLY_OPEN);
        break;
      }
      case ZoneState.FULL:
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
    if (zrwa) this.#grantZrwa(z);
    this.#changed(z);
    return OK;
  }

  /** Close: open zones become Closed; Closed stays; anything else is an invalid transition. */
  close(z: Zone): number {
    switch (z.state) {
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
        this.#assign(z, ZoneState.CLOSED);
        this.#changed(z);
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
    switch (z.state) {
      case ZoneState.EMPTY:
      case ZoneState.IMPLICITLY_OPEN:
      case ZoneState.EXPLICITLY_OPEN:
      case ZoneState.CLOSED:
        this.#toFull(z);
        return OK;
      case ZoneState.FULL:
        return OK;
      case ZoneState.READ_ONLY:
      case ZoneState.OFFLINE:
        return inval;
    }
  }

  #toFull(z: Zone): void {
    this.#releaseZrwa(z);
    this.#assign(z, ZoneState.FULL);
    z.wp = z.wptr = ZoneTable.writeEnd(z);
    this.#changed(z);
  }

  /** Whether Reset may proceed (the caller zeroes the zone's data in between). */
  canReset(z: Zone): number {
    switch (z.state) {
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
    const s = this.canReset(z);
    if (s !== OK || z.state === ZoneState.EMPTY) return s;
    this.#releaseZrwa(z);
    this.#assign(z, ZoneState.EMPTY);
    z.wp = z.wptr = z.zslba;
    z.za = 0;
    z.ext = undefined;
    z.generation++;
    this.#changed(z);
    return OK;
  }

  /** Offline: only from Read Only (Offline stays Offline). */
  offline(z: Zone): number {
    switch (z.state) {
      case ZoneState.READ_ONLY:
        this.#assign(z, ZoneState.OFFLINE);
        z.za = 0;
        z.ext = undefined;
        this.#changed(z);
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
    if (z.state !== ZoneState.EMPTY) return inval;
    const s = this.checkResources(1, 0, 0);
    if (s !== OK) return s;
    this.#assign(z, ZoneState.CLOSED);
    z.za |= ZA_ZDEV;
    z.ext = ext;
    this.#changed(z);
    return OK;
  }

  /** Advances the admission write pointer of an accepted write. */
  reserve(z: Zone, nlb: number): void {
    z.wptr += nlb;
  }

  /**
   * A write of `nlb` blocks completed: the reported WP moves, and a zone whose WP reaches its
   * capacity becomes Full (releasing its resources).
   */
  advance(z: Zone, nlb: number): void {
    if (!isActive(z.state)) return;
    z.wp += nlb;
    if (z.wp >= ZoneTable.writeEnd(z)) this.#toFull(z);
    else this.#changed(z);
  }

  /** ZRWA commit (implicit or explicit flush): both write pointers move by `nlb`. */
  commitZrwa(z: Zone, nlb: number): void {
    z.wptr += nlb;
    this.advance(z, nlb);
  }

  /**
   * Controller shutdown / power cycle (reference §2.4): open and closed zones become Closed
   * when they hold data or a descriptor extension, otherwise Empty; ZRWAs are released.
   */
  shutdown(): void {
    for (const z of this.zones) {
      if (!isActive(z.state)) continue;
      this.#releaseZrwa(z);
      z.wptr = z.wp;
      const keep = z.wp > z.zslba || (z.za & ZA_ZDEV) !== 0;
      this.#assign(z, keep ? ZoneState.CLOSED : ZoneState.EMPTY);
      this.#changed(z);
    }
  }

  /**
   * Sets a zone's persisted or injected state without resource checks (restoring state from
   * the metadata file, fault injection). Open states are not restorable: a power cycle closes
   * them (callers pass Closed).
   */
  restore(z: Zone, state: ZoneStateValue, wp: number, za: number, ext?: Uint8Array): void {
    this.#releaseZrwa(z);
    this.#assign(z, state);
    z.wp = z.wptr = wp;
    z.za = za & ZA_ZDEV;
    z.ext = (za & ZA_ZDEV) !== 0 ? ext : undefined;
    this.#changed(z);
  }
}
