// Namespace provisioning the way ndctl and the kernel do it (reference qemu-pmem-ndctl.md §7.5,
// §9.5, §10.2, §10.3): create, reconfigure and destroy, with ndctl's refusals as typed errors
// whose messages are ndctl's text.
//
// Order for crash safety: the personality (BTT / PFN / DAX info) is written into the extent
// first, the label that makes the namespace exist is committed last (one index write), so a
// power cut during a create leaves the old namespace set.

import { EmuError, ErrorCode } from '../../util/errors.js';
import { Btt } from './btt.js';
import { BTT_SECTOR_SIZES } from './btt-format.js';
import {
  claimGuidBytes,
  formatUuid,
  guidBytes,
  PMEM_TYPE_GUID,
  randomUuid,
  sameBytes,
  type Claim,
} from './guid.js';
import { initLabelArea, updateLabels, type LabelArea, type NewLabel } from './label-area.js';
import { cookieFor, nameFits, type LabelVersion } from './label-format.js';
import { mediaSize, SubMedia, zeroRange, type Media } from './media.js';
import { encodePfnInfo, PFN_ALIGNS, PFN_INFO_OFF, pfnGeometry, type PfnMap } from './pfn.js';
import {
  REGION_ALIGN,
  scanRegion,
  type Mode,
  type Namespace,
  type RegionSpec,
  type RegionView,
} from './region.js';

const MiB = 1024 * 1024;

/**
 * An ndctl refusal; `lines` are printed as "  Error: <line>", then ndctl's closing `summary`
 * ("failed to create namespace: <strerror>") as is, then nvmemu's `hints` ("  Hint: <line>";
 * ndctl has none).
 */
export class NdctlError extends EmuError {
  /** ndctl's error() lines, each printed as "  Error: <line>". */
  readonly lines: readonly string[];
  /** ndctl's closing "failed to <create|reconfigure> namespace: <strerror>", printed as is. */
  summary: string | undefined;
  /** nvmemu's advice, printed as "  Hint: <line>" after everything else. */
  hints: readonly string[] = [];
  constructor(...lines: string[]) {
    super(ErrorCode.EMU_ERR_CONFIG, lines.join('\n'));
    this.lines = lines;
  }

  /** ndctl's create/reconfigure closing line with no error() before it (namespace.c). */
  static failed(summary: string, hints: readonly string[] = [], ...lines: string[]): NdctlError {
    const e = new NdctlError(...lines);
    e.summary = summary;
    e.hints = hints;
    e.message = [...lines, summary, ...hints].join('\n');
    return e;
  }
}

/**
 * What ndctl ends with when no region could take the namespace: it turns the regions' EAGAIN
 * into ENOSPC (measured on ndctl 76 and 81, tests/fixtures/ndctl/: also for a blank label area).
 */
const NO_SPACE = 'failed to create namespace: No space left on device';

export interface NamespaceParams {
  readonly mode?: Mode;
  readonly size?: number;
  readonly sectorSize?: number;
  readonly align?: number;
  readonly map?: PfnMap;
  readonly name?: string;
  readonly uuid?: Uint8Array;
  readonly force?: boolean;
  readonly autolabel?: boolean;
}

interface Resolved {
  mode: Mode;
  sectorSize: number;
  align: number;
  map: PfnMap;
  name: string;
}

function sizeText(n: number): string {
  for (const [unit, f] of [
    ['T', 2 ** 40],
    ['G', 2 ** 30],
    ['M', 2 ** 20],
    ['K', 2 ** 10],
  ] as const) {
    if (n % f === 0) return `${n / f}${unit}`;
  }
  return String(n);
}

