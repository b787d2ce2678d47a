// `nvmemu ndctl create-namespace | destroy-namespace | enable-namespace | disable-namespace |
// check-namespace | enable-region | disable-region` (reference qemu-pmem-ndctl.md §10.2, §10.3).

import { parseUuid } from '../../pmem/ndctl/guid.js';
import { checkBtt } from '../../pmem/ndctl/btt-check.js';
import {
  createNamespace,
  destroyNamespace,
  initLabelsHint,
  maxExtent,
  NdctlError,
  reconfigureNamespace,
  type NamespaceParams,
} from '../../pmem/ndctl/ops.js';
import type { Mode } from '../../pmem/ndctl/region.js';
import type { CliIo } from '../io.js';
import { statusLine } from '../progress.js';
import {
  findNamespaces,
  flag,
  plural,
  printError,
  regionMatches,
  sizeOpt,
  str,
  withRegions,
  type Ctx,
} from './context.js';
import { formatJson, namespaceJson } from './json.js';

const MODES: Record<string, Mode> = {
  raw: 'raw',
  sector: 'sector',
  safe: 'sector',
  fsdax: 'fsdax',
  memory: 'fsdax',
  devdax: 'devdax',
  dax: 'devdax',
};

export const CREATE_USAGE = `usage: nvmemu ndctl create-namespace [<options>] --backing FILE --label-size SIZE

    -r, --region <region-id>   limit creation to the given region
    -e, --reconfig <name>      reconfigure an existing namespace
    -m, --mode <mode>          raw | sector | fsdax | devdax (default fsdax)
    -s, --size <size>          namespace size (K/M/G/T suffixes)
    -a, --align <align>        fsdax/devdax mapping alignment: 4K, 2M (default), 1G
    -M, --map <mem|dev>        where to store struct pages (fsdax/devdax; default dev)
    -l, --sector-size <bytes>  sector size (sector: 512 520 528 4096 4104 4160 4224)
    -n, --name <name>          namespace name
    -u, --uuid <uuid>          namespace uuid
    -f, --force                reconfigure an active namespace
        --no-autolabel         do not initialise labels of a label-less region
`;

function params(ctx: Ctx): NamespaceParams {
  const v = ctx.values;
  const modeText = str(v, 'mode');
  const mode = modeText === undefined ? undefined : MODES[modeText];
  if (modeText !== undefined && mode === undefined)
    throw new NdctlError(`invalid mode '${modeText}'`);
  const map = str(v, 'map');
  if (map !== undefined && map !== 'mem' && map !== 'dev')
    throw new NdctlError(`invalid map location '${map}'`);
  const uuid = str(v, 'uuid');
  const sector = str(v, 'sector-size');
  const out: { -readonly [K in keyof NamespaceParams]: NamespaceParams[K] } = {};
  if (mode !== undefined) out.mode = mode;
  const size = sizeOpt(v, 'size');
  if (size !== undefined) out.size = size;
  const align = sizeOpt(v, 'align');
  if (align !== undefined) out.align = align;
  if (map !== undefined) out.map = map;
  if (sector !== undefined) out.sectorSize = Number.parseInt(sector, 10);
  const name = str(v, 'name');
  if (name !== undefined) out.name = name;
  if (uuid !== undefined) out.uuid = parseUuid(uuid);
  out.force = flag(v, 'force');
  out.autolabel = !flag(v, 'no-autolabel');
  return out;
}

/** On a terminal, says what the (synchronous) metadata write is doing until it is done. */
function writing<T>(mode: Mode | undefined, work: () => T): T {
  const line = statusLine();
  const what =
    mode === 'sector' ? 'BTT' : mode === 'fsdax' || mode === 'devdax' ? 'PFN info block' : 'labels';
  line.set(`Creating namespace: writing the ${what}...`);
  try {
    return work();
  } finally {
    line.end();
  }
}

function create(ctx: Ctx): number {
  const p = params(ctx);
  const reconfig = str(ctx.values, 'reconfig');
  const rf = str(ctx.values, 'region');
  const views = ctx.views();
  if (reconfig !== undefined) {
    const [ns] = findNamespaces(views, reconfig, rf);
    if (ns === undefined) throw new NdctlError(`${reconfig}: namespace not found`);
    const view = views[ns.region.index]!;
    if (ns.region.labels !== undefined && ns.label === undefined && p.autolabel !== false) {
      if (ctx.regionDisabled(ns.region.index)) throw new NdctlError(`${view.dev}: region disabled`);
    }
    const done = writing(p.mode, () =>
      reconfigureNamespace(view, ns, p, !ctx.namespaceDisabled(ns)),
    );
    ctx.setNamespace(ns, false);
    ctx.state.save();
    ctx.io.out(`${formatJson(namespaceJson(done, false, { human: false, verbose: 0 }))}\n`);
    return 0;
  }
  const candidates = views.filter((v) => regionMatches(rf, v) && !ctx.regionDisabled(v.spec.index));
  const labeled = candidates.filter(
    (v) => v.labelArea !== undefined && maxExtent(v) >= (p.size ?? 1),
  );
  const target = labeled[0] ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (target === undefined) {
    throw NdctlError.failed(
      'failed to create namespace: No space left on device',
      initLabelsHint(candidates),
    );
  }
  const ns = writing(p.mode, () => createNamespace(target, p));
  ctx.io.out(`${formatJson(namespaceJson(ns, false, { human: false, verbose: 0 }))}\n`);
  return 0;
}

