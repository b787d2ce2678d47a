// The DH-HMAC-CHAP computations (NVMe Base Spec 2.0 §8.13.5.1, §8.13.5.4..5.7, §8.13.5.9):
//
//   host response        R1 = HMAC_H(Kh', C1 || U32(S1) || U16(T_ID) || U8(SC_C) ||
//                                   "HostHost" || NQNh || 00h || NQNc)
//   controller response  R2 = HMAC_H(Kc', C2 || U32(S2) || U16(T_ID) || U8(SC_C) ||
//                                   "Controller" || NQNc || 00h || NQNh)
//   with DH (group != null), C is replaced by the augmented challenge
//                        Ca = HMAC_H(H(g^xy mod p), C)
//   session key          KS = H(g^xy mod p)
//   generated TLS PSK    PSK = HMAC_H(KS, C1 || C2)         (secure channel concatenation)
//
// H is the hash the controller chose in the Challenge; U32/U16 are little-endian; NQNs are
// their bytes without terminator; Kh'/Kc' are the transformed secrets (secret.ts). g^xy mod p
// is the shared secret at the prime's full length (dh.ts).
//
// Note why hashing the DH value before keying the HMAC cannot make two implementations
// disagree: an HMAC key longer than the hash's block (64 bytes for SHA-256, 128 for
// SHA-384/512) is replaced by its hash (RFC 2104 §2), and every g^xy is 256 bytes or more, so
// HMAC(g^xy, ·) and HMAC(H(g^xy), ·) are the same function. response.test.ts checks it.

import { writeU16le, writeU32le } from '../../util/bytes.js';
import { digest, hmac, type HashId } from './hash.js';

const enc = new TextEncoder();

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32le(b, 0, n >>> 0);
  return b;
}

function u16le(n: number): Uint8Array {
  const b = new Uint8Array(2);
  writeU16le(b, 0, n & 0xffff);
  return b;
}

export interface ResponseInput {
  /** The hash chosen in the Challenge. */
  readonly hash: HashId;
  /** Kh' (host response) or Kc' (controller response). */
  readonly key: Uint8Array;
  /** C1 / C2, or the augmented challenge when a DH group is used. */
  readonly challenge: Uint8Array;
  /** S1 (host response) or S2 (controller response). */
  readonly seqnum: number;
  readonly tid: number;
  /** SC_C of the AUTH_Negotiate (0: no secure channel). */
  readonly scc: number;
  readonly hostNqn: string;
  readonly subsysNqn: string;
}

export function hostResponse(i: ResponseInput): Uint8Array {
  return hmac(
    i.hash,
    i.key,
    i.challenge,
    u32le(i.seqnum),
    u16le(i.tid),
    Uint8Array.of(i.scc),
    enc.encode('HostHost'),
    enc.encode(i.hostNqn),
    Uint8Array.of(0),
    enc.encode(i.subsysNqn),
  );
}

export function controllerResponse(i: ResponseInput): Uint8Array {
  return hmac(
    i.hash,
    i.key,
    i.challenge,
    u32le(i.seqnum),
    u16le(i.tid),
    Uint8Array.of(i.scc),
    enc.encode('Controller'),
    enc.encode(i.subsysNqn),
    Uint8Array.of(0),
    enc.encode(i.hostNqn),
  );
}

/** KS = H(g^xy mod p). */
export function sessionKey(hash: HashId, sharedSecret: Uint8Array): Uint8Array {
  return digest(hash, sharedSecret);
}

/** Ca = HMAC_H(H(g^xy mod p), C). */
export function augmentedChallenge(
  hash: HashId,
  sharedSecret: Uint8Array,
  challenge: Uint8Array,
): Uint8Array {
  return hmac(hash, sessionKey(hash, sharedSecret), challenge);
}

/**
 * The generated PSK of secure channel concatenation (§8.13.5.9): HMAC_H(KS, C1 || C2). Pure
 * function for the TLS side (tls/psk.ts derives the TLS PSK and identity from it); the state
 * machines do not negotiate secure channel concatenation yet.
 */
export function generatedPsk(
  hash: HashId,
  ks: Uint8Array,
  c1: Uint8Array,
  c2: Uint8Array,
): Uint8Array {
  return hmac(hash, ks, c1, c2);
}
