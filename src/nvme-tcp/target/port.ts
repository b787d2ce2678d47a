// The listening side of the target: an I/O port (default 4420) and a discovery port (default
// 8009), both served by one FabricsTarget, so a Connect may name any subsystem on either port as
// nvmet allows. Loopback by default; the caller decides the address.
//
// At accept, each port applies its connection limits (limits.ts: max-connections,
// max-connections-per-address) and the I/O port its TLS mode (tls-port.ts); the discovery port
// is always plain.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { SubsystemSource } from './backend.js';
import { DEFAULT_TARGET_OPTIONS, TargetConnection } from './connection.js';
import type { TargetTransportOptions } from './connection.js';
import { discoverySubsystem } from './discovery-ctrl.js';
import type { PortInfo } from './discovery-ctrl.js';
import { FabricsTarget } from './fabrics.js';
import {
  DEFAULT_LIMITS,
  TargetCounters,
  TargetLog,
  type LimitName,
  type TargetLimits,
} from './limits.js';
import { acceptSecure, type TlsMode } from './tls-port.js';
import { ticketsDisabled } from '../tls/tickets.js';
import type { TlsSession } from './connection.js';
import { EmuError, ErrorCode } from '../../util/errors.js';

export interface TcpTargetOptions extends Partial<TargetTransportOptions> {
  /** Listen address (default 127.0.0.1). */
  readonly host?: string;
  /** I/O port (default 4420; 0 picks a free port). */
  readonly port?: number;
  /** Discovery port (default 8009; 0 picks a free port; null: no discovery listener). */
  readonly discoveryPort?: number | null;
  /** Grace added to KATO before an association is torn down (default 5000 ms). */
  readonly katoGraceMs?: number;
  /** Address the discovery log advertises instead of the listen address. */
  readonly advertise?: string;
  /** TLS 1.3 on the I/O port (default none). */
  readonly tls?: TlsMode;
  /** Resource limits (limits.ts); unset ones keep their defaults. */
  readonly limits?: Partial<TargetLimits>;
  /** Where log lines go (default stderr). */
  readonly log?: (line: string) => void;
}

