// The DH-HMAC-CHAP secret representation (NVMe Base Spec 2.0 §8.13.5.8, TP 8006; what
// nvme-cli's gen-dhchap-key prints and Linux's dhchap_key / --dhchap-secret accept):
//
//   DHHC-1:xx:<base64(key || CRC-32(key) little-endian)>:
//
// xx names the hash that transforms the key before use: 00 none, 01 SHA-256, 02 SHA-384,
// 03 SHA-512. The key is 32, 48 or 64 bytes; with a transformation hash it must be that
// hash's length (nvme-cli 2.13 check-dhchap-key: 59, 83 or 103 characters).
//
// Key transformation (§8.13.5.8): Kh' = HMAC_H(Kh, NQNh || "NVMe-over-Fabrics") for a host
// key and Kc' = HMAC_H(Kc, NQNc || "NVMe-over-Fabrics") for a controller key, H the secret's
// own hash; with xx = 00 the key is used as it is.
//
// A secret never prints: toString(), JSON and util.inspect show the hash and length only.

import { inspect } from 'node:util';
import { readU32le, writeU32le } from '../../util/bytes.js';
import { crc32 } from '../../util/crc.js';
import { decodeBase64Strict, encodeBase64 } from './base64.js';
import { keyFormatError, usageError } from './errors.js';
import { HASHES, hmac, isHashId, type HashId } from './hash.js';

export type KeyHash = 0 | HashId;
const SEED = new TextEncoder().encode('NVMe-over-Fabrics');
const HASH_NAMES = ['none', 'SHA-256', 'SHA-384', 'SHA-512'] as const;

/** The key lengths a DHHC-1 secret may have for a transformation hash. */
export function allowedKeyLengths(hash: KeyHash): readonly number[] {
  return hash === 0 ? [32, 48, 64] : [HASHES[hash].length];
}

export class DhchapSecret {
  readonly hash: KeyHash;
  readonly #key: Uint8Array;

  constructor(hash: KeyHash, key: Uint8Array) {
    if (!(hash === 0 || isHashId(hash))) throw usageError(`hash ${String(hash)} is not 0..3`);
    if (!allowedKeyLengths(hash).includes(key.length)) {
      throw usageError(
        `a DHHC-1 secret with hash ${hash} (${HASH_NAMES[hash]}) has a ${allowedKeyLengths(hash).join(', ')}-byte key, got ${key.length}`,
      );
    }
    this.hash = hash;
    // Uint8Array.from copies even when `key` is a Buffer (whose slice() would share memory).
    this.#key = Uint8Array.from(key);
  }

  get length(): number {
    return this.#key.length;
  }

  /** A copy of the key bytes (callers wipe it when done). */
  keyBytes(): Uint8Array {
    return this.#key.slice();
  }

