// DH groups of DH-HMAC-CHAP (NVMe Base Spec 2.0 §8.13.5.3, Figure 175 "DH-HMAC-CHAP
// Diffie-Hellman Group Identifiers"): 00h null (no DH exponentiation), 01h..05h the RFC 7919
// groups ffdhe2048..ffdhe8192, generator 2. Exponentials are big-endian and exactly as long as
// the prime (Linux sends crypto_kpp_maxsize bytes; RFC 7919 §5.1 keeps leading zeros).

import { createDiffieHellman } from 'node:crypto';
import { FFDHE_PRIMES_HEX } from './ffdhe-primes.js';

export type DhGroupId = 0 | 1 | 2 | 3 | 4 | 5;

interface GroupInfo {
  readonly id: DhGroupId;
  /** The name Linux and nvme-cli use (`dhchap_dhgroup`). */
  readonly name: 'null' | 'ffdhe2048' | 'ffdhe3072' | 'ffdhe4096' | 'ffdhe6144' | 'ffdhe8192';
  /** Prime length in bytes; 0 for the null group. */
  readonly bytes: number;
  /**
   * Private exponent length in bytes: twice the group's security strength (RFC 7919 §5.2,
   * NIST SP 800-56A r3 Appendix D; the strengths Linux's crypto/dh.c uses: 112, 128, 152, 176,
   * 200 bits). A full-length exponent buys nothing and costs ~20x: one ffdhe8192 exponentiation
   * with a 1024-byte exponent blocks the event loop for ~200 ms, which a host that names a
   * listed NQN could repeat at will.
   */
  readonly privateBytes: number;
}

export const DH_GROUPS: Readonly<Record<DhGroupId, GroupInfo>> = {
  0: { id: 0, name: 'null', bytes: 0, privateBytes: 0 },
  1: { id: 1, name: 'ffdhe2048', bytes: 256, privateBytes: 28 },
  2: { id: 2, name: 'ffdhe3072', bytes: 384, privateBytes: 32 },
  3: { id: 3, name: 'ffdhe4096', bytes: 512, privateBytes: 38 },
  4: { id: 4, name: 'ffdhe6144', bytes: 768, privateBytes: 44 },
  5: { id: 5, name: 'ffdhe8192', bytes: 1024, privateBytes: 50 },
};

export function isDhGroupId(n: number): n is DhGroupId {
  return Number.isInteger(n) && n >= 0 && n <= 5;
}

export function dhGroupIdFromName(name: string): DhGroupId | undefined {
  for (const g of Object.values(DH_GROUPS)) if (g.name === name.toLowerCase()) return g.id;
  return undefined;
}

const PRIMES = new Map<DhGroupId, Uint8Array>();

/** The prime of a non-null group, big-endian. */
export function dhPrime(id: Exclude<DhGroupId, 0>): Uint8Array {
  let p = PRIMES.get(id);
  if (p === undefined) {
    p = new Uint8Array(Buffer.from(FFDHE_PRIMES_HEX[DH_GROUPS[id].name as 'ffdhe2048'], 'hex'));
    PRIMES.set(id, p);
  }
  return p;
}

/** Big-endian `bytes` left-padded with zeros to `len` (a DH value keeps its length). */
function padTo(bytes: Uint8Array, len: number): Uint8Array {
  if (bytes.length === len) return bytes;
  const out = new Uint8Array(len);
  out.set(bytes.subarray(Math.max(0, bytes.length - len)), Math.max(0, len - bytes.length));
  return out;
}

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

/**
 * Why a peer's exponential is unusable, or undefined when it is usable: it must be exactly
 * the prime's length and 1 < y < p-1 (RFC 7919 §5.1: 1 and p-1 would force the shared
 * secret into a subgroup of order 2).
 */
export function checkPublicValue(id: Exclude<DhGroupId, 0>, y: Uint8Array): string | undefined {
  const p = dhPrime(id);
  if (y.length !== p.length) {
    return `DH value is ${y.length} bytes, ${DH_GROUPS[id].name} needs ${p.length}`;
  }
  const v = toBig(y);
  if (v <= 1n || v >= toBig(p) - 1n) {
    return `DH value is out of range (1 < y < p-1 for ${DH_GROUPS[id].name})`;
  }
  return undefined;
}

/** One side's DH exponentiation: a private exponent and its public value g^x mod p. */
export interface DhKeyPair {
  readonly group: Exclude<DhGroupId, 0>;
  /** g^x mod p, padded to the prime's length. */
  readonly publicValue: Uint8Array;
  /** (peer)^x mod p, padded to the prime's length. The peer value must pass checkPublicValue. */
  sharedSecret(peer: Uint8Array): Uint8Array;
}

/**
 * A key pair for `group` with private exponent `x` (big-endian; callers pass random bytes of
 * the prime's length, reduced here into [2, p-2]).
 */
export function dhKeyPair(group: Exclude<DhGroupId, 0>, x: Uint8Array): DhKeyPair {
  const p = dhPrime(group);
  const pBig = toBig(p);
  const xBig = 2n + (toBig(x) % (pBig - 3n));
  const dh = createDiffieHellman(Buffer.from(p), Buffer.from([2]));
  dh.setPrivateKey(Buffer.from(xBig.toString(16).padStart(p.length * 2, '0'), 'hex'));
  const publicValue = padTo(new Uint8Array(dh.generateKeys()), p.length);
  return {
    group,
    publicValue,
    sharedSecret: (peer) => {
      const why = checkPublicValue(group, peer);
      if (why !== undefined) throw new RangeError(why);
      return padTo(new Uint8Array(dh.computeSecret(Buffer.from(peer))), p.length);
    },
  };
}
