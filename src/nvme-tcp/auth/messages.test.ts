import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from './decode.js';
import {
  ChallengeHeader,
  encodeMessage,
  FailureLayout,
  FailureReason,
  NegotiateHeader,
  ProtocolDescriptor,
  ReplyHeader,
  Success1Header,
  Success2Layout,
  type AuthMessage,
} from './messages.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

describe('AUTH message layouts', () => {
  it('pins the fixed sizes', () => {
    assert.equal(NegotiateHeader.size, 8);
    assert.equal(ProtocolDescriptor.size, 64);
    assert.equal(ChallengeHeader.size, 16);
    assert.equal(ReplyHeader.size, 16);
    assert.equal(Success1Header.size, 16);
    assert.equal(Success2Layout.size, 16);
    assert.equal(FailureLayout.size, 8);
  });

  // Golden bytes, written out from the field tables of NVMe Base Spec 2.0 §8.13.4-5 (and the
  // same layout as Linux's struct nvmf_auth_dhchap_*_data): every multi-byte field LE.
  const golden: [string, AuthMessage, string][] = [
    [
      'AUTH_Negotiate, Linux offer (3 hashes, 6 groups)',
      {
        kind: 'negotiate',
        tid: 0x1234,
        scc: 0,
        descriptors: [{ authId: 1, hashIds: [1, 2, 3], dhGroupIds: [0, 1, 2, 3, 4, 5] }],
      },
      '0000 0000 3412 00 01' +
        '01 00 03 06' +
        '010203' +
        '00'.repeat(27) +
        '000102030405' +
        '00'.repeat(24),
    ],
    [
      'DH-HMAC-CHAP_Challenge, SHA-256, null group',
      {
        kind: 'challenge',
        tid: 7,
        hashId: 1,
        dhGroupId: 0,
        seqnum: 0x01020304,
        challenge: fill(32, 0xc1),
        dhValue: new Uint8Array(0),
      },
      '0101 0000 0700 20 00 01 00 0000 04030201' + 'c1'.repeat(32),
    ],
    [
      'DH-HMAC-CHAP_Challenge, SHA-384, DH value',
      {
        kind: 'challenge',
        tid: 7,
        hashId: 2,
        dhGroupId: 1,
        seqnum: 9,
        challenge: fill(48, 0xc1),
        dhValue: fill(4, 0xd1),
      },
      '0101 0000 0700 30 00 02 01 0400 09000000' + 'c1'.repeat(48) + 'd1'.repeat(4),
    ],
    [
      'DH-HMAC-CHAP_Reply, unidirectional',
      {
        kind: 'reply',
        tid: 7,
        seqnum: 0,
        response: fill(32, 0xa1),
        challenge: undefined,
        dhValue: new Uint8Array(0),
      },
      '0102 0000 0700 20 00 00 00 0000 00000000' + 'a1'.repeat(32) + '00'.repeat(32),
    ],
    [
      'DH-HMAC-CHAP_Reply, bidirectional with DH value',
      {
        kind: 'reply',
        tid: 0xbeef,
        seqnum: 0xdeadbeef,
        response: fill(32, 0xa1),
        challenge: fill(32, 0xc2),
        dhValue: fill(2, 0xd2),
      },
      '0102 0000 efbe 20 00 01 00 0200 efbeadde' + 'a1'.repeat(32) + 'c2'.repeat(32) + 'd2d2',
    ],
    [
      'DH-HMAC-CHAP_Success1 without response',
      { kind: 'success1', tid: 7, hl: 32, response: undefined },
      '0103 0000 0700 20 00 00' + '00'.repeat(7) + '00'.repeat(32),
    ],
    [
      'DH-HMAC-CHAP_Success1 with response',
      { kind: 'success1', tid: 7, hl: 32, response: fill(32, 0xa2) },
      '0103 0000 0700 20 00 01' + '00'.repeat(7) + 'a2'.repeat(32),
    ],
    ['DH-HMAC-CHAP_Success2', { kind: 'success2', tid: 7 }, '0104 0000 0700' + '00'.repeat(10)],
    ['AUTH_Failure1', { kind: 'failure1', tid: 7, reason: 1 }, '00f1 0000 0700 01 01'],
    ['AUTH_Failure2', { kind: 'failure2', tid: 7, reason: 6 }, '00f0 0000 0700 01 06'],
  ];
  for (const [name, msg, want] of golden) {
    it(`${name}: golden bytes and round trip`, () => {
      const b = encodeMessage(msg);
      assert.equal(hex(b), want.replace(/\s+/g, ''));
      const d = decodeMessage(b);
      assert.ok(d.ok, d.ok ? '' : d.message);
      assert.deepEqual(d.value, msg.kind === 'success1' ? { ...msg } : msg);
      // Zero padding after a message (the rest of an AUTH_Receive buffer) is accepted.
      const padded = new Uint8Array(b.length + 100);
      padded.set(b);
      assert.deepEqual(decodeMessage(padded), d);
    });
  }
});

