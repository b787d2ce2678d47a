// NVMe/TCP on the monitor:
//   x-nvmemu-query-nvme-tcp   the listening ports and every live association (host NQN, cntlid,
//                             queues with their peer address and negotiated digests).
// Its events (NVMEMU_NVME_TCP_ASSOCIATION, NVMEMU_NVME_MEDIA_ERROR) are in ../nvme-events.ts.

import type { Association } from '../../nvme-tcp/target/association.js';
import type { TargetConnection } from '../../nvme-tcp/target/connection.js';
import { genericError } from '../errors.js';
import type { QmpCommand } from '../monitor.js';
import { peerOf, peers } from '../nvme-events.js';

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
