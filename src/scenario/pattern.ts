// The data a scenario writes: block `lba` of pattern `p` is a deterministic function of both,
// so a read can tell which write (or none) a block holds after a fault or a power cut.

/** The bytes a scenario write of pattern `p` puts in block `lba` (what reads expect). */
export function blockPattern(lba: number, p: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = (Math.imul(lba + 1, 0x9e3779b1) ^ Math.imul(p, 0x85ebca6b)) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    b[i] = x & 0xff;
  }
  return b;
}
