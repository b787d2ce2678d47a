// The listening side of the target: an I/O port (default 4420) and a discovery port (default
// 8009), both served by one FabricsTarget, so a Connect may name any subsystem on either port as
// nvmet allows. Loopback by default; the caller decides the address.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { SubsystemSource } from './backend.js';
import { DEFAULT_TARGET_OPTIONS, TargetConnection } from './connection.js';
import type { TargetTransportOptions } from './connection.js';
import { discoverySubsystem } from './discovery-ctrl.js';
import type { PortInfo } from './discovery-ctrl.js';
import { FabricsTarget } from './fabrics.js';
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

  private constructor(
    fabrics: FabricsTarget,
    servers: Server[],
    ioPort: PortInfo,
    discoveryPort: PortInfo | undefined,
  ) {
    this.fabrics = fabrics;
    this.#servers = servers;
    this.ioPort = ioPort;
    this.discoveryPort = discoveryPort;
  }

  /** Starts listening; rejects (nothing left open) when a port cannot be bound. */
  static async start(source: SubsystemSource, opts: TcpTargetOptions = {}): Promise<TcpTarget> {
    const transport: TargetTransportOptions = {
      maxH2CData: opts.maxH2CData ?? DEFAULT_TARGET_OPTIONS.maxH2CData,
      inCapsuleSize: opts.inCapsuleSize ?? DEFAULT_TARGET_OPTIONS.inCapsuleSize,
      c2hChunk: opts.c2hChunk ?? DEFAULT_TARGET_OPTIONS.c2hChunk,
      r2tChunk: opts.r2tChunk ?? DEFAULT_TARGET_OPTIONS.r2tChunk,
      c2hSuccess: opts.c2hSuccess ?? DEFAULT_TARGET_OPTIONS.c2hSuccess,
      icTimeoutMs: opts.icTimeoutMs ?? DEFAULT_TARGET_OPTIONS.icTimeoutMs,
    };
    const host = opts.host ?? '127.0.0.1';
    const servers: Server[] = [];
    const ports: { io?: PortInfo; disc?: PortInfo } = {};
    const fabrics = new FabricsTarget(source, {
      katoGraceMs: opts.katoGraceMs ?? 5000,
      inCapsuleSize: transport.inCapsuleSize,
    });
    // Sockets accepted before the target object exists (a tiny window) are refused.
    const holder: { target?: TcpTarget } = {};
    const accept = (socket: Socket): void => {
      if (holder.target === undefined) return void socket.destroy();
      holder.target.#accept(socket, transport);
    };
    try {
      const io = createServer(accept);
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
        const disc = createServer(accept);
        servers.push(disc);
        ports.disc = { portid: 2, address: host, port: await listen(disc, host, dp), ...adv };
      }
    } catch (e) {
      for (const s of servers) s.close();
      throw e;
    }
    const ioPort = ports.io;
    const discPort = ports.disc;
    const target = new TcpTarget(fabrics, servers, ioPort, discPort);
    holder.target = target;
    // The discovery subsystem lists the NVM subsystems at the I/O port (§2.6).
    const disc = discoverySubsystem({
      subsystems: () => fabrics.subsystems,
      ioPort,
      discoveryPort: discPort ?? ioPort,
    });
    fabrics.addSubsystem(disc);
    return target;
  }

  get connections(): readonly TargetConnection[] {
    return [...this.#connections];
  }

  #accept(socket: Socket, transport: TargetTransportOptions): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const conn = new TargetConnection(
      socket,
      {
        execute: (c, cmd, data) => this.fabrics.execute(c, cmd, data),
        closed: (c) => {
          this.#connections.delete(c);
          this.fabrics.closed(c);
        },
      },
      transport,
    );
    this.#connections.add(conn);
  }

  /** Lines for `nvmemu run`'s summary. */
  describe(): string[] {
    const lines = [`nvme-tcp: listening on ${this.ioPort.address}:${this.ioPort.port}`];
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