const COMMON_NS = {
  region: { type: 'string', short: 'r' },
  force: { type: 'boolean', short: 'f' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

export function createCommand(argv: string[], io: CliIo): Promise<number> {
  return withRegions(
    argv,
    io,
    {
      ...COMMON_NS,
      reconfig: { type: 'string', short: 'e' },
      mode: { type: 'string', short: 'm' },
      size: { type: 'string', short: 's' },
      align: { type: 'string', short: 'a' },
      map: { type: 'string', short: 'M' },
      'sector-size': { type: 'string', short: 'l' },
      name: { type: 'string', short: 'n' },
      uuid: { type: 'string', short: 'u' },
      type: { type: 'string', short: 't' },
      'no-autolabel': { type: 'boolean' },
      autolabel: { type: 'boolean', short: 'L' },
    },
    CREATE_USAGE,
    create,
  );
}

type Action = 'destroy' | 'enable' | 'disable' | 'check';

const PAST: Record<Action, string> = {
  destroy: 'destroyed',
  enable: 'enabled',
  disable: 'disabled',
  check: 'checked',
};

function nsAction(action: Action) {
  return (ctx: Ctx): number => {
    const [name] = ctx.positionals;
    if (name === undefined) {
      ctx.io.err(`  Error: <namespace> must be specified\n`);
      return 129;
    }
    if (action === 'check' && flag(ctx.values, 'rewrite-log') && !flag(ctx.values, 'repair')) {
      ctx.io.err('  Error: --rewrite-log also requires --repair\n');
      return 1;
    }
    const views = ctx.views();
    const targets = findNamespaces(views, name, str(ctx.values, 'region'));
    let done = 0;
    let failed = false;
    for (const ns of targets) {
      try {
        const view = ctx.views()[ns.region.index]!;
        const fresh =
          view.namespaces.find((n) => n.offset === ns.offset && n.rawSize === ns.rawSize) ?? ns;
        const active = !ctx.namespaceDisabled(fresh);
        switch (action) {
          case 'destroy':
            if (destroyNamespace(view, fresh, flag(ctx.values, 'force'), active)) done++;
            ctx.setNamespace(fresh, false);
            break;
          case 'enable':
          case 'disable':
            ctx.setNamespace(fresh, action === 'disable');
            done++;
            break;
          case 'check':
            if (active && !flag(ctx.values, 'force'))
              throw new NdctlError(`${fresh.dev}: check aborted, namespace online`);
            done += check(ctx, fresh) ? 1 : 0;
            break;
        }
      } catch (e) {
        printError(ctx.io, e);
        failed = true;
      }
    }
    ctx.state.save();
    ctx.io.err(`${PAST[action]} ${plural(done, 'namespace')}\n`);
    return failed || (done === 0 && name !== 'all') ? 1 : 0;
  };
}

function check(ctx: Ctx, ns: Parameters<typeof namespaceJson>[0]): boolean {
  const repair = flag(ctx.values, 'repair');
  const r = checkBtt(ns.media, {
    repair,
    rewriteLog: flag(ctx.values, 'rewrite-log'),
    ...(ns.label !== undefined
      ? { parentUuid: ns.label.uuid }
      : { parentUuid: new Uint8Array(16) }),
  });
  if (r === undefined) {
    throw new NdctlError(
      `${ns.dev}: Unable to recover any BTT info blocks`,
      `${ns.dev}: This may not be a sector mode namespace`,
    );
  }
  for (const p of r.problems) ctx.io.err(`${ns.dev}: ${p}\n`);
  for (const p of r.repaired) ctx.io.err(`${ns.dev}: repaired: ${p}\n`);
  const ok = r.problems.length === 0 || (repair && r.repaired.length > 0);
  if (!ok)
    throw new NdctlError(
      `${ns.dev}: BTT check found ${plural(r.problems.length, 'problem')}${repair ? '' : ', run with --repair'}`,
    );
  return true;
}

const NS_USAGE = (
  cmd: string,
): string => `usage: nvmemu ndctl ${cmd} <namespace> | all [<options>] --backing FILE --label-size SIZE

    -r, --region <region-id>   limit to the given region
    -f, --force                destroy / check an active namespace
${cmd === 'check-namespace' ? '    -R, --repair               repair the BTT\n    -L, --rewrite-log          rewrite the log in the current format (needs --repair)\n' : ''}`;

export function nsCommand(action: Action) {
  const cmd = `${action}-namespace`;
  return (argv: string[], io: CliIo): Promise<number> =>
    withRegions(
      argv,
      io,
      action === 'check'
        ? {
            ...COMMON_NS,
            repair: { type: 'boolean', short: 'R' },
            'rewrite-log': { type: 'boolean', short: 'L' },
          }
        : COMMON_NS,
      NS_USAGE(cmd),
      nsAction(action),
    );
}

/** enable-region / disable-region <region|all>. */
export function regionCommand(disable: boolean) {
  return (argv: string[], io: CliIo): Promise<number> =>
    withRegions(
      argv,
      io,
      {},
      `usage: nvmemu ndctl ${disable ? 'disable' : 'enable'}-region <region> | all\n`,
      (ctx) => {
        const [name] = ctx.positionals;
        let n = 0;
        for (const v of ctx.views()) {
          if (name === undefined || !regionMatches(name, v)) continue;
          ctx.setRegion(v.spec.index, disable);
          n++;
        }
        ctx.state.save();
        ctx.io.err(`${disable ? 'disabled' : 'enabled'} ${plural(n, 'region')}\n`);
        return n === 0 ? 1 : 0;
      },
    );
}
