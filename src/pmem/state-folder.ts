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
// Each file is replaced atomically; the owner file is written last and removed first, so a
// reader that finds a live owner sees complete regions. A folder whose owner is missing or
// whose process is gone (or the host rebooted) is stale and must not be trusted.

import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../config/component.js';
import { NvdimmDevice, type PersistenceDomain } from './nvdimm/device.js';
import { currentBootId, markerAlive, writeAtomic, type Marker } from './nvdimm/state.js';
import { VirtioPmemDevice } from './virtio-pmem/device.js';
import { LegacyPmemRegion } from './legacy/region.js';
import { EmuError, ErrorCode } from '../util/errors.js';

export function stateDir(dataDir: string): string {
  return join(dataDir, 'state');
}

function put(dir: string, name: string, value: string): void {
  writeAtomic(join(dir, name), value.endsWith('\n') || value === '' ? value : value + '\n');
}

/** Writes the state folder for the pmem devices among `components` (replacing any old one). */
export function publishPmemState(dataDir: string, components: readonly Component[]): void {
  const root = stateDir(dataDir);
  rmSync(join(root, 'owner'), { force: true });
  for (const e of safeList(root))
    if (e.startsWith('region')) rmSync(join(root, e), { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const nvdimms = components
    .filter((c): c is NvdimmDevice => c instanceof NvdimmDevice)
    .sort((a, b) => a.slot - b.slot);
  const virtio = components.filter((c): c is VirtioPmemDevice => c instanceof VirtioPmemDevice);
  let n = 0;
  for (const nv of nvdimms) {
    const index = n++;
    const dir = join(root, `region${index}`);
    writeNvdimm(dir, index, nv);
    nv.onChange = () => writeNvdimm(dir, index, nv);
  }
  for (const vp of virtio) {
    const index = n++;
    const dir = join(root, `region${index}`);
    mkdirSync(dir, { recursive: true });
    const b = vp.backend;
    put(dir, 'devtype', 'virtio-pmem');
    put(dir, 'devid', vp.id ?? '');
    put(dir, 'resource', `0x${vp.memaddr.toString(16)}`);
    put(dir, 'size', String(vp.size));
    put(dir, 'align', String(b.align));
    put(dir, 'persistence_domain', '');
    put(dir, 'deep_flush_required', '1');
    put(dir, 'sync', '0');
    put(dir, 'badblocks', '');
    put(dir, 'backing_file', b.plan.file?.absPath ?? '');
    put(dir, 'backing_offset', String(b.plan.offset));
    put(dir, 'label_size', '0');
    put(dir, 'label_offset', '0');
    namespace(dir, index, vp.size);
  }
  // Legacy (e820) regions last: RAM on tmpfs, no DIMM, no persistence domain, nothing durable
  // to flush to (deep_flush_required 0), no MAP_SYNC on tmpfs (sync 0).
  for (const lp of components.filter((c): c is LegacyPmemRegion => c instanceof LegacyPmemRegion)) {
    const index = n++;
    const dir = join(root, `region${index}`);
    mkdirSync(dir, { recursive: true });
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
      put(dir, name, value);
    namespace(dir, index, lp.size);
  }
  put(root, 'owner', `${process.pid} ${currentBootId()}`);
}

function writeNvdimm(dir: string, index: number, nv: NvdimmDevice): void {
  mkdirSync(join(dir, 'nmem'), { recursive: true });
  const b = nv.backend;
  put(dir, 'devtype', 'nvdimm');
  put(dir, 'devid', nv.id ?? '');
  put(dir, 'resource', `0x${nv.addr.toString(16)}`);
  put(dir, 'size', String(nv.pmemSize));
  put(dir, 'align', String(b.align));
  put(dir, 'persistence_domain', nv.persistenceDomain);
  put(
    dir,
    'deep_flush_required',
    nv.granularity === 'byte' || nv.granularity === 'cache-line' ? '0' : '1',
  );
  put(dir, 'sync', b.mapSync ? '1' : '0');
  put(
    dir,
    'badblocks',
    nv
      .badBlocks()
      .map((r) => `${r.sector} ${r.count}\n`)
      .join(''),
  );
  put(dir, 'backing_file', b.plan.file?.absPath ?? '');
  put(dir, 'backing_offset', String(b.plan.offset));
  put(dir, 'label_size', String(nv.labelSize));
  put(dir, 'label_offset', String(b.plan.offset + BigInt(b.size - nv.labelSize)));
  if (nv.labelSize === 0) namespace(dir, index, nv.pmemSize);
  put(join(dir, 'nmem'), 'dirty_shutdown', String(nv.dirtyShutdown));
  put(join(dir, 'nmem'), 'id', nv.unitId);
  put(join(dir, 'nmem'), 'handle', String(nv.slot + 1));
}

function namespace(dir: string, index: number, size: number): void {
  const ns = join(dir, `namespace${index}.0`);
  mkdirSync(ns, { recursive: true });
  put(ns, 'mode', 'raw');
  put(ns, 'size', String(size));
}

/** Removes the state folder (clean shutdown or power failure: the devices are gone). */
export function removePmemState(dataDir: string): void {
  const root = stateDir(dataDir);
  rmSync(join(root, 'owner'), { force: true });
  rmSync(root, { recursive: true, force: true });
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
 * Reads the state folder, refusing the regions of a machine that is no longer running. A
 * republish (hotplug) replaces the folder under a reader's feet: the read is retried while the
 * owner file is missing or a region vanishes midway.
 */
export function readPmemState(dataDir: string): PmemState {
  for (let attempt = 0; ; attempt++) {
    const s = readOnce(stateDir(dataDir));
    if (s !== 'retry') return s;
    if (attempt >= 20) return { status: 'absent' };
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

function readOnce(root: string): PmemState | 'retry' {
  let ownerText: string;
  try {
    ownerText = readFileSync(join(root, 'owner'), 'utf8').trim();
  } catch {
    // No owner but regions present: a republish is under way.
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