  /** The DHHC-1 text. Reveals the secret: for files and command output the user asked for. */
  format(): string {
    const crc = crc32(this.#key);
    const raw = new Uint8Array(this.#key.length + 4);
    raw.set(this.#key);
    writeU32le(raw, this.#key.length, crc);
    return `DHHC-1:${this.hash.toString().padStart(2, '0')}:${encodeBase64(raw)}:`;
  }

  /**
   * The transformed key used as HMAC key in the responses (§8.13.5.8): with the host NQN for
   * a host secret, with the subsystem NQN for a controller secret.
   */
  transform(nqn: string): Uint8Array {
    if (this.hash === 0) return this.keyBytes();
    return hmac(this.hash, this.#key, new TextEncoder().encode(nqn), SEED);
  }

  /** Constant-time comparison of two secrets (configuration reloads). */
  equals(other: DhchapSecret): boolean {
    if (other.hash !== this.hash || other.length !== this.length) return false;
    const o = other.keyBytes();
    let diff = 0;
    for (let i = 0; i < o.length; i++) diff |= o[i]! ^ this.#key[i]!;
    return diff === 0;
  }

  toString(): string {
    return `DhchapSecret(DHHC-1:${this.hash.toString().padStart(2, '0')}:<redacted ${this.length}-byte key>:)`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Parses DHHC-1 text; every error names the part that is wrong and never echoes the key. */
export function parseDhchapSecret(text: string): DhchapSecret {
  const m = /^DHHC-1:([0-9A-Fa-f]{2}):([^:]*):$/.exec(text.trim());
  if (m === null) {
    if (!text.trim().startsWith('DHHC-1:')) {
      throw keyFormatError("not a DH-HMAC-CHAP secret: expected 'DHHC-1:xx:<base64>:'");
    }
    if (!/^DHHC-1:[0-9A-Fa-f]{2}:/.test(text.trim())) {
      throw keyFormatError('DHHC-1 secret: the hash indicator must be two digits 00..03');
    }
    throw keyFormatError("DHHC-1 secret: expected 'DHHC-1:xx:<base64>:' ending with ':'");
  }
  const hash = parseInt(m[1]!, 16);
  if (hash > 3)
    throw keyFormatError(`DHHC-1 secret: hash indicator ${m[1]!} is not 00, 01, 02 or 03`);
  const raw = decodeBase64Strict(m[2]!, 'DHHC-1 secret');
  if (raw.length !== 36 && raw.length !== 52 && raw.length !== 68) {
    throw keyFormatError(
      `DHHC-1 secret: ${raw.length} bytes decoded; a secret is a 32, 48 or 64-byte key and a 4-byte CRC`,
    );
  }
  const key = raw.subarray(0, raw.length - 4);
  const h = hash as KeyHash;
  if (!allowedKeyLengths(h).includes(key.length)) {
    throw keyFormatError(
      `DHHC-1 secret: hash indicator ${m[1]!} (${HASH_NAMES[h]}) needs a ${allowedKeyLengths(h)[0]!}-byte key, got ${key.length}`,
    );
  }
  const stored = readU32le(raw, key.length);
  if (stored !== crc32(key)) {
    throw keyFormatError('DHHC-1 secret: CRC-32 mismatch (the secret is corrupt or mistyped)');
  }
  return new DhchapSecret(h, key);
}

export interface GenDhchapKeyOptions {
  /** Transformation hash 0..3 (nvme-cli --hmac). */
  readonly hmac: number;
  /** Host NQN for the transformation (required unless hmac is 0). */
  readonly nqn?: string;
  /** 32, 48 or 64; default the hash's length (32 for hmac 0). */
  readonly keyLength?: number;
  /** The secret's bytes (nvme-cli --secret, hex there); random when absent. */
  readonly secret?: Uint8Array;
  /** Random source (tests); default node:crypto. */
  readonly random?: (n: number) => Uint8Array;
}

/**
 * nvme-cli 2.x gen-dhchap-key: a secret of keyLength bytes (given or random) is transformed
 * with the NQN when hmac is not 0 and the transformed key is what the DHHC-1 text carries,
 * with hmac as its hash indicator (the user of the key transforms it again with the NQN, as
 * §8.13.5.8 says). Errors use nvme-cli's wording without echoing the secret.
 */
export function genDhchapKey(opts: GenDhchapKeyOptions): DhchapSecret {
  const h = opts.hmac;
  if (!Number.isInteger(h) || h < 0 || h > 3) throw usageError(`Invalid HMAC identifier ${h}`);
  const hash = h as KeyHash;
  let len = opts.keyLength;
  if (hash !== 0) {
    const want = HASHES[hash].length;
    if (len === undefined || len === 0) len = want;
    else if (len !== want) {
      throw usageError(`Invalid key length ${len} for SHA(${want * 8})`);
    }
  } else if (len === undefined || len === 0) {
    len = 32;
  }
  if (len !== 32 && len !== 48 && len !== 64) throw usageError(`Invalid key length ${len}`);
  let raw: Uint8Array;
  if (opts.secret !== undefined) {
    if (opts.secret.length !== len)
      throw usageError(`Invalid key length (${opts.secret.length} bytes)`);
    raw = Uint8Array.from(opts.secret);
  } else {
    raw = (opts.random ?? defaultRandom)(len);
  }
  if (hash === 0) return new DhchapSecret(0, raw);
  if (opts.nqn === undefined || opts.nqn === '') throw usageError('Could not read host NQN');
  const key = new DhchapSecret(hash, raw).transform(opts.nqn);
  raw.fill(0);
  return new DhchapSecret(hash, key);
}

function defaultRandom(n: number): Uint8Array {
  return new Uint8Array(globalThis.crypto.getRandomValues(new Uint8Array(n)));
}
