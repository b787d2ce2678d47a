// Issue 19, phase 1: can Node's node:tls serve NVMe/TCP's TLS 1.3 with an external PSK?
// This is the smallest reproduction, written as assertions of what Node 20 does today, so that
// a Node upgrade that changes any of it shows up here. Summary (docs/security.md):
//   - TLS 1.3 + external PSK + TLS_AES_128_GCM_SHA256, no certificate: works (Node client,
//     openssl s_client -psk, gnutls-cli --pskusername).
//   - TLS_AES_256_GCM_SHA384 (SHA-384 PSKs, identities NVMe0R02/NVMe1R02): does not work;
//     OpenSSL's legacy PSK callback, the only one Node exposes, binds the PSK to SHA-256.
//   - PSK identities are limited to 256 bytes.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  connectTlsPsk,
  createTlsPskServer,
  pskIdentityOf,
  tlsPskProblem,
} from '../src/nvme-tcp/tls/socket.js';
import { deriveTlsKey, parseTlsPsk } from '../src/nvme-tcp/tls/psk.js';

const K32 = Buffer.alloc(32, 7);
const K48 = Buffer.alloc(48, 9);
const ID =
  'NVMe0R01 nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427 nqn.2024-01.io.nvmemu:subsys0';

interface Outcome {
  server: string;
  client: string;
  cipher?: string;
  protocol?: string | null;
  serverSawIdentity?: string;
}

/** One handshake between a raw node:tls server and client (no nvmemu code involved). */
async function handshake(o: {
  serverCiphers: string;
  clientCiphers: string;
  serverKey: (identity: string) => Buffer | null;
  clientKey: Buffer;
  identity?: string;
}): Promise<Outcome> {
  const out: Outcome = { server: 'pending', client: 'pending' };
  const server = tls.createServer(
    {
      minVersion: 'TLSv1.3',
      ciphers: o.serverCiphers,
      pskCallback: (_s, identity) => {
        out.serverSawIdentity = identity;
        return o.serverKey(identity);
      },
    },
    (s) => {
      out.server = 'ok';
      s.end('x');
    },
  );
  server.on('tlsClientError', (e: Error & { code?: string }) => (out.server = e.code ?? e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => {
    let c: tls.TLSSocket;
    try {
      c = tls.connect({
        host: '127.0.0.1',
        port,
        minVersion: 'TLSv1.3',
        ciphers: o.clientCiphers,
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ identity: o.identity ?? ID, psk: o.clientKey }),
      });
    } catch (e) {
      out.client = (e as { code?: string }).code ?? String(e);
      resolve();
      return;
    }
    c.on('secureConnect', () => {
      out.client = 'ok';
      out.cipher = c.getCipher().standardName;
      out.protocol = c.getProtocol();
    });
    c.on('error', (e: Error & { code?: string }) => (out.client = e.code ?? e.message));
    c.on('close', () => resolve());
    c.resume();
  });
  await new Promise((r) => setTimeout(r, 20));
  server.close();
  return out;
}

