import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { compatHkdfLabel, hkdfExpand, hkdfExpandLabel, hkdfExtract, hkdfLabel } from './hkdf.js';
import {
  deriveTlsKey,
  formatPskIdentity,
  parsePskIdentity,
  parseTlsPsk,
  pskDigest,
  retainedPsk,
  TlsPsk,
} from './psk.js';

const h = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('HKDF and HKDF-Expand-Label', () => {
  it('RFC 5869 Appendix A.1 (test case 1, SHA-256)', () => {
    const prk = hkdfExtract(1, h('0b'.repeat(22)), h('000102030405060708090a0b0c'));
    assert.equal(hex(prk), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    assert.equal(
      hex(hkdfExpand(1, prk, h('f0f1f2f3f4f5f6f7f8f9'), 42)),
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it("RFC 8448 §3 (simple 1-RTT): early secret and 'derived'", () => {
    const early = hkdfExtract(1, new Uint8Array(32));
    assert.equal(hex(early), '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a');
    const empty = createHash('sha256').digest();
    assert.equal(
      hex(hkdfExpandLabel(1, early, 'derived', empty, 32)),
      '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
    );
    assert.equal(
      hex(hkdfLabel(32, 'derived', empty)).slice(0, 34),
      '00200d746c733133206465726976656420',
    );
  });

  it('equals node:crypto hkdfSync (extract with zero salt, then expand), SHA-256 and SHA-384', () => {
    for (const [id, alg, len] of [
      [1, 'sha256', 32],
      [2, 'sha384', 48],
    ] as const) {
      const ikm = new Uint8Array(len).fill(0x42);
      const info = hkdfLabel(len, 'nvme-tls-psk', new TextEncoder().encode('NVMe0R0x a b'));
      const ours = hkdfExpand(id, hkdfExtract(id, ikm), info, len);
      assert.equal(
        hex(ours),
        Buffer.from(hkdfSync(alg, ikm, new Uint8Array(0), info, len)).toString('hex'),
      );
    }
  });

  it('the libnvme <= 1.15 info: little-endian length, no length bytes', () => {
    assert.equal(
      hex(compatHkdfLabel(32, 'HostNQN', new TextEncoder().encode('nqn.h'))),
      `2000${hex(new TextEncoder().encode('tls13 HostNQNnqn.h'))}`,
    );
  });
});

// libnvme test/psk.c (linux-nvme/libnvme 1.16, now nvme-cli's libnvme/test/psk.c): the
// configured PSK 5512DBB6..., its interchange forms, and the version 1 identities for
// nqn.psk-test-host / nqn.psk-test-subsys, RFC 8446 and "compat" derivations.
const PSK32 = h('5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03');
const PSK48 = h(
  '5512DBB6737D0106F65975B773DFB011FFC344BCF442E2DD6D8BC4870B5D5B03FFC344BCF442E2DD6D8BC4870B5D5B03',
);
const HOSTNQN = 'nqn.psk-test-host';
const SUBNQN = 'nqn.psk-test-subsys';

describe('NVMe TLS PSK interchange format (libnvme test vectors)', () => {
  const vectors: [0 | 1 | 2, Uint8Array, string][] = [
    [0, PSK32, 'NVMeTLSkey-1:00:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'],
    [1, PSK32, 'NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:'],
    [
      2,
      PSK48,
      'NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:',
    ],
  ];
  for (const [hash, key, text] of vectors) {
    it(`exports and imports ${text.slice(0, 16)}`, () => {
      assert.equal(new TlsPsk(hash, key).format(), text);
      const p = parseTlsPsk(text);
      assert.equal(p.hash, hash);
      assert.deepEqual(p.keyBytes(), key);
    });
  }

  const identities: [TlsPsk, 'rfc8446' | 'libnvme-compat', string][] = [
    [
      new TlsPsk(1, PSK32),
      'rfc8446',
      'NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=',
    ],
    [
      new TlsPsk(2, PSK48),
      'rfc8446',
      'NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a',
    ],
    [
      new TlsPsk(1, PSK32),
      'libnvme-compat',
      'NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys 66GuqV08TsAGII39teWUfwQwizjv06Jy8jOcX3NAAzM=',
    ],
    [
      new TlsPsk(2, PSK48),
      'libnvme-compat',
      'NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys RsKmYJ3nAn1ApjjMloJFbAkLPivONDAX/xW327YBUsn2eGShXSjCZvBaOxscLqmz',
    ],
  ];
  for (const [psk, variant, identity] of identities) {
    it(`version 1 identity, ${variant}, hash 0${psk.hash}: the digest over the retained PSK`, () => {
      const d = deriveTlsKey(psk, HOSTNQN, SUBNQN, 1, variant);
      assert.equal(d.identity, identity);
      assert.equal(d.key.length, psk.length);
      assert.equal(
        pskDigest(psk.cipherHash, retainedPsk(psk, HOSTNQN, variant), HOSTNQN, SUBNQN),
        identity.split(' ')[3],
      );
      assert.deepEqual(parsePskIdentity(identity), {
        version: 1,
        type: 'R',
        hash: psk.cipherHash,
        hostNqn: HOSTNQN,
        subsysNqn: SUBNQN,
        digest: identity.split(' ')[3],
      });
    });
  }

  it('version 0 identity and TLS PSK: HKDF-Expand-Label(PRK, "nvme-tls-psk", identity, L)', () => {
    const psk = new TlsPsk(1, PSK32);
    const d = deriveTlsKey(psk, HOSTNQN, SUBNQN, 0);
    assert.equal(d.identity, 'NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys');
    // Recomputed with node:crypto's HKDF from the formula (retained key as above).
    const retained = Buffer.from(
      hkdfSync(
        'sha256',
        PSK32,
        new Uint8Array(0),
        hkdfLabel(32, 'HostNQN', new TextEncoder().encode(HOSTNQN)),
        32,
      ),
    );
    assert.deepEqual(Buffer.from(retainedPsk(psk, HOSTNQN)), retained);
    const tls = hkdfSync(
      'sha256',
      retained,
      new Uint8Array(0),
      hkdfLabel(32, 'nvme-tls-psk', new TextEncoder().encode(d.identity)),
      32,
    );
    assert.deepEqual(Buffer.from(d.key), Buffer.from(tls));
    // The compat form differs (that is why a target must know which one the host used).
    assert.notDeepEqual(deriveTlsKey(psk, HOSTNQN, SUBNQN, 0, 'libnvme-compat').key, d.key);
  });

  it('hash 00: the configured PSK is the retained PSK; the cipher hash follows its length', () => {
    const p32 = new TlsPsk(0, PSK32);
    assert.deepEqual(retainedPsk(p32, HOSTNQN), PSK32);
    assert.equal(p32.cipherHash, 1);
    assert.equal(new TlsPsk(0, PSK48).cipherHash, 2);
    assert.equal(
      deriveTlsKey(new TlsPsk(0, PSK48), HOSTNQN, SUBNQN, 0).identity,
      'NVMe0R02 nqn.psk-test-host nqn.psk-test-subsys',
    );
  });

  it('never shows the key', () => {
    const p = parseTlsPsk(vectors[1]![2]);
    for (const s of [String(p), JSON.stringify(p), inspect({ p })]) {
      assert.ok(!s.includes('VRLbtnN9'), s);
      assert.match(s, /redacted 32-byte key/);
    }
  });

  const bad: [string, RegExp][] = [
    ['DHHC-1:00:abc:', /not an NVMe TLS PSK/],
    ['NVMeTLSkey-2:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:', /version 2 is not 1/],
    [
      'NVMeTLSkey-1:03:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:',
      /hash indicator 03 is not 00, 01 or 02/,
    ],
    ['NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ', /ending with ':'/],
    ['NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9Lr:', /not base64/],
    ['NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrY:', /CRC-32 mismatch/],
    ['NVMeTLSkey-1:01:AAAA:', /3 bytes decoded/],
    [
      'NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:',
      /hash indicator 02 needs a 48-byte PSK, got 32/,
    ],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${text.slice(0, 20)}…: ${message.source}`, () => {
      assert.throws(
        () => parseTlsPsk(text),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'NVME_AUTH_KEY_FORMAT');
          assert.match(e.message, message);
          assert.ok(!e.message.includes('VRLbtnN9'), e.message);
          return true;
        },
      );
    });
  }
});

describe('PSK identity', () => {
  it('formats version 0 and 1', () => {
    assert.equal(
      formatPskIdentity({ version: 0, type: 'R', hash: 2, hostNqn: 'h', subsysNqn: 's' }),
      'NVMe0R02 h s',
    );
    assert.equal(
      formatPskIdentity({
        version: 1,
        type: 'G',
        hash: 1,
        hostNqn: 'h',
        subsysNqn: 's',
        digest: 'd',
      }),
      'NVMe1G01 h s d',
    );
  });
  const bad: [string, RegExp][] = [
    ['NVMe2R01 h s', /expected/],
    ['NVMe0R03 h s', /expected/],
    ['NVMe0X01 h s', /expected/],
    ['NVMe0R01 h', /expected/],
    ['NVMe0R01  h s', /expected/],
    ['NVMe0R01 h s d', /version 0 has no digest/],
    ['NVMe1R01 h s', /version 1 needs a PSK digest/],
    [
      'NVMe1R02 h s iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=',
      /digest of 32 bytes, hash 02 needs 48/,
    ],
    ['NVMe1R01 h s iSbj!', /not base64/],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parsePskIdentity(text), message);
    });
  }
});
