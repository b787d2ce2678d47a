import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { digestBytes, digestMatches, digestOf, writeDigest } from './digest.js';
import { fromHex } from './pdu/fixtures.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('NVMe/TCP digests (CRC-32C, §1.5)', () => {
  it('computes the CRC-32C check value 0xE3069283 for "123456789"', () => {
    assert.equal(digestOf(ascii('123456789')), 0xe3069283);
  });

  it('stores the digest little-endian in 4 bytes', () => {
    assert.deepEqual(digestBytes(ascii('123456789')), fromHex('83 92 06 e3'));
  });

  it('continues a digest from a seed so data can be digested in pieces', () => {
    const whole = digestOf(ascii('123456789'));
    assert.equal(digestOf(ascii('6789'), digestOf(ascii('12345'))), whole);
  });

  it('writes the digest at an offset and recognises it, and rejects one flipped bit', () => {
    const covered = ascii('abc');
    const buf = new Uint8Array(6);
    writeDigest(buf, 2, covered);
    assert.equal(digestMatches(covered, buf, 2), true);
    buf[5]! ^= 0x80;
    assert.equal(digestMatches(covered, buf, 2), false);
  });
});
