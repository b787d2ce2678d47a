// Hash functions of NVMe in-band authentication (NVMe Base Spec 2.0 §8.13.5.2, Figure 174
// "DH-HMAC-CHAP Hash Function Identifiers"): 01h SHA-256, 02h SHA-384, 03h SHA-512. The same
// numbers select the key transformation of a DHHC-1 secret, where 00h means "no
// transformation" (§8.13.5.8), and the PSK hash of the NVMe/TCP TLS key formats (01h, 02h).

import { createHash, createHmac } from 'node:crypto';

export type HashId = 1 | 2 | 3;

interface HashInfo {
  readonly id: HashId;
  /** node:crypto digest name. */
  readonly node: 'sha256' | 'sha384' | 'sha512';
  /** Linux's name (`dhchap_hash` attribute, log lines). */
  readonly linux: string;
  /** Digest length in bytes (HL of the DH-HMAC-CHAP messages). */
  readonly length: 32 | 48 | 64;
}

export const HASHES: Readonly<Record<HashId, HashInfo>> = {
  1: { id: 1, node: 'sha256', linux: 'hmac(sha256)', length: 32 },
  2: { id: 2, node: 'sha384', linux: 'hmac(sha384)', length: 48 },
  3: { id: 3, node: 'sha512', linux: 'hmac(sha512)', length: 64 },
};

export function isHashId(n: number): n is HashId {
  return n === 1 || n === 2 || n === 3;
}

/** H(data...) with the hash `id`. */
export function digest(id: HashId, ...data: readonly Uint8Array[]): Uint8Array {
  const h = createHash(HASHES[id].node);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** HMAC_H(key, data...) with the hash `id`. */
export function hmac(id: HashId, key: Uint8Array, ...data: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(HASHES[id].node, key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
}

/** Hash id from a name as Linux and nvme-cli write it: `hmac(sha256)`, `sha256`, `SHA-256`. */
export function hashIdFromName(name: string): HashId | undefined {
  const n = name
    .toLowerCase()
    .replace(/^hmac\((.*)\)$/, '$1')
    .replace('-', '');
  for (const h of Object.values(HASHES)) if (h.node === n) return h.id;
  return undefined;
}
