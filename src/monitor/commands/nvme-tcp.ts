// NVMe/TCP and NVMe events on the monitor:
//   x-nvmemu-query-nvme-tcp   the listening ports and every live association (host NQN, cntlid,
//                             queues with their peer address and negotiated digests);
//   NVMEMU_NVME_TCP_ASSOCIATION  an association to an NVM subsystem began or ended
//                             (discovery associations, one per `nvme discover`, are listed by
//                             the query but raise no event);
//   NVMEMU_NVME_MEDIA_ERROR   a command met an injected media error (nvme/ns/media-faults.ts).

import { onTrace, type TraceEvents } from '../../trace/catalogue.js';
import type { Association } from '../../nvme-tcp/target/association.js';
import type { TargetConnection } from '../../nvme-tcp/target/connection.js';
import { genericError } from '../errors.js';
import type { Monitor, QmpCommand } from '../monitor.js';
import { isNamespace } from './nvme.js';
import { NvmeDevice } from '../../nvme/index.js';

interface Peer {
  readonly address: string;
  readonly port: number;
}

/** Peer of each association's admin connection, kept for its `disconnected` event. */
const peers = new WeakMap<Association, Peer>();

function peerOf(conn: TargetConnection): Peer {
  return { address: conn.socket.remoteAddress ?? '', port: conn.socket.remotePort ?? 0 };
}

function queueInfo(a: Association, qid: number, conn: TargetConnection) {
  const p = peerOf(conn);
  const auth = a.authState;
  return {
    qid,
    sqsize: conn.binding?.sqsize ?? 0,
    'peer-address': p.address,
    'peer-port': p.port,
    'header-digest': conn.digests.header,
    'data-digest': conn.digests.data,
    // Security (docs/security.md): outcomes and names only, never key material.
    ...(auth !== undefined
      ? {
          authenticated: auth.authenticated(qid),
          ...(auth.negotiated(qid) !== undefined ? { dhchap: auth.negotiated(qid) } : {}),
        }
      : {}),
    ...(conn.tls !== undefined ? { 'tls-identity': conn.tls.identity } : {}),
  };
}

export function associationInfo(a: Association) {
  const p = peers.get(a) ?? peerOf(a.admin);
  const io = [...a.io.entries()].sort(([x], [y]) => x - y);
  return {
    subnqn: a.subsys.nqn,
    'subsystem-type': a.subsys.kind,
    hostnqn: a.hostnqn,
    cntlid: a.ctrl.cntlid,
    ready: a.ready,
    kato: a.kato,
    'peer-address': p.address,
    'peer-port': p.port,
    'header-digest': a.admin.digests.header,
    'data-digest': a.admin.digests.data,
    'io-queues': io.length,
    authentication: a.authState === undefined ? 'none' : 'dh-hmac-chap',
    queues: [queueInfo(a, 0, a.admin), ...io.map(([qid, c]) => queueInfo(a, qid, c))],
  };
}

export const nvmeTcpCommands: readonly QmpCommand[] = [
  {
    name: 'x-nvmemu-query-nvme-tcp',
    args: [],
    run: ({ monitor }) => {
      const target = monitor.hooks.nvmeTcp?.target;
      if (target === undefined) {
        throw genericError('NVMe/TCP is not served by this machine (nvmemu run --listen none)');
      }
      const port = (p: { address: string; port: number }) => ({ address: p.address, port: p.port });
      return {
        listen: port(target.ioPort),
        tls: target.tls,
        ...(target.discoveryPort !== undefined ? { discovery: port(target.discoveryPort) } : {}),
        subsystems: target.fabrics.subsystems
          .filter((s) => s.kind === 'nvm')
          .map((s) => ({ nqn: s.nqn, cntlids: s.controllers().map((c) => c.cntlid) })),
        associations: target.fabrics.associations.map(associationInfo),
      };
    },
  },
];

type MediaError = TraceEvents['nvme:ns:media-error'];

/** The monitor's id (or QOM path) of the namespace whose faults raised `m`, if it is ours. */
function faultOwner(monitor: Monitor, m: MediaError): string | undefined {
  const owns = (c: unknown) =>
    isNamespace(c) && (c as { mediaFaults?: unknown }).mediaFaults === m.source;
  for (const c of monitor.machine.components()) {
    if (owns(c)) return c.id ?? '';
    if (c instanceof NvmeDevice && owns(c.legacyNamespace)) return c.id ?? '';
  }
  return undefined;
}

/**
 * Connects the monitor's NVMe events: association changes of its NVMe/TCP service and media
 * errors of its machine's namespaces (the diagnostics channel is process wide: other machines'
 * hits are ignored). Returns the disconnect function.
 */
export function wireNvmeEvents(monitor: Monitor): () => void {
  const offHits = onTrace('nvme:ns:media-error', (m) => {
    const device = faultOwner(monitor, m);
    if (device === undefined) return;
    monitor.emit('NVMEMU_NVME_MEDIA_ERROR', {
      ...(device !== '' ? { device } : {}),
      nsid: m.nsid,
      type: m.kind,
      lba: m.slba,
      count: m.nlb,
      status: m.status,
    });
  });
  const off = monitor.hooks.nvmeTcp?.target.fabrics.onAssociation((event, a) => {
    if (event === 'connected') peers.set(a, peerOf(a.admin));
    if (a.subsys.kind !== 'nvm') return;
    const p = peers.get(a) ?? peerOf(a.admin);
    monitor.emit('NVMEMU_NVME_TCP_ASSOCIATION', {
      action: event,
      subnqn: a.subsys.nqn,
      hostnqn: a.hostnqn,
      cntlid: a.ctrl.cntlid,
      'peer-address': p.address,
      'peer-port': p.port,
    });
  });
  return () => {
    offHits();
    off?.();
  };
}
