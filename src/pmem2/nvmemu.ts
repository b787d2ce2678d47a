// libpmem2 sources on nvmemu's emulated devices (docs/pmem2.md "Emulated devices"). A running
// machine describes its regions in <data>/state (docs/pmem.md "State folder"); a source picks a
// region, a namespace in it, or the region whose backing file is named, and maps that window of
// the backing file. What libpmem2 would ask libndctl on Linux comes from the same folder:
//   granularity   the guest's view (pmdk.md §2.1): an nvdimm region allows MAP_SYNC, so CACHE_LINE,
//                 or BYTE when its persistence_domain is cpu_cache (eADR, §2.2); virtio-pmem is
//                 asynchronous (no MAP_SYNC), so PAGE; an e820 (memmap=) region is synchronous
//                 without a persistence domain, so CACHE_LINE;
//   bad blocks    the region's `badblocks` clipped to the mapped window (§4: what libndctl does
//                 for devdax/raw; fsdax windows start at the data area, like /sys/block/pmemX);
//   usc, id       the region DIMM's nfit dirty_shutdown and id (§5.1); virtio-pmem has no DIMM.

import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { constants } from 'node:os';
import {
  StateFolderError,
  readPmemRegions,
  type LiveRegions,
  type PmemRegionInfo,
} from '../pmem/state-folder.js';
import { openPublishedRegion, scanRegion } from '../pmem/ndctl/region.js';
import type { Marker } from '../pmem/nvdimm/state.js';
import { PAGE_SIZE } from '../memory/libc.js';
import { fail } from './errors.js';

/** Which emulated region or namespace Pmem2Source.fromNvmemu maps. */
export interface NvmemuSourceOptions {
  /** The machine's data folder (default: $NVMEMU_DATA, else ./data — as `nvmemu run`). */
  readonly dataDir?: string;
  /** A device id= (e.g. "nv1") or a region name ("region0"): the whole region. */
  readonly device?: string;
  /** "namespaceN.M": that namespace's data area (raw: all of it; fsdax/devdax: after the info block). */
  readonly namespace?: string;
  /** A region's backing file (mem-path): the region's data area of that file. */
  readonly path?: string;
}

/** What a source on an emulated device maps, and where its facts come from. */
export interface NvmemuWindow {
  readonly dataDir: string;
  /** The machine that published the region (its state must still be this owner's). */
  readonly owner: Marker;
  /** The region as published when the source was made (usc and id are fixed per run). */
  readonly region: PmemRegionInfo;
  /** "namespaceN.M", or "" for a whole region. */
  readonly namespace: string;
  readonly mode: 'region' | 'raw' | 'fsdax' | 'devdax';
  /** Window start relative to the region start, and its size, in bytes. */
  readonly regionOffset: number;
  readonly size: number;
  /** File offset of window byte 0 in the backing file. */
  readonly fileOffset: number;
  /** Mapping alignment: the devdax namespace's align, else the page size (§3.7). */
  readonly alignment: number;
}

/** The data folder `nvmemu run` uses by default: $NVMEMU_DATA, else ./data. */
export function defaultDataDir(): string {
  return resolve(process.env.NVMEMU_DATA ?? 'data');
}

