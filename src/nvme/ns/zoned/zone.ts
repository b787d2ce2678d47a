// What a zone is, shared by the zone table (state.ts) and its views (views.ts): the zone states
// and attributes of ZNS 1.1 Figure 37 and the Zone a caller sees.

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

/**
 * A zone as the namespace code sees it: a live view of one row of its ZoneTable (the fields read
 * the table's current values). Changes go through the table's methods, which keep the counters
 * and lists exact; the fields are read-only here.
 */
export interface Zone {
  readonly index: number;
  readonly zslba: number;
  /** Writable blocks (ZCAP). */
  readonly zcap: number;
  readonly state: ZoneStateValue;
  /** Write pointer as reported: advanced when writes complete. */
  readonly wp: number;
  /** Write pointer for admission: advanced when writes are accepted (in-flight included). */
  readonly wptr: number;
  readonly za: number;
  /** Descriptor extension data (descr_ext_size bytes) when ZDEV is set. */
  readonly ext: Uint8Array | undefined;
  /** Bumped by every reset, so that a write admitted before a reset cannot move the new WP. */
  readonly generation: number;
}
