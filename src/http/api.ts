// The `/api/...` endpoints: JSON snapshots of what the page shows (docs/live-view.md "API").
// One table, so the server's routing, `GET /api` and the documentation test agree.

export type ApiName =
  | 'index'
  | 'snapshot'
  | 'controllers'
  | 'namespaces'
  | 'fdp'
  | 'pmem'
  | 'io'
  | 'feed'
  | 'flush-audit';

export interface ApiEndpoint {
  readonly name: ApiName;
  readonly path: string;
  readonly summary: string;
  /** Query parameters it takes (anything else is a 400). */
  readonly query?: readonly string[];
}

export const API_ENDPOINTS: readonly ApiEndpoint[] = [
  { name: 'index', path: '/api', summary: 'this list and the version' },
  {
    name: 'snapshot',
    path: '/api/snapshot',
    summary: 'everything below at once: controllers, namespaces, fdp, pmem, history, feed',
  },
  {
    name: 'controllers',
    path: '/api/controllers',
    summary: 'controllers: identity, front end, command counts, queues, SMART',
  },
  {
    name: 'namespaces',
    path: '/api/namespaces',
    summary: 'namespaces: size, SMART counts, zones, write cache model and flush audit head',
  },
  { name: 'fdp', path: '/api/fdp', summary: 'FDP endurance groups: handles, reclaim units, bytes' },
  { name: 'pmem', path: '/api/pmem', summary: 'pmem regions: power-failure model, bad blocks' },
  {
    name: 'io',
    path: '/api/io',
    summary: 'the last 300 samples: IOPS, throughput, latency (last=N: only the newest N)',
    query: ['last'],
  },
  {
    name: 'feed',
    path: '/api/feed',
    summary: 'fault and trace events, oldest first (since=SEQ: only newer ones)',
    query: ['since'],
  },
  {
    name: 'flush-audit',
    path: '/api/flush-audit',
    summary: 'every acknowledged write a power cut would lose now, per namespace',
  },
];
