// The state folder: how a running machine describes its pmem regions to other processes
// (libpmem2 users, `nvmemu ndctl`), laid out like the sysfs files they would read on Linux
// (reference qemu-pmem-ndctl.md §2.2, §11). Layout (docs/pmem.md "State folder"):
//
//   <dataDir>/state/owner                      "<pid> <boot_id>\n" of the machine
//   <dataDir>/state/regionN/devtype            "nvdimm" | "virtio-pmem" | "e820" (legacy pmem of
//                                              `-append memmap=nn!ss`, src/pmem/legacy)
//                          /devid              the device's id= ("" when none)
//                          /resource           guest-physical start, "0x%x"
//                          /size               region size (PMEM size P), decimal
//                          /align              backend alignment, decimal
//                          /persistence_domain "cpu_cache" | "memory_controller" | ""
//                          /deep_flush_required "0" | "1" — nvmemu: consumers must msync/fsync
//                          /sync               "1" MAP_SYNC allowed, "0" async (virtio-pmem)
//                          /badblocks          "<sector> <count>" lines, 512-byte sectors
//                          /backing_file       absolute path of the backing file ("" for ram)
//                          /backing_offset     file offset of region byte 0, decimal
//                          /label_size         label area bytes at the end of the backend
//                          /label_offset       file offset of the label area, decimal
//                          /namespaceN.0/{mode,size}  only for label-less DIMMs: one raw
//                                              namespace over the whole region (namespace_io)
//                          /nmem/{dirty_shutdown,id,handle}  nvdimm only (nmemX/nfit/*);
//                                              handle = slot + 1 (NFIT handle, §3.4)
//
// Each publish replaces the whole folder at once (state-generation.ts: a new generation, then
// one rename of the `state` link), so a reader, and whatever a cut leaves behind, sees the old
// state or the new one, complete. The owner file is part of each generation and removed first
// on shutdown. A folder whose owner is missing or whose process is gone (or the host rebooted)
// is stale and must not be trusted.

import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../config/component.js';
import { NvdimmDevice, type PersistenceDomain } from './nvdimm/device.js';
import { currentBootId, markerAlive, type Marker } from './nvdimm/state.js';
import {
  currentGeneration,
  publishGeneration,
  removeGenerations,
  type CutPoint,
  type GenerationFile,
} from './state-generation.js';
import { VirtioPmemDevice } from './virtio-pmem/device.js';
import { LegacyPmemRegion } from './legacy/region.js';
import { EmuError, ErrorCode } from '../util/errors.js';

export function stateDir(dataDir: string): string {
  return join(dataDir, 'state');
}

/** The files of a publish, relative to the state folder, written as one generation. */
type Batch = GenerationFile[];

/** A sysfs-style value: one line, newline-terminated ("" stays empty). */
const line = (value: string): string =>
  value.endsWith('\n') || value === '' ? value : value + '\n';

function put(batch: Batch, dir: string, name: string, value: string): void {
  batch.push({ name: join(dir, name), text: line(value) });
}

/**
 * Writes the state folder for the pmem devices among `components`, replacing any old one as a
 * whole (`cut`: tests stop the publish at a step, state-generation.ts).
 */
export function publishPmemState(
  dataDir: string,
  components: readonly Component[],
  cut?: CutPoint,
): void {
  const nvdimms = components
    .filter((c): c is NvdimmDevice => c instanceof NvdimmDevice)
    .sort((a, b) => a.slot - b.slot);
  const virtio = components.filter((c): c is VirtioPmemDevice => c instanceof VirtioPmemDevice);
  const batch: Batch = [];
  let n = 0;
  for (const nv of nvdimms) {
    const index = n++;
    const dir = `region${index}`;
    writeNvdimm(batch, dir, index, nv);
    // Bad blocks or the dirty-shutdown count changed: a whole new generation (a few ms).
    nv.onChange = () => publishPmemState(dataDir, components);
  }
  for (const vp of virtio) {
    const index = n++;
    const dir = `region${index}`;
    const b = vp.backend;
    put(batch, dir, 'devtype', 'virtio-pmem');
    put(batch, dir, 'devid', vp.id ?? '');
    put(batch, dir, 'resource', `0x${vp.memaddr.toString(16)}`);
    put(batch, dir, 'size', String(vp.size));
    put(batch, dir, 'align', String(b.align));
    put(batch, dir, 'persistence_domain', '');
    put(batch, dir, 'deep_flush_required', '1');
    put(batch, dir, 'sync', '0');
    put(batch, dir, 'badblocks', '');
    put(batch, dir, 'backing_file', b.plan.file?.absPath ?? '');
    put(batch, dir, 'backing_offset', String(b.plan.offset));
    put(batch, dir, 'label_size', '0');
    put(batch, dir, 'label_offset', '0');
    namespace(batch, dir, index, vp.size);
  }
  // Legacy (e820) regions last: RAM on tmpfs, no DIMM, no persistence domain, nothing durable
  // to flush to (deep_flush_required 0), no MAP_SYNC on tmpfs (sync 0).
  for (const lp of components.filter((c): c is LegacyPmemRegion => c instanceof LegacyPmemRegion)) {
    const index = n++;
    const dir = `region${index}`;
    for (const [name, value] of Object.entries({
      devtype: 'e820',
      devid: '',
      resource: `0x${lp.start.toString(16)}`,
      size: String(lp.size),
      align: '4096',
      persistence_domain: '',
      deep_flush_required: '0',
      sync: '0',
      badblocks: '',
      backing_file: lp.path,
      backing_offset: '0',
      label_size: '0',
      label_offset: '0',
    }))
      put(batch, dir, name, value);
    namespace(batch, dir, index, lp.size);
  }
  put(batch, '', 'owner', `${process.pid} ${currentBootId()}`);
  publishGeneration(stateDir(dataDir), batch, cut);
}

