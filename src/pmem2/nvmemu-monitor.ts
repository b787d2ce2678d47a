// The asynchronous half of libpmem2 on nvmemu's emulated devices: what needs the running machine
// itself, reached through its QMP socket (<data>/qmp.sock, always opened by `nvmemu run`).
//
// - clearNvmemuBadBlock: pmem2_badblock_clear for an emulated device. The machine owns the
//   poison list (x-nvmemu-clear-badblocks); the cleared sectors are zeroed, as PMDK's clear of a
//   file range (punch + allocate) leaves them (pmdk.md §4).
// - watchMachinePowerFail: ties a simulated map to the machine's x-nvmemu-power-fail. The machine
//   discards what its own devices had not persisted; stores this process made into its mapping
//   are not the machine's to see, so on NVMEMU_POWER_FAIL the map's simulator applies its
//   post-crash image ('persisted') to the mapping and msyncs it: the backing file then holds
//   what a restarted machine (and a new source on it) must see. Maps without simulation count
//   every store as durable (like raw stores into a device, docs/pmem.md) and are left alone.

import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { msync } from '../memory/libc.js';
import { QmpClient } from '../monitor/client.js';
import { fail } from './errors.js';
import type { Pmem2BadBlock } from './badblocks.js';
import type { Pmem2Map } from './map.js';
import type { NvmemuWindow } from './nvmemu.js';
import type { Pmem2Source } from './source.js';

const SECTOR = 512;

function emulated(src: Pmem2Source): NvmemuWindow {
  if (src.emu === null)
    throw fail('PMEM2_E_NOSUPP', 'the source is not on an nvmemu emulated device');
  return src.emu;
}

async function monitor(w: NvmemuWindow): Promise<QmpClient> {
  const path = join(w.dataDir, 'qmp.sock');
  let c: QmpClient;
  try {
    c = await QmpClient.connect({ path });
  } catch (e) {
    throw fail(
      'PMEM2_E_NOSUPP',
      `cannot reach the machine's monitor ${path}: ${(e as Error).message}`,
    );
  }
  await c.negotiate();
  return c;
}

/**
 * pmem2_badblock_clear on an emulated device: the sectors covering `bb` (a range returned by
 * Pmem2BadBlockContext.next) lose their poison and read as zeros.
 */
export async function clearNvmemuBadBlock(src: Pmem2Source, bb: Pmem2BadBlock): Promise<void> {
  const w = emulated(src);
  if (w.region.devid === '')
    throw fail('PMEM2_E_NOSUPP', `${w.region.name}: the device has no id= for the monitor to name`);
  if (bb.offset < 0 || bb.length <= 0 || bb.offset + bb.length > w.size)
    throw fail(
      'PMEM2_E_LENGTH_OUT_OF_RANGE',
      `bad block [${bb.offset}, +${bb.length}) outside the source`,
    );
  const first = Math.floor((w.regionOffset + bb.offset) / SECTOR);
  const end = Math.ceil((w.regionOffset + bb.offset + bb.length) / SECTOR);
  const c = await monitor(w);
  try {
    await c.execute('x-nvmemu-clear-badblocks', {
      id: w.region.devid,
      sector: first,
      count: end - first,
    });
  } catch (e) {
    throw fail('PMEM2_E_NOSUPP', `x-nvmemu-clear-badblocks: ${(e as Error).message}`);
  } finally {
    c.close();
  }
  const fd = openSync(w.region.backingFile, 'r+');
  try {
    const zeros = new Uint8Array((end - first) * SECTOR);
    writeSync(fd, zeros, 0, zeros.length, w.region.backingOffset + first * SECTOR);
  } finally {
    closeSync(fd);
  }
}

/** A watch on a machine's power failures (watchMachinePowerFail). */
export interface PowerFailWatch {
  /** true after a machine power failure was applied to the map; false if the machine stopped otherwise. */
  readonly done: Promise<boolean>;
  /** Stops watching (closes the monitor connection). */
  close(): void;
}

/**
 * Watches the machine behind `map`'s source for x-nvmemu-power-fail. Resolves once connected;
 * `done` settles when the machine fails (the map's unpersisted stores are then gone from the
 * backing file) or stops.
 */
export async function watchMachinePowerFail(
  map: Pmem2Map,
  src: Pmem2Source,
): Promise<PowerFailWatch> {
  const w = emulated(src);
  const c = await monitor(w);
  const done = (async () => {
    const ev = await c.nextEvent('NVMEMU_POWER_FAIL');
    c.close();
    if (ev === undefined) return false;
    if (map.sim !== null && !map.deleted) {
      map.bytes.set(map.sim.simulatePowerFailure({ mode: 'persisted' }));
      if (map.size > 0) msync(BigInt(map.address), map.size);
    }
    return true;
  })();
  return { done, close: () => c.close() };
}
