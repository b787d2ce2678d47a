// A pmem region as Linux sees it (reference qemu-pmem-ndctl.md §3.4, §7.5, §9.1): its label
// area (if any), the namespaces its labels describe (or one label-less namespace over the whole
// region), and the personality each namespace carries (raw, sector, fsdax, devdax).

import {
  claimOfGuid,
  formatUuid,
  guidBytes,
  PMEM_TYPE_GUID,
  sameBytes,
  type Claim,
} from './guid.js';
import { readLabelArea, type LabelArea } from './label-area.js';
import { cookieFor, qemuCookies, type Label } from './label-format.js';
import { FileMedia, mediaSize, SubMedia, type Media } from './media.js';
import type { PmemRegionInfo } from '../state-folder.js';
import { EmuError, ErrorCode } from '../../util/errors.js';
import { Btt } from './btt.js';
import { BTT_INFO_SIZE, type BttVersion } from './btt-format.js';
import { PFN_INFO_OFF, PFN_INFO_SIZE, validatePfnInfo, type PfnProbe } from './pfn.js';

export const REGION_ALIGN = 16 * 1024 * 1024;

export type Mode = 'raw' | 'sector' | 'fsdax' | 'devdax';

export interface RegionSpec {
  /** N of regionN / nmemN. */
  readonly index: number;
  /** QEMU nvdimm slot (NFIT handle slot+1, DCR serial 0x123456+slot). */
  readonly slot: number;
  /** PMEM area [0, P) of the backend. */
  readonly pmem: Media;
  /** Label area (last label-size bytes); undefined for label-size=0. */
  readonly labels: Media | undefined;
  /** Physical (SPA) start of the region: nvdimm addr. */
  readonly spaStart: number;
  readonly align: number;
  readonly numaNode: number;
  readonly readOnly: boolean;
}

export interface Personality {
  readonly mode: Mode;
  /** Usable size in bytes (§10.1 "size"). */
  readonly size: number;
  /** Personality uuid (BTT/PFN/DAX instance uuid). */
  readonly uuid?: Uint8Array;
  readonly bttVersion?: BttVersion;
  readonly sectorSize?: number;
  readonly pfn?: PfnProbe;
}

export interface Namespace {
  readonly dev: string;
  readonly id: number;
  readonly region: RegionSpec;
  /** The label (with its slot), undefined for the label-less namespace. */
  readonly label: Label | undefined;
  readonly claim: Claim | undefined;
  readonly offset: number;
  readonly rawSize: number;
  readonly lbasize: number;
  readonly name: string;
  readonly media: Media;
  readonly personality: Personality;
}

export interface RegionView {
  readonly spec: RegionSpec;
  readonly dev: string;
  /** Usable region size = PMEM size. */
  readonly size: number;
  readonly labelArea: LabelArea | undefined;
  readonly namespaces: readonly Namespace[];
  /** Free DPA extents (region-aligned), for available_size / max_available_extent. */
  readonly freeExtents: readonly { start: number; size: number }[];
  readonly isetId: bigint;
}

/** §9.1 probes, gated by the claim class; label-less and v1.1 namespaces probe by signature. */
export function probePersonality(
  media: Media,
  claim: Claim | undefined,
  parentUuid: Uint8Array,
  rawSize: number,
): Personality {
  if (claim === undefined) return { mode: 'raw', size: rawSize }; // unknown GUID hides it
  if (claim === 'none' || claim === 'btt' || claim === 'btt2') {
    const version: BttVersion = claim === 'btt2' ? '2.0' : '1.1';
    if (rawSize >= BTT_INFO_SIZE * 2) {
      const arenas = Btt.openRaw(media, version, parentUuid);
      if (!('invalid' in arenas)) {
        const first = arenas[0]!;
        const nlba = arenas.reduce((n, a) => n + a.g.externalNlba, 0);
        return {
          mode: 'sector',
          size: nlba * first.g.externalLbasize,
          uuid: first.info.uuid,
          bttVersion: version,
          sectorSize: first.g.externalLbasize,
        };
      }
    }
  }
  if (rawSize >= PFN_INFO_OFF + PFN_INFO_SIZE) {
    const block = media.read(PFN_INFO_OFF, PFN_INFO_SIZE);
    for (const kind of ['fsdax', 'devdax'] as const) {
      const wanted = kind === 'fsdax' ? 'pfn' : 'dax';
      if (claim !== 'none' && claim !== wanted) continue;
      const p = validatePfnInfo(block, kind, parentUuid, rawSize);
      if ('invalid' in p) continue;
      return { mode: kind, size: rawSize - p.dataoff - p.endTrunc, uuid: p.info.uuid, pfn: p };
    }
  }
  return { mode: 'raw', size: rawSize };
}

