// `nvmemu ndctl list` (reference qemu-pmem-ndctl.md §10.1), shaped as ndctl 76's list.c walks
// and prints (measured against a Linux 6.1 guest: tests/fixtures/ndctl/76, and the same from
// ndctl 81: tests/fixtures/ndctl/81): which objects -v/-vv/-vvv and the filters imply, buses
// holding dimms and regions, regions holding namespaces, and the top-level shape.

import type { CliIo } from '../io.js';
import type { PmemRegionInfo } from '../../pmem/state-folder.js';
import type { RegionView } from '../../pmem/ndctl/region.js';
import { count, flag, regionMatches, str, withRegions, type Ctx } from './context.js';
import {
  busJson,
  dimmJson,
  displayMode,
  formatJson,
  namespaceJson,
  regionJson,
  seedJson,
  type Json,
  type JsonOpts,
} from './json.js';
import { ndctlVersion } from './version.js';

export const LIST_USAGE = `usage: nvmemu ndctl list [<options>] [--data DIR | --backing FILE --label-size SIZE]

    -r, --region <region-id>   filter by region
    -n, --namespace <name>     filter by namespace
    -d, --dimm <dimm-id>       filter by dimm
    -m, --mode <mode>          filter by namespace mode
    -B, --buses                include bus info
    -R, --regions              include region info
    -N, --namespaces           include namespace info (default)
    -D, --dimms                include dimm info
    -X, --device-dax           include device-dax info
    -C, --capabilities         include region capability info
    -i, --idle                 include idle (disabled / zero-size) devices
    -M, --media-errors         include media errors (bad blocks)
    -u, --human                use human friendly number formats
    -v, --verbose              increase output detail: -v adds -N -X -M, -vv -B -D -R, -vvv -i -C
    --data DIR                 a running machine's data folder (default $NVMEMU_DATA or ./data)

NVMEMU_NDCTL_VERSION=81 reproduces ndctl 81 instead of 76 (docs/ndctl.md).
`;

