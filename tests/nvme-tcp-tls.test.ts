// NVMe/TCP over TLS 1.3 with a PSK (TP 8011; docs/security.md) end to end on 127.0.0.1: the
// target's TLS modes with the host library (both PSK derivations, both identity versions), the
// failures (no TLS, wrong key, unknown identity, a Connect for another host than the PSK's),
// the discovery log's TREQ/TSAS, TLS together with DH-HMAC-CHAP, and other TLS clients
// (openssl s_client, gnutls-cli — what tlshd uses) where installed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_TICKETS_OPENSSL_CONF, ticketsDisabled } from '../src/nvme-tcp/tls/tickets.js';
import { wantsTls } from '../src/cli/tls-reexec.js';
import {
  HostQueue,
  NvmeTcpController,
  connectData,
  discover,
  tlsCredentials,
} from '../src/nvme-tcp/host/index.js';
import { TlsPsk, deriveTlsKey, type PskDerivation } from '../src/nvme-tcp/tls/psk.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { seededRandom } from '../src/nvme-tcp/auth/test-support.js';
import {
  authTarget,
  HOST,
  KEYS,
  NQN,
  OTHER_HOST,
  until,
  type AuthTarget,
} from './nvme-tcp-auth-harness.js';
import type { TlsMode } from '../src/nvme-tcp/target/tls-port.js';

const rnd = seededRandom('tls');
const PSK = new TlsPsk(1, rnd(32));
const OTHER_PSK = new TlsPsk(1, rnd(32));
const read0 = { opcode: IoOpc.READ, nsid: 1, cdw10: 0, cdw11: 0, cdw12: 0 };

async function tlsTarget(
  mode: TlsMode,
  derivation: PskDerivation = 'rfc8446',
  withDhchap = false,
): Promise<AuthTarget> {
  return authTarget({
    dhchap: withDhchap ? {} : null,
    tls: { psk: PSK, derivation },
    others: [{ nqn: OTHER_HOST, tls: { psk: OTHER_PSK, derivation: 'rfc8446' } }],
    target: { tls: mode, discoveryPort: 0 },
  });
}

const conn = (
  t: AuthTarget,
  extra: Partial<Parameters<typeof NvmeTcpController.connect>[0]> = {},
) =>
  NvmeTcpController.connect({
    address: '127.0.0.1',
    port: t.port,
    subnqn: NQN,
    hostnqn: HOST,
    ioQueues: 2,
    ...extra,
  });