function liveRegions(dataDir: string): LiveRegions & { status: 'live' } {
  let s: LiveRegions;
  try {
    s = readPmemRegions(dataDir);
  } catch (e) {
    if (e instanceof StateFolderError) throw fail('PMEM2_E_INVALID_REGION_FORMAT', e.message);
    throw e;
  }
  switch (s.status) {
    case 'live':
      return s;
    case 'absent':
      throw fail(
        'PMEM2_E_DAX_REGION_NOT_FOUND',
        `no running nvmemu machine publishes regions in ${dataDir}/state`,
      );
    case 'stale':
      throw fail(
        'PMEM2_E_DAX_REGION_NOT_FOUND',
        `the nvmemu machine that published ${dataDir}/state (pid ${s.owner.pid}) is no longer running`,
      );
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a, { bigint: true });
    const y = statSync(b, { bigint: true });
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** Finds the window a fromNvmemu source maps; errors are Pmem2Errors with PMDK codes. */
export function resolveNvmemu(opts: NvmemuSourceOptions): NvmemuWindow {
  const given = [opts.device, opts.namespace, opts.path].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw fail(-constants.errno.EINVAL, 'give exactly one of device, namespace or path');
  const dataDir = resolve(opts.dataDir ?? defaultDataDir());
  const live = liveRegions(dataDir);
  const regions = live.regions;
  const base = (region: PmemRegionInfo) => ({
    dataDir,
    owner: live.owner,
    region,
    namespace: '',
    mode: 'region' as const,
    regionOffset: 0,
    size: region.size,
    fileOffset: region.backingOffset,
    alignment: 0,
  });
  let region: PmemRegionInfo | undefined;
  if (opts.device !== undefined) {
    region = regions.find(
      (r) => r.name === opts.device || (r.devid !== '' && r.devid === opts.device),
    );
    if (region === undefined)
      throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', `no nvmemu device or region '${opts.device}'`);
    return { ...base(region), alignment: pageAlign() };
  }
  if (opts.path !== undefined) {
    const want = opts.path;
    region = regions.find((r) => r.backingFile !== '' && sameFile(r.backingFile, want));
    if (region === undefined)
      throw fail(
        'PMEM2_E_DAX_REGION_NOT_FOUND',
        `${realOr(want)} is not the backing file of a region of the running machine`,
      );
    return { ...base(region), alignment: pageAlign() };
  }
  const ns = opts.namespace ?? '';
  const m = /^namespace(\d+)\.(\d+)$/.exec(ns);
  region = m === null ? undefined : regions.find((r) => r.name === `region${m[1]}`);
  if (m === null || region === undefined)
    throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', `no nvmemu namespace '${ns}'`);
  const { spec, file } = openPublishedRegion(region, Number(m[1]));
  try {
    const found = scanRegion(spec).namespaces.find((n) => n.dev === ns);
    if (found === undefined)
      throw fail('PMEM2_E_DAX_REGION_NOT_FOUND', `no nvmemu namespace '${ns}'`);
    const p = found.personality;
    switch (p.mode) {
      case 'sector':
        throw fail(
          'PMEM2_E_INVALID_FILE_TYPE',
          `${ns} is a sector mode (BTT) namespace: its blocks are not byte-addressable`,
        );
      case 'raw':
        return {
          ...base(region),
          namespace: ns,
          mode: 'raw',
          regionOffset: found.offset,
          size: found.rawSize,
          fileOffset: region.backingOffset + found.offset,
          alignment: pageAlign(),
        };
      case 'fsdax':
      case 'devdax': {
        const dataoff = p.pfn?.dataoff ?? 0;
        const at = found.offset + dataoff;
        return {
          ...base(region),
          namespace: ns,
          mode: p.mode,
          regionOffset: at,
          size: p.size,
          fileOffset: region.backingOffset + at,
          alignment: p.mode === 'devdax' ? (p.pfn?.align ?? pageAlign()) : pageAlign(),
        };
      }
    }
  } finally {
    file.close();
  }
}

function pageAlign(): number {
  return PAGE_SIZE;
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * What pmem2_map_new's probe would see in a guest on this region (pmdk.md §2.1): an nvdimm
 * mapping accepts MAP_SYNC (fsdax/devdax), virtio-pmem refuses it (ND_REGION_ASYNC); eADR when
 * the region reports cpu_cache.
 */
export function emulatedPlatform(w: NvmemuWindow): { mapSync: boolean; eadr: boolean } {
  switch (w.region.devtype) {
    case 'nvdimm':
      return { mapSync: true, eadr: w.region.persistenceDomain === 'cpu_cache' };
    case 'virtio-pmem':
      return { mapSync: false, eadr: false };
    case 'e820':
      // A memmap= region is synchronous (no ND_REGION_ASYNC) with no persistence domain.
      return { mapSync: true, eadr: false };
  }
}

/**
 * The region's current bad blocks in bytes, relative to the window (clipped to it). Read again
 * on each call while the same machine runs, so injected errors are seen at once; once it is
 * gone the list published last is used.
 */
export function windowBadBlocks(w: NvmemuWindow): { offset: number; length: number }[] {
  let region = w.region;
  const s = readPmemRegions(w.dataDir);
  if (s.status === 'live' && s.owner.pid === w.owner.pid && s.owner.bootId === w.owner.bootId) {
    region =
      s.regions.find(
        (r) => r.backingFile === w.region.backingFile && r.backingOffset === w.region.backingOffset,
      ) ?? region;
  }
  const out: { offset: number; length: number }[] = [];
  for (const b of region.badblocks) {
    const s0 = Math.max(b.sector * 512, w.regionOffset);
    const e0 = Math.min((b.sector + b.count) * 512, w.regionOffset + w.size);
    if (e0 > s0) out.push({ offset: s0 - w.regionOffset, length: e0 - s0 });
  }
  return out;
}