function writeNvdimm(batch: Batch, dir: string, index: number, nv: NvdimmDevice): void {
  const b = nv.backend;
  put(batch, dir, 'devtype', 'nvdimm');
  put(batch, dir, 'devid', nv.id ?? '');
  put(batch, dir, 'resource', `0x${nv.addr.toString(16)}`);
  put(batch, dir, 'size', String(nv.pmemSize));
  put(batch, dir, 'align', String(b.align));
  put(batch, dir, 'persistence_domain', nv.persistenceDomain);
  put(
    batch,
    dir,
    'deep_flush_required',
    nv.granularity === 'byte' || nv.granularity === 'cache-line' ? '0' : '1',
  );
  put(batch, dir, 'sync', b.mapSync ? '1' : '0');
  put(
    batch,
    dir,
    'badblocks',
    nv
      .badBlocks()
      .map((r) => `${r.sector} ${r.count}\n`)
      .join(''),
  );
  put(batch, dir, 'backing_file', b.plan.file?.absPath ?? '');
  put(batch, dir, 'backing_offset', String(b.plan.offset));
  put(batch, dir, 'label_size', String(nv.labelSize));
  put(batch, dir, 'label_offset', String(b.plan.offset + BigInt(b.size - nv.labelSize)));
  if (nv.labelSize === 0) namespace(batch, dir, index, nv.pmemSize);
  put(batch, join(dir, 'nmem'), 'dirty_shutdown', String(nv.dirtyShutdown));
  put(batch, join(dir, 'nmem'), 'id', nv.unitId);
  put(batch, join(dir, 'nmem'), 'handle', String(nv.slot + 1));
}

function namespace(batch: Batch, dir: string, index: number, size: number): void {
  const ns = join(dir, `namespace${index}.0`);
  put(batch, ns, 'mode', 'raw');
  put(batch, ns, 'size', String(size));
}

/** Removes the state folder (clean shutdown or power failure: the devices are gone). */
export function removePmemState(dataDir: string): void {
  const link = stateDir(dataDir);
  // The owner first: a reader that resolved the link a moment ago finds no live machine.
  rmSync(join(currentGeneration(link), 'owner'), { force: true });
  removeGenerations(link);
}

export interface RegionState {
  readonly name: string;
  /** File name → content without the trailing newline (nested folders as `nmem/id`). */
  readonly files: ReadonlyMap<string, string>;
}

export type PmemState =
  | { readonly status: 'live'; readonly owner: Marker; readonly regions: readonly RegionState[] }
  | { readonly status: 'absent' }
  | { readonly status: 'stale'; readonly owner: Marker };

/**
 * Reads the state folder, refusing the regions of a machine that is no longer running. It reads
 * one generation (the link resolved once) and starts again when a republish moved the link
 * meanwhile (that generation may have lost files under the read) or a shutdown removed the
 * owner first.
 */
