// The state folder: how a running machine describes its pmem regions to other processes
// (libpmem2 users, `nvmemu ndctl`), laid out like the sysfs files they would read on Linux
// (reference qemu-pmem-ndctl.md §2.2, §11). Layout (docs/pmem.md "State folder"):
//
//   <dataDir>/state/owner                      "<pid> <boot_id>\n" of the machine
//   <dataDir>/state/regionN/devtype            "nvdimm" | "virtio-pmem"
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
//                          /namespace0.0/{mode,size}  only for label-less DIMMs: one raw
//                                              namespace over the whole region (namespace_io)
//                          /nmem/{dirty_shutdown,id,handle}  nvdimm only (nmemX/nfit/*)
//
// Each file is replaced atomically; the owner file is written last and removed first, so a
// reader that finds a live owner sees complete regions. A folder whose owner is missing or
// whose process is gone (or the host rebooted) is stale and must not be trusted.

import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Component } from '../machine/registry.js';
import { NvdimmDevice } from '../pmem/nvdimm/device.js';
import { currentBootId, markerAlive, writeAtomic, type Marker } from '../pmem/nvdimm/state.js';
import { VirtioPmemDevice } from '../pmem/virtio-pmem/device.js';

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
    const dir = join(root, `region${n++}`);
    writeNvdimm(dir, nv);
    nv.onChange = () => writeNvdimm(dir, nv);
  }
  for (const vp of virtio) {
    const dir = join(root, `region${n++}`);
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
    namespace(dir, vp.size);
  }
  put(root, 'owner', `${process.pid} ${currentBootId()}`);
}

function writeNvdimm(dir: string, nv: NvdimmDevice): void {
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
  if (nv.labelSize === 0) namespace(dir, nv.pmemSize);
  put(join(dir, 'nmem'), 'dirty_shutdown', String(nv.dirtyShutdown));
  put(join(dir, 'nmem'), 'id', nv.unitId);
  put(join(dir, 'nmem'), 'handle', String(nv.slot + 1));
}

function namespace(dir: string, size: number): void {
  const ns = join(dir, 'namespace0.0');
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

/** Reads the state folder, refusing the regions of a machine that is no longer running. */
export function readPmemState(dataDir: string): PmemState {
  const root = stateDir(dataDir);
  let ownerText: string;
  try {
    ownerText = readFileSync(join(root, 'owner'), 'utf8').trim();
  } catch {
    return { status: 'absent' };
  }
  const [pid = '', bootId = ''] = ownerText.split(' ');
  const owner: Marker = { pid: Number(pid), bootId };
  if (!markerAlive(owner)) return { status: 'stale', owner };
  const regions = safeList(root)
    .filter((e) => /^region\d+$/.test(e))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
    .map((name) => ({ name, files: readTree(join(root, name), '') }));
  return { status: 'live', owner, regions };
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