describe('TLS 1.3 PSK on the I/O port with the host library', () => {
  const rows: { name: string; target: PskDerivation; host: PskDerivation; version: 0 | 1 }[] = [
    {
      name: 'rfc8446 derivation, identity NVMe0R01',
      target: 'rfc8446',
      host: 'rfc8446',
      version: 0,
    },
    {
      name: 'rfc8446 derivation, identity NVMe1R01 with digest',
      target: 'rfc8446',
      host: 'rfc8446',
      version: 1,
    },
    {
      name: "libnvme-compat derivation (nvme-cli 2.13's --tls-key)",
      target: 'libnvme-compat',
      host: 'libnvme-compat',
      version: 0,
    },
  ];
  for (const row of rows) {
    it(`tls=required: every queue over TLS — ${row.name}`, async () => {
      const t = await tlsTarget('required', row.target);
      try {
        const c = await conn(t, {
          tls: { key: PSK.format(), derivation: row.host, identityVersion: row.version },
        });
        assert.match(c.tlsIdentity!, new RegExp(`^NVMe${row.version}R01 ${HOST} ${NQN}`));
        assert.equal((await c.ioCommand(read0, { readLength: 512 }, 2)).status, 0);
        assert.equal(t.target.connections.length, 3);
        for (const tc of t.target.connections) assert.equal(tc.tls?.identity, c.tlsIdentity);
        assert.equal(t.target.counters.tlsHandshakes, 3);
        await c.disconnect();
      } finally {
        await t.close();
      }
    });
  }

  it('a derivation mismatch (the classic interop bug) fails the handshake, with the reason logged', async () => {
    const t = await tlsTarget('required', 'rfc8446');
    try {
      await assert.rejects(
        conn(t, { tls: { key: PSK, derivation: 'libnvme-compat' } }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'NVME_TCP_CONNECT');
          assert.match(e.message, /TLS handshake with 127\.0\.0\.1:\d+ failed/);
          return true;
        },
      );
      await until(() => t.target.counters.tlsFailures === 1, 2000, 'the failure count');
      assert.match(
        t.lines.join('\n'),
        /TLS handshake with 127\.0\.0\.1:\d+ \(identity 'NVMe0R01 .*'\) failed/,
      );
    } finally {
      await t.close();
    }
  });

  it('a plain NVMe/TCP connection to a TLS-required port fails', async () => {
    const t = await tlsTarget('required');
    try {
      await assert.rejects(conn(t), (e: Error & { code?: string }) =>
        ['NVME_TCP_CLOSED', 'NVME_TCP_PROTOCOL', 'NVME_TCP_TIMEOUT'].includes(e.code ?? ''),
      );
      await until(() => t.target.counters.tlsFailures === 1, 2000, 'the failure count');
      assert.match(
        t.lines.join('\n'),
        /TLS handshake with 127\.0\.0\.1:\d+ failed: the host did not start TLS \(first byte 0x00, an NVMe\/TCP ICReq\) and the port requires TLS/,
      );
    } finally {
      await t.close();
    }
  });

  it('an identity the target has no PSK for gets no key', async () => {
    const t = await tlsTarget('required');
    try {
      const stranger = 'nqn.2014-08.org.nvmexpress:uuid:99999999-0000-0000-0000-000000000000';
      await assert.rejects(conn(t, { hostnqn: stranger, tls: { key: PSK } }), {
        code: 'NVME_TCP_CONNECT',
      });
      await until(() => t.lines.some((l) => l.includes('failed: host ')), 2000, 'the log line');
      assert.match(
        t.lines.join('\n'),
        new RegExp(`failed: host ${stranger} has no tls-psk for ${NQN}`),
      );
    } finally {
      await t.close();
    }
  });

  it("a TLS session may only Connect as its PSK's host", async () => {
    const t = await tlsTarget('required');
    try {
      // TLS as OTHER_HOST (a valid PSK), then Connect naming HOST.
      const q = await HostQueue.open({
        host: '127.0.0.1',
        port: t.port,
        tls: tlsCredentials({ key: OTHER_PSK }, OTHER_HOST, NQN),
      });
      const r = await q.submit(
        { opcode: 0x7f, fctype: 1, cdw10: 0, cdw11: 31 },
        { write: connectData(new Uint8Array(16), 0xffff, NQN, HOST), inCapsule: true },
      );
      assert.equal(r.status, 0x4184);
      assert.equal(t.target.counters.tlsIdentityMismatches, 1);
      assert.match(
        t.lines.join('\n'),
        new RegExp(
          `Connect as ${HOST} to ${NQN} refused: the TLS PSK identity is for ${OTHER_HOST}`,
        ),
      );
      q.close();
    } finally {
      await t.close();
    }
  });

  it('tls=not-required serves plain and TLS hosts on the same port', async () => {
    const t = await tlsTarget('not-required');
    try {
      const plain = await conn(t, { hostnqn: OTHER_HOST });
      const secure = await conn(t, { tls: { key: PSK } });
      assert.equal((await plain.ioCommand(read0, { readLength: 512 })).status, 0);
      assert.equal((await secure.ioCommand(read0, { readLength: 512 })).status, 0);
      assert.equal(t.target.connections.filter((x) => x.tls !== undefined).length, 3);
      await plain.disconnect();
      await secure.disconnect();
    } finally {
      await t.close();
    }
  });

  it('TLS and DH-HMAC-CHAP together', async () => {
    const t = await tlsTarget('required', 'rfc8446', true);
    try {
      const c = await conn(t, {
        tls: { key: PSK },
        dhchap: { secret: KEYS.host, ctrlSecret: KEYS.ctrl },
      });
      assert.equal(c.negotiated?.bidirectional, true);
      assert.equal((await c.ioCommand(read0, { readLength: 512 })).status, 0);
      await c.disconnect();
    } finally {
      await t.close();
    }
  });

  it('the discovery log names TREQ and TSAS of the port, and lists only what the host can reach', async () => {
    for (const [mode, treq, sectype] of [
      ['required', 0x05, 2],
      ['not-required', 0x06, 2],
      ['none', 0x04, 0],
    ] as const) {
      const t = await tlsTarget(mode);
      try {
        const log = await discover({
          address: '127.0.0.1',
          port: t.target.discoveryPort!.port,
          hostnqn: HOST,
        });
        const e = log.entries.find((x) => x.subnqn === NQN);
        assert.deepEqual([e?.treq, e?.sectype], [treq, sectype], mode);
        // The discovery subsystem's own entry is on the plain discovery port.
        const self = log.entries.find((x) => x.subtype === 3);
        assert.deepEqual([self?.treq, self?.sectype], [0x04, 0]);
      } finally {
        await t.close();
      }
    }
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

describe('other TLS clients against the target (peers)', () => {
  const key = () => deriveTlsKey(PSK, HOST, NQN, 0, 'rfc8446');

  it(
    'openssl s_client -psk completes the handshake with the derived TLS PSK',
    { skip: has('openssl', 'version') ? false : 'openssl not installed' },
    async () => {
      const t = await tlsTarget('required');
      try {
        const d = key();
        const out = await run('openssl', [
          's_client',
          '-connect',
          `127.0.0.1:${t.port}`,
          '-tls1_3',
          '-psk_identity',
          d.identity,
          '-psk',
          Buffer.from(d.key).toString('hex'),
          '-ciphersuites',
          'TLS_AES_128_GCM_SHA256',
        ]);
        assert.match(out, /TLSv1\.3, Cipher is TLS_AES_128_GCM_SHA256/);
        await until(() => t.target.counters.tlsHandshakes === 1, 2000, 'the handshake count');
      } finally {
        await t.close();
      }
    },
  );

  it(
    'gnutls-cli --pskusername (the library tlshd uses) completes the handshake',
    {
      skip: has('gnutls-cli', '--version')
        ? false
        : 'gnutls-cli not installed (apt-get install gnutls-bin)',
    },
    async () => {
      const t = await tlsTarget('required');
      try {
        const d = key();
        const out = await run('gnutls-cli', [
          '127.0.0.1',
          '-p',
          String(t.port),
          '--pskusername',
          d.identity,
          '--pskkey',
          Buffer.from(d.key).toString('hex'),
          '--priority',
          'NORMAL:-VERS-ALL:+VERS-TLS1.3:+PSK:+DHE-PSK:+ECDHE-PSK',
        ]);
        assert.match(out, /Handshake was completed/);
        assert.match(out, /AES-128-GCM/);
      } finally {
        await t.close();
      }
    },
  );
});

describe('nvmemu run with TLS: no session ticket (Linux hosts cannot take one)', () => {
  const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  it(
    're-executes with OpenSSL NumTickets = 0: the handshake carries no NewSessionTicket',
    { skip: has('openssl', 'version') ? false : 'openssl not installed' },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nvmemu-tls-run-'));
      const hostnqn = HOST;
      const child = spawn(
        process.execPath,
        [
          CLI,
          'run',
          '-object',
          `secret,id=psk,data=${PSK.format()}`,
          '-object',
          `x-nvmemu-host,id=h1,nqn=${hostnqn},tls-psk=psk`,
          '-device',
          'nvme-subsys,id=s0,nqn=secure,x-hosts=h1',
          '-device',
          'nvme,id=c0,serial=sec0,subsys=s0',
          '--data',
          join(dir, 'data'),
          '--listen',
          '127.0.0.1:0',
          '--discovery',
          'none',
          '--nvme-tcp',
          'tls=required',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENSSL_CONF: '' } },
      );
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      try {
        const port = await new Promise<string>((done, fail) => {
          const timer = setTimeout(
            () => fail(new Error(`no listening line: ${out}${err}`)),
            20_000,
          );
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            const m = /nvme-tcp: listening on 127\.0\.0\.1:(\d+) \(TLS required\)/.exec(out);
            if (m !== null && out.includes('Running;')) {
              clearTimeout(timer);
              done(m[1]!);
            }
          });
        });
        const d = deriveTlsKey(PSK, hostnqn, NQN, 0, 'rfc8446');
        const s = await run('openssl', [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-tls1_3',
          '-msg',
          '-psk_identity',
          d.identity,
          '-psk',
          Buffer.from(d.key).toString('hex'),
          '-ciphersuites',
          'TLS_AES_128_GCM_SHA256',
        ]);
        assert.match(s, /Cipher is TLS_AES_128_GCM_SHA256/);
        assert.doesNotMatch(s, /NewSessionTicket/);
        assert.doesNotMatch(err, /session tickets are on/);
      } finally {
        child.kill('SIGTERM');
        await once(child, 'exit');
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('ticketsDisabled reads the OpenSSL configuration the process started with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvmemu-tls-conf-'));
    try {
      const f = join(dir, 'c.cnf');
      writeFileSync(f, NO_TICKETS_OPENSSL_CONF);
      assert.equal(ticketsDisabled({ OPENSSL_CONF: f }), true);
      writeFileSync(f, '[x]\nNumTickets = 2\n');
      assert.equal(ticketsDisabled({ OPENSSL_CONF: f }), false);
      assert.equal(ticketsDisabled({}), false);
      assert.deepEqual(
        [
          ['--nvme-tcp', 'tls=required'],
          ['--nvme-tcp=max-r2t=4,tls=not-required'],
          ['--nvme-tcp', 'tls=none'],
          ['--nvme-tcp', 'tls=required', '--nvme-tcp', 'max-r2t=4'],
          [],
        ].map((a) => wantsTls(a)),
        [true, true, false, false, false],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
