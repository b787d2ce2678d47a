// The response computations against a second computation written out byte by byte from the
// formulas of NVMe Base Spec 2.0 §8.13.5 (node:crypto HMAC over one concatenated buffer, not
// the library's incremental helpers). No published DH-HMAC-CHAP response vectors exist (the
// spec has no examples; libnvme, nvme-cli and the kernel test none); the interoperability
// check with Linux's host and nvmet on the Debian 13 guest is phase 2 of issue 19.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  augmentedChallenge,
  controllerResponse,
  generatedPsk,
  hostResponse,
  sessionKey,
} from './response.js';
import { DhchapSecret } from './secret.js';

const HOST = 'nqn.2014-08.org.nvmexpress:uuid:0c33f2ea-96c7-4c3d-9a8c-6a7d6b1d2f10';
const SUBSYS = 'nqn.2024-01.io.nvmemu:subsys0';
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function le16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

describe('DH-HMAC-CHAP responses', () => {
  for (const [hash, alg, len] of [
    [1, 'sha256', 32],
    [2, 'sha384', 48],
    [3, 'sha512', 64],
  ] as const) {
    it(`host and controller responses with ${alg} equal the formula`, () => {
      const hostKey = new DhchapSecret(hash, fill(len, 0x11));
      const ctrlKey = new DhchapSecret(hash, fill(len, 0x22));
      const kh = createHmac(alg, fill(len, 0x11)).update(HOST).update('NVMe-over-Fabrics').digest();
      const kc = createHmac(alg, fill(len, 0x22))
        .update(SUBSYS)
        .update('NVMe-over-Fabrics')
        .digest();
      assert.deepEqual(Buffer.from(hostKey.transform(HOST)), kh);
      const c1 = fill(len, 0xc1);
      const c2 = fill(len, 0xc2);
      const r1 = createHmac(alg, kh)
        .update(
          Buffer.concat([
            c1,
            le32(0x89abcdef),
            le16(0x0102),
            Buffer.of(0),
            Buffer.from('HostHost'),
            Buffer.from(HOST),
            Buffer.of(0),
            Buffer.from(SUBSYS),
          ]),
        )
        .digest();
      const r2 = createHmac(alg, kc)
        .update(
          Buffer.concat([
            c2,
            le32(5),
            le16(0x0102),
            Buffer.of(0),
            Buffer.from('Controller'),
            Buffer.from(SUBSYS),
            Buffer.of(0),
            Buffer.from(HOST),
          ]),
        )
        .digest();
      const common = { hash, tid: 0x0102, scc: 0, hostNqn: HOST, subsysNqn: SUBSYS } as const;
      assert.deepEqual(
        Buffer.from(
          hostResponse({
            ...common,
            key: hostKey.transform(HOST),
            challenge: c1,
            seqnum: 0x89abcdef,
          }),
        ),
        r1,
      );
      assert.deepEqual(
        Buffer.from(
          controllerResponse({
            ...common,
            key: ctrlKey.transform(SUBSYS),
            challenge: c2,
            seqnum: 5,
          }),
        ),
        r2,
      );
    });
  }

  it('an untransformed secret (hash 00) keys the HMAC as it is', () => {
    const s = new DhchapSecret(0, fill(48, 0x33));
    assert.deepEqual(s.transform(HOST), fill(48, 0x33));
  });

  it('augmented challenge: HMAC(H(g^xy), C); equal to HMAC keyed with g^xy itself (RFC 2104 §2)', () => {
    const shared = fill(256, 0x5c);
    const c = fill(32, 0x01);
    const ks = createHash('sha256').update(shared).digest();
    const want = createHmac('sha256', ks).update(c).digest();
    assert.deepEqual(Buffer.from(sessionKey(1, shared)), ks);
    assert.deepEqual(Buffer.from(augmentedChallenge(1, shared, c)), want);
    // A key longer than the block is hashed first, so hashing the DH value first or not gives
    // the same value: implementations that key with g^xy directly agree with the formula.
    assert.deepEqual(createHmac('sha256', shared).update(c).digest(), want);
    const ks384 = createHash('sha384').update(shared).digest();
    assert.deepEqual(
      createHmac('sha384', shared).update(c).digest(),
      createHmac('sha384', ks384).update(c).digest(),
    );
  });

  it('generated PSK: HMAC(KS, C1 || C2)', () => {
    const ks = fill(48, 9);
    const want = createHmac('sha384', ks)
      .update(Buffer.concat([fill(48, 1), fill(48, 2)]))
      .digest();
    assert.deepEqual(Buffer.from(generatedPsk(2, ks, fill(48, 1), fill(48, 2))), want);
  });
});
