// TLS 1.3 with a PSK on the target's I/O port (NVMe/TCP TP 8011; docs/security.md): which
// connections get TLS (the port's mode, nvmet's addr_treq), and which PSK an identity gets.
//
//   none          plain NVMe/TCP only (TREQ "not specified", TSAS none)
//   required      TLS only: a plain ICReq is refused, the log says so (TREQ "required")
//   not-required  both: the first byte tells (0x16 starts a TLS handshake record, 0x00 an
//                 ICReq), as nvmet peeks at it (TREQ "not required")
//
// The TLS PSK of an identity `NVMe<v>R0<h> <hostnqn> <subnqn>[ <digest>]` is derived from the
// configured PSK of the host object that the subsystem lists (x-hosts) with the host's
// derivation (rfc8446 or libnvme-compat); anything else — an unknown host or subsystem, a
// host without a PSK, a wrong digest, a generated ('G') PSK — gets no key and the handshake
// fails. The connection remembers the identity: its Connect must name that host and subsystem.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { deriveTlsKey, parsePskIdentity } from '../tls/psk.js';
import { TLS_PSK_CIPHERS } from '../tls/node-psk.js';
import type { FabricsSubsystem } from './backend.js';
import type { TlsSession } from './connection.js';

export type TlsMode = 'none' | 'required' | 'not-required';

/** First byte of a TLS handshake record (RFC 8446 §5.1 ContentType handshake). */
const TLS_HANDSHAKE = 0x16;

const hex2 = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/** TREQ secure channel bits 1:0 and TSAS SECTYPE of the port (NVMe/TCP 1.0c §4.1). */
export function tlsDiscoveryFields(mode: TlsMode): { treq: number; sectype: number } {
  switch (mode) {
    case 'none':
      return { treq: 0, sectype: 0 };
    case 'required':
      return { treq: 1, sectype: 2 };
    case 'not-required':
      return { treq: 2, sectype: 2 };
  }
}

/** The key for `identity`, or why there is none (for the log; never key material). */
export function pskFor(
  identity: string,
  subsystems: readonly FabricsSubsystem[],
): { key: Uint8Array; session: TlsSession } | { problem: string } {
  let id;
  try {
    id = parsePskIdentity(identity);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  if (id.type !== 'R')
    return { problem: 'generated PSKs (secure channel concatenation) are not supported' };
  const subsys = subsystems.find((s) => s.kind === 'nvm' && s.nqn === id.subsysNqn);
  if (subsys === undefined) return { problem: `no subsystem ${id.subsysNqn}` };
  const host = subsys.hosts?.get(id.hostNqn);
  if (host?.tls === undefined) {
    return { problem: `host ${id.hostNqn} has no tls-psk for ${id.subsysNqn}` };
  }
  if (host.tls.psk.cipherHash !== id.hash) {
    return { problem: `identity hash 0${id.hash} differs from the configured PSK's` };
  }
  const d = deriveTlsKey(host.tls.psk, id.hostNqn, id.subsysNqn, id.version, host.tls.derivation);
  if (d.identity !== identity) {
    d.key.fill(0);
    return { problem: 'the PSK digest of the identity does not match the configured PSK' };
  }
  return { key: d.key, session: { identity, hostnqn: id.hostNqn, subnqn: id.subsysNqn } };
}

export interface SecureAccept {
  readonly mode: TlsMode;
  /** The subsystems now (their hosts' PSKs). */
  subsystems(): readonly FabricsSubsystem[];
  /** Handshake deadline (the ICReq timeout). */
  readonly timeoutMs: number;
  /** The connection is ready for NVMe/TCP (TLS done, or plain). */
  ready(socket: Socket, tls: TlsSession | undefined): void;
  /** The handshake failed or timed out; the socket is destroyed. */
  failed(why: string, identity: string | undefined): void;
}

/** Hands `socket` to `a.ready` once it is usable: plain, or after a TLS 1.3 PSK handshake. */
export function acceptSecure(socket: Socket, a: SecureAccept): void {
  if (a.mode === 'none') return a.ready(socket, undefined);
  // Both TLS modes look at the first byte: 'not-required' to choose, 'required' to name a plain
  // NVMe/TCP host (its ICReq starts with PDU type 00h) instead of OpenSSL's "wrong version
  // number" — the Linux host with TLS left off was refused that way.
  const timer = setTimeout(() => {
    socket.destroy();
    a.failed(`nothing received within ${a.timeoutMs} ms`, undefined);
  }, a.timeoutMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('data', (chunk: Buffer) => {
    clearTimeout(timer);
    socket.pause();
    socket.unshift(chunk);
    if (chunk[0] === TLS_HANDSHAKE) return void startTls(socket, a);
    if (a.mode === 'required') {
      socket.destroy();
      return a.failed(
        `the host did not start TLS (first byte ${hex2(chunk[0]!)}${chunk[0] === 0 ? ', an NVMe/TCP ICReq' : ''}) and the port requires TLS`,
        undefined,
      );
    }
    a.ready(socket, undefined);
    socket.resume();
  });
}

async function startTls(socket: Socket, a: SecureAccept): Promise<void> {
  // node:tls loads with the first handshake: it costs a plain target's start-up ~30 ms of CPU
  // (docs/architecture.md "Module loading"). The socket stays paused with its first bytes
  // meanwhile; one that closed meanwhile is reported as any closed during the handshake.
  const early = (): void => void socket.destroy();
  socket.on('error', early);
  const { TLSSocket } = await import('node:tls');
  socket.off('error', early);
  if (socket.destroyed) return a.failed('closed during the TLS handshake', undefined);
  let session: TlsSession | undefined;
  let problem: string | undefined;
  let offered: string | undefined;
  const tls: TLSSocket = new TLSSocket(socket, {
    isServer: true,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: TLS_PSK_CIPHERS,
    pskCallback: (_sock: TLSSocket, identity: string) => {
      offered = identity;
      const r = pskFor(identity, a.subsystems());
      if ('problem' in r) {
        problem = r.problem;
        return null;
      }
      session = r.session;
      return Buffer.from(r.key);
    },
  } as ConstructorParameters<typeof TLSSocket>[1]);
  let done = false;
  const fail = (why: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    tls.destroy();
    socket.destroy();
    a.failed(problem ?? why, offered);
  };
  const timer = setTimeout(() => fail(`no TLS handshake within ${a.timeoutMs} ms`), a.timeoutMs);
  timer.unref();
  tls.once('secure', () => {
    if (done) return;
    if (session === undefined) return fail('handshake without a PSK');
    done = true;
    clearTimeout(timer);
    tls.off('error', onError);
    a.ready(tls, session);
  });
  const onError = (e: Error & { code?: string }): void =>
    fail(e.code === undefined ? e.message : `${e.code}: ${e.message}`);
  tls.on('error', onError);
  tls.once('close', () => fail('closed during the TLS handshake'));
}
