// TLS 1.3 with an external PSK for NVMe/TCP (TP 8011), on node:tls. For the port to use in
// phase 2 of issue 19; tests/tls-psk-node.test.ts is the reproduction of what Node 20 can do:
//
// - works: TLS 1.3, TLS_AES_128_GCM_SHA256, a 32-byte PSK chosen by the client's identity
//   (pskCallback), no certificate; Linux's tlshd negotiates exactly this for NVMe0R01 keys.
// - does not work: TLS_AES_256_GCM_SHA384 with a 48-byte (SHA-384, NVMe0R02/NVMe1R02) PSK.
//   Node exposes only OpenSSL's legacy PSK callbacks; for TLS 1.3 OpenSSL turns their key
//   into a session bound to SHA-256, so a SHA-384 suite finds no usable PSK and falls back
//   to certificates ("no suitable signature algorithm"). Node has no find_session callback.
// - limit: identities over 256 bytes (OpenSSL's PSK_MAX_IDENTITY_LEN) are refused by Node's
//   client and ignored by the server, which caps hostnqn + subnqn at about 245 bytes together.

import { connect, createServer, type Server, type TLSSocket } from 'node:tls';

export { MAX_PSK_IDENTITY_BYTES, TLS_PSK_CIPHERS, tlsPskProblem } from './node-psk.js';
import { TLS_PSK_CIPHERS, tlsPskProblem } from './node-psk.js';

export interface TlsPskServerOptions {
  /** The TLS PSK for an identity a client offered, or undefined to refuse it. */
  resolve(identity: string): Uint8Array | undefined;
  /** A client that did not complete the handshake (unknown identity, wrong key, no PSK). */
  onHandshakeError?(error: Error & { code?: string }): void;
}

const identities = new WeakMap<TLSSocket, string>();

/** The PSK identity a server-side socket was accepted with. */
export function pskIdentityOf(sock: TLSSocket): string | undefined {
  return identities.get(sock);
}

/** A TLS 1.3 PSK-only server; `onSecure` gets each socket whose handshake completed. */
export function createTlsPskServer(
  opts: TlsPskServerOptions,
  onSecure: (sock: TLSSocket, identity: string) => void,
): Server {
  const server = createServer(
    {
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: TLS_PSK_CIPHERS,
      pskCallback: (sock, identity) => {
        const key = opts.resolve(identity);
        // A key of another length would be offered to OpenSSL as SHA-256 anyway and fail
        // later with a less helpful error.
        if (key === undefined || key.length !== 32) return null;
        identities.set(sock, identity);
        return Buffer.from(key);
      },
    },
    (sock) => onSecure(sock, identities.get(sock) ?? ''),
  );
  server.on('tlsClientError', (e: Error & { code?: string }) => opts.onHandshakeError?.(e));
  return server;
}

export interface TlsPskClientOptions {
  readonly host: string;
  readonly port: number;
  readonly identity: string;
  /** The TLS PSK (32 bytes). */
  readonly key: Uint8Array;
  readonly timeoutMs?: number;
}

/** Connects with TLS 1.3 and the PSK; rejects with the TLS error if the handshake fails. */
export function connectTlsPsk(o: TlsPskClientOptions): Promise<TLSSocket> {
  const problem = o.key.length !== 32 ? tlsPskProblem(2) : tlsPskProblem(1, o.identity);
  if (problem !== undefined) return Promise.reject(new Error(problem));
  return new Promise((resolve, reject) => {
    const sock = connect({
      host: o.host,
      port: o.port,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: TLS_PSK_CIPHERS,
      // There is no certificate to check: the PSK authenticates both sides.
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity: o.identity, psk: Buffer.from(o.key) }),
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`TLS handshake with ${o.host}:${o.port} timed out`));
    }, o.timeoutMs ?? 10_000);
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.off('error', onError);
      resolve(sock);
    });
    sock.once('error', onError);
  });
}
