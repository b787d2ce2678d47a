// `nvmemu nvme connect` and the other nvmemu nvme commands with nvme-cli 2.13's security options
// (--dhchap-secret/-S, --dhchap-ctrl-secret/-C, --tls --tls-key) against a target that asks for
// DH-HMAC-CHAP and offers TLS: exit status 0 / 1 (refused, with the cause and the fix) / 2
// (usage), and no key echoed in any message.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bufferIo } from '../src/cli/io.js';
import { nvmeCommand } from '../src/cli/nvme/index.js';
import { TlsPsk } from '../src/nvme-tcp/tls/psk.js';
import { seededRandom } from '../src/nvme-tcp/auth/test-support.js';
import { authTarget, HOST, KEYS, NQN, type AuthTarget } from './nvme-tcp-auth-harness.js';

const PSK = new TlsPsk(1, seededRandom('cli-tls')(32));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await nvmeCommand(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('nvmemu nvme with DH-HMAC-CHAP and TLS', () => {
  let t: AuthTarget;
  const target = () => [
    '-t',
    'tcp',
    '-a',
    '127.0.0.1',
    '--trsvcid',
    String(t.port),
    '-n',
    NQN,
    '-q',
    HOST,
  ];
  before(async () => {
    t = await authTarget({
      dhchap: { dhGroups: [1] },
      tls: { psk: PSK, derivation: 'libnvme-compat' },
      target: { tls: 'not-required' },
    });
  });
  after(() => t.close());

  it('connect -S: authenticates every queue and says so', async () => {
    const r = await run('connect', ...target(), '-i', '2', '-S', KEYS.host.format());
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      `connected to ${NQN} at 127.0.0.1:${t.port} as ${HOST}\n` +
        `  cntlid 0, 2 I/O queues\n` +
        `  authenticated (every queue): hash hmac(sha256) dhgroup ffdhe2048\n` +
        `  TLS: none\n`,
    );
  });

  it('connect -S -C --tls --tls-key -o json', async () => {
    const r = await run(
      'connect',
      ...target(),
      `--dhchap-secret=${KEYS.host.format()}`,
      `--dhchap-ctrl-secret=${KEYS.ctrl.format()}`,
      '--tls',
      `--tls-key=${PSK.format()}`,
      '--tls-psk-derivation=libnvme-compat',
      '-o',
      'json',
    );
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(j.authentication, {
      hash: 'hmac(sha256)',
      dhgroup: 'ffdhe2048',
      bidirectional: true,
    });
    assert.deepEqual(j.tls, { identity: `NVMe0R01 ${HOST} ${NQN}` });
  });

  it('other commands take the same options (id-ctrl with --dhchap-secret)', async () => {
    const r = await run(
      'id-ctrl',
      ...target(),
      `--dhchap-secret=${KEYS.host.format()}`,
      '-o',
      'json',
    );
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { subnqn: string }).subnqn, NQN);
  });

  const failures: { name: string; argv: () => string[]; code: number; err: RegExp }[] = [
    {
      name: 'a wrong key: refused, with the reason and where to look',
      argv: () => ['connect', ...target(), '-S', KEYS.wrongHost.format()],
      code: 1,
      err: /qid 0: authentication failed: the controller sent AUTH_Failure1: authentication failed \(reason 0x01\) \[NVME_TCP_AUTH\]\n  the keys differ/,
    },
    {
      name: 'no key while the target asks',
      argv: () => ['connect', ...target()],
      code: 1,
      err: /no DH-HMAC-CHAP secret was given.*\n  give the host's key with --dhchap-secret/,
    },
    {
      name: 'a TLS key with the wrong derivation',
      argv: () => [
        'connect',
        ...target(),
        '-S',
        KEYS.host.format(),
        '--tls',
        `--tls-key=${PSK.format()}`,
      ],
      code: 1,
      err: /TLS handshake with 127\.0\.0\.1:\d+ failed.*\n  check --tls-key and the derivation/,
    },
    {
      name: '--tls without --tls-key',
      argv: () => ['connect', ...target(), '--tls'],
      code: 2,
      err: /--tls needs --tls-key=NVMeTLSkey-1/,
    },
    {
      name: '--dhchap-ctrl-secret alone',
      argv: () => ['connect', ...target(), '-C', KEYS.ctrl.format()],
      code: 2,
      err: /--dhchap-ctrl-secret needs --dhchap-secret/,
    },
    {
      name: 'a malformed key',
      argv: () => ['connect', ...target(), '-S', 'DHHC-1:01:notakey:'],
      code: 1,
      err: /dhchap secret: DHHC-1 secret/,
    },
  ];
  for (const f of failures) {
    it(f.name, async () => {
      const r = await run(...f.argv());
      assert.equal(r.code, f.code, r.err);
      assert.match(r.err, f.err);
      for (const k of [KEYS.host, KEYS.ctrl, KEYS.wrongHost]) {
        assert.ok(!r.err.includes(k.format().slice(10, 40)));
      }
      assert.ok(!r.err.includes(PSK.format().slice(15, 40)));
    });
  }
});
