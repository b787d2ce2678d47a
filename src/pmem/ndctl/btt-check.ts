// BTT consistency check and repair (reference qemu-pmem-ndctl.md §8.7, ndctl check-namespace):
// info block and its info2 copy, flog lanes, map entries, and that every internal block is
// referenced exactly once by the map or the free list.

import { readU32le, writeU32le } from '../../util/bytes.js';
import { zeroRange, type Media } from './media.js';
import { Arena, Btt } from './btt.js';
import {
  BTT_INFO_SIZE,
  BTT_LOG_SIZE,
  decodeMapEntry,
  validateBttInfo,
  type BttVersion,
} from './btt-format.js';
import { sameBytes } from './guid.js';

export interface BttCheckResult {
  /** The layout found (tried at 4 KiB, then at 0, as ndctl does). */
  readonly version: BttVersion;
  /** Problems found (before any repair). */
  readonly problems: readonly string[];
  /** What --repair changed. */
  readonly repaired: readonly string[];
}

export interface BttCheckOptions {
  readonly repair?: boolean;
  readonly rewriteLog?: boolean;
  readonly parentUuid?: Uint8Array;
}

function readMap(a: Arena): Uint32Array {
  const n = a.g.externalNlba;
  const out = new Uint32Array(n);
  const chunk = 1 << 18; // entries per read (1 MiB)
  for (let i = 0; i < n; i += chunk) {
    const k = Math.min(chunk, n - i);
    const b = a.media.read(a.g.base + a.g.mapoff + i * 4, k * 4);
    for (let j = 0; j < k; j++) out[i + j] = readU32le(b, j * 4);
  }
  return out;
}

function checkArena(
  a: Arena,
  idx: number,
  o: BttCheckOptions,
  problems: string[],
  repaired: string[],
): void {
  const name = `arena ${idx}`;
  const { g } = a;
  const info = a.media.read(g.base, BTT_INFO_SIZE);
  const info2 = a.media.read(g.base + g.info2off, BTT_INFO_SIZE);
  if (!sameBytes(info, info2)) {
    problems.push(`${name}: info2 does not match the info block`);
    if (o.repair === true) {
      a.media.write(g.base + g.info2off, info);
      a.media.flush?.(g.base + g.info2off, BTT_INFO_SIZE);
      repaired.push(`${name}: info2 restored from the info block`);
    }
  }
  const laneProblems = a.loadLanes();
  problems.push(...laneProblems.map((p) => `${name}: ${p.replace(/^arena \d+: /, '')}`));
  a.lanes.forEach((lane, i) => {
    for (const e of lane.entries) {
      if (e.seq === 0) continue;
      if (e.lba >= g.externalNlba || e.oldMap >= g.internalNlba || e.newMap >= g.internalNlba) {
        problems.push(
          `${name}: log lane ${i} entry {lba ${e.lba}, old ${e.oldMap}, new ${e.newMap}} out of range`,
        );
      }
    }
  });
  const map = readMap(a);
  // A pending map update (crash between log and map write) is fixed before the block census.
  let pending = 0;
  for (const lane of a.lanes) {
    const e = lane.entries[lane.newest];
    if (e.seq === 0 || e.oldMap === e.newMap || e.lba >= g.externalNlba) continue;
    if (decodeMapEntry(map[e.lba]!, e.lba).block === e.oldMap) pending++;
  }
  if (pending > 0) {
    problems.push(
      `${name}: ${pending} map entr${pending === 1 ? 'y needs' : 'ies need'} an update from the log`,
    );
    if (o.repair === true) {
      a.recover();
      repaired.push(
        `${name}: ${pending} map entr${pending === 1 ? 'y' : 'ies'} updated from the log`,
      );
      map.set(readMap(a));
    }
  }
  const refs = new Uint8Array(g.internalNlba);
  let badMap = 0;
  for (let lba = 0; lba < g.externalNlba; lba++) {
    const { block } = decodeMapEntry(map[lba]!, lba);
    if (block >= g.internalNlba) badMap++;
    else refs[block] = Math.min(refs[block]! + 1, 2);
  }
  if (badMap > 0) problems.push(`${name}: ${badMap} map entries point past internal_nlba`);
  a.lanes.forEach((lane) => {
    const free = lane.entries[lane.newest].oldMap;
    if (free < g.internalNlba) refs[free] = Math.min(refs[free]! + 1, 2);
  });
  let unref = 0;
  let dup = 0;
  for (const r of refs) {
    if (r === 0) unref++;
    else if (r > 1) dup++;
  }
  if (pending === 0 || o.repair === true) {
    if (unref > 0) problems.push(`${name}: ${unref} internal blocks are neither mapped nor free`);
    if (dup > 0) problems.push(`${name}: ${dup} internal blocks are referenced more than once`);
  }
  if (o.rewriteLog === true && o.repair === true) {
    zeroRange(a.media, g.base + g.logoff, BTT_LOG_SIZE);
    const e = new Uint8Array(16);
    a.lanes.forEach((lane, i) => {
      const n = lane.entries[lane.newest];
      writeU32le(e, 0, n.lba);
      writeU32le(e, 4, n.oldMap);
      writeU32le(e, 8, n.oldMap);
      writeU32le(e, 12, 1);
      a.media.write(g.base + g.logoff + i * 64, e);
    });
    a.media.flush?.(g.base + g.logoff, BTT_LOG_SIZE);
    a.loadLanes();
    repaired.push(`${name}: log rewritten in the (0,1) format`);
  }
}

/**
 * Checks the BTT of a namespace (ndctl check-namespace). Undefined when no info block is
 * found at 4 KiB or at 0 ("Unable to recover any BTT info blocks").
 */
export function checkBtt(media: Media, o: BttCheckOptions = {}): BttCheckResult | undefined {
  for (const version of ['1.1', '2.0'] as const) {
    const off = version === '1.1' ? 4096 : 0;
    const v = validateBttInfo(media.read(off, BTT_INFO_SIZE), o.parentUuid);
    if ('invalid' in v) continue;
    const problems: string[] = [];
    const repaired: string[] = [];
    // The raw arenas, not Btt.open: open() would recover before the check could report it.
    const opened = Btt.openRaw(media, version, o.parentUuid);
    if ('invalid' in opened) {
      problems.push(opened.invalid);
      return { version, problems, repaired };
    }
    opened.forEach((a, i) => checkArena(a, i, o, problems, repaired));
    return { version, problems, repaired };
  }
  return undefined;
}
