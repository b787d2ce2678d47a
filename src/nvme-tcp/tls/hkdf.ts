// HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), as the NVMe/TCP PSK
// derivations use them (NVMe TCP Transport Spec 1.0c §3.6.1.2-3, TP 8018).
//
//   HKDF-Extract(salt, IKM) = HMAC(salt, IKM); "0" salt = HashLen zero bytes
//   HKDF-Expand(PRK, info, L) = T(1) || T(2) || ... first L bytes, T(i) = HMAC(PRK, T(i-1) ||
//                               info || i)
//   HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length)
//   HkdfLabel = u16 Length (big-endian) || u8 len || "tls13 " Label || u8 len || Context
//
// libnvme up to 1.15 (nvme-cli up to 2.15, which Debian 13 ships) built HkdfLabel without
// the two length bytes and with Length in host (little-endian) order; libnvme 1.16 fixed that
// and keeps the old form as its "compat" derivation. compatHkdfLabel() reproduces it, so that
// keys derived by those nvme-cli versions can be matched (tls/psk.ts).

import { hmac, HASHES, type HashId } from '../auth/hash.js';

export function hkdfExtract(hash: HashId, ikm: Uint8Array, salt?: Uint8Array): Uint8Array {
  return hmac(hash, salt ?? new Uint8Array(HASHES[hash].length), ikm);
}

export function hkdfExpand(
  hash: HashId,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const hl = HASHES[hash].length;
  if (!Number.isInteger(length) || length < 0 || length > 255 * hl) {
    throw new RangeError(`HKDF-Expand: length ${length} is not 0..${255 * hl}`);
  }
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, off = 0; off < length; i++) {
    t = hmac(hash, prk, t, info, Uint8Array.of(i));
    out.set(t.subarray(0, Math.min(hl, length - off)), off);
    off += hl;
  }
  return out;
}

const enc = new TextEncoder();

/** The RFC 8446 HkdfLabel. Label and Context are at most 249 and 255 bytes. */
export function hkdfLabel(length: number, label: string, context: Uint8Array): Uint8Array {
  const l = enc.encode(`tls13 ${label}`);
  if (l.length > 255) throw new RangeError(`HkdfLabel: label of ${l.length} bytes exceeds 255`);
  if (context.length > 255)
    throw new RangeError(`HkdfLabel: context of ${context.length} bytes exceeds 255`);
  const out = new Uint8Array(2 + 1 + l.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = l.length;
  out.set(l, 3);
  out[3 + l.length] = context.length;
  out.set(context, 4 + l.length);
  return out;
}

/** libnvme <= 1.15's info: u16 Length little-endian || "tls13 " Label || Context, no lengths. */
export function compatHkdfLabel(length: number, label: string, context: Uint8Array): Uint8Array {
  const l = enc.encode(`tls13 ${label}`);
  const out = new Uint8Array(2 + l.length + context.length);
  out[0] = length & 0xff;
  out[1] = length >>> 8;
  out.set(l, 2);
  out.set(context, 2 + l.length);
  return out;
}

export function hkdfExpandLabel(
  hash: HashId,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hash, secret, hkdfLabel(length, label, context), length);
}
