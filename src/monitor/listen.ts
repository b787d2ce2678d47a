// Listening sockets for monitors: unix (created owner-only, 0600) and tcp. With wait=on
// (QEMU's default for server sockets) start-up waits for the first client. At most
// `maxSessions` clients are served at once; a further one is handed to `onRefused` (which
// tells it why and closes it) instead of `onClient` (limits.ts).

import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ConfigError } from '../config/errors.js';
import type { ChardevSpec } from './chardev.js';

export interface Listener {
  /** `unix:/path` or `tcp:127.0.0.1:4444` (the bound port). */
  readonly address: string;
  close(): Promise<void>;
}

type SocketSpec = Extract<ChardevSpec, { kind: 'unix' | 'tcp' }>;

export interface SessionCap {
  readonly maxSessions: number;
  /** Called instead of onClient when `maxSessions` clients are open; `open` is that count. */
  onRefused(sock: Socket, open: number): void;
  /** Called when a served client's socket closes. */
  onClosed?(): void;
}

export async function listen(
  spec: SocketSpec,
  location: string,
  onClient: (sock: Socket) => void,
  cap?: SessionCap,
): Promise<Listener> {
  const clients = new Set<Socket>();
  let first: () => void = () => undefined;
  const connected = new Promise<void>((r) => (first = r));
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    if (cap !== undefined && clients.size >= cap.maxSessions) {
      sock.on('error', () => sock.destroy());
      cap.onRefused(sock, clients.size);
      return;
    }
    clients.add(sock);
    sock.on('close', () => {
      clients.delete(sock);
      cap?.onClosed?.();
    });
    if (spec.kind === 'tcp') sock.setNoDelay(true);
    onClient(sock);
    first();
  });
  if (spec.kind === 'unix') await removeStaleSocket(spec.path, location);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new ConfigError(
          `Failed to ${spec.kind === 'unix' ? `bind socket to ${spec.path}` : `listen on ${spec.host}:${spec.port}`}: ${e.code ?? e.message}`,
          undefined,
          location,
        ),
      ),
    );
    if (spec.kind === 'unix') {
      // The socket file is created by bind() inside listen(), synchronously: a umask that
      // leaves only the owner's bits means no moment with wider permissions.
      const old = process.umask(0o177);
      try {
        server.listen(spec.path, resolve);
      } finally {
        process.umask(old);
      }
    } else {
      server.listen(spec.port, spec.host, resolve);
    }
  });
  if (spec.kind === 'unix') chmodSync(spec.path, 0o600);
  const addr = server.address();
  const address =
    spec.kind === 'unix'
      ? `unix:${spec.path}`
      : `tcp:${spec.host}:${typeof addr === 'object' && addr !== null ? addr.port : spec.port}`;
  if (spec.wait) await connected;
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        const t = setTimeout(() => {
          for (const c of clients) c.destroy();
        }, 500);
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}

/**
 * A socket file left by an earlier run is replaced; a socket a live server still answers on is
 * not (that would take another machine's monitor), nor is anything that is not a socket.
 */
async function removeStaleSocket(path: string, location: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  const inUse = (): ConfigError =>
    new ConfigError(
      `Failed to bind socket to ${path}: Address already in use`,
      undefined,
      location,
    );
  if (!isSocket) throw inUse();
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw inUse();
  unlinkSync(path);
}