describe('AUTH message decoder rejects every malformed field', () => {
  const neg = encodeMessage({
    kind: 'negotiate',
    tid: 1,
    scc: 0,
    descriptors: [{ authId: 1, hashIds: [1], dhGroupIds: [0] }],
  });
  const chal = encodeMessage({
    kind: 'challenge',
    tid: 1,
    hashId: 1,
    dhGroupId: 0,
    seqnum: 1,
    challenge: fill(32, 1),
    dhValue: new Uint8Array(0),
  });
  const rep = encodeMessage({
    kind: 'reply',
    tid: 1,
    seqnum: 0,
    response: fill(32, 1),
    challenge: undefined,
    dhValue: new Uint8Array(0),
  });
  const s1 = encodeMessage({ kind: 'success1', tid: 1, hl: 32, response: undefined });
  const s2 = encodeMessage({ kind: 'success2', tid: 1 });
  const f1 = encodeMessage({ kind: 'failure1', tid: 1, reason: 1 });
  const set = (b: Uint8Array, off: number, v: number) => {
    const c = b.slice();
    c[off] = v;
    return c;
  };
  const P = FailureReason.INCORRECT_PAYLOAD;
  const M = FailureReason.INCORRECT_MESSAGE;
  // [case, bytes, reason, field]
  const table: [string, Uint8Array, number, string][] = [
    ['empty', new Uint8Array(0), P, 'length'],
    ['one byte', bytes('00'), P, 'length'],
    ['AUTH_TYPE 02h', bytes('0200'), M, 'AUTH_TYPE'],
    ['common AUTH_ID 05h', bytes('0005'), M, 'AUTH_ID'],
    ['DH-HMAC-CHAP AUTH_ID 00h', set(chal, 1, 0), M, 'AUTH_ID'],
    ['DH-HMAC-CHAP AUTH_ID F1h', bytes('01f1'), M, 'AUTH_ID'],
    ['Negotiate: short header', neg.subarray(0, 7), P, 'length'],
    ['Negotiate: reserved byte 2', set(neg, 2, 1), P, 'AUTH_Negotiate reserved'],
    ['Negotiate: SC_C 03h', set(neg, 6, 3), P, 'SC_C'],
    ['Negotiate: NAPD 0', set(neg, 7, 0), P, 'NAPD'],
    ['Negotiate: NAPD 2, one descriptor', set(neg, 7, 2), P, 'length'],
    ['Negotiate: descriptor reserved', set(neg, 9, 1), P, 'descriptor[0] reserved'],
    ['Negotiate: HALEN 31', set(neg, 10, 31), P, 'descriptor[0].HALEN'],
    ['Negotiate: DHLEN 31', set(neg, 11, 31), P, 'descriptor[0].DHLEN'],
    ['Negotiate: hash id past HALEN', set(neg, 13, 2), P, 'descriptor[0].HashIDList past HALEN'],
    ['Negotiate: group id past DHLEN', set(neg, 43, 1), P, 'descriptor[0].DHGIDList past DHLEN'],
    ['Negotiate: trailing data', Uint8Array.of(...neg, 0, 5), P, 'bytes after the message'],
    ['Challenge: short header', chal.subarray(0, 15), P, 'length'],
    ['Challenge: reserved byte 3', set(chal, 3, 1), P, 'Challenge reserved'],
    ['Challenge: reserved byte 7', set(chal, 7, 1), P, 'Challenge reserved'],
    ['Challenge: HL 20', set(chal, 6, 20), P, 'HL'],
    ['Challenge: HL 48 with SHA-256', Uint8Array.of(...set(chal, 6, 48), ...fill(16, 0)), P, 'HL'],
    ['Challenge: truncated challenge', chal.subarray(0, 40), P, 'length'],
    ['Challenge: DHVLEN past the end', set(chal, 10, 8), P, 'length'],
    ['Challenge: trailing data', Uint8Array.of(...chal, 9), P, 'bytes after the message'],
    ['Reply: reserved byte 9', set(rep, 9, 1), P, 'Reply reserved'],
    ['Reply: HL 0', set(rep, 6, 0), P, 'HL'],
    ['Reply: CVALID 2', set(rep, 8, 2), P, 'CVALID'],
    ['Reply: CVAL without CVALID', set(rep, 16 + 32, 1), P, 'CVAL with CVALID cleared'],
    ['Reply: truncated', rep.subarray(0, 16 + 40), P, 'length'],
    ['Success1: reserved byte 12', set(s1, 12, 1), P, 'Success1 reserved'],
    ['Success1: HL 33', set(s1, 6, 33), P, 'HL'],
    ['Success1: RVALID 3', set(s1, 8, 3), P, 'RVALID'],
    ['Success1: RVAL without RVALID', set(s1, 20, 1), P, 'RVAL with RVALID cleared'],
    ['Success1: RVALID, no response', set(s1, 8, 1).subarray(0, 16), P, 'length'],
    ['Success2: reserved byte 10', set(s2, 10, 1), P, 'Success2 reserved'],
    ['Success2: short', s2.subarray(0, 12), P, 'length'],
    ['Failure: RESCODE 02h', set(f1, 6, 2), P, 'RESCODE'],
    ['Failure: RESCODE_EXP 00h', set(f1, 7, 0), P, 'RESCODE_EXP'],
    ['Failure: RESCODE_EXP 08h', set(f1, 7, 8), P, 'RESCODE_EXP'],
    ['Failure: reserved', set(f1, 2, 1), P, 'AUTH_Failure reserved'],
    ['Failure: short', f1.subarray(0, 7), P, 'length'],
  ];
  for (const [name, buf, reason, field] of table) {
    it(`${name} → reason ${reason}, field ${field}`, () => {
      const d = decodeMessage(buf);
      assert.equal(d.ok, false);
      if (d.ok) return;
      assert.equal(d.reason, reason);
      assert.equal(d.field, field);
      assert.ok(d.message.startsWith(field), d.message);
    });
  }
});