function freeExtents(
  size: number,
  used: readonly { start: number; size: number }[],
  align: number,
) {
  const out: { start: number; size: number }[] = [];
  let at = 0;
  for (const u of [...used].sort((a, b) => a.start - b.start)) {
    const s = Math.ceil(at / align) * align;
    const e = Math.floor(u.start / align) * align;
    if (e > s) out.push({ start: s, size: e - s });
    at = Math.max(at, u.start + u.size);
  }
  const s = Math.ceil(at / align) * align;
  const e = Math.floor(size / align) * align;
  if (e > s) out.push({ start: s, size: e - s });
  return out;
}

/** Reads a region: label area, namespaces (sorted by DPA, named namespaceR.N), personalities. */
export function scanRegion(spec: RegionSpec): RegionView {
  const size = mediaSize(spec.pmem);
  const dev = `region${spec.index}`;
  const area = spec.labels === undefined ? undefined : readLabelArea(spec.labels);
  const namespaces: Namespace[] = [];
  if (area === undefined) {
    const media = new SubMedia(spec.pmem, 0, size);
    namespaces.push({
      dev: `namespace${spec.index}.0`,
      id: 0,
      region: spec,
      label: undefined,
      claim: 'none',
      offset: 0,
      rawSize: size,
      lbasize: 512,
      name: '',
      media,
      personality: probePersonality(media, 'none', new Uint8Array(16), size),
    });
    return {
      spec,
      dev,
      size,
      labelArea: undefined,
      namespaces,
      freeExtents: [],
      isetId: qemuCookies(spec.slot).cookie2,
    };
  }
  const cookie = cookieFor(spec.slot, area.geometry.version);
  const accepted = area.labels
    .filter(
      (l) =>
        (l.flags & 2) === 0 && l.isetcookie === cookie && l.position < l.nlabel && l.nlabel === 1,
    )
    .filter(
      (l) => area.geometry.version === '1.1' || sameBytes(l.typeGuid, guidBytes(PMEM_TYPE_GUID)),
    )
    .filter((l) => l.dpa + l.rawsize <= BigInt(size))
    .sort((a, b) => Number(a.dpa - b.dpa));
  const seen = new Set<string>();
  for (const l of accepted) {
    const key = formatUuid(l.uuid);
    if (seen.has(key)) continue; // duplicate uuid on one DIMM: the kernel keeps one
    seen.add(key);
    const id = namespaces.length;
    const offset = Number(l.dpa);
    const rawSize = Number(l.rawsize);
    const media = new SubMedia(spec.pmem, offset, rawSize);
    const claim = area.geometry.version === '1.2' ? claimOfGuid(l.abstractionGuid) : 'none';
    namespaces.push({
      dev: `namespace${spec.index}.${id}`,
      id,
      region: spec,
      label: l,
      claim,
      offset,
      rawSize,
      lbasize: l.lbasize === 0n ? 512 : Number(l.lbasize),
      name: l.name,
      media,
      personality: probePersonality(media, claim, l.uuid, rawSize),
    });
  }
  const used = namespaces.map((n) => ({ start: n.offset, size: n.rawSize }));
  return {
    spec,
    dev,
    size,
    labelArea: area,
    namespaces,
    freeExtents: freeExtents(size, used, spec.align),
    isetId: cookie,
  };
}

/** Block/char device name of a namespace (§7.5 naming). */
export function deviceName(ns: Namespace): { blockdev?: string; chardev?: string } {
  const base = ns.id === 0 ? `pmem${ns.region.index}` : `pmem${ns.region.index}.${ns.id}`;
  switch (ns.personality.mode) {
    case 'raw':
    case 'fsdax':
      return { blockdev: base };
    case 'sector':
      return { blockdev: `${base}s` };
    case 'devdax':
      return { chardev: `dax${ns.region.index}.${ns.id}` };
  }
}

/**
 * A region a running machine published in its state folder (docs/pmem.md "State folder"),
 * opened on its backing file: PMEM = [backing_offset, +size), labels = [label_offset,
 * +label_size). `index` is N of regionN. Read-only backing files are opened read-only.
 */
export function openPublishedRegion(
  info: PmemRegionInfo,
  index: number,
): { spec: RegionSpec; file: FileMedia } {
  if (info.backingFile === '')
    throw new EmuError(
      ErrorCode.EMU_ERR_UNSUPPORTED,
      `${info.name}: backed by memory-backend-ram, which no other process can open`,
    );
  let file: FileMedia;
  let readOnly = false;
  try {
    file = FileMedia.open(info.backingFile);
  } catch {
    file = FileMedia.open(info.backingFile, { readOnly: true });
    readOnly = true;
  }
  const spec: RegionSpec = {
    index,
    slot: info.dimm?.slot ?? 0,
    pmem: file.window(info.backingOffset, info.size),
    labels: info.labelSize === 0 ? undefined : file.window(info.labelOffset, info.labelSize),
    spaStart: Number(info.resource),
    align: REGION_ALIGN,
    numaNode: 0,
    readOnly,
  };
  return { spec, file };
}