export function readPmemState(dataDir: string): PmemState {
  for (let attempt = 0; ; attempt++) {
    const link = stateDir(dataDir);
    const gen = currentGeneration(link);
    const s = readOnce(gen);
    // A generation is pruned only once the link has moved on (and never named again): if the
    // link still names it, nothing of it was removed during the read.
    const moved = currentGeneration(link) !== gen;
    if (s !== 'retry' && !moved) return s;
    if (attempt >= 20) return { status: 'absent' };
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

function readOnce(root: string): PmemState | 'retry' {
  let ownerText: string;
  try {
    ownerText = readFileSync(join(root, 'owner'), 'utf8').trim();
  } catch {
    // No owner but regions present: a shutdown (or an older nvmemu's republish) is under way.
    return safeList(root).some((e) => e.startsWith('region')) ? 'retry' : { status: 'absent' };
  }
  const [pid = '', bootId = ''] = ownerText.split(' ');
  const owner: Marker = { pid: Number(pid), bootId };
  if (!markerAlive(owner)) return { status: 'stale', owner };
  try {
    const regions = safeList(root)
      .filter((e) => /^region\d+$/.test(e))
      .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
      .map((name) => ({ name, files: readTree(join(root, name), '') }));
    return { status: 'live', owner, regions };
  } catch {
    return 'retry';
  }
}

/** A region of the state folder, parsed (docs/pmem.md "State folder"). */
export interface PmemRegionInfo {
  /** "regionN" */
  readonly name: string;
  readonly devtype: 'nvdimm' | 'virtio-pmem' | 'e820';
  /** The device's id= ("" when it has none: the monitor cannot address it). */
  readonly devid: string;
  /** Guest-physical start. */
  readonly resource: bigint;
  /** Region (data area) size in bytes. */
  readonly size: number;
  readonly align: number;
  readonly persistenceDomain: PersistenceDomain;
  readonly deepFlushRequired: boolean;
  readonly sync: boolean;
  /** 512-byte sectors relative to the region start. */
  readonly badblocks: readonly { readonly sector: number; readonly count: number }[];
  /** "" for memory-backend-ram (nothing another process can map). */
  readonly backingFile: string;
  readonly backingOffset: number;
  readonly labelSize: number;
  readonly labelOffset: number;
  /** nvdimm only: its NFIT identity and unsafe-shutdown count. */
  readonly dimm:
    | {
        readonly slot: number;
        readonly handle: number;
        readonly id: string;
        readonly dirtyShutdown: number;
      }
    | undefined;
}

/** Parses one region's files; a malformed folder is a typed error naming the file. */
export function parseRegion(r: RegionState): PmemRegionInfo {
  const f = r.files;
  const text = (k: string): string => {
    const v = f.get(k);
    if (v === undefined) throw new StateFolderError(`${r.name}/${k}: missing`);
    return v;
  };
  const num = (k: string): number => {
    const v = text(k);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
      throw new StateFolderError(`${r.name}/${k}: not a decimal number: '${v}'`);
    return Number(v);
  };
  const devtype = text('devtype');
  if (devtype !== 'nvdimm' && devtype !== 'virtio-pmem' && devtype !== 'e820')
    throw new StateFolderError(`${r.name}/devtype: unknown device type '${devtype}'`);
  const pd = text('persistence_domain');
  if (pd !== 'cpu_cache' && pd !== 'memory_controller' && pd !== '')
    throw new StateFolderError(`${r.name}/persistence_domain: unknown domain '${pd}'`);
  const resource = text('resource');
  if (!/^0x[0-9a-f]+$/.test(resource))
    throw new StateFolderError(`${r.name}/resource: not a hex address: '${resource}'`);
  const badblocks: { sector: number; count: number }[] = [];
  for (const line of text('badblocks').split('\n')) {
    if (line === '') continue;
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m === null) throw new StateFolderError(`${r.name}/badblocks: bad line '${line}'`);
    badblocks.push({ sector: Number(m[1]), count: Number(m[2]) });
  }
  let dimm: PmemRegionInfo['dimm'];
  if (devtype === 'nvdimm') {
    const handle = num('nmem/handle');
    dimm = {
      slot: handle - 1,
      handle,
      id: text('nmem/id'),
      dirtyShutdown: num('nmem/dirty_shutdown'),
    };
  }
  return {
    name: r.name,
    devtype,
    devid: text('devid'),
    resource: BigInt(resource),
    size: num('size'),
    align: num('align'),
    persistenceDomain: pd,
    deepFlushRequired: text('deep_flush_required') === '1',
    sync: text('sync') === '1',
    badblocks,
    backingFile: text('backing_file'),
    backingOffset: num('backing_offset'),
    labelSize: num('label_size'),
    labelOffset: num('label_offset'),
    dimm,
  };
}

/** The state folder was found but does not parse (written by another nvmemu version?). */
export class StateFolderError extends EmuError {
  constructor(message: string) {
    super(ErrorCode.EMU_ERR_STATE, `state folder: ${message}`);
  }
}

export type LiveRegions =
  | { readonly status: 'live'; readonly owner: Marker; readonly regions: readonly PmemRegionInfo[] }
  | { readonly status: 'absent' }
  | { readonly status: 'stale'; readonly owner: Marker };

/** readPmemState with every region parsed. */
export function readPmemRegions(dataDir: string): LiveRegions {
  const s = readPmemState(dataDir);
  if (s.status !== 'live') return s;
  return { status: 'live', owner: s.owner, regions: s.regions.map(parseRegion) };
}

function readTree(dir: string, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory())
      for (const [k, v] of readTree(join(dir, e.name), `${prefix}${e.name}/`)) out.set(k, v);
    else if (!e.name.endsWith('.tmp'))
      out.set(prefix + e.name, readFileSync(join(dir, e.name), 'utf8').replace(/\n$/, ''));
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
