// `nvmemu ndctl inject-error` and `clear-errors` on a running machine's namespaces (ndctl's
// inject-error.c and clear-errors semantics; qemu-pmem-ndctl.md §11). The machine owns the bad
// blocks: requests go through its monitor (<data>/qmp.sock, x-nvmemu-inject-badblocks /
// x-nvmemu-clear-badblocks), so its devices and every state-folder reader see them at once.
//
// --block is in 512-byte blocks relative to the namespace's injection bounds, as ndctl's man
// page says: raw and sector namespaces from their base, fsdax/devdax from their data area (after
// the info block and memmap reservation).

import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PmemRegionInfo } from '../../pmem/state-folder.js';
import { readPmemRegions } from '../../pmem/state-folder.js';
import { QmpClient } from '../../monitor/client.js';
import type { Namespace } from '../../pmem/ndctl/region.js';
import { parseSize } from '../../config/size.js';
import type { CliIo } from '../io.js';
import { findNamespaces, flag, plural, str, withRegions, type Ctx } from './context.js';
import { formatJson, namespaceJson, type Json } from './json.js';

const SECTOR = 512;

export const INJECT_USAGE = `usage: nvmemu ndctl inject-error <namespace> [<options>] [--data DIR]

    -B, --block <n>            namespace block offset (512B) to (un)inject the error at
    -n, --count <n>            number of blocks of errors to (un)inject
    -d, --uninject             un-inject a previously injected error
    -t, --status               get error injection status
    -N, --no-notify            firmware should not notify OS (accepted; nvmemu always publishes)
    -u, --human                use human friendly number formats
    -r, --region <region-id>   limit namespace to a region
`;

export const CLEAR_USAGE = `usage: nvmemu ndctl clear-errors <namespace|all> [<options>] [--data DIR]

    -r, --region <region-id>   limit to a region
`;