const OPTIONS = {
  region: { type: 'string', short: 'r' },
  namespace: { type: 'string', short: 'n' },
  dimm: { type: 'string', short: 'd' },
  mode: { type: 'string', short: 'm' },
  buses: { type: 'boolean', short: 'B' },
  regions: { type: 'boolean', short: 'R' },
  namespaces: { type: 'boolean', short: 'N' },
  dimms: { type: 'boolean', short: 'D' },
  'device-dax': { type: 'boolean', short: 'X' },
  capabilities: { type: 'boolean', short: 'C' },
  idle: { type: 'boolean', short: 'i' },
  'media-errors': { type: 'boolean', short: 'M' },
  human: { type: 'boolean', short: 'u' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

/** What to list, after ndctl's defaulting (ndctl/list.c cmd_list). */
export interface ListPlan {
  readonly buses: boolean;
  readonly dimms: boolean;
  readonly regions: boolean;
  readonly namespaces: boolean;
  readonly dax: boolean;
  readonly idle: boolean;
  readonly mediaErrors: boolean;
  readonly capabilities: boolean;
  /** The namespace mode filter (`-X` alone filters on dax). */
  readonly mode: string | undefined;
}

export interface ListRequest {
  readonly buses?: boolean;
  readonly dimms?: boolean;
  readonly regions?: boolean;
  readonly namespaces?: boolean;
  readonly dax?: boolean;
  readonly idle?: boolean;
  readonly mediaErrors?: boolean;
  readonly capabilities?: boolean;
  readonly verbose?: number;
  readonly regionFilter?: string;
  readonly dimmFilter?: string;
  readonly mode?: string;
}

/**
 * ndctl's rules: with no object flag, a -r/-d filter lists those objects (and -X alone filters
 * namespaces on dax); -v adds namespaces, device-dax and media errors, -vv buses, dimms and
 * regions, -vvv idle devices and capabilities (and firmware and health, which QEMU's DIMMs do
 * not answer: nothing to print); with still no object flag, namespaces.
 */
export function planList(q: ListRequest): ListPlan {
  let buses = q.buses === true;
  let dimms = q.dimms === true;
  let regions = q.regions === true;
  let namespaces = q.namespaces === true;
  let mode = q.mode;
  let dax = q.dax === true;
  let idle = q.idle === true;
  let mediaErrors = q.mediaErrors === true;
  let capabilities = q.capabilities === true;
  const flags = (): number => +buses + +dimms + +regions + +namespaces;
  if (flags() === 0) {
    regions = q.regionFilter !== undefined;
    dimms = q.dimmFilter !== undefined;
    if (dax && mode === undefined) mode = 'dax';
  }
  const v = q.verbose ?? 0;
  if (v >= 3) {
    idle = true;
    capabilities = true;
  }
  if (v >= 2) {
    dimms = true;
    buses = true;
    regions = true;
  }
  if (v >= 1) {
    mediaErrors = true;
    namespaces = true;
    dax = true;
  }
  if (flags() === 0) namespaces = true;
  return { buses, dimms, regions, namespaces, dax, idle, mediaErrors, capabilities, mode };
}

/** ndctl's mode names and their aliases for -m (util_nsmode). */
const MODE_ALIASES: Record<string, string> = {
  raw: 'raw',
  sector: 'sector',
  safe: 'sector',
  fsdax: 'fsdax',
  memory: 'fsdax',
  devdax: 'devdax',
  dax: 'devdax',
};

interface Bus {
  readonly provider: string;
  readonly views: RegionView[];
}

/**
 * The buses Linux creates for the regions: one ACPI.NFIT bus for every nvdimm, one e820 bus for
 * the memmap= regions, one bus per virtio-pmem device; numbered ndbusN in order of appearance.
 */
function busesOf(
  views: readonly RegionView[],
  published: readonly (PmemRegionInfo | undefined)[],
): Bus[] {
  const out: Bus[] = [];
  const shared = new Map<string, Bus>();
  for (const view of views) {
    const devtype = published[view.spec.index]?.devtype ?? 'nvdimm';
    const provider = devtype === 'nvdimm' ? 'ACPI.NFIT' : devtype;
    const key = devtype === 'virtio-pmem' ? `virtio-pmem ${view.spec.index}` : devtype;
    let bus = shared.get(key);
    if (bus === undefined) {
      bus = { provider, views: [] };
      shared.set(key, bus);
      out.push(bus);
    }
    bus.views.push(view);
  }
  return out;
}

/** The arrays list.c collects; null until something is added (which decides the shape). */
interface Collected {
  buses: Json[] | null;
  dimms: Json[] | null;
  regions: Json[] | null;
  namespaces: Json[] | null;
}

function list(ctx: Ctx): number {
  const v = ctx.values;
  const nsFilter = str(v, 'namespace');
  const modeText = str(v, 'mode');
  const plan = planList({
    buses: flag(v, 'buses'),
    dimms: flag(v, 'dimms'),
    regions: flag(v, 'regions'),
    namespaces: flag(v, 'namespaces'),
    dax: flag(v, 'device-dax'),
    idle: flag(v, 'idle'),
    mediaErrors: flag(v, 'media-errors'),
    capabilities: flag(v, 'capabilities'),
    verbose: count(v, 'verbose'),
    ...(str(v, 'region') !== undefined ? { regionFilter: str(v, 'region')! } : {}),
    ...(str(v, 'dimm') !== undefined ? { dimmFilter: str(v, 'dimm')! } : {}),
    ...(modeText !== undefined ? { mode: modeText } : {}),
  });
  const wantMode = plan.mode === undefined ? undefined : (MODE_ALIASES[plan.mode] ?? plan.mode);
  const o: JsonOpts = {
    human: flag(v, 'human'),
    verbose: count(v, 'verbose'),
    mediaErrors: plan.mediaErrors,
    dax: plan.dax,
    ndctl: ndctlVersion(),
  };
  const rf = str(v, 'region');
  const df = str(v, 'dimm');
  const dimmOk = (i: number): boolean =>
    df === undefined || df === 'all' || df === `nmem${i}` || df === String(i);
  const views = ctx.views().filter((view) => regionMatches(rf, view) && dimmOk(view.spec.index));
  const pubs = ctx.regions.published;
  const c: Collected = { buses: null, dimms: null, regions: null, namespaces: null };
  let busNo = 0;
  for (const bus of busesOf(views, pubs)) {
    let jbus: Record<string, Json> | undefined;
    if (plan.buses) {
      c.dimms = c.regions = c.namespaces = null;
      jbus = busJson(bus.provider, `ndbus${busNo}`);
      (c.buses ??= []).push(jbus);
    }
    busNo++;
    const add = (
      key: 'dimms' | 'regions' | 'namespaces',
      item: Json,
      parent?: Record<string, Json>,
    ): void => {
      if (c[key] === null) {
        c[key] = [];
        if (parent !== undefined) parent[key] = c[key];
      }
      c[key].push(item);
    };
    if (plan.dimms) {
      for (const view of bus.views) {
        const pub = pubs[view.spec.index];
        const isDimm =
          pub === undefined ? view.spec.labels !== undefined : pub.devtype === 'nvdimm';
        if (isDimm) add('dimms', dimmJson(view, false, o, pub), jbus);
      }
    }
    for (const view of bus.views) {
      const i = view.spec.index;
      const pub = pubs[i];
      const rDisabled = ctx.regionDisabled(i);
      let jregion: Record<string, Json> | undefined;
      if (plan.regions) {
        if (rDisabled && !plan.idle) continue;
        jregion = regionJson(
          view,
          { ...o, mappings: plan.dimms, disabled: rDisabled, capabilities: plan.capabilities },
          undefined,
          pub,
        ) as Record<string, Json>;
        add('regions', jregion, jbus);
        // A new region starts its own namespace array (list.c filter_region).
        c.namespaces = null;
      }
      if (!plan.namespaces || (rDisabled && !plan.idle)) continue;
      const container = jregion ?? jbus;
      for (const ns of view.namespaces) {
        const disabled = ctx.namespaceDisabled(ns);
        if (disabled && !plan.idle) continue;
        if (nsFilter !== undefined && nsFilter !== 'all' && nsFilter !== ns.dev) continue;
        if (wantMode !== undefined && wantMode !== displayMode(ns, pub).mode) continue;
        add('namespaces', namespaceJson(ns, disabled, o, pub), container);
      }
      if (
        plan.idle &&
        view.labelArea !== undefined &&
        (nsFilter === undefined || nsFilter === 'all') &&
        (wantMode === undefined || wantMode === 'raw')
      ) {
        add('namespaces', seedJson(view, o), container);
      }
    }
  }
  display(ctx.io, c, o.human);
  return 0;
}

/** list.c list_display: buses, else a platform object when two kinds were found, else one array. */
function display(io: CliIo, c: Collected, human: boolean): void {
  const array = (a: Json[]): void => {
    // util_display_json_array: --human and one object print the bare object.
    io.out(`${formatJson(human && a.length === 1 ? a[0]! : a)}\n`);
  };
  if (c.buses !== null) {
    array(c.buses);
  } else if (+(c.dimms !== null) + +(c.regions !== null) + +(c.namespaces !== null) > 1) {
    const platform: Record<string, Json> = {};
    if (c.dimms !== null) platform.dimms = c.dimms;
    if (c.regions !== null) platform.regions = c.regions;
    if (c.namespaces !== null && c.regions === null) platform.namespaces = c.namespaces;
    io.out(`${formatJson(platform)}\n`);
  } else if (c.dimms !== null) {
    array(c.dimms);
  } else if (c.regions !== null) {
    array(c.regions);
  } else if (c.namespaces !== null) {
    array(c.namespaces);
  }
  // Nothing matched: ndctl prints nothing at all (its arrays are created on the first match).
}

export function listCommand(argv: string[], io: CliIo): Promise<number> {
  return withRegions(argv, io, OPTIONS, LIST_USAGE, list);
}
