// `nvmemu run --nvme-tcp KEY=VALUE,...`: the target's TLS mode and limits in QEMU's keyval
// syntax, checked against one schema (DESIGN rule 7) with messages naming the key:
//
//   tls=none|required|not-required      TLS 1.3 with a PSK on the I/O port (tls-port.ts)
//   ic-timeout=MS                       accept to ICReq (default 10000)
//   connect-timeout=MS                  ICResp to Connect (default 10000)
//   auth-timeout=MS                     Connect to authenticated; a stalled transaction
//   max-connections=N                   per port (default 1024)
//   max-connections-per-address=N       per port and peer address (default 256)
//   max-io-queues-per-host=N            I/O queues of one host NQN (default 256)
//   max-queue-depth=N                   entries of one queue (default 1024)
//   max-r2t=N                           R2Ts outstanding per connection (default 256)
//   in-capsule-size=SIZE                in-capsule data on I/O queues (default 8K; IOCCSZ)

import { ConfigError } from '../../config/errors.js';
import { flattenKeyval, parseKeyval } from '../../config/keyval.js';
import { resolveProps, type PropDef, type TypeSchema } from '../../config/schema.js';
import { DEFAULT_TARGET_OPTIONS } from './connection.js';
import { DEFAULT_LIMITS, type TargetLimits } from './limits.js';
import type { TlsMode } from './tls-port.js';

interface Ranged {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly def: number;
  readonly description: string;
}

const MS_MAX = 3_600_000;
const RANGED: readonly Ranged[] = [
  {
    name: 'ic-timeout',
    min: 100,
    max: MS_MAX,
    def: DEFAULT_TARGET_OPTIONS.icTimeoutMs,
    description: 'ms',
  },
  {
    name: 'connect-timeout',
    min: 100,
    max: MS_MAX,
    def: DEFAULT_LIMITS.connectTimeoutMs,
    description: 'ms',
  },
  {
    name: 'auth-timeout',
    min: 100,
    max: MS_MAX,
    def: DEFAULT_LIMITS.authTimeoutMs,
    description: 'ms',
  },
  {
    name: 'max-connections',
    min: 1,
    max: 65536,
    def: DEFAULT_LIMITS.maxConnections,
    description: 'per port',
  },
  {
    name: 'max-connections-per-address',
    min: 1,
    max: 65536,
    def: DEFAULT_LIMITS.maxConnectionsPerAddress,
    description: 'per port and peer address',
  },
  {
    name: 'max-io-queues-per-host',
    min: 1,
    max: 65535,
    def: DEFAULT_LIMITS.maxIoQueuesPerHost,
    description: 'per host NQN',
  },
  // SQSIZE is 16 bits (0's based); a queue needs 2 entries.
  {
    name: 'max-queue-depth',
    min: 2,
    max: 65536,
    def: DEFAULT_LIMITS.maxQueueDepth,
    description: 'entries',
  },
  // TTAGs are 16 bits and 0xffff is reserved.
  {
    name: 'max-r2t',
    min: 1,
    max: 65534,
    def: DEFAULT_LIMITS.maxOutstandingR2t,
    description: 'per connection',
  },
];
const IN_CAPSULE_MAX = 1 << 20;

export const TARGET_OPTIONS_SCHEMA: TypeSchema = {
  typeName: 'nvme-tcp',
  kind: 'object',
  props: [
    {
      name: 'tls',
      type: { kind: 'enum', values: ['none', 'required', 'not-required'] },
      default: 'none',
      description: 'TLS 1.3 with a PSK on the I/O port',
    },
    ...RANGED.map((r): PropDef => ({
      name: r.name,
      type: { kind: 'uint', bits: 32 },
      default: r.def,
      description: r.description,
    })),
    {
      name: 'in-capsule-size',
      type: { kind: 'size' },
      default: BigInt(DEFAULT_TARGET_OPTIONS.inCapsuleSize),
      description: 'in-capsule data bytes on I/O queues',
    },
  ],
};

/** What `--nvme-tcp` sets. */
export interface TargetSettings {
  readonly tls: TlsMode;
  readonly limits: TargetLimits;
  readonly icTimeoutMs: number;
  readonly inCapsuleSize: number;
}

/** Parses the `--nvme-tcp` text (undefined or '': every default). */
export function parseTargetSettings(text: string | undefined): TargetSettings {
  const where = `--nvme-tcp ${text ?? ''}`;
  try {
    const raw =
      text === undefined || text === ''
        ? new Map<string, string>()
        : flattenKeyval(parseKeyval(text, { flat: true }).tree);
    const props = resolveProps(TARGET_OPTIONS_SCHEMA, raw, 'object');
    const n = (name: string): number => {
      const r = RANGED.find((x) => x.name === name)!;
      const v = props.num(name);
      if (v < r.min || v > r.max) {
        throw new ConfigError(`${name} must be ${r.min}..${r.max}, got ${v}`, name);
      }
      return v;
    };
    const icc = props.big('in-capsule-size');
    if (icc > BigInt(IN_CAPSULE_MAX) || icc % 16n !== 0n) {
      throw new ConfigError(
        `in-capsule-size must be a multiple of 16 up to ${IN_CAPSULE_MAX} (IOCCSZ counts 16-byte units)`,
        'in-capsule-size',
      );
    }
    return {
      tls: (props.str('tls') ?? 'none') as TlsMode,
      icTimeoutMs: n('ic-timeout'),
      inCapsuleSize: Number(icc),
      limits: {
        connectTimeoutMs: n('connect-timeout'),
        authTimeoutMs: n('auth-timeout'),
        maxConnections: n('max-connections'),
        maxConnectionsPerAddress: n('max-connections-per-address'),
        maxIoQueuesPerHost: n('max-io-queues-per-host'),
        maxQueueDepth: n('max-queue-depth'),
        maxOutstandingR2t: n('max-r2t'),
      },
    };
  } catch (e) {
    if (e instanceof ConfigError && e.location === undefined) e.location = where;
    throw e;
  }
}
