// `nvmemu nvme gen-dhchap-key | check-dhchap-key | gen-tls-key | check-tls-key` (issue 19):
// nvme-cli 2.13's output formats, its option names and its error texts (without echoing
// secrets), exit status 0 / 1 (a bad key) / 2 (a usage error).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bufferIo } from '../src/cli/io.js';
import { nvmeCommand } from '../src/cli/nvme/index.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await nvmeCommand(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

const NQN = 'nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
const HEX32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex');

describe('nvmemu nvme key commands', () => {
  it('gen-dhchap-key prints the DHHC-1 key as nvme-cli does', async () => {
    // nvme-cli 2.3 (Debian 12) gave the same for these arguments (auth/secret.test.ts).
    assert.deepEqual(await run('gen-dhchap-key', '--hmac=1', `--secret=${HEX32}`, `--nqn=${NQN}`), {
      code: 0,
      out: 'DHHC-1:01:jWiK0NeSweQjGFEI9c4bjHV792NxG/KQG1mAfCQAiRlmCljm:\n',
      err: '',
    });
    const r = await run('gen-dhchap-key', '-m', '3', '-n', NQN);
    assert.match(r.out, /^DHHC-1:03:[A-Za-z0-9+/]{91}=:\n$/);
    const z = await run('gen-dhchap-key', '-l', '48');
    assert.match(z.out, /^DHHC-1:00:[A-Za-z0-9+/]{70}==:\n$/);
  });

  it('check-dhchap-key prints HMAC, length and CRC', async () => {
    assert.deepEqual(
      await run(
        'check-dhchap-key',
        '--key=DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:',
      ),
      {
        code: 0,
        out: 'Key is valid (HMAC 0, length 32, CRC a70d69fa)\n',
        err: '',
      },
    );
  });

  it('gen-tls-key prints the interchange format; check-tls-key prints the identity', async () => {
    const g = await run(
      'gen-tls-key',
      '--hmac=1',
      '--secret=5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03',
    );
    assert.deepEqual(g, {
      code: 0,
      out: 'NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:\n',
      err: '',
    });
    const key = g.out.trim();
    const base = [
      'check-tls-key',
      `--keydata=${key}`,
      '--subsysnqn=nqn.psk-test-subsys',
      '--hostnqn=nqn.psk-test-host',
    ];
    assert.equal((await run(...base)).out, 'NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys\n');
    // libnvme test/psk.c vectors: RFC 8446 derivation, and --compat (libnvme <= 1.15).
    assert.equal(
      (await run(...base, '-I', '1')).out,
      'NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=\n',
    );
    assert.equal(
      (await run(...base, '-I', '1', '--compat')).out,
      'NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys 66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=\n',
    );
    // nvme-cli's -n is the host NQN for check-tls-key.
    assert.equal(
      (await run('check-tls-key', '-d', key, '-c', 'nqn.s', '-n', 'nqn.h')).out,
      'NVMe0R01 nqn.h nqn.s\n',
    );
  });

  const errors: [string[], number, string][] = [
    [['gen-dhchap-key', '--hmac=4', `--nqn=${NQN}`], 1, 'Invalid HMAC identifier 4'],
    [
      ['gen-dhchap-key', '--hmac=1', '--key-length=48', `--nqn=${NQN}`],
      1,
      'Invalid key length 48 for SHA(256)',
    ],
    [
      ['gen-dhchap-key', '--hmac=1', '--secret=0011', `--nqn=${NQN}`],
      1,
      'Invalid key length (2 bytes)',
    ],
    [
      ['gen-dhchap-key', '--secret=abc'],
      2,
      'Invalid secret (expected an even number of hexadecimal characters)',
    ],
    [['check-dhchap-key'], 2, 'Key not specified'],
    [
      ['check-dhchap-key', '-k', 'DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2m:'],
      1,
      'CRC-32 mismatch',
    ],
    [['gen-tls-key', '--hmac=3'], 2, 'Invalid HMAC identifier 3'],
    [['gen-tls-key', '-I', '2'], 2, 'Invalid TLS identity version 2'],
    [
      ['gen-tls-key', '--insert'],
      2,
      '--insert is not supported: nvmemu has no access to the kernel keyring',
    ],
    [['check-tls-key', '-c', 'nqn.s'], 2, 'No key data'],
    [
      ['check-tls-key', '-d', 'NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'],
      2,
      'Need to specify a subsystem NQN',
    ],
    [
      [
        'check-tls-key',
        '-d',
        'NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrY:',
        '-c',
        'nqn.s',
        '-n',
        'nqn.h',
      ],
      1,
      'CRC-32 mismatch',
    ],
  ];
  for (const [argv, code, text] of errors) {
    it(`${argv.join(' ').slice(0, 60)} → exit ${code}: ${text}`, async () => {
      const r = await run(...argv);
      assert.equal(r.code, code);
      assert.equal(r.out, '');
      assert.ok(r.err.startsWith(`nvmemu nvme ${argv[0]!}: `), r.err);
      assert.ok(r.err.includes(text), r.err);
      assert.ok(
        !r.err.includes('ia6zGodOr4SEG') && !r.err.includes('VRLbtnN9'),
        `secret echoed: ${r.err}`,
      );
    });
  }

  it('lists the key commands in nvmemu nvme --help', async () => {
    const r = await run('--help');
    for (const c of ['gen-dhchap-key', 'check-dhchap-key', 'gen-tls-key', 'check-tls-key'])
      assert.match(r.out, new RegExp(`  ${c} `));
  });
});