/** One listening port's open connections, for its limits. */
interface PortState {
  readonly name: string;
  open: number;
  readonly byAddress: Map<string, number>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      reject(
        new EmuError(ErrorCode.EMU_ERR_CONFIG, `cannot listen on ${host}:${port}: ${e.message}`, {
          cause: e,
        }),
      );
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export class TcpTarget {
  readonly fabrics: FabricsTarget;
  readonly ioPort: PortInfo;
  readonly discoveryPort: PortInfo | undefined;
  readonly #servers: Server[];
  readonly #connections = new Set<TargetConnection>();
  readonly #sockets = new Set<Socket>();
  /** Monotonic counters (x-nvmemu-query-stats provider "nvme-tcp"). */
  readonly counters: TargetCounters;
  readonly limits: TargetLimits;
  /** TLS on the I/O port. */
  readonly tls: TlsMode;
  readonly #log: TargetLog;

  private constructor(
    fabrics: FabricsTarget,
    servers: Server[],
    ioPort: PortInfo,
    discoveryPort: PortInfo | undefined,
    shared: { counters: TargetCounters; limits: TargetLimits; log: TargetLog; tls: TlsMode },
  ) {
    this.counters = shared.counters;
    this.limits = shared.limits;
    this.#log = shared.log;
    this.tls = shared.tls;
    this.fabrics = fabrics;
    this.#servers = servers;
    this.ioPort = ioPort;
    this.discoveryPort = discoveryPort;
  }

  /** Starts listening; rejects (nothing left open) when a port cannot be bound. */
  static async start(source: SubsystemSource, opts: TcpTargetOptions = {}): Promise<TcpTarget> {
    const limits: TargetLimits = { ...DEFAULT_LIMITS, ...opts.limits };
    const counters = new TargetCounters();
    const log = new TargetLog(opts.log);
    const tls = opts.tls ?? 'none';
    const transport: TargetTransportOptions = {
      maxH2CData: opts.maxH2CData ?? DEFAULT_TARGET_OPTIONS.maxH2CData,
      inCapsuleSize: opts.inCapsuleSize ?? DEFAULT_TARGET_OPTIONS.inCapsuleSize,
      c2hChunk: opts.c2hChunk ?? DEFAULT_TARGET_OPTIONS.c2hChunk,
      r2tChunk: opts.r2tChunk ?? DEFAULT_TARGET_OPTIONS.r2tChunk,
      c2hSuccess: opts.c2hSuccess ?? DEFAULT_TARGET_OPTIONS.c2hSuccess,
      icTimeoutMs: opts.icTimeoutMs ?? DEFAULT_TARGET_OPTIONS.icTimeoutMs,
      connectTimeoutMs: limits.connectTimeoutMs,
      maxOutstandingR2t: limits.maxOutstandingR2t,
    };
    const host = opts.host ?? '127.0.0.1';
    const servers: Server[] = [];
    const ports: { io?: PortInfo; disc?: PortInfo } = {};
    const fabrics = new FabricsTarget(source, {
      katoGraceMs: opts.katoGraceMs ?? 5000,
      inCapsuleSize: transport.inCapsuleSize,
      limits,
      counters,
      log,
    });
    // Sockets accepted before the target object exists (a tiny window) are refused.
    const holder: { target?: TcpTarget } = {};
    const ioState: PortState = { name: 'I/O port', open: 0, byAddress: new Map() };
    const discState: PortState = { name: 'discovery port', open: 0, byAddress: new Map() };
    const acceptOn =
      (port: PortState, mode: TlsMode) =>
      (socket: Socket): void => {
        if (holder.target === undefined) return void socket.destroy();
        holder.target.#accept(socket, transport, port, mode);
      };
    try {
      const io = createServer(acceptOn(ioState, tls));
      servers.push(io);
      const adv = opts.advertise === undefined ? {} : { advertise: opts.advertise };
      ports.io = {
        portid: 1,
        address: host,
        port: await listen(io, host, opts.port ?? 4420),
        ...adv,
      };
      const dp = opts.discoveryPort === undefined ? 8009 : opts.discoveryPort;
      if (dp !== null) {
        const disc = createServer(acceptOn(discState, 'none'));
        servers.push(disc);
        ports.disc = { portid: 2, address: host, port: await listen(disc, host, dp), ...adv };
      }
    } catch (e) {
      for (const s of servers) s.close();
      throw e;
    }
    const ioPort = ports.io;
    const discPort = ports.disc;
    if (tls !== 'none' && !ticketsDisabled()) {
      log.line(
        'warning: TLS 1.3 session tickets are on in this process; Linux hosts (kernel TLS) fail ' +
          "with 'unhandled TLS record 22'. Start the process with OPENSSL_CONF naming a file " +
          'that sets NumTickets = 0 (nvmemu run does; docs/security.md)',
      );
    }
    const target = new TcpTarget(fabrics, servers, ioPort, discPort, {
      counters,
      limits,
      log,
      tls,
    });
    holder.target = target;
    // The discovery subsystem lists the NVM subsystems at the I/O port (§2.6).
    const disc = discoverySubsystem({
      subsystems: () => fabrics.subsystems,
      ioPort,
      discoveryPort: discPort ?? ioPort,
      tls,
    });
    fabrics.addSubsystem(disc);
    return target;
  }

  get connections(): readonly TargetConnection[] {
    return [...this.#connections];
  }

  #accept(socket: Socket, transport: TargetTransportOptions, port: PortState, mode: TlsMode): void {
    const address = socket.remoteAddress ?? '';
    const fromAddress = port.byAddress.get(address) ?? 0;
    const refuse =
      port.open >= this.limits.maxConnections
        ? (['max-connections', `${port.open} connections open`] as const)
        : fromAddress >= this.limits.maxConnectionsPerAddress
          ? ([
              'max-connections-per-address',
              `${fromAddress} connections open from ${address}`,
            ] as const)
          : undefined;
    if (refuse !== undefined) {
      this.counters.connectionsRefused++;
      this.#log.limit(
        refuse[0],
        `${port.name}: refused a connection from ${address}:${socket.remotePort ?? 0}: ${refuse[1]}`,
      );
      socket.destroy();
      return;
    }
    this.counters.connectionsAccepted++;
    this.counters.connectionsOpen++;
    port.open++;
    port.byAddress.set(address, fromAddress + 1);
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.counters.connectionsOpen--;
      port.open--;
      const n = (port.byAddress.get(address) ?? 1) - 1;
      if (n === 0) port.byAddress.delete(address);
      else port.byAddress.set(address, n);
    });
    acceptSecure(socket, {
      mode,
      subsystems: () => this.fabrics.subsystems,
      timeoutMs: transport.icTimeoutMs,
      ready: (s, tls) => this.#serve(s, transport, tls),
      failed: (why, identity) => {
        this.counters.tlsFailures++;
        const who = identity === undefined ? '' : ` (identity '${identity}')`;
        this.#log.line(
          `${port.name}: TLS handshake with ${address}:${socket.remotePort ?? 0}${who} failed: ${why}`,
        );
      },
    });
  }

  #serve(socket: Socket, transport: TargetTransportOptions, tls: TlsSession | undefined): void {
    if (tls !== undefined) this.counters.tlsHandshakes++;
    const conn = new TargetConnection(
      socket,
      {
        execute: (c, cmd, data) => this.fabrics.execute(c, cmd, data),
        closed: (c) => {
          this.#connections.delete(c);
          this.fabrics.closed(c);
        },
        bite: (c, limit, detail) => this.#bite(c, limit, detail),
      },
      transport,
      tls,
    );
    this.#connections.add(conn);
  }

  /** A limit bit on a connection: count it and log one line (rate limited per limit). */
  #bite(conn: TargetConnection, limit: LimitName, detail: string): void {
    const c = this.counters;
    switch (limit) {
      case 'ic-timeout':
        c.icTimeouts++;
        break;
      case 'connect-timeout':
        c.connectTimeouts++;
        break;
      case 'max-r2t':
        c.r2tDeferred++;
        break;
      case 'in-capsule-size':
        c.oversizedCapsules++;
        break;
      case 'auth-timeout':
      case 'max-connections':
      case 'max-connections-per-address':
      case 'max-io-queues-per-host':
      case 'max-queue-depth':
        break;
    }
    const closing = limit === 'ic-timeout' || limit === 'connect-timeout' ? '; closing' : '';
    this.#log.limit(limit, `${conn.peer}: ${detail}${closing}`);
  }

  /** Lines for `nvmemu run`'s summary. */
  describe(): string[] {
    const tls = this.tls === 'none' ? '' : ` (TLS ${this.tls})`;
    const lines = [`nvme-tcp: listening on ${this.ioPort.address}:${this.ioPort.port}${tls}`];
    for (const s of this.fabrics.subsystems) {
      if (s.kind !== 'nvm') continue;
      const ids = s
        .controllers()
        .map((c) => c.cntlid)
        .join(',');
      lines.push(`  subsystem ${s.nqn} (cntlid ${ids})`);
    }
    if (this.discoveryPort !== undefined) {
      lines.push(`nvme-tcp: discovery on ${this.discoveryPort.address}:${this.discoveryPort.port}`);
    }
    return lines;
  }

  /** Stops listening, ends every association and connection. */
  async close(): Promise<void> {
    const closing = this.#servers.map(
      (s) => new Promise<void>((resolve) => s.close(() => resolve())),
    );
    this.fabrics.closeAll();
    for (const c of [...this.#connections]) c.close('target shut down');
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closing);
  }
}
