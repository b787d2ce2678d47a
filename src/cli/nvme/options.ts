// Option parsing shared by `nvmemu nvme <command>` (docs/nvme-cli.md). nvme-cli addresses a
// kernel device; nvmemu has none, so every command names the target instead, with nvme-cli's
// connect options: -t tcp -a ADDR -s PORT -n NQN [-q HOSTNQN] [-g] [-G]. I/O commands use -s for
// --start-block as nvme-cli does, so they take the port as --trsvcid.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import type { ConnectOptions } from '../../nvme-tcp/host/index.js';
import { DISCOVERY_NQN } from '../../nvme-tcp/discovery.js';

export class UsageError extends Error {}

type Opts = NonNullable<ParseArgsConfig['options']>;

/** Target options every command accepts. `-s` is dropped for commands that reuse it. */
export function targetOptions(withShortS: boolean): Opts {
  return {
    transport: { type: 'string', short: 't', default: 'tcp' },
    traddr: { type: 'string', short: 'a', default: '127.0.0.1' },
    trsvcid: withShortS ? { type: 'string', short: 's' } : { type: 'string' },
    nqn: { type: 'string', short: 'n' },
    hostnqn: { type: 'string', short: 'q' },
    'hdr-digest': { type: 'boolean', short: 'g', default: false },
    'data-digest': { type: 'boolean', short: 'G', default: false },
    'output-format': { type: 'string', short: 'o', default: 'normal' },
    'namespace-id': { type: 'string' },
    nsid: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  };
}

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parse(argv: readonly string[], options: Opts): Values {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export function str(v: Values, name: string): string | undefined {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
}

/** Integer option (decimal or 0x hex); `def` when absent. */
export function num(v: Values, name: string, def?: number): number {
  const s = str(v, name);
  if (s === undefined) {
    if (def === undefined) throw new UsageError(`missing required option --${name}`);
    return def;
  }
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`invalid value '${s}' for --${name}`);
  return n;
}

/** Comma-separated integer list (dsm --slbs, attach-ns --controllers). */
export function numList(v: Values, name: string): number[] {
  const s = str(v, name);
  if (s === undefined || s === '') return [];
  return s.split(',').map((p) => num({ [name]: p.trim() }, name));
}

export function nsidOf(v: Values, def?: number): number {
  const s = str(v, 'namespace-id') ?? str(v, 'nsid');
  return s === undefined ? num({}, 'namespace-id', def) : num({ n: s }, 'n');
}

export function outputFormat(v: Values): 'normal' | 'json' | 'binary' {
  const f = str(v, 'output-format') ?? 'normal';
  if (f !== 'normal' && f !== 'json' && f !== 'binary') {
    throw new UsageError(`invalid output format '${f}' (normal, json, binary)`);
  }
  return f;
}

/** The controller connection a command asks for. */
export function connectOptions(
  v: Values,
  opts: { discovery?: boolean; ioQueues?: number } = {},
): ConnectOptions {
  const transport = str(v, 'transport');
  if (transport !== 'tcp') {
    throw new UsageError(`transport '${transport ?? ''}' is not supported (only tcp)`);
  }
  const discovery = opts.discovery === true;
  const nqn = str(v, 'nqn') ?? (discovery ? DISCOVERY_NQN : undefined);
  if (nqn === undefined) throw new UsageError('missing required option -n/--nqn');
  const hostnqn = str(v, 'hostnqn');
  return {
    address: str(v, 'traddr') ?? '127.0.0.1',
    port: num(v, 'trsvcid', discovery ? 8009 : 4420),
    subnqn: nqn,
    ...(hostnqn !== undefined ? { hostnqn } : {}),
    hdgst: v['hdr-digest'] === true,
    ddgst: v['data-digest'] === true,
    ioQueues: opts.ioQueues ?? 0,
    kato: 0,
    discovery,
  };
}

/** Runs `fn` on a fresh association and always disconnects. */
export async function withController<T>(
  v: Values,
  ioQueues: number,
  fn: (c: NvmeTcpController) => Promise<T>,
): Promise<T> {
  const c = await NvmeTcpController.connect(connectOptions(v, { ioQueues }));
  try {
    return await fn(c);
  } finally {
    await c.disconnect();
  }
}
