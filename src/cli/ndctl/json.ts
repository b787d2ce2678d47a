// ndctl's JSON (reference qemu-pmem-ndctl.md §10.1): the objects `ndctl list` prints and the
// json-c pretty format ndctl uses (two-space indent, no space after the colon). 64-bit values
// such as iset_id are bigints so they print exactly.

import { formatUuid } from '../../pmem/ndctl/guid.js';
import type { LabelArea } from '../../pmem/ndctl/label-area.js';
import { deviceName, type Namespace, type RegionView } from '../../pmem/ndctl/region.js';
import { maxExtent } from '../../pmem/ndctl/ops.js';
import type { PfnMap } from '../../pmem/ndctl/pfn.js';
import type { PmemRegionInfo } from '../../pmem/state-folder.js';
import type { NdctlVersion } from './version.js';

export type Json = string | number | bigint | boolean | null | Json[] | { [k: string]: Json };

/** json-c JSON_C_TO_STRING_PRETTY as ndctl prints it. */
export function formatJson(v: Json, indent = ''): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[\n]';
    return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{\n}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}:${formatJson(v[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

/**
 * ndctl's size display (-u; util/json.c display_size): below 5000 KiB the plain number, else
 * centi-MiB/GiB/TiB and centi-MB/GB/TB rounded half up, MiB and MB below 2 GiB, GiB and GB
 * below 2 TiB: "1023.88 MiB (1073.61 MB)" (measured, tests/fixtures/ndctl/).
 */
export function humanSize(n: number): Json {
  if (n < 5000 * 1024) return n;
  const b = BigInt(n);
  const GiB = 1n << 30n;
  const TiB = 1n << 40n;
  const centi = (v: bigint): string => `${v / 100n}.${String(v % 100n).padStart(2, '0')}`;
  let iec: string;
  let jedec: string;
  if (b < 2n * GiB) {
    iec = `${centi(((b * 200n) / (1n << 20n) + 1n) / 2n)} MiB`;
    jedec = `${centi((b / (1000000n / 200n) + 1n) / 2n)} MB`;
  } else if (b < 2n * TiB) {
    iec = `${centi(((b * 200n) / GiB + 1n) / 2n)} GiB`;
    jedec = `${centi((b / (1000000000n / 200n) + 1n) / 2n)} GB`;
  } else {
    iec = `${centi(((b * 200n) / TiB + 1n) / 2n)} TiB`;
    jedec = `${centi((b / (1000000000000n / 200n) + 1n) / 2n)} TB`;
  }
  return `${iec} (${jedec})`;
}

export interface JsonOpts {
  readonly human: boolean;
  readonly verbose: number;
  /** -M/--media-errors (implied by -v): list the bad blocks, not only their count. */
  readonly mediaErrors?: boolean;
  /** -X/--device-dax (implied by -v): devdax namespaces nest their dax region and devices. */
  readonly dax?: boolean;
  /** The ndctl release whose output to reproduce (version.ts); 76 when absent. */
  readonly ndctl?: NdctlVersion;
}

const size = (n: number, o: JsonOpts): Json => (o.human ? humanSize(n) : n);

/**
 * ndctl's hex display (-u): printf("%#llx"), so zero is "0" without the prefix. ndctl 76 reads
 * the unsigned 64-bit json-c value back as a signed one, which json-c clamps: values from 2^63
 * up print as 0x7fffffffffffffff there; ndctl 81 reads it unsigned (util/json.c display_hex).
 */
export function hex(n: number | bigint, o: JsonOpts): Json {
  if (!o.human) return n;
  let v = BigInt(n);
  if ((o.ndctl ?? 76) === 76 && v >= 1n << 63n) v = (1n << 63n) - 1n;
  return v === 0n ? '0' : `0x${v.toString(16)}`;
}

/**
 * The mode ndctl shows. An unclaimed namespace of an e820 (memmap=) region is ND_REGION_PAGEMAP:
 * the kernel reports it as "memory", ndctl as fsdax with map "mem" and no align (measured on
 * Linux 6.1 / ndctl 76).
 */
export function displayMode(
  ns: Namespace,
  pub: PmemRegionInfo | undefined,
): { mode: Namespace['personality']['mode']; map: PfnMap | undefined } {
  const p = ns.personality;
  if (pub?.devtype === 'e820' && p.mode === 'raw') return { mode: 'fsdax', map: 'mem' };
  return { mode: p.mode, map: p.pfn?.map };
}

export function namespaceJson(
  ns: Namespace,
  disabled: boolean,
  o: JsonOpts,
  pub?: PmemRegionInfo,
): Json {
  const p = ns.personality;
  const shown = displayMode(ns, pub);
  const j: Record<string, Json> = { dev: ns.dev, mode: shown.mode };
  if (shown.map !== undefined) j.map = shown.map;
  j.size = size(p.size, o);
  if (p.uuid !== undefined) j.uuid = formatUuid(p.uuid);
  else if (ns.label !== undefined) j.uuid = formatUuid(ns.label.uuid);
  if (o.verbose > 0 && p.uuid !== undefined && ns.label !== undefined)
    j.raw_uuid = formatUuid(ns.label.uuid);
  if (p.mode === 'sector') j.sector_size = p.sectorSize ?? 512;
  else if (p.mode !== 'devdax') j.sector_size = ns.lbasize;
  // ndctl prints chardev before align for devdax, blockdev after align for fsdax (as a Linux
  // 6.1 guest's ndctl 76 shows them). With -X (or -v) the devdax device is shown inside its
  // dax region instead (ndctl json.c, measured: tests/fixtures/ndctl/).
  const names = deviceName(ns);
  if (p.mode === 'devdax' && o.dax === true) j.daxregion = daxRegionJson(ns, disabled, o);
  else if (names.chardev !== undefined) j.chardev = names.chardev;
  if (p.pfn !== undefined) j.align = p.pfn.align;
  if (names.blockdev !== undefined) j.blockdev = names.blockdev;
  if (disabled) j.state = 'disabled';
  if (ns.name !== '') j.name = ns.name;
  if (o.verbose > 0) {
    j.numa_node = ns.region.numaNode;
    j.target_node = ns.region.numaNode;
  }
  const bb = namespaceBadblocks(ns, pub);
  if (bb.count > 0) j.badblock_count = bb.count;
  if (o.mediaErrors === true && bb.list !== undefined && bb.count > 0) j.badblocks = bb.list;
  return j;
}

/**
 * The dax region of a devdax namespace as daxctl describes it to ndctl (daxctl/json.c): id =
 * the region's id, size = the namespace's data size, no available_size once the device holds
 * all of it, the alignment, and the device (absent while the namespace is disabled).
 */
function daxRegionJson(ns: Namespace, disabled: boolean, o: JsonOpts): Json {
  const p = ns.personality;
  const align = p.pfn?.align ?? 0;
  const j: Record<string, Json> = { id: ns.region.index, size: size(p.size, o), align };
  const chardev = deviceName(ns).chardev;
  if (!disabled && chardev !== undefined) {
    j.devices = [
      {
        chardev,
        size: size(p.size, o),
        target_node: ns.region.numaNode,
        align: size(align, o),
        mode: 'devdax',
      },
    ];
  }
  return j;
}

/**
 * Bad blocks as ndctl shows them for a namespace (§11; ndctl json.c): raw → the whole region's
 * list (region-relative sectors, ndctl's behaviour); fsdax/devdax → the region list clipped to
 * the data area, relative to it; sector → only the count of the namespace's range. Counts are
 * sectors, not entries.
 */
export function namespaceBadblocks(
  ns: Namespace,
  pub: PmemRegionInfo | undefined,
): { count: number; list: Json[] | undefined } {
  if (pub === undefined) return { count: 0, list: undefined };
  const p = ns.personality;
  switch (p.mode) {
    case 'raw':
      return regionBadblocks(ns.region.index, pub);
    case 'fsdax':
    case 'devdax': {
      const at = ns.offset + (p.pfn?.dataoff ?? 0);
      return clipped(ns.region.index, pub, at, p.size);
    }
    case 'sector':
      return { count: clipped(ns.region.index, pub, ns.offset, ns.rawSize).count, list: undefined };
  }
}

function dimmsOf(index: number, pub: PmemRegionInfo): Record<string, Json> {
  // ndctl finds the DIMM by physical address (ARS translate-SPA); nvmemu knows it: one DIMM
  // per nvdimm region, none for virtio-pmem.
  return pub.dimm === undefined ? {} : { dimms: [`nmem${index}`] };
}

/** Region bad blocks: {offset, length, dimms} in 512-byte sectors, region relative. */
export function regionBadblocks(
  index: number,
  pub: PmemRegionInfo | undefined,
): { count: number; list: Json[] | undefined } {
  if (pub === undefined) return { count: 0, list: undefined };
  const list: Json[] = pub.badblocks.map((b) => ({
    offset: b.sector,
    length: b.count,
    ...dimmsOf(index, pub),
  }));
  return { count: pub.badblocks.reduce((n, b) => n + b.count, 0), list };
}

function clipped(
  index: number,
  pub: PmemRegionInfo,
  start: number,
  size: number,
): { count: number; list: Json[] } {
  const list: Json[] = [];
  let count = 0;
  for (const b of pub.badblocks) {
    const s = Math.max(b.sector * 512, start);
    const e = Math.min((b.sector + b.count) * 512, start + size);
    if (e <= s) continue;
    const len = Math.floor((e - s) / 512);
    count += len;
    list.push({ offset: Math.floor((s - start) / 512), length: len, ...dimmsOf(index, pub) });
  }
  return { count, list };
}

/** The empty seed namespace a labeled region offers (shown with --idle). */
export function seedJson(view: RegionView, o?: JsonOpts): Json {
  const j: Record<string, Json> = {
    dev: `namespace${view.spec.index}.${view.namespaces.length}`,
    mode: 'raw',
    size: 0,
    uuid: '00000000-0000-0000-0000-000000000000',
    sector_size: 512,
    state: 'disabled',
  };
  if (o !== undefined && o.verbose > 0) {
    j.numa_node = view.spec.numaNode;
    j.target_node = view.spec.numaNode;
  }
  return j;
}

export function dimmDev(view: RegionView): string {
  return `nmem${view.spec.index}`;
}

/** NFIT-derived id: vendor and serial printed as raw little-endian bytes (§3.4). */
export function dimmId(slot: number): string {
  const le = (v: number, n: number): string =>
    Array.from({ length: n }, (_, i) =>
      ((v >>> (8 * i)) & 0xff).toString(16).padStart(2, '0'),
    ).join('');
  return `${le(0x8086, 2)}-${le(0x123456 + slot, 4)}`;
}

export function dimmJson(
  view: RegionView,
  disabled: boolean,
  o: JsonOpts,
  pub?: PmemRegionInfo,
): Json {
  const j: Record<string, Json> = {
    dev: dimmDev(view),
    id: pub?.dimm?.id ?? dimmId(view.spec.slot),
    handle: hex(pub?.dimm?.handle ?? view.spec.slot + 1, o),
    phys_id: hex(0, o),
  };
  if (disabled) j.state = 'disabled';
  // nmemX/nfit/dirty_shutdown, known only for a running machine's DIMMs (state folder).
  if (pub?.dimm !== undefined) j.dirty_shutdown = pub.dimm.dirtyShutdown;
  return j;
}

/** sysfs persistence_domain as ndctl prints it (§2.2): empty or unknown → "unknown". */
export function persistenceDomainJson(pub: PmemRegionInfo | undefined): string {
  switch (pub?.persistenceDomain) {
    case 'cpu_cache':
      return 'cpu_cache';
    case 'memory_controller':
      return 'memory_controller';
    case '':
    case undefined:
      return 'unknown';
  }
}

/** -C: what the btt, pfn and dax seeds of a pmem region offer (ndctl 76 and 81, measured). */
const CAPABILITIES: Json = [
  { mode: 'sector', sector_sizes: [512, 520, 528, 4096, 4104, 4160, 4224] },
  { mode: 'fsdax', alignments: [4096, 2097152, 1073741824] },
  { mode: 'devdax', alignments: [4096, 2097152, 1073741824] },
];

/** A bus object (ndctl json.c): the platforms nvmemu emulates have no ARS scrub state. */
export function busJson(provider: string, dev: string): Record<string, Json> {
  return { provider, dev };
}

export function regionJson(
  view: RegionView,
  o: JsonOpts & { mappings: boolean; disabled: boolean; capabilities?: boolean },
  namespaces?: Json[],
  pub?: PmemRegionInfo,
): Json {
  const nvdimm = pub === undefined || pub.devtype === 'nvdimm';
  const available = view.freeExtents.reduce((s, e) => s + e.size, 0);
  const j: Record<string, Json> = {
    dev: view.dev,
    size: size(view.size, o),
    align: size(view.spec.align, o),
    available_size: size(available, o),
    max_available_extent: size(maxExtent(view), o),
    type: 'pmem',
  };
  if (o.verbose > 0) {
    j.numa_node = view.spec.numaNode;
    j.target_node = view.spec.numaNode;
  }
  // The kernel shows the interleave-set cookie only when it could read the DIMM's label index
  // (region set_cookie): none for virtio-pmem, none for an nvdimm whose label area is blank
  // (measured, tests/fixtures/ndctl/) or absent. json-c holds it unsigned.
  if (nvdimm && view.labelArea !== undefined) j.iset_id = hex(view.isetId, o);
  if (o.mappings && nvdimm) {
    j.mappings = [
      { dimm: dimmDev(view), offset: hex(0, o), length: hex(view.size, o), position: 0 },
    ];
  }
  if (o.disabled) j.state = 'disabled';
  const bb = regionBadblocks(view.spec.index, pub);
  if (bb.count > 0) j.badblock_count = bb.count;
  if (o.mediaErrors === true && bb.list !== undefined && bb.count > 0) j.badblocks = bb.list;
  // -C: the btt/pfn/dax seeds exist only while the region is enabled.
  if (o.capabilities && !o.disabled) j.capabilities = CAPABILITIES;
  j.persistence_domain = persistenceDomainJson(pub);
  if (namespaces !== undefined && namespaces.length > 0) j.namespaces = namespaces;
  return j;
}

/** read-labels -j (§7.7). */
export function labelsJson(dev: string, area: LabelArea, indexOnly: boolean): Json {
  const index: Json[] = [];
  for (const ix of area.indexes) {
    if ('invalid' in ix) continue;
    index.push({
      signature: 'NAMESPACE_INDEX',
      major: ix.major,
      minor: ix.minor,
      labelsize: area.geometry.labelSize,
      seq: ix.seq,
      nslot: ix.nslot,
    });
  }
  const j: Record<string, Json> = { dev, index };
  if (!indexOnly) {
    j.label = area.labels.map((l) => ({
      uuid: formatUuid(l.uuid),
      name: l.name,
      slot: l.slot,
      position: l.position,
      nlabel: l.nlabel,
      flags: l.flags,
      isetcookie: l.isetcookie,
      lbasize: l.lbasize,
      dpa: l.dpa,
      rawsize: l.rawsize,
      // §7.7: GUIDs are printed by formatting the raw 16 bytes as an RFC string.
      type_guid: formatUuid(l.typeGuid),
      abstraction_guid: formatUuid(l.abstractionGuid),
    }));
  }
  return j;
}
