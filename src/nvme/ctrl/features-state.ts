// Feature identifiers, capabilities and the controller-wide feature values (reference §3.3,
// NVMe Base Spec 2.0 §5.27.1): declared once; Get/Set Features (features.ts) derive from them.

import type { NvmeLevel } from '../spec/levels.js';

export const Fid = {
  ARBITRATION: 0x01,
  POWER_MANAGEMENT: 0x02,
  TEMPERATURE_THRESHOLD: 0x04,
  ERROR_RECOVERY: 0x05,
  VOLATILE_WRITE_CACHE: 0x06,
  NUMBER_OF_QUEUES: 0x07,
  INTERRUPT_COALESCING: 0x08,
  INTERRUPT_VECTOR_CONF: 0x09,
  WRITE_ATOMICITY: 0x0a,
  ASYNC_EVENT_CONF: 0x0b,
  TIMESTAMP: 0x0e,
  KEEP_ALIVE_TIMER: 0x0f,
  HOST_BEHAVIOR_SUPPORT: 0x16,
  COMMAND_SET_PROFILE: 0x19,
  FDP_MODE: 0x1d,
  FDP_EVENTS: 0x1e,
  // Reservations (ctrl/features-resv.ts).
  HOST_IDENTIFIER: 0x81,
  RESV_NOTIFICATION_MASK: 0x82,
  RESV_PERSISTENCE: 0x83,
} as const;

/** Capability bits returned by SEL=3 (Base Spec 2.0 Figure 329). */
export const CAP_NS = 0x2;
export const CAP_CHANGE = 0x4;

/** Supported FIDs -> capabilities [7.2]; nothing is saveable. */
export const FEATURE_CAPS: ReadonlyMap<number, number> = new Map([
  [Fid.ARBITRATION, 0],
  [Fid.POWER_MANAGEMENT, 0],
  [Fid.TEMPERATURE_THRESHOLD, CAP_CHANGE],
  [Fid.ERROR_RECOVERY, CAP_CHANGE | CAP_NS],
  [Fid.VOLATILE_WRITE_CACHE, CAP_CHANGE],
  [Fid.NUMBER_OF_QUEUES, CAP_CHANGE],
  [Fid.INTERRUPT_COALESCING, 0],
  [Fid.INTERRUPT_VECTOR_CONF, 0],
  [Fid.WRITE_ATOMICITY, 0],
  [Fid.ASYNC_EVENT_CONF, CAP_CHANGE],
  [Fid.TIMESTAMP, CAP_CHANGE],
  [Fid.HOST_BEHAVIOR_SUPPORT, CAP_CHANGE],
  [Fid.COMMAND_SET_PROFILE, CAP_CHANGE],
  // Flexible Data Placement (ns/fdp): the mode of endurance group 1, events per handle.
  [Fid.FDP_MODE, CAP_CHANGE],
  [Fid.FDP_EVENTS, CAP_CHANGE | CAP_NS],
  // Fabrics only (NVMe-oF 1.1 §3.2): the Keep Alive Timeout, in ms; see featureAvailable.
  [Fid.KEEP_ALIVE_TIMER, CAP_CHANGE],
  // Reservations (§5.27.1.25-27; beyond QEMU 7.2).
  [Fid.HOST_IDENTIFIER, CAP_CHANGE],
  [Fid.RESV_NOTIFICATION_MASK, CAP_CHANGE | CAP_NS],
  [Fid.RESV_PERSISTENCE, CAP_CHANGE | CAP_NS],
]);

/** Features of one personality only (the others answer Invalid Field, as unsupported). */
const FABRICS_ONLY: ReadonlySet<number> = new Set([Fid.KEEP_ALIVE_TIMER]);

/** The features of a discovery controller (NVMe-oF 1.1 §5.1). */
const DISCOVERY: ReadonlySet<number> = new Set([Fid.ASYNC_EVENT_CONF, Fid.KEEP_ALIVE_TIMER]);

/**
 * The capabilities of feature `fid` on a controller of `type` presenting `transport` at the
 * QEMU compatibility level `level` (QEMU 10.0 makes Write Atomicity Normal changeable), or
 * undefined when it has no such feature.
 */
export function featureCaps(
  fid: number,
  transport: 'pci' | 'fabrics',
  type: 'io' | 'discovery' = 'io',
  level?: NvmeLevel,
): number | undefined {
  if (FABRICS_ONLY.has(fid) && transport !== 'fabrics') return undefined;
  if (type === 'discovery' && !DISCOVERY.has(fid)) return undefined;
  if (fid === Fid.WRITE_ATOMICITY && level?.writeAtomicityChangeable === true) return CAP_CHANGE;
  return FEATURE_CAPS.get(fid);
}

/** Arbitration Burst "no limit" (7) is the only non-zero plain default. */
export const DEFAULTS: ReadonlyMap<number, number> = new Map([[Fid.ARBITRATION, 7]]);

/** Composite temperature warning threshold, Kelvin (WCTEMP). */
export const TEMP_WARNING = 0x157;
export const TEMP_CRITICAL = 0x175;

/** Controller-wide feature values; survive controller reset (reference §2.4). */
export class Features {
  tempOver = TEMP_WARNING;
  tempUnder = 0;
  asyncEventConfig = 0;
  hostTimestamp = 0n;
  timestampSetAtMs = 0;
  /** Host Behavior Support structure (512 bytes; byte 2 = LBAFEE). */
  readonly hbs = new Uint8Array(512);
  /**
   * Write Atomicity Normal (FID 0Ah) bit 0 DN: AWUN does not apply, only AWUPF (QEMU 10.0's
   * `atomic.dn` sets it at power on; Set Features changes it at that level).
   */
  writeAtomicityDn = false;
  /** Host Identifier (FID 81h) set by a PCIe host: 8 bytes, or 16 with EXHID; zeros: none. */
  hostId: Uint8Array = new Uint8Array(8);

  get lbafee(): boolean {
    return this.hbs[2] !== 0;
  }

  resetTimestamp(nowMs: number): void {
    this.hostTimestamp = 0n;
    this.timestampSetAtMs = nowMs;
  }

  /** Timestamp feature data: 48-bit ms, Synch 0, Origin (51:49) 1 once the host set one. */
  timestamp(nowMs: number): bigint {
    const elapsed = BigInt(Math.max(0, Math.floor(nowMs - this.timestampSetAtMs)));
    const ts = (this.hostTimestamp + elapsed) & 0xffff_ffff_ffffn;
    return ts | (this.hostTimestamp !== 0n ? 1n << 49n : 0n);
  }
}
