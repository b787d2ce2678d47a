// FDP log pages (TP 4146 §5.x; reference qemu-nvme.md §8), scoped to endurance group 1:
// 20h FDP Configurations, 21h Reclaim Unit Handle Usage, 22h FDP Statistics, 23h FDP Events.
// Layouts (little-endian):
// - 20h: header {NUMFDPC u16 (0's based), VER u8, rsvd, SIZE u32, rsvd to 16}; descriptor
//   {DS u16, FDPA u8 (3:0 RGIF, 7 valid), VSS u8, NRG u32, NRUH u16, MAXPIDS u16 (0's based),
//   NNSS u32, RUNS u64, ERUTL u32, rsvd to 64, NRUH x {RUHT u8, rsvd 3}} padded to 8 bytes.
// - 21h: {NRUH u16, rsvd to 8}, NRUH x {RUHA u8, rsvd 7}.
// - 22h: HBMW, MBMW, MBE as 128-bit counters (64 bytes).
// - 23h: {NEV u32, rsvd to 64}, NEV x 64-byte events {type u8, flags u8 (PIV, NSIDV, LV),
//   PID u16, timestamp u64 (the Timestamp feature's value, attribute byte 6 included, as QEMU
//   10.0 writes it), NSID u32, type specific 16, RGID u16, RUHID u8, rsvd}.

import { ByteWriter } from '../../../util/bytes.js';
import { DEFAULT_RUNS, FDP_MAX_PIDS } from '../../subsys/fdp-config.js';
import { EVENT_RING, type FdpEnduranceGroup, type RuhAttribute } from './group.js';

export const FdpLid = {
  CONFIGS: 0x20,
  RUH_USAGE: 0x21,
  STATS: 0x22,
  EVENTS: 0x23,
} as const;

/** Reclaim unit handle type "initially isolated". */
const RUHT_INITIALLY_ISOLATED = 1;
const FDPA_VALID = 0x80;
const NNSS = 256;

/** 20h: the one configuration; with FDP disabled QEMU reports 1 RG, 1 RUH, 1 namespace. */
export function fdpConfigsLog(g: FdpEnduranceGroup | undefined): Uint8Array {
  const nruh = g?.params.nruh ?? 1;
  const ds = (64 + 4 * nruh + 7) & ~7;
  const w = new ByteWriter(16 + ds);
  w.u16le(0); // NUMFDPC: one configuration
  w.u8(0); // version
  w.u8(0);
  w.u32le(16 + ds);
  w.offset = 16;
  w.u16le(ds);
  w.u8(g === undefined ? 0 : FDPA_VALID | g.params.rgif);
  w.u8(0); // VSS
  w.u32le(g?.params.nrg ?? 1);
  w.u16le(nruh);
  w.u16le(FDP_MAX_PIDS - 1);
  w.u32le(g === undefined ? 1 : NNSS);
  w.u64le(g?.params.runs ?? DEFAULT_RUNS);
  w.u32le(0); // ERUTL: no time limit
  w.offset = 16 + 64;
  for (let i = 0; i < nruh; i++) {
    w.u8(RUHT_INITIALLY_ISOLATED);
    w.zeros(3);
  }
  return w.buf;
}

const RUHA: Record<RuhAttribute, number> = { unused: 0, host: 1, ctrl: 2 };

/** 21h: the attribute of every handle. */
export function ruhUsageLog(g: FdpEnduranceGroup): Uint8Array {
  const w = new ByteWriter(8 + 8 * g.ruhs.length);
  w.u16le(g.ruhs.length);
  w.offset = 8;
  for (const r of g.ruhs) {
    w.u8(RUHA[r.attr]);
    w.zeros(7);
  }
  return w.buf;
}

/** 22h: the 128-bit counters (upper halves zero). */
export function fdpStatsLog(g: FdpEnduranceGroup): Uint8Array {
  const w = new ByteWriter(64);
  for (const v of [g.hbmw, g.mbmw, g.mbe]) {
    w.u64le(v & 0xffff_ffff_ffff_ffffn);
    w.u64le(v >> 64n);
  }
  return w.buf;
}

/** 23h: host events (LSP bit 0 set) or controller events, oldest first. */
export function fdpEventsLog(g: FdpEnduranceGroup, host: boolean): Uint8Array {
  const ring = host ? g.hostEvents : g.ctrlEvents;
  const w = new ByteWriter(64 + 64 * EVENT_RING);
  w.u32le(ring.length);
  ring.forEach((e, i) => {
    w.offset = 64 + 64 * i;
    w.u8(e.type);
    // Flags (TP 4146): PIV (bit 0), NSIDV (bit 1), LV (bit 2: RGID and RUHID are valid).
    w.u8((e.pid !== undefined ? 1 : 0) | (e.nsid !== undefined ? 2 : 0) | (e.location ? 4 : 0));
    w.u16le(e.pid ?? 0);
    w.u64le(e.timestamp);
    w.u32le(e.nsid ?? 0);
    w.zeros(16);
    w.u16le(e.location ? e.rg : 0);
    w.u8(e.location ? e.ruhid : 0);
  });
  return w.buf;
}
