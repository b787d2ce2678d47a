// Checksums used on the wire and on media:
// - CRC-16 T10-DIF: 16b guard of NVMe protection information (NVM Command Set Spec 1.0 §5.2.1.1,
//   formula from SBC-3 §4.22.4): poly 0x8BB7, init 0, not reflected, no final XOR.
// - CRC-64 NVMe: 64b guard (NVM Command Set Spec 1.0 §5.2.1.3): reflected poly 0x9A6C9329AC4BC9B5
//   (normal form 0xAD93D23594C93659), init and final XOR all ones.
// - CRC-32C: NVMe/TCP header and data digests (NVMe/TCP Transport Spec §3.6.1), delegated to
//   @node-rs/crc32 (hardware accelerated).
// - CRC-32 (IEEE 802.3, zlib's): the check value of the DH-HMAC-CHAP secret representation
//   (NVMe Base Spec 2.0 §8.13.5.8) and of the NVMe TLS PSK interchange format, delegated to
//   @node-rs/crc32.
// - fletcher64: Linux nd_fletcher64 over namespace index blocks, BTT and PFN info blocks
//   (reference qemu-pmem-ndctl.md §7.4).
//
// All CRCs accept a seed so that a buffer can be checksummed in pieces:
// crc(b, crc(a)) === crc(a ++ b). Tables are built once at module load (256 entries each).

import { createRequire } from 'node:module';
import { readU32le } from './bytes.js';

type NativeCrc = typeof import('@node-rs/crc32');
let nativeCrc: NativeCrc | undefined;
/**
 * The native CRC-32 and CRC-32C, loaded at their first use: the addon's load (a libc probe and
 * a dlopen, 5-10 ms) is a cost an `nvmemu nvme` command without digests or keys would pay for
 * nothing (docs/architecture.md "Module loading"). A synchronous require keeps these functions
 * synchronous.
 */
const native = (): NativeCrc =>
  (nativeCrc ??= createRequire(import.meta.url)('@node-rs/crc32') as NativeCrc);

const CRC16_T10DIF_POLY = 0x8bb7;

const CRC16_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ CRC16_T10DIF_POLY) & 0xffff : c << 1;
    t[i] = c & 0xffff;
  }
  return t;
})();

/**
 * CRC-16/T10-DIF of `data`. `seed` is the CRC of the preceding bytes (0 to start), which works
 * because this CRC has zero init and no final XOR.
 */
export function crc16T10Dif(data: Uint8Array, seed = 0): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff) {
    throw new RangeError(`crc16T10Dif: seed ${seed} is not a 16-bit value`);
  }
  const t = CRC16_TABLE;
  let crc = seed;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ t[((crc >>> 8) ^ data[i]!) & 0xff]!;
  }
  return crc;
}

// The 64-bit register is kept as two uint32 halves so the inner loop never allocates bigints.
const CRC64_POLY_REFLECTED = 0x9a6c9329ac4bc9b5n;
const POLY_LO = Number(CRC64_POLY_REFLECTED & 0xffff_ffffn);
const POLY_HI = Number(CRC64_POLY_REFLECTED >> 32n);

const [CRC64_LO, CRC64_HI]: [Uint32Array, Uint32Array] = (() => {
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (carry) {
        l = (l ^ POLY_LO) >>> 0;
        h = (h ^ POLY_HI) >>> 0;
      }
    }
    lo[i] = l;
    hi[i] = h;
  }
  return [lo, hi];
})();

const U64_MASK = 0xffff_ffff_ffff_ffffn;

/**
 * CRC-64/NVME of `data`. `seed` is the finished CRC of the preceding bytes (0n to start); the
 * all-ones init/xorout are applied around it, as Linux crc64_rocksoft_generic does.
 */
export function crc64Nvme(data: Uint8Array, seed = 0n): bigint {
  if (seed < 0n || seed > U64_MASK) {
    throw new RangeError(`crc64Nvme: seed ${seed} is not a 64-bit value`);
  }
  const inv = ~seed & U64_MASK;
  let lo = Number(inv & 0xffff_ffffn);
  let hi = Number(inv >> 32n);
  const tl = CRC64_LO;
  const th = CRC64_HI;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ tl[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ th[idx]!) >>> 0;
  }
  return (BigInt(~hi >>> 0) << 32n) | BigInt(~lo >>> 0);
}

/**
 * CRC-32C (Castagnoli) as used by NVMe/TCP digests and the 32b PI guard. `seed` is the finished
 * CRC of the preceding bytes (0 to start).
 */
export function crc32c(data: Uint8Array, seed = 0): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`crc32c: seed ${seed} is not a 32-bit value`);
  }
  return native().crc32c(data, seed) >>> 0;
}

/**
 * CRC-32 (IEEE, reflected poly 0xEDB88320, init and final XOR all ones: zlib's crc32). `seed`
 * is the finished CRC of the preceding bytes (0 to start).
 */
export function crc32(data: Uint8Array, seed = 0): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`crc32: seed ${seed} is not a 32-bit value`);
  }
  return native().crc32(data, seed) >>> 0;
}

/**
 * Linux nd_fletcher64 / ndctl fletcher64: `data` as little-endian u32 words, lo = sum of words
 * and hi = sum of running lo values, both mod 2^32; result hi << 32 | lo. Callers zero the
 * checksum slot before summing. The length must be a multiple of 4 (every user sums whole
 * structures whose sizes are), so anything else is a caller bug.
 */
export function fletcher64(data: Uint8Array): bigint {
  if (data.length % 4 !== 0) {
    throw new RangeError(`fletcher64: length ${data.length} is not a multiple of 4`);
  }
  let lo = 0;
  let hi = 0;
  for (let off = 0; off < data.length; off += 4) {
    lo = (lo + readU32le(data, off)) >>> 0;
    hi = (hi + lo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