describe('node:tls with external PSKs (reproduction)', () => {
  it('TLS 1.3 + TLS_AES_128_GCM_SHA256 + 32-byte PSK: works, no certificate needed', async () => {
    const r = await handshake({
      serverCiphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
      clientCiphers: 'TLS_AES_128_GCM_SHA256',
      serverKey: () => K32,
      clientKey: K32,
    });
    assert.deepEqual(r, {
      server: 'ok',
      client: 'ok',
      cipher: 'TLS_AES_128_GCM_SHA256',
      protocol: 'TLSv1.3',
      serverSawIdentity: ID,
    });
  });

  it('TLS_AES_256_GCM_SHA384 with a 48-byte PSK: fails (the PSK is bound to SHA-256)', async () => {
    const r = await handshake({
      serverCiphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
      clientCiphers: 'TLS_AES_256_GCM_SHA384',
      serverKey: () => K48,
      clientKey: K48,
      identity: ID.replace('NVMe0R01', 'NVMe0R02'),
    });
    // The server finds no PSK usable with the suite and falls back to certificates.
    assert.equal(r.server, 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM');
    assert.equal(r.client, 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  });

  it('TLS_AES_256_GCM_SHA384 fails with a 32-byte PSK as well (the hash, not the length)', async () => {
    const r = await handshake({
      serverCiphers: 'TLS_AES_256_GCM_SHA384',
      clientCiphers: 'TLS_AES_256_GCM_SHA384',
      serverKey: () => K32,
      clientKey: K32,
    });
    assert.equal(r.server, 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM');
  });

  it('a wrong key fails the binder check; an unknown identity falls back and fails', async () => {
    const wrong = await handshake({
      serverCiphers: 'TLS_AES_128_GCM_SHA256',
      clientCiphers: 'TLS_AES_128_GCM_SHA256',
      serverKey: () => K32,
      clientKey: Buffer.alloc(32, 8),
    });
    assert.equal(wrong.server, 'ERR_SSL_BINDER_DOES_NOT_VERIFY');
    assert.equal(wrong.client, 'ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER');
    const unknown = await handshake({
      serverCiphers: 'TLS_AES_128_GCM_SHA256',
      clientCiphers: 'TLS_AES_128_GCM_SHA256',
      serverKey: () => null,
      clientKey: K32,
    });
    assert.equal(unknown.server, 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM');
  });

  it('a PSK identity over 256 bytes is refused by the client', async () => {
    const r = await handshake({
      serverCiphers: 'TLS_AES_128_GCM_SHA256',
      clientCiphers: 'TLS_AES_128_GCM_SHA256',
      serverKey: () => K32,
      clientKey: K32,
      identity: `NVMe0R01 ${'a'.repeat(248)}`,
    });
    assert.equal(r.client, 'ERR_INVALID_ARG_VALUE');
  });
});

describe('TLS-PSK sockets for NVMe/TCP (tls/socket.ts)', () => {
  const psk = parseTlsPsk('NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:');
  const host = 'nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427';
  const sub = 'nqn.2024-01.io.nvmemu:subsys0';

  async function serve(): Promise<{ server: tls.Server; port: number; errors: string[] }> {
    const d = deriveTlsKey(psk, host, sub, 0);
    const errors: string[] = [];
    const server = createTlsPskServer(
      {
        resolve: (id) => (id === d.identity ? d.key : undefined),
        onHandshakeError: (e) => errors.push(e.code ?? e.message),
      },
      (sock, identity) => {
        assert.equal(pskIdentityOf(sock), identity);
        sock.end(`hello ${identity.split(' ')[0]!}`);
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port, errors };
  }

  it('serves a derived NVMe0R01 key and reports the identity', async () => {
    const { server, port } = await serve();
    const d = deriveTlsKey(psk, host, sub, 0);
    const sock = await connectTlsPsk({ host: '127.0.0.1', port, identity: d.identity, key: d.key });
    assert.equal(sock.getCipher().standardName, 'TLS_AES_128_GCM_SHA256');
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (text += c));
    await once(sock, 'end');
    assert.equal(text, 'hello NVMe0R01');
    server.close();
  });

  it('refuses a key derived with the other HKDF-Expand-Label form', async () => {
    const { server, port, errors } = await serve();
    const compat = deriveTlsKey(psk, host, sub, 0, 'libnvme-compat');
    await assert.rejects(
      connectTlsPsk({ host: '127.0.0.1', port, identity: compat.identity, key: compat.key }),
      {
        code: 'ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER',
      },
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(errors, ['ERR_SSL_BINDER_DOES_NOT_VERIFY']);
    server.close();
  });

  it('says clearly that SHA-384 keys and long identities are unsupported', async () => {
    assert.match(
      tlsPskProblem(2) ?? '',
      /^TLS with a SHA-384 PSK .* is not supported: Node\.js's TLS binds external PSKs to SHA-256/,
    );
    assert.match(
      tlsPskProblem(1, `NVMe0R01 ${'n'.repeat(300)}`) ?? '',
      /PSK identity is 309 bytes; Node\.js's TLS accepts at most 256/,
    );
    assert.equal(tlsPskProblem(1, ID), undefined);
    await assert.rejects(
      connectTlsPsk({ host: '127.0.0.1', port: 9, identity: 'NVMe0R02 a b', key: K48 }),
      /SHA-384 PSK/,
    );
  });
});

const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { encoding: 'utf8' }).status === 0;
const run = (cmd: string, args: string[]) =>
  new Promise<string>((resolve) => {
    const p = execFile(cmd, args, { timeout: 10_000 }, (_e, stdout, stderr) =>
      resolve(`${stdout}${stderr}`),
    );
    p.stdin?.end();
  });

describe('other TLS clients against the TLS-PSK server (peers)', () => {
  async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
    const server = createTlsPskServer({ resolve: (id) => (id === ID ? K32 : undefined) }, (s) =>
      s.end('hello\n'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await fn((server.address() as AddressInfo).port);
    } finally {
      server.close();
    }
  }

  it(
    'openssl s_client -psk (TLS_AES_128_GCM_SHA256)',
    { skip: has('openssl', 'version') ? false : 'openssl not installed' },
    async () => {
      await withServer(async (port) => {
        const out = await run('openssl', [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-tls1_3',
          '-psk_identity',
          ID,
          '-psk',
          K32.toString('hex'),
          '-ign_eof',
          '-ciphersuites',
          'TLS_AES_128_GCM_SHA256',
        ]);
        assert.match(out, /TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
        assert.match(out, /hello/);
      });
    },
  );

  it(
    'gnutls-cli --pskusername (what tlshd uses underneath)',
    {
      skip: has('gnutls-cli', '--version')
        ? false
        : 'gnutls-cli not installed (apt-get install gnutls-bin)',
    },
    async () => {
      await withServer(async (port) => {
        const out = await run('gnutls-cli', [
          '127.0.0.1',
          '-p',
          String(port),
          '--pskusername',
          ID,
          '--pskkey',
          K32.toString('hex'),
          '--priority',
          'NORMAL:-VERS-ALL:+VERS-TLS1.3:+PSK:+DHE-PSK:+ECDHE-PSK',
        ]);
        assert.match(out, /Handshake was completed/);
        assert.match(out, /AES-128-GCM/);
      });
    },
  );
});
