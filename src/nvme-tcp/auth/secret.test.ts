import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { DhchapSecret, genDhchapKey, parseDhchapSecret } from './secret.js';

const NQN = 'nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
const seq = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

/** nvme-cli is a peer when installed (Debian: apt-get install nvme-cli). */
const nvmeCli = (() => {
  const r = spawnSync('nvme', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]! : undefined;
})();

describe('DHHC-1 secret representation', () => {
  it('parses the example of nvme-cli 2.13 nvme-gen-dhchap-key(1) and its CRC', () => {
    // Documentation/nvme-gen-dhchap-key.txt (nvme-cli v2.13), DESCRIPTION.
    const s = parseDhchapSecret('DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:');
    assert.equal(s.hash, 0);
    assert.equal(s.length, 32);
    assert.equal(s.format(), 'DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:');
  });

  it('formats key || CRC-32 (little-endian) in base64, like gen-dhchap-key --hmac=0', () => {
    // nvme-cli 2.3 on Debian 12: nvme gen-dhchap-key --hmac=0 --secret=000102..1f
    assert.equal(
      new DhchapSecret(0, seq(32)).format(),
      'DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:',
    );
  });

  // Recorded from nvme-cli 2.3 / libnvme 1.3 (Debian 12): nvme gen-dhchap-key --hmac=H
  // --secret=<00 01 02 .. (key length - 1)> --nqn=NQN. The printed key is the secret
  // transformed with the NQN (HMAC_H(secret, NQN || "NVMe-over-Fabrics")).
  const golden: [1 | 2 | 3, string][] = [
    [1, 'DHHC-1:01:jWiK0NeSweQjGFEI9c4bjHV792NxG/KQG1mAfCQAiRlmCljm:'],
    [2, 'DHHC-1:02:IqZJ7OfqOcbH0Af+bm4QWrh1+LEEV/Fp7yjgZUKwF68+VcPR6Us+ZRxzSiFThNry7h7rwQ==:'],
    [
      3,
      'DHHC-1:03:dZSVu1YU+UUKhORpWPqucZgHHQG1yo+Fy3MvmoYq0rkraDbrQSsxdRkXevDYzd13QnWgQM58D3YhBCl3GcAnfY7ra+w=:',
    ],
  ];
  for (const [hmac, text] of golden) {
    it(`genDhchapKey hmac ${hmac} equals nvme-cli's gen-dhchap-key (key transformation)`, () => {
      const len = [0, 32, 48, 64][hmac]!;
      assert.equal(genDhchapKey({ hmac, nqn: NQN, secret: seq(len) }).format(), text);
      // and transform() is the same function: the secret transformed with the NQN.
      assert.deepEqual(
        new DhchapSecret(hmac, seq(len)).transform(NQN),
        parseDhchapSecret(text).keyBytes(),
      );
    });
  }

  it('never shows the key: toString, JSON, inspect, template strings', () => {
    const s = parseDhchapSecret(golden[0]![1]);
    const b64 = golden[0]![1].split(':')[2]!;
    const shown = [
      String(s),
      `${String(s)}`,
      JSON.stringify({ s }),
      inspect(s),
      inspect({ deep: { s } }),
    ];
    for (const text of shown) {
      assert.ok(!text.includes(b64.slice(0, 16)), text);
      assert.match(text, /redacted 32-byte key/);
    }
  });

  it('copies the key it is given (a Buffer slice would share memory)', () => {
    const b = Buffer.from(seq(32));
    const s = new DhchapSecret(0, b);
    b.fill(0xff);
    assert.deepEqual(s.keyBytes(), seq(32));
  });

  const bad: [string, RegExp][] = [
    ['', /not a DH-HMAC-CHAP secret/],
    ['NVMeTLSkey-1:01:abc:', /not a DH-HMAC-CHAP secret/],
    ['DHHC-1:1:AAAA:', /hash indicator must be two digits/],
    [
      'DHHC-1:04:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:',
      /hash indicator 04 is not 00, 01, 02 or 03/,
    ],
    ['DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n', /ending with ':'/],
    ['DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2:', /not base64/],
    ['DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2*:', /not base64/],
    ['DHHC-1:00:AAAA:', /3 bytes decoded; a secret is a 32, 48 or 64-byte key and a 4-byte CRC/],
    ['DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2m:', /CRC-32 mismatch/],
    ['DHHC-1:00:Ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:', /CRC-32 mismatch/],
    [
      'DHHC-1:01:IqZJ7OfqOcbH0Af+bm4QWrh1+LEEV/Fp7yjgZUKwF68+VcPR6Us+ZRxzSiFThNry7h7rwQ==:',
      /hash indicator 01 \(SHA-256\) needs a 32-byte key, got 48/,
    ],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text.slice(0, 24))}… : ${message.source}`, () => {
      assert.throws(
        () => parseDhchapSecret(text),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'NVME_AUTH_KEY_FORMAT');
          assert.match(e.message, message);
          // The message never quotes the key.
          const key = text.split(':')[2] ?? '';
          if (key.length > 8) assert.ok(!e.message.includes(key), e.message);
          return true;
        },
      );
    });
  }

  const genBad: [Parameters<typeof genDhchapKey>[0], string][] = [
    [{ hmac: 4, nqn: NQN }, 'Invalid HMAC identifier 4'],
    [{ hmac: 1, nqn: NQN, keyLength: 48 }, 'Invalid key length 48 for SHA(256)'],
    [{ hmac: 2, nqn: NQN, keyLength: 32 }, 'Invalid key length 32 for SHA(384)'],
    [{ hmac: 0, keyLength: 40 }, 'Invalid key length 40'],
    [{ hmac: 1, nqn: NQN, secret: seq(31) }, 'Invalid key length (31 bytes)'],
    [{ hmac: 1 }, 'Could not read host NQN'],
  ];
  for (const [opts, message] of genBad) {
    it(`genDhchapKey ${JSON.stringify(opts, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}: ${message}`, () => {
      assert.throws(() => genDhchapKey(opts), { code: 'NVME_AUTH_USAGE', message });
    });
  }

  it('genDhchapKey defaults: key length from the hash, random secret', () => {
    for (const [hmac, len] of [
      [0, 32],
      [1, 32],
      [2, 48],
      [3, 64],
    ] as const) {
      const k = genDhchapKey({ hmac, nqn: NQN });
      assert.equal(k.hash, hmac);
      assert.equal(k.length, len);
      assert.notDeepEqual(k.keyBytes(), genDhchapKey({ hmac, nqn: NQN }).keyBytes());
    }
  });
});

describe(
  'DHHC-1 against nvme-cli (peer)',
  { skip: nvmeCli === undefined ? 'nvme-cli not installed' : false },
  () => {
    it(`${nvmeCli ?? ''}: gen-dhchap-key equals ours, check-dhchap-key accepts ours`, () => {
      for (const hmac of [1, 2, 3] as const) {
        const len = [0, 32, 48, 64][hmac]!;
        const secret = globalThis.crypto.getRandomValues(new Uint8Array(len));
        const hex = Buffer.from(secret).toString('hex');
        const theirs = execFileSync(
          'nvme',
          ['gen-dhchap-key', `--hmac=${hmac}`, `--secret=${hex}`, `--nqn=${NQN}`],
          {
            encoding: 'utf8',
          },
        ).trim();
        const ours = genDhchapKey({ hmac, nqn: NQN, secret }).format();
        assert.equal(ours, theirs);
        const check = execFileSync('nvme', ['check-dhchap-key', `--key=${ours}`], {
          encoding: 'utf8',
        });
        assert.match(
          check,
          new RegExp(`^Key is valid \\(HMAC ${hmac}, length ${len}, CRC [0-9a-f]{8}\\)`),
        );
      }
    });
  },
);
