// Option parsing shared by `nvmemu nvme <command>` (docs/nvme-cli.md). nvme-cli addresses a
// kernel device; nvmemu has none, so every command names the target instead, with nvme-cli's
// connect options: -t tcp -a ADDR -s PORT -n NQN [-q HOSTNQN] [-g] [-G]. I/O commands use -s for
// --start-block as nvme-cli does, so they take the port as --trsvcid. Security as nvme-cli 2.13's
// connect: --dhchap-secret, --dhchap-ctrl-secret (DH-HMAC-CHAP, answered when the target sets
// AUTHREQ.ATR), --tls with --tls-key (there is no kernel keyring to take the key from).

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import type { ConnectOptions, DhchapOptions, TlsOptions } from '../../nvme-tcp/host/index.js';
import { DISCOVERY_NQN } from '../../nvme-tcp/discovery.js';

import { parseOptions, UsageError, type OptionTable, type Values } from '../options.js';

export { UsageError, type Values };

type Opts = OptionTable;

/** Target options every command accepts. `-s` is dropped for commands that reuse it. */
export function targetOptions(withShortS: boolean): Opts {
  return {
    transport: { type: 'string', short: 't', default: 'tcp', description: 'transport (only tcp)' },
    traddr: {
      type: 'string',
      short: 'a',
      default: '127.0.0.1',
      valueName: 'ADDR',
      description: 'target address',
    },
    trsvcid: {
      type: 'string',
      ...(withShortS ? { short: 's' } : {}),
      valueName: 'PORT',
      description: 'target port (default 4420; discover: 8009)',
    },
    nqn: { type: 'string', short: 'n', description: 'subsystem NQN' },
    hostnqn: {
      type: 'string',
      short: 'q',
      valueName: 'NQN',
      description: 'host NQN (default: a per-process uuid NQN)',
    },
    // nvme-cli connect's -I: long only here (gen-tls-key's -I is --identity).
    hostid: {
      type: 'string',
      valueName: 'UUID',
      description: 'host identifier (Connect HOSTID; reservations name hosts by it)',
    },
    'hdr-digest': { type: 'boolean', short: 'g', default: false, description: 'header digests' },
    'data-digest': { type: 'boolean', short: 'G', default: false, description: 'data digests' },
    'dhchap-secret': {
      type: 'string',
      valueName: 'KEY',
      description: "the host's DH-HMAC-CHAP key (DHHC-1:xx:...:)",
    },
    'dhchap-ctrl-secret': {
      type: 'string',
      valueName: 'KEY',
      description: "the controller's key: authenticate it too (bidirectional)",
    },
    tls: { type: 'boolean', default: false, description: 'TLS 1.3 with a PSK (needs --tls-key)' },
    'tls-key': {
      type: 'string',
      valueName: 'KEY',
      description: 'configured TLS PSK (NVMeTLSkey-1:xx:...:)',
    },
    'tls-psk-derivation': {
      type: 'string',
      valueName: 'D',
      description: 'rfc8446 (default) or libnvme-compat (keys of nvme-cli <= 2.15)',
    },
    'output-format': {
      type: 'string',
      short: 'o',
      default: 'normal',
      valueName: 'FMT',
      description: 'normal, json or binary',
    },
    'namespace-id': { type: 'string', valueName: 'NSID', description: 'namespace id' },
    nsid: { type: 'string', valueName: 'NSID', description: 'same as --namespace-id' },
    help: { type: 'boolean', short: 'h', default: false, description: 'show this help' },
  };
}

export function parse(argv: readonly string[], options: Opts): Values {
  return parseOptions(argv, options).values;
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

/** The UUID of `nqn.2014-08.org.nvmexpress:uuid:<uuid>`, as 16 bytes. */
function uuidOfNqn(nqn: string | undefined): Uint8Array | undefined {
  const m = /:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(
    nqn ?? '',
  );
  return m === null ? undefined : Uint8Array.from(Buffer.from(m[1]!.replace(/-/g, ''), 'hex'));
}

/** This machine's and user's host identifier for `nvmemu nvme` (stable across invocations). */
function stableHostId(): Uint8Array {
  const seed = `nvmemu-host:${hostname()}:${process.getuid?.() ?? 0}`;
  return Uint8Array.from(createHash('sha256').update(seed).digest().subarray(0, 16));
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
  const hostidText = str(v, 'hostid');
  let hostid: Uint8Array | undefined;
  if (hostidText !== undefined) {
    const hex = hostidText.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) {
      throw new UsageError(`invalid value '${hostidText}' for --hostid (a UUID)`);
    }
    hostid = Uint8Array.from(Buffer.from(hex, 'hex'));
  }
  // Reservations register hosts by this identifier, so it must not change from one command to
  // the next: the UUID of a uuid host NQN (as nvme-cli), else one per machine and user.
  hostid ??= uuidOfNqn(hostnqn) ?? stableHostId();
  const dhchap = dhchapOptions(v);
  const tls = tlsOptions(v);
  return {
    ...(hostid !== undefined ? { hostid } : {}),
    ...(dhchap !== undefined ? { dhchap } : {}),
    ...(tls !== undefined ? { tls } : {}),
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

function dhchapOptions(v: Values): DhchapOptions | undefined {
  const secret = str(v, 'dhchap-secret');
  const ctrlSecret = str(v, 'dhchap-ctrl-secret');
  if (secret === undefined) {
    if (ctrlSecret !== undefined) {
      throw new UsageError(
        '--dhchap-ctrl-secret needs --dhchap-secret (the host authenticates first)',
      );
    }
    return undefined;
  }
  return { secret, ...(ctrlSecret !== undefined ? { ctrlSecret } : {}) };
}

function tlsOptions(v: Values): TlsOptions | undefined {
  const key = str(v, 'tls-key');
  const derivation = str(v, 'tls-psk-derivation') ?? 'rfc8446';
  if (derivation !== 'rfc8446' && derivation !== 'libnvme-compat') {
    throw new UsageError(`invalid --tls-psk-derivation '${derivation}' (rfc8446, libnvme-compat)`);
  }
  if (v.tls !== true) {
    if (key !== undefined) throw new UsageError('--tls-key needs --tls');
    return undefined;
  }
  if (key === undefined) {
    throw new UsageError(
      '--tls needs --tls-key=NVMeTLSkey-1:...: (nvmemu has no kernel keyring to look the PSK up in)',
    );
  }
  return { key, derivation };
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
