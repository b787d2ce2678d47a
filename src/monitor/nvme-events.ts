// NVMe events on the monitor, wired when the monitor starts (serve.ts), before any command
// module loads, so that an association's peer is known from its start:
//   NVMEMU_NVME_TCP_ASSOCIATION  an association to an NVM subsystem began or ended
//                             (discovery associations, one per `nvme discover`, are listed by
//                             x-nvmemu-query-nvme-tcp but raise no event);
//   NVMEMU_NVME_MEDIA_ERROR   a command met an injected media error (nvme/ns/media-faults.ts).

import type { Component } from '../machine/registry.js';
import { onTrace, type TraceEvents } from '../trace/catalogue.js';
import type { Association } from '../nvme-tcp/target/association.js';
import type { TargetConnection } from '../nvme-tcp/target/connection.js';
import type { NamespaceApi } from '../nvme/spec/namespace-api.js';
import type { Monitor } from './monitor.js';
import { NvmeDevice } from '../nvme/index.js';

/** A component that is a namespace (nvme-ns, or a controller's legacy namespace). */
export function isNamespace(c: unknown): c is NamespaceApi & Component {
  return typeof c === 'object' && c !== null && 'execute' in c && 'nsid' in c;
}

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** Peer of each association's admin connection, kept for its `disconnected` event. */
export const peers = new WeakMap<Association, Peer>();

export function peerOf(conn: TargetConnection): Peer {
  return { address: conn.socket.remoteAddress ?? '', port: conn.socket.remotePort ?? 0 };
}

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
