// The live view's HTTP server (docs/live-view.md): the page and its assets, the page's event
// stream (server-sent events), `/metrics` for Prometheus and `/api/...` JSON snapshots.
//
// While it runs it observes every controller's commands (telemetry.ts) and samples the
// machine once per interval (series.ts); `close()` removes the observers, so a machine without
// the view pays nothing on its command path. The machine is read through the view it is given
// (MachineSwitch in `nvmemu run`), so after a power cut the page shows the new machine.
//
// Requests are parsed before anything is read: only GET and HEAD, known paths, known query
// keys with checked values; everything else gets a precise status and a JSON error. Bound to
// loopback, it refuses requests whose Host header names another host (DNS rebinding).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { MachineView } from '../monitor/monitor.js';
import { flushAudit } from '../faults/power-cut.js';
import { CommandTelemetry } from './telemetry.js';
import { TraceFeed } from './feed.js';
import { Series } from './series.js';
import type { StreamHello, StreamTick } from './wire.js';
import { controllersOf, namespacesOf, snapshot, type Snapshot } from './snapshot.js';

export type { StreamHello, StreamTick };
import { LiveMetrics } from './metrics.js';
import { asset, ASSET_PATHS } from './assets.js';
import { API_ENDPOINTS, type ApiName } from './api.js';
import { EmuError, ErrorCode } from '../util/errors.js';

export interface LiveViewOptions {
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port (0 picks a free one). */
  readonly port: number;
  /** Sampling and page update interval in ms (default 1000). */
  readonly intervalMs?: number;
  /** nvmemu's version, shown on the page. */
  readonly version?: string;
}

export interface LiveView {
  /** `http://HOST:PORT/` as bound. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Takes a sample now (tests; the timer does it otherwise). */
  tick(): void;
  close(): Promise<void>;
}

