// Test fixtures for zoned namespaces: QEMU's zoned defaults scaled down (zones of 128 blocks of
// 512 bytes), a controller that enabled all command sets (CC.CSS = 6), and command helpers.

import type { CmdInit } from '../../spec/command.js';
import { IoOpc } from '../../spec/opcodes.js';
import type { Completion } from '../../spec/transfer.js';
import type { ControllerView } from '../../spec/namespace-api.js';
import type { ZonedParams } from '../config.js';
import { ctxOf, fakeCtrl, pattern, rw, tempNamespace, type TempNs } from '../fixtures.js';
import type { NvmeNsConfig } from '../config.js';

export const ZONE_BLOCKS = 128;
export const LBA = 512;

/** Zoned parameters as `zoned=on,zoned.zone_size=64K` gives them, with `over` applied. */
export function zonedParams(over: Partial<ZonedParams> = {}): ZonedParams {
  return {
    zoneSize: BigInt(ZONE_BLOCKS * LBA),
    zoneCapacity: BigInt(ZONE_BLOCKS * LBA),
    crossRead: false,
    maxActive: 0,
    maxOpen: 0,
    descrExtSize: 0,
    zrwas: 0n,
    zrwafg: BigInt(LBA),
    numZrwa: 0,
    persist: false,
    ...over,
  };
}

/** A zoned namespace of `zones` zones (image exactly that size unless `imageBytes`). */
export async function tempZoned(
  zoned: Partial<ZonedParams> = {},
  opts: { zones?: number; imageBytes?: number; ns?: Partial<NvmeNsConfig> } = {},
): Promise<TempNs> {
  const size = opts.imageBytes ?? (opts.zones ?? 8) * ZONE_BLOCKS * LBA;
  return tempNamespace(size, { zoned: zonedParams(zoned), ...opts.ns });
}

/** CC.CSS = 6 (what Linux writes), auto-transition on (the default). */
export function zonedCtrl(over: Partial<ControllerView> = {}): ControllerView {
  return fakeCtrl({ css: 6, ...over });
}

export async function exec(
  t: TempNs,
  init: CmdInit,
  data?: Uint8Array,
  ctrl: ControllerView = zonedCtrl(),
): Promise<Completion> {
  return t.ns.execute(ctxOf(init, data, undefined, ctrl));
}

/** cdw10/11 for an SLBA. */
export function slbaDw(slba: number): { cdw10: number; cdw11: number } {
  return { cdw10: slba % 2 ** 32, cdw11: Math.floor(slba / 2 ** 32) };
}

/** Zone Management Send `zsa` on `slba` (or every applicable zone with `all`). */
export function zms(
  t: TempNs,
  zsa: number,
  slba: number,
  o: { all?: boolean; zrwaa?: boolean; data?: Uint8Array; ctrl?: ControllerView } = {},
): Promise<Completion> {
  const cdw13 = zsa | (o.all === true ? 1 << 8 : 0) | (o.zrwaa === true ? 1 << 9 : 0);
  return exec(t, { opcode: IoOpc.ZONE_MGMT_SEND, ...slbaDw(slba), cdw13 }, o.data, o.ctrl);
}

/** A Write of `nlb` blocks at `slba` with deterministic data. */
export function writeAt(
  t: TempNs,
  slba: number,
  nlb: number,
  ctrl?: ControllerView,
  seed = 1,
): Promise<Completion> {
  return exec(t, { opcode: IoOpc.WRITE, ...rw(slba, nlb) }, pattern(nlb * LBA, seed), ctrl);
}

export function appendTo(
  t: TempNs,
  zslba: number,
  nlb: number,
  ctrl?: ControllerView,
  seed = 1,
): Promise<Completion> {
  return exec(t, { opcode: IoOpc.ZONE_APPEND, ...rw(zslba, nlb) }, pattern(nlb * LBA, seed), ctrl);
}

export function readAt(
  t: TempNs,
  slba: number,
  nlb: number,
  buf = new Uint8Array(nlb * LBA),
): Promise<Completion> {
  return exec(t, { opcode: IoOpc.READ, ...rw(slba, nlb) }, buf);
}

/** The state (ZS) of zone `i`. */
export function stateOf(t: TempNs, i: number): number {
  return t.ns.zoned!.table.zones[i]!.state;
}