const INJECT_OPTIONS = {
  block: { type: 'string', short: 'B' },
  count: { type: 'string', short: 'n' },
  uninject: { type: 'boolean', short: 'd' },
  status: { type: 'boolean', short: 't' },
  'no-notify': { type: 'boolean', short: 'N' },
  human: { type: 'boolean', short: 'u' },
  region: { type: 'string', short: 'r' },
  bus: { type: 'string', short: 'b' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

const CLEAR_OPTIONS = {
  region: { type: 'string', short: 'r' },
  bus: { type: 'string', short: 'b' },
  scrub: { type: 'boolean', short: 's' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** [start, size) in bytes relative to the region: where --block 0 is and how far it goes. */
function injectionBounds(ns: Namespace): { start: number; size: number } {
  const p = ns.personality;
  switch (p.mode) {
    case 'raw':
    case 'sector':
      return { start: ns.offset, size: ns.rawSize };
    case 'fsdax':
    case 'devdax':
      return { start: ns.offset + (p.pfn?.dataoff ?? 0), size: p.size };
  }
}

/** ndctl's "<dev>: error injection not supported" cases, else the device the monitor names. */
function target(ctx: Ctx, ns: Namespace): { pub: PmemRegionInfo; dataDir: string } | string {
  const pub = ctx.regions.published[ns.region.index];
  const dataDir = ctx.regions.dataDir;
  if (pub === undefined || dataDir === undefined || pub.devtype !== 'nvdimm' || pub.devid === '')
    return `${ns.dev}: error injection not supported`;
  return { pub, dataDir };
}

async function qmp(dataDir: string, cmd: string, args: Record<string, unknown>): Promise<void> {
  const c = await QmpClient.connect({ path: join(dataDir, 'qmp.sock') });
  try {
    await c.negotiate();
    await c.execute(cmd, args);
  } finally {
    c.close();
  }
}

/** The namespace JSON with media errors, from the state as the machine republished it. */
function nsJsonNow(ctx: Ctx, ns: Namespace, dataDir: string): Json {
  const s = readPmemRegions(dataDir);
  const pub =
    s.status === 'live' ? s.regions.find((r) => r.name === `region${ns.region.index}`) : undefined;
  return namespaceJson(
    ns,
    ctx.namespaceDisabled(ns),
    { human: flag(ctx.values, 'human'), verbose: 0, mediaErrors: true },
    pub,
  );
}

function parseBlocks(v: string | undefined, what: 'block' | 'count'): number | string {
  if (v === undefined) return 0;
  try {
    const n = parseSize(v);
    if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(n);
  } catch {
    // fall through to ndctl's message
  }
  return `Invalid ${what}: ${v}`;
}

async function inject(ctx: Ctx): Promise<number> {
  const v = ctx.values;
  const io = ctx.io;
  const status = flag(v, 'status');
  const clear = flag(v, 'uninject');
  const blockText = str(v, 'block');
  const countText = str(v, 'count');
  // inject_init's checks and texts, in its order.
  if ((clear && status) || (status && (blockText !== undefined || countText !== undefined))) {
    io.err('  Error: status is invalid with inject or uninject\n');
    return 1;
  }
  const block = parseBlocks(blockText, 'block');
  const count = parseBlocks(countText, 'count');
  for (const x of [block, count])
    if (typeof x === 'string') {
      io.err(`  Error: ${x}\n`);
      return 1;
    }
  if (!status && (blockText === undefined || countText === undefined)) {
    io.err('  Error: block and count required for inject/uninject\n');
    return 1;
  }
  if (ctx.positionals.length === 0) {
    io.err(`  Error: specify a namespace to inject error to\n\n${INJECT_USAGE}`);
    return 129;
  }
  if (ctx.positionals.length > 1) {
    for (const extra of ctx.positionals.slice(1))
      io.err(`  Error: unknown extra parameter "${extra}"\n`);
    io.err(`\n${INJECT_USAGE}`);
    return 129;
  }
  const name = ctx.positionals[0]!;
  const ns = findNamespaces(ctx.views(), name, str(v, 'region'))[0];
  if (ns === undefined) {
    io.err(`  Error: ${name}: no such namespace\n`);
    return 1;
  }
  const t = target(ctx, ns);
  if (typeof t === 'string') {
    io.err(`${t}\n`);
    return 1;
  }
  const bounds = injectionBounds(ns);
  if (status) {
    const recs: Json[] = [];
    for (const b of t.pub.badblocks) {
      const s = Math.max(b.sector * SECTOR, bounds.start);
      const e = Math.min((b.sector + b.count) * SECTOR, bounds.start + bounds.size);
      if (e <= s) continue;
      const hex = (n: number): Json => (flag(v, 'human') ? `0x${n.toString(16)}` : n);
      recs.push({ block: hex((s - bounds.start) / SECTOR), count: hex((e - s) / SECTOR) });
    }
    if (recs.length > 0) io.out(`${formatJson({ badblocks: recs })}\n`);
    return 0;
  }
  const b = block as number;
  const n = count as number;
  const op = clear ? 'uninject' : 'inject';
  if (n === 0 || (b + n) * SECTOR > bounds.size) {
    io.err(`Unable to ${op} error: Invalid argument (-22)\n`);
    return 1;
  }
  try {
    await qmp(t.dataDir, clear ? 'x-nvmemu-clear-badblocks' : 'x-nvmemu-inject-badblocks', {
      id: t.pub.devid,
      sector: bounds.start / SECTOR + b,
      count: n,
    });
  } catch (e) {
    io.err(`Unable to ${op} error: ${(e as Error).message}\n`);
    return 1;
  }
  if (clear) {
    io.out(
      "Warning: Un-injecting previously injected errors here will\nnot cause the kernel to 'forget' its badblock entries. Those\nhave to be cleared through the normal process of writing\nthe affected blocks\n\n",
    );
  }
  io.out(`${formatJson(nsJsonNow(ctx, ns, t.dataDir))}\n`);
  return 0;
}

/**
 * clear-errors: every bad sector inside each named namespace's range loses its poison and is
 * rewritten with zeros (what clearing through the pmem driver's write path leaves).
 */
async function clearErrors(ctx: Ctx): Promise<number> {
  const name = ctx.positionals[0];
  if (name === undefined) {
    ctx.io.err(`  Error: specify a namespace to clear errors on\n\n${CLEAR_USAGE}`);
    return 129;
  }
  const list = findNamespaces(ctx.views(), name, str(ctx.values, 'region'));
  if (list.length === 0 && name !== 'all') {
    ctx.io.err(`  Error: ${name}: no such namespace\n`);
    return 1;
  }
  let cleared = 0;
  let failed = 0;
  for (const ns of list) {
    const t = target(ctx, ns);
    if (typeof t === 'string') {
      if (name === 'all') continue; // nothing to clear on devices without poison tracking
      ctx.io.err(`  Error: ${ns.dev}: clearing errors not supported\n`);
      failed++;
      continue;
    }
    const lo = ns.offset;
    const hi = ns.offset + ns.rawSize;
    try {
      for (const b of t.pub.badblocks) {
        const s = Math.max(b.sector * SECTOR, lo);
        const e = Math.min((b.sector + b.count) * SECTOR, hi);
        if (e <= s) continue;
        await qmp(t.dataDir, 'x-nvmemu-clear-badblocks', {
          id: t.pub.devid,
          sector: s / SECTOR,
          count: (e - s) / SECTOR,
        });
        zero(t.pub, s, e - s);
      }
      cleared++;
    } catch (e) {
      ctx.io.err(`  Error: ${ns.dev}: ${(e as Error).message}\n`);
      failed++;
    }
  }
  ctx.io.err(`cleared ${plural(cleared, 'namespace')}\n`);
  return failed > 0 ? 1 : 0;
}

function zero(pub: PmemRegionInfo, regionOffset: number, len: number): void {
  const fd = openSync(pub.backingFile, 'r+');
  try {
    const zeros = new Uint8Array(len);
    let done = 0;
    while (done < len)
      done += writeSync(fd, zeros, done, len - done, pub.backingOffset + regionOffset + done);
  } finally {
    closeSync(fd);
  }
}

export function injectCommand(argv: string[], io: CliIo): Promise<number> {
  return withRegions(argv, io, INJECT_OPTIONS, INJECT_USAGE, inject);
}

export function clearErrorsCommand(argv: string[], io: CliIo): Promise<number> {
  return withRegions(argv, io, CLEAR_OPTIONS, CLEAR_USAGE, clearErrors);
}