interface Client {
  readonly res: ServerResponse;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Starts the live view of `view`. Rejects (EMU_ERR_CONFIG) when it cannot listen there. */
export async function startLiveView(view: MachineView, opts: LiveViewOptions): Promise<LiveView> {
  const host = opts.host ?? '127.0.0.1';
  const intervalMs = opts.intervalMs ?? 1000;
  const version = opts.version ?? '';
  const telemetry = new CommandTelemetry();
  const feed = new TraceFeed();
  const series = new Series();
  const metrics = new LiveMetrics(view, telemetry, feed);
  const clients = new Set<Client>();
  let sentSeq = feed.lastSeq;

  const controllers = () => controllersOf(view);
  const sync = (): void => telemetry.sync(controllers().map((c) => c.ctrl));
  const snap = (): Snapshot => snapshot(view, (ctrl, qid) => telemetry.of(ctrl)?.queues[qid] ?? 0);

  const tick = (): void => {
    sync();
    const ctrls = controllers().map((c) => c.ctrl);
    const sample = series.sample(
      ctrls,
      namespacesOf(view).map((n) => n.ns),
      telemetry,
    );
    if (clients.size === 0) {
      sentSeq = feed.lastSeq;
      return;
    }
    const fresh = feed.since(sentSeq);
    sentSeq = feed.lastSeq;
    const body: StreamTick = { snapshot: snap(), sample: sample ?? null, feed: fresh };
    const frame = `event: tick\ndata: ${JSON.stringify(body)}\n\n`;
    for (const c of clients) c.res.write(frame);
  };

  sync();
  series.sample(
    controllers().map((c) => c.ctrl),
    namespacesOf(view).map((n) => n.ns),
    telemetry,
  );

  const api = (name: ApiName, query: URLSearchParams): unknown => {
    switch (name) {
      case 'index':
        return {
          version,
          endpoints: API_ENDPOINTS.map((e) => ({ path: e.path, summary: e.summary })),
        };
      case 'snapshot':
        return { ...snap(), history: series.history(), feed: feed.since() };
      case 'controllers':
        return snap().controllers;
      case 'namespaces':
        return snap().namespaces;
      case 'fdp':
        return snap().fdp;
      case 'pmem':
        return snap().pmem;
      case 'io': {
        const h = series.history();
        const last = query.get('last');
        return last === null ? h : h.slice(Math.max(0, h.length - Number(last)));
      }
      case 'feed':
        return feed.since(Number(query.get('since') ?? 0));
      case 'flush-audit':
        return flushAudit(view);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) fail(res, 500, `internal error: ${(e as Error).message}`);
      else res.destroy();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (LOOPBACK.has(host) && !loopbackHost(req.headers.host)) {
      return fail(res, 403, `Host '${req.headers.host ?? ''}' is not this loopback view`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return fail(res, 405, `method ${req.method ?? ''} not allowed (GET or HEAD)`);
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://view');
    } catch {
      return fail(res, 400, `invalid request target '${req.url ?? ''}'`);
    }
    const path = url.pathname;
    if (path === '/metrics') {
      const text = await metrics.text(snap(), new Map(controllers().map((c) => [c.ctrl, c.label])));
      return send(res, req, 200, metrics.contentType, text);
    }
    if (path === '/events') return stream(req, res);
    if (path === '/api' || path.startsWith('/api/')) {
      const ep = API_ENDPOINTS.find((e) => e.path === path);
      if (ep === undefined) return fail(res, 404, `no API endpoint ${path} (GET /api lists them)`);
      const bad = checkQuery(url.searchParams, ep.query ?? []);
      if (bad !== undefined) return fail(res, 400, bad);
      return json(res, req, 200, api(ep.name, url.searchParams));
    }
    const a = path === '/' ? asset('/index.html') : ASSET_PATHS.has(path) ? asset(path) : undefined;
    if (a === undefined) return fail(res, 404, `no such page ${path}`);
    const body = await a;
    return send(res, req, 200, body.type, body.bytes);
  };

  const stream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    if (req.method === 'HEAD') return void res.end();
    const hello: StreamHello = {
      version,
      intervalMs,
      snapshot: snap(),
      history: series.history(),
      feed: feed.since(),
    };
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    const c: Client = { res };
    clients.add(c);
    req.on('close', () => clients.delete(c));
    // A page that went away mid-write: forget it (never an unhandled 'error').
    res.on('error', () => clients.delete(c));
  };

  await new Promise<void>((ok, bad) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      bad(new EmuError(ErrorCode.EMU_ERR_CONFIG, `--http ${hostPort(host, opts.port)}: ${why(e)}`)),
    );
    server.listen({ host, port: opts.port }, ok);
  });
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostPort(host, port)}/`,
    host,
    port,
    tick,
    close: async (): Promise<void> => {
      clearInterval(timer);
      telemetry.stop();
      feed.close();
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Why listening failed, with the fix when the user can act on it. */
function why(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return 'address in use (another program listens there): choose another port, or 0 for a free one';
    case 'EACCES':
      return 'permission denied: ports below 1024 need privileges, choose a port above 1023';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host name';
    default:
      return `cannot listen: ${e.code ?? e.message}`;
  }
}

/** `host:port`, with IPv6 addresses in brackets. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function loopbackHost(header: string | undefined): boolean {
  if (header === undefined) return true;
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::\d+)?$/.exec(header);
  const name = (m?.[1] ?? m?.[2] ?? '').toLowerCase();
  return LOOPBACK.has(name) || name.startsWith('127.');
}

function checkQuery(q: URLSearchParams, allowed: readonly string[]): string | undefined {
  for (const [k, v] of q) {
    if (!allowed.includes(k)) {
      return `unknown query parameter '${k}'${allowed.length > 0 ? ` (expected ${allowed.join(', ')})` : ''}`;
    }
    if (k === 'since' && !/^\d{1,15}$/.test(v)) {
      return `query parameter 'since': expected a sequence number, got '${v}'`;
    }
    if (k === 'last' && !/^\d{1,6}$/.test(v)) {
      return `query parameter 'last': expected a number of samples, got '${v}'`;
    }
  }
  return undefined;
}

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  type: string,
  body: string | Uint8Array,
): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, req: IncomingMessage, status: number, v: unknown): void {
  send(res, req, status, 'application/json; charset=utf-8', `${JSON.stringify(v, bigints)}\n`);
}

function fail(res: ServerResponse, status: number, error: string): void {
  const body = `${JSON.stringify({ error })}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** 64-bit values as decimal strings (the flush audit carries none today; future-proof). */
function bigints(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

export type { Server };