/** ndctl validate_namespace_options, for the subject `dev` (region or namespace name). */
function resolve(dev: string, p: NamespaceParams, current?: Namespace): Resolved {
  const cur = current?.personality;
  const mode = p.mode ?? cur?.mode ?? 'fsdax';
  const isDax = mode === 'fsdax' || mode === 'devdax';
  if (p.map !== undefined && !isDax)
    throw new NdctlError(`${dev}: --map= only valid for fsdax mode namespace`);
  if (p.align !== undefined && !isDax)
    throw new NdctlError(`${mode} mode does not support setting an alignment`);
  if (p.align !== undefined && !(PFN_ALIGNS as readonly number[]).includes(p.align)) {
    throw new NdctlError(`unsupported align: ${sizeText(p.align)}`);
  }
  let sectorSize: number;
  if (mode === 'sector') {
    sectorSize = p.sectorSize ?? cur?.sectorSize ?? 4096;
    if (!(BTT_SECTOR_SIZES as readonly number[]).includes(sectorSize)) {
      throw new NdctlError(`${dev}: sector_size: ${sectorSize} not supported`);
    }
  } else {
    sectorSize = p.sectorSize ?? current?.lbasize ?? 512;
    if (sectorSize !== 512 && sectorSize !== 4096) {
      throw new NdctlError(`${dev}: sector_size: ${sectorSize} not supported`);
    }
  }
  const name = p.name ?? current?.name ?? '';
  if (!nameFits(name))
    throw new NdctlError(`${dev}: name '${name}' does not fit the 64-byte label field`);
  return {
    mode,
    sectorSize,
    align: p.align ?? cur?.pfn?.align ?? 2 * MiB,
    map: p.map ?? cur?.pfn?.map ?? 'dev',
    name,
  };
}

function checkSize(r: Resolved, size: number): void {
  const align =
    r.mode === 'fsdax' || r.mode === 'devdax' ? Math.max(r.align, REGION_ALIGN) : REGION_ALIGN;
  if (size % align !== 0) {
    const suggest = Math.ceil(size / align) * align;
    throw new NdctlError(
      `'--size=' must align to interleave-width: 1 and alignment: ${align}`,
      `did you intend --size=${sizeText(suggest)}?`,
    );
  }
  if (r.mode !== 'raw' && size < 16 * MiB)
    throw new NdctlError(`'--size=' must be >= 16MiB for '${r.mode}' mode`);
}

/** Claim GUID the kernel writes for a personality in a v1.2 label (§12 fact 10). */
function claimFor(mode: Mode): Claim {
  switch (mode) {
    case 'raw':
      return 'none';
    case 'sector':
      return 'btt2';
    case 'fsdax':
      return 'pfn';
    case 'devdax':
      return 'dax';
  }
}

/**
 * Writes the personality into a namespace's bytes: first the 8 KiB wipe ndctl does on every
 * reconfiguration (§9.5), then BTT (v2.0 at 0 for v1.2 labels, else v1.1 at 4 KiB) or the PFN/DAX
 * info block at 4 KiB. `labels` is the label version, or undefined for a label-less namespace.
 */
export function writePersonality(
  media: Media,
  r: Resolved,
  labels: LabelVersion | undefined,
  parentUuid: Uint8Array,
  spaStart: number,
  dev: string,
): Uint8Array | undefined {
  const size = mediaSize(media);
  zeroRange(media, 0, Math.min(size, 8192));
  media.flush?.(0, Math.min(size, 8192));
  const uuid = randomUuid();
  switch (r.mode) {
    case 'raw':
      return undefined;
    case 'sector':
      Btt.create(media, {
        version: labels === '1.2' ? '2.0' : '1.1',
        sectorSize: r.sectorSize,
        uuid,
        parentUuid,
      });
      return uuid;
    case 'fsdax':
    case 'devdax': {
      const g = pfnGeometry(spaStart, size, r.map, r.align);
      if ('error' in g) throw new NdctlError(`${dev}: ${g.error}`);
      media.write(PFN_INFO_OFF, encodePfnInfo(r.mode, g, uuid, parentUuid));
      media.flush?.(PFN_INFO_OFF, 4096);
      return uuid;
    }
  }
}

