// NVMe/TCP target: public surface, and `startNvmeTcp` which `nvmemu run` calls to serve the
// machine's controllers (reference nvme-tcp.md §6; docs/nvme-tcp.md).

import { EmuError, ErrorCode } from '../../util/errors.js';
import { machineSubsystems, type MachineView } from './machine.js';
import { TcpTarget } from './port.js';
import type { TcpTargetOptions } from './port.js';
import { parseTargetSettings } from './options.js';

export { TcpTarget } from './port.js';
export type { TcpTargetOptions } from './port.js';
export type { FabricsSubsystem, SubsystemSource } from './backend.js';
export { FabricsTarget, FcType, ConnectStatus } from './fabrics.js';
export { TargetConnection, DEFAULT_TARGET_OPTIONS } from './connection.js';
export type { TargetTransportOptions } from './connection.js';
export { machineSubsystems, type MachineView } from './machine.js';
export { discoverySubsystem } from './discovery-ctrl.js';
export { Association, AUTHREQ_ATR } from './association.js';
export { AssociationAuth } from './queue-auth.js';
export { TargetCounters, TargetLog, DEFAULT_LIMITS } from './limits.js';
export type { TargetLimits, LimitName } from './limits.js';
export { parseTargetSettings, TARGET_OPTIONS_SCHEMA } from './options.js';
export type { TargetSettings } from './options.js';
export { pskFor, tlsDiscoveryFields } from './tls-port.js';
export type { TlsMode } from './tls-port.js';

export interface StartNvmeTcpOptions {
  /** `host:port` (IPv6 as `[addr]:port`); default 127.0.0.1:4420; port 0 picks a free one. */
  readonly listen: string;
  /** Discovery port (default 8009; 0 picks a free one; null disables discovery). */
  readonly discoveryPort?: number | null;
  /** Per-SUBNQN allow-lists of host NQNs (default: any host), like nvmet's allowed_hosts. */
  readonly allowedHosts?: ReadonlyMap<string, readonly string[]>;
  /** Address the discovery log names (`--advertise`), e.g. 10.0.2.2 for a QEMU guest. */
  readonly advertise?: string;
  /** Transport tuning (MAXH2CDATA, in-capsule size, ...); see TcpTargetOptions. */
  readonly transport?: Omit<TcpTargetOptions, 'host' | 'port' | 'discoveryPort'>;
  /** `--nvme-tcp KEY=VALUE,...` (options.ts): TLS mode and limits; they override `transport`. */
  readonly settings?: string;
}

export interface NvmeTcpService {
  close(): Promise<void>;
  /** Summary lines for `nvmemu run`. */
  describe(): string[];
  readonly target: TcpTarget;
}

/** Parses `host:port`, `[v6]:port`, `host` or `:port`. */
export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*))(?::(\d+))?$/.exec(spec.trim());
  const host = m?.[1] ?? m?.[2] ?? '';
  const port = m?.[3] === undefined ? 4420 : Number(m[3]);
  if (m === null || port > 65535) {
    throw new EmuError(ErrorCode.EMU_ERR_CONFIG, `invalid --listen '${spec}' (expected HOST:PORT)`);
  }
  return { host: host === '' ? '127.0.0.1' : host, port };
}

/**
 * Serves every NVM subsystem of `machine` over NVMe/TCP, plus a discovery controller. The
 * subsystems are read from `machine` live (hotplug, power cuts: pass the monitor's switch).
 */
export async function startNvmeTcp(
  machine: MachineView,
  opts: StartNvmeTcpOptions,
): Promise<NvmeTcpService> {
  const { host, port } = parseListen(opts.listen);
  const settings = opts.settings === undefined ? undefined : parseTargetSettings(opts.settings);
  const { source, warnings } = machineSubsystems(machine, opts.allowedHosts);
  const target = await TcpTarget.start(source, {
    ...opts.transport,
    ...(settings === undefined
      ? {}
      : {
          tls: settings.tls,
          limits: settings.limits,
          icTimeoutMs: settings.icTimeoutMs,
          inCapsuleSize: settings.inCapsuleSize,
        }),
    host,
    port,
    discoveryPort: opts.discoveryPort === undefined ? 8009 : opts.discoveryPort,
    ...(opts.advertise === undefined ? {} : { advertise: opts.advertise }),
  });
  return {
    target,
    close: () => target.close(),
    describe: () => [...target.describe(), ...warnings.map((w) => `nvme-tcp: warning: ${w}`)],
  };
}
