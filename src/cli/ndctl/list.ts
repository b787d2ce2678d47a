// `nvmemu ndctl list` (reference qemu-pmem-ndctl.md §10.1).

import type { CliIo } from '../io.js';
import { count, flag, regionMatches, str, withRegions, type Ctx } from './context.js';
import {
  dimmJson,
  displayMode,
  formatJson,
  namespaceJson,
  regionJson,
  seedJson,
  type Json,
} from './json.js';

export const LIST_USAGE = `usage: nvmemu ndctl list [<options>] [--data DIR | --backing FILE --label-size SIZE]

    -r, --region <region-id>   filter by region
    -n, --namespace <name>     filter by namespace
    -d, --dimm <dimm-id>       filter by dimm
    -m, --mode <mode>          filter by namespace mode
    -R, --regions              include region info
    -N, --namespaces           include namespace info (default)
    -D, --dimms                include dimm info
    -i, --idle                 include idle (disabled / zero-size) devices
    -M, --media-errors         include media errors (bad blocks)
    -u, --human                use human friendly number formats
    -v, --verbose              increase output detail (-v implies -M)
    --data DIR                 a running machine's data folder (default $NVMEMU_DATA or ./data)
`;

const OPTIONS = {
  region: { type: 'string', short: 'r' },
  namespace: { type: 'string', short: 'n' },
  dimm: { type: 'string', short: 'd' },
  mode: { type: 'string', short: 'm' },
  regions: { type: 'boolean', short: 'R' },
  namespaces: { type: 'boolean', short: 'N' },
  dimms: { type: 'boolean', short: 'D' },
  idle: { type: 'boolean', short: 'i' },
  'media-errors': { type: 'boolean', short: 'M' },
  human: { type: 'boolean', short: 'u' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

function list(ctx: Ctx): number {
  const v = ctx.values;
  const verbose = count(v, 'verbose');
  const o = {
    human: flag(v, 'human'),
    verbose,
    mediaErrors: flag(v, 'media-errors') || verbose > 0,
  };
  const wantR = flag(v, 'regions');
  const wantD = flag(v, 'dimms');
  const wantN = flag(v, 'namespaces') || (!wantR && !wantD);
  const idle = flag(v, 'idle');
  const rf = str(v, 'region');
  const nf = str(v, 'namespace');
  const df = str(v, 'dimm');
  const mf = str(v, 'mode');
  const views = ctx.views().filter((view) => regionMatches(rf, view));
  const dimmOk = (i: number): boolean =>
    df === undefined || df === 'all' || df === `nmem${i}` || df === String(i);
  const regions: Json[] = [];
  const namespaces: Json[] = [];
  const dimms: Json[] = [];
  for (const view of views) {
    if (!dimmOk(view.spec.index)) continue;
    const rDisabled = ctx.regionDisabled(view.spec.index);
    const pub = ctx.regions.published[view.spec.index];
    if (wantD && (pub === undefined ? view.spec.labels !== undefined : pub.devtype === 'nvdimm'))
      dimms.push(dimmJson(view, false, o, pub));
    const nsJson: Json[] = [];
    if (wantN && (!rDisabled || idle)) {
      for (const ns of view.namespaces) {
        const disabled = ctx.namespaceDisabled(ns);
        if (disabled && !idle) continue;
        if (nf !== undefined && nf !== 'all' && nf !== ns.dev) continue;
        if (mf !== undefined && mf !== displayMode(ns, pub).mode) continue;
        nsJson.push(namespaceJson(ns, disabled, o, pub));
      }
      if (
        idle &&
        view.labelArea !== undefined &&
        (nf === undefined || nf === 'all') &&
        (mf === undefined || mf === 'raw')
      ) {
        nsJson.push(seedJson(view));
      }
    }
    if (wantR) {
      if (rDisabled && !idle) continue;
      regions.push(
        regionJson(
          view,
          { ...o, mappings: wantD, disabled: rDisabled },
          wantN ? nsJson : undefined,
          pub,
        ),
      );
    } else {
      namespaces.push(...nsJson);
    }
  }
  let top: Json;
  let n: number;
  if (wantR && wantD) {
    top = { dimms, regions };
    n = dimms.length + regions.length;
  } else if (wantD && wantN && !wantR) {
    top = { dimms, namespaces };
    n = dimms.length + namespaces.length;
  } else {
    const arr = wantR ? regions : wantD ? dimms : namespaces;
    n = arr.length;
    // util_display_json_array: --human and exactly one object → the bare object.
    top = o.human && arr.length === 1 ? arr[0]! : arr;
  }
  if (n === 0) {
    ctx.io.err('  Warning: no matching devices found\n');
    ctx.io.out('[\n]\n');
    return 0;
  }
  ctx.io.out(`${formatJson(top)}\n`);
  return 0;
}

export function listCommand(argv: string[], io: CliIo): Promise<number> {
  return withRegions(argv, io, OPTIONS, LIST_USAGE, list);
}