function labelFor(
  area: LabelArea,
  spec: RegionSpec,
  r: Resolved,
  uuid: Uint8Array,
  dpa: number,
  size: number,
): NewLabel {
  const v = area.geometry.version;
  return {
    uuid,
    name: r.name,
    flags: 0,
    nlabel: 1,
    position: 0,
    isetcookie: cookieFor(spec.slot, v),
    lbasize: BigInt(r.mode === 'raw' ? r.sectorSize : 512),
    dpa: BigInt(dpa),
    rawsize: BigInt(size),
    typeGuid: guidBytes(PMEM_TYPE_GUID),
    abstractionGuid: claimGuidBytes(v === '1.2' ? claimFor(r.mode) : 'none'),
  };
}

function findByLabel(view: RegionView, uuid: Uint8Array): Namespace {
  const ns = view.namespaces.find((n) => n.label !== undefined && sameBytes(n.label.uuid, uuid));
  if (ns === undefined)
    throw new NdctlError(`namespace ${formatUuid(uuid)} did not appear after the label update`);
  return ns;
}

function allocate(view: RegionView, size: number, ignore?: Namespace): number | undefined {
  const used = view.namespaces
    .filter((n) => n !== ignore)
    .map((n) => ({ start: n.offset, size: n.rawSize }));
  used.sort((a, b) => a.start - b.start);
  let at = 0;
  const align = view.spec.align;
  for (const u of [...used, { start: Math.floor(view.size / align) * align, size: 0 }]) {
    const s = Math.ceil(at / align) * align;
    if (u.start - s >= size) return s;
    at = Math.max(at, u.start + u.size);
  }
  return undefined;
}

/**
 * `--size` on a label-less region: ndctl's two error() lines (each followed by an empty line,
 * as measured) and its closing line with EINVAL.
 */
function labelLessSize(action: 'create' | 'reconfigure'): NdctlError {
  return NdctlError.failed(
    `failed to ${action} namespace: Invalid argument`,
    [],
    'Legacy / label-less namespaces do not support sub-dividing a region\n',
    'Retry without -s/--size=\n',
  );
}

/**
 * What to tell a user whose create-namespace found no room because a region's label area holds
 * no valid index yet (a fresh nvdimm): ndctl only says "No space left on device", and the way
 * out is to initialise the labels with the region disabled, or to reconfigure the region's
 * label-less namespace, which initialises them (autolabel; issue 21).
 */
export function initLabelsHint(views: readonly RegionView[]): string[] {
  return views
    .filter((v) => v.spec.labels !== undefined && v.labelArea === undefined)
    .map(
      (v) =>
        `${v.dev}: the label area of nmem${v.spec.index} is not initialised: run 'nvmemu ndctl disable-region ${v.dev}', 'nvmemu ndctl init-labels nmem${v.spec.index}' and 'nvmemu ndctl enable-region ${v.dev}' (with the same --data or --backing options) and create the namespace again, or give the whole region to one namespace with 'nvmemu ndctl create-namespace -e namespace${v.spec.index}.0 -f' (that initialises the labels)`,
    );
}

/** Largest free extent of a labeled region (0 for a label-less one: its namespace owns it all). */
export function maxExtent(view: RegionView): number {
  return view.freeExtents.reduce((m, e) => Math.max(m, e.size), 0);
}

/** `ndctl create-namespace` in one region (the caller picks the region). */
export function createNamespace(view: RegionView, p: NamespaceParams): Namespace {
  const spec = view.spec;
  if (view.labelArea === undefined) {
    if (p.size !== undefined) throw labelLessSize('create');
    throw NdctlError.failed(NO_SPACE, initLabelsHint([view]));
  }
  const r = resolve(view.dev, p);
  const size = p.size ?? Math.floor(maxExtent(view) / REGION_ALIGN) * REGION_ALIGN;
  if (size === 0) throw NdctlError.failed(NO_SPACE);
  checkSize(r, size);
  const dpa = allocate(view, size);
  if (dpa === undefined) throw NdctlError.failed(NO_SPACE);
  const uuid = p.uuid ?? randomUuid();
  if (view.namespaces.some((n) => n.label !== undefined && sameBytes(n.label.uuid, uuid))) {
    throw NdctlError.failed('failed to create namespace: File exists');
  }
  const media = new SubMedia(spec.pmem, dpa, size);
  writePersonality(media, r, view.labelArea.geometry.version, uuid, spec.spaStart + dpa, view.dev);
  updateLabels(
    spec.labels!,
    view.labelArea,
    [],
    [labelFor(view.labelArea, spec, r, uuid, dpa, size)],
  );
  return findByLabel(scanRegion(spec), uuid);
}

