// x-nvmemu-query-stats: per-device counters in the shape of QEMU's `query-stats`
// (qapi/stats.json: a list of StatsResult `{provider, qom-path, stats: [{name, value}]}`,
// filtered by `providers: [{provider, names?}]`). QEMU's providers are KVM and cryptodev; ours
// are the devices nvmemu emulates:
//   nvme     admin-commands, admin-errors, io-commands, io-errors (completed commands and those
//            with a non-zero status), attached-namespaces, aer-outstanding
//   nvme-ns  nsid, read-commands, write-commands, bytes-read, bytes-written (SMART's
//            accounting), media-read-errors, media-write-errors (injected faults hit),
//            uncorrectable-blocks, deallocated-blocks
//   nvdimm   bad-block-ranges, bad-sectors, dirty-shutdowns
//   monitor  sessions-open, sessions-accepted, sessions-refused, oversized-messages (the
//            monitor's own limits, limits.ts; qom-path "/monitor")
//   nvme-tcp the NVMe/TCP target's connections, limits that bit, authentication and TLS
//            outcomes (nvme-tcp/target/limits.ts TargetCounters; qom-path "/nvme-tcp")
// A legacy `nvme,drive=` namespace reports under its controller's QOM path. Counters are
// monotonic from realize and not persisted (as QEMU's SMART counters).

import type { Component } from '../../machine/registry.js';
import { NvmeDevice } from '../../nvme/index.js';
import type { Args } from '../args.js';
import { genericError } from '../errors.js';
import { entries } from '../inspect.js';
import type { MachineView, Monitor, QmpCommand } from '../monitor.js';
import { isNamespace } from './nvme.js';

type Value = number | bigint;
interface StatsResult {
  provider: Provider;
  'qom-path': string;
  stats: { name: string; value: Value }[];
}

const PROVIDERS = ['nvme', 'nvme-ns', 'nvdimm', 'monitor', 'nvme-tcp'] as const;
type Provider = (typeof PROVIDERS)[number];

const blocks = (ranges: readonly { start: number; end: number }[]): number =>
  ranges.reduce((n, r) => n + r.end - r.start, 0);

function fnList(c: unknown, name: string): { start: number; end: number }[] | undefined {
  const f = (c as Record<string, unknown>)[name];
  return typeof f === 'function'
    ? (f as () => { start: number; end: number }[]).call(c)
    : undefined;
}

function namespaceStats(ns: Component): [string, Value][] {
  if (!isNamespace(ns)) return [];
  const s = ns.smart();
  const out: [string, Value][] = [
    ['nsid', ns.nsid],
    ['read-commands', s.readCommands],
    ['write-commands', s.writeCommands],
    ['bytes-read', s.bytesRead],
    ['bytes-written', s.bytesWritten],
  ];
  const hits = (ns as { mediaFaults?: { hits?: { read: number; write: number } } }).mediaFaults
    ?.hits;
  if (hits !== undefined) {
    out.push(['media-read-errors', hits.read], ['media-write-errors', hits.write]);
  }
  const unc = fnList(ns, 'uncorrectableRanges');
  if (unc !== undefined) out.push(['uncorrectable-blocks', blocks(unc)]);
  const dealloc = fnList(ns, 'deallocatedRanges');
  if (dealloc !== undefined) out.push(['deallocated-blocks', blocks(dealloc)]);
  return out;
}

