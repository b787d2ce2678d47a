import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPrimeSync } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { checkPublicValue, DH_GROUPS, dhKeyPair, dhPrime, type DhGroupId } from './dh.js';

const toBig = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).toString('hex')}`);

/** e * 2^bits, truncated, from the series sum 1/k! in fixed point (enough guard bits). */
function eFixed(bits: number): bigint {
  const guard = 64n;
  const one = 1n << (BigInt(bits) + guard);
  let term = one;
  let sum = 0n;
  for (let k = 1n; term > 0n; k++) {
    sum += term;
    term /= k;
  }
  return sum >> guard;
}

/** A mod-pow independent of OpenSSL (square and multiply). */
function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

// RFC 7919 Appendix A: p = 2^b - 2^(b-64) + {[2^(b-130) e] + X} * 2^64 - 1.
const X: Record<Exclude<DhGroupId, 0>, [number, bigint]> = {
  1: [2048, 560316n],
  2: [3072, 2625351n],
  3: [4096, 5736041n],
  4: [6144, 15705020n],
  5: [8192, 10965728n],
};

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

describe('FFDHE groups (RFC 7919)', () => {
  for (const [id, [b, x]] of Object.entries(X)) {
    const g = Number(id) as Exclude<DhGroupId, 0>;
    it(`${DH_GROUPS[g].name}: the prime is RFC 7919's formula with X = ${x}`, () => {
      const B = BigInt(b);
      const p = 2n ** B - 2n ** (B - 64n) + (eFixed(b - 130) + x) * 2n ** 64n - 1n;
      assert.equal(toBig(dhPrime(g)), p);
      assert.equal(dhPrime(g).length, DH_GROUPS[g].bytes);
    });
  }

  it('ffdhe2048 is a safe prime (p and (p-1)/2 prime)', () => {
    const p = toBig(dhPrime(1));
    assert.ok(checkPrimeSync(p, { checks: 8 }));
    assert.ok(checkPrimeSync((p - 1n) / 2n, { checks: 8 }));
  });

  it(
    "the primes equal OpenSSL's named groups (peer)",
    { skip: openssl ? false : 'openssl not installed' },
    () => {
      for (const g of [1, 2, 3, 4, 5] as const) {
        const pem = execFileSync('openssl', [
          'genpkey',
          '-genparam',
          '-algorithm',
          'DH',
          '-pkeyopt',
          `group:${DH_GROUPS[g].name}`,
        ]);
        const asn1 = execFileSync('openssl', ['asn1parse'], { input: pem, encoding: 'utf8' });
        const hex = /INTEGER\s+:([0-9A-F]+)/.exec(asn1)?.[1];
        assert.equal(hex, Buffer.from(dhPrime(g)).toString('hex').toUpperCase(), DH_GROUPS[g].name);
      }
    },
  );
});

describe('DH exponentiation', () => {
  it('the public value is 2^x mod p at the prime length, computed independently', () => {
    const x = new Uint8Array(256).fill(0x5a);
    const pair = dhKeyPair(1, x);
    const p = toBig(dhPrime(1));
    const xr = 2n + (toBig(x) % (p - 3n));
    assert.equal(pair.publicValue.length, 256);
    assert.equal(toBig(pair.publicValue), modPow(2n, xr, p));
  });

  it('both sides reach the same shared secret, padded to the prime length', () => {
    for (const g of [1, 2] as const) {
      const a = dhKeyPair(g, new Uint8Array(DH_GROUPS[g].bytes).fill(7));
      const b = dhKeyPair(g, new Uint8Array(DH_GROUPS[g].bytes).fill(9));
      const s1 = a.sharedSecret(b.publicValue);
      assert.equal(s1.length, DH_GROUPS[g].bytes);
      assert.deepEqual(s1, b.sharedSecret(a.publicValue));
      const p = toBig(dhPrime(g));
      assert.equal(
        toBig(s1),
        modPow(
          toBig(b.publicValue),
          2n + (toBig(new Uint8Array(DH_GROUPS[g].bytes).fill(7)) % (p - 3n)),
          p,
        ),
      );
    }
  });

  it('keeps leading zero bytes of a value (a small public value stays 256 bytes)', () => {
    // x = 2 after reduction: 2^2 mod p = 4.
    const pair = dhKeyPair(1, new Uint8Array(256));
    assert.equal(pair.publicValue.length, 256);
    assert.equal(toBig(pair.publicValue), 4n);
  });

  const p = toBig(dhPrime(1));
  const val = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(512, '0'), 'hex'));
  const bad: [string, Uint8Array, RegExp][] = [
    ['0', val(0n), /out of range/],
    ['1', val(1n), /out of range/],
    ['p-1', val(p - 1n), /out of range/],
    ['p', val(p), /out of range/],
    ['short', new Uint8Array(255).fill(1), /255 bytes, ffdhe2048 needs 256/],
    ['long', new Uint8Array(257).fill(1), /257 bytes, ffdhe2048 needs 256/],
  ];
  for (const [name, y, message] of bad) {
    it(`rejects the peer value ${name}`, () => {
      assert.match(checkPublicValue(1, y) ?? '', message);
      assert.throws(() => dhKeyPair(1, new Uint8Array(256).fill(3)).sharedSecret(y), message);
    });
  }
  it('accepts 2 and p-2', () => {
    assert.equal(checkPublicValue(1, val(2n)), undefined);
    assert.equal(checkPublicValue(1, val(p - 2n)), undefined);
  });
});