/** Refusals shared by reconfigure and destroy (ndctl's helper). */
function checkMutable(ns: Namespace, active: boolean, force: boolean): void {
  if (ns.region.readOnly) throw new NdctlError(`${ns.dev}: read-only, re-configuration disabled`);
  if (active && !force)
    throw new NdctlError(`${ns.dev} is active, specify --force for re-configuration`);
}

/** `ndctl create-namespace -e NS`: parameters other than uuid default to the current ones. */
export function reconfigureNamespace(
  view: RegionView,
  ns: Namespace,
  p: NamespaceParams,
  active: boolean,
): Namespace {
  checkMutable(ns, active, p.force === true);
  const spec = view.spec;
  const r = resolve(ns.dev, p, ns);
  if (ns.label === undefined) {
    if (p.size !== undefined) throw labelLessSize('reconfigure');
    if (spec.labels !== undefined && p.autolabel !== false) {
      // §7.5 autolabel: initialise the label area (v1.2), then provision the whole region.
      zeroRange(ns.media, 0, Math.min(ns.rawSize, 8192));
      initLabelArea(spec.labels, '1.2');
      const fresh = scanRegion(spec);
      // Only what the user gave or the mode takes: align and map are fsdax/devdax settings,
      // and handing the defaults to a sector or raw namespace would make ndctl's option checks
      // refuse options the user never gave (issue 21).
      const dax = r.mode === 'fsdax' || r.mode === 'devdax';
      return createNamespace(fresh, {
        ...p,
        mode: r.mode,
        sectorSize: r.sectorSize,
        ...(dax ? { align: r.align, map: r.map } : {}),
        name: r.name,
        size: Math.floor(view.size / REGION_ALIGN) * REGION_ALIGN,
      });
    }
    if (r.mode !== 'raw' || ns.personality.mode !== 'raw') {
      writePersonality(ns.media, r, undefined, new Uint8Array(16), spec.spaStart, ns.dev);
    }
    return scanRegion(spec).namespaces[0]!;
  }
  const area = view.labelArea!;
  const size = p.size ?? ns.rawSize;
  checkSize(r, size);
  const dpa = size === ns.rawSize ? ns.offset : allocate(view, size, ns);
  if (dpa === undefined)
    throw NdctlError.failed('failed to reconfigure namespace: No space left on device');
  zeroRange(ns.media, 0, Math.min(ns.rawSize, 8192));
  const uuid = p.uuid ?? randomUuid();
  const media = new SubMedia(spec.pmem, dpa, size);
  writePersonality(media, r, area.geometry.version, uuid, spec.spaStart + dpa, ns.dev);
  updateLabels(spec.labels!, area, [ns.label.slot], [labelFor(area, spec, r, uuid, dpa, size)]);
  return findByLabel(scanRegion(spec), uuid);
}

/**
 * `ndctl destroy-namespace`: wipe the first 8 KiB (skipped when already zero), then delete the
 * label. Returns whether the namespace counts as destroyed (§10.3: a label-less namespace only
 * when something was zeroed).
 */
export function destroyNamespace(
  view: RegionView,
  ns: Namespace,
  force: boolean,
  active: boolean,
): boolean {
  checkMutable(ns, active, force);
  const n = Math.min(ns.rawSize, 8192);
  const head = ns.media.read(0, n);
  const dirty = head.some((b) => b !== 0);
  if (dirty) {
    zeroRange(ns.media, 0, n);
    ns.media.flush?.(0, n);
  }
  if (ns.label === undefined) return dirty;
  updateLabels(view.spec.labels!, view.labelArea!, [ns.label.slot], []);
  return true;
}