function collect(
  machine: MachineView,
): { provider: Provider; path: string; stats: [string, Value][] }[] {
  const out: { provider: Provider; path: string; stats: [string, Value][] }[] = [];
  for (const e of entries(machine)) {
    const c = e.component;
    if (c instanceof NvmeDevice) {
      const ctrl = c.controller;
      out.push({
        provider: 'nvme',
        path: e.path,
        stats: [
          ['admin-commands', ctrl.stats.adminCommands],
          ['admin-errors', ctrl.stats.adminErrors],
          ['io-commands', ctrl.stats.ioCommands],
          ['io-errors', ctrl.stats.ioErrors],
          ['attached-namespaces', ctrl.namespaces.size],
          ['aer-outstanding', ctrl.aer.outstandingCount],
        ],
      });
      if (c.legacyNamespace !== undefined) {
        out.push({ provider: 'nvme-ns', path: e.path, stats: namespaceStats(c.legacyNamespace) });
      }
    } else if (isNamespace(c)) {
      out.push({ provider: 'nvme-ns', path: e.path, stats: namespaceStats(c) });
    } else if (e.plan.typeName === 'nvdimm') {
      const d = c as Partial<{
        badBlocks: () => readonly { count: number }[];
        dirtyShutdown: number;
      }>;
      const bad = d.badBlocks?.() ?? [];
      const stats: [string, Value][] = [
        ['bad-block-ranges', bad.length],
        ['bad-sectors', bad.reduce((n, r) => n + r.count, 0)],
      ];
      if (typeof d.dirtyShutdown === 'number') stats.push(['dirty-shutdowns', d.dirtyShutdown]);
      out.push({ provider: 'nvdimm', path: e.path, stats });
    }
  }
  return out;
}

/** `providers` → provider → wanted names (undefined: all). Checked before anything is read. */
function parseProviders(v: unknown): Map<Provider, Set<string> | undefined> | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v))
    throw genericError(`Invalid parameter type for 'providers', expected: array`);
  const out = new Map<Provider, Set<string> | undefined>();
  for (const [i, item] of v.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw genericError(`Invalid parameter type for 'providers[${i}]', expected: object`);
    }
    const r = item as Args;
    for (const k of Object.keys(r)) {
      if (k !== 'provider' && k !== 'names') {
        throw genericError(`Parameter 'providers[${i}].${k}' is unexpected`);
      }
    }
    if (r.provider === undefined)
      throw genericError(`Parameter 'providers[${i}].provider' is missing`);
    if (typeof r.provider !== 'string') {
      throw genericError(`Invalid parameter type for 'providers[${i}].provider', expected: string`);
    }
    const name = r.provider;
    const p = PROVIDERS.find((x) => x === name);
    if (p === undefined) {
      throw genericError(`Parameter 'providers[${i}].provider' does not accept value '${name}'`);
    }
    let names: Set<string> | undefined;
    if (r.names !== undefined) {
      if (!Array.isArray(r.names) || !r.names.every((n) => typeof n === 'string')) {
        throw genericError(
          `Invalid parameter type for 'providers[${i}].names', expected: array of string`,
        );
      }
      names = new Set<string>(r.names);
    }
    out.set(p, names);
  }
  return out;
}

function monitorStats(monitor: Monitor): {
  provider: Provider;
  path: string;
  stats: [string, Value][];
} {
  const c = monitor.counters;
  return {
    provider: 'monitor',
    path: '/monitor',
    stats: [
      ['sessions-open', c.sessionsOpen],
      ['sessions-accepted', c.sessionsAccepted],
      ['sessions-refused', c.sessionsRefused],
      ['oversized-messages', c.oversizedMessages],
    ],
  };
}

export function queryStats(machine: MachineView, args: Args, monitor?: Monitor): StatsResult[] {
  const wanted = parseProviders(args.providers);
  const path = args['qom-path'] as string | undefined;
  const out: StatsResult[] = [];
  const all = collect(machine);
  if (monitor !== undefined) all.push(monitorStats(monitor));
  const tcp = monitor?.hooks.nvmeTcp?.target;
  if (tcp !== undefined) {
    all.push({ provider: 'nvme-tcp', path: '/nvme-tcp', stats: tcp.counters.entries() });
  }
  for (const r of all) {
    if (path !== undefined && r.path !== path) continue;
    if (wanted !== undefined && !wanted.has(r.provider)) continue;
    const names = wanted?.get(r.provider);
    out.push({
      provider: r.provider,
      'qom-path': r.path,
      stats: r.stats
        .filter(([n]) => names === undefined || names.has(n))
        .map(([name, value]) => ({ name, value })),
    });
  }
  return out;
}

export const statsCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-query-stats',
    args: [
      { name: 'providers', type: 'any', optional: true },
      { name: 'qom-path', type: 'string', optional: true },
    ],
    run: ({ machine, monitor }, args) => queryStats(machine, args, monitor),
  },
];
