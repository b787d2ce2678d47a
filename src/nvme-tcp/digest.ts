// NVMe/TCP header and data digests (reference nvme-tcp.md §1.5): CRC-32C (Castagnoli), init and
// final XOR 0xFFFFFFFF, stored little-endian in 4 bytes. HDGST covers the HLEN header bytes, DDGST
// covers the PDU data only (never header or padding).
// Check value of "123456789" is 0xE3069283 (pinned in digest.test.ts).

import { readU32le, writeU32le } from '../util/bytes.js';
import { crc32c } from '../util/crc.js';
import { DIGEST_LEN } from './pdu/types.js';

/** CRC-32C of `bytes`, continuing from `seed` (a previous result) so data can come in pieces. */
export function digestOf(bytes: Uint8Array, seed = 0): number {
  return crc32c(bytes, seed);
}

/** The 4 wire bytes of a digest over `bytes`. */
export function digestBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(DIGEST_LEN);
  writeU32le(out, 0, digestOf(bytes));
  return out;
}

/** Write the digest of `covered` at `off` in `dst` (used for HDGST right after the header). */
export function writeDigest(dst: Uint8Array, off: number, covered: Uint8Array): void {
  writeU32le(dst, off, digestOf(covered));
}

/** True when the 4 bytes at `off` in `stored` are the digest of `covered`. */
export function digestMatches(covered: Uint8Array, stored: Uint8Array, off = 0): boolean {
  return readU32le(stored, off) === digestOf(covered);
}
