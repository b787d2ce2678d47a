// Parse, then act (DESIGN.md rule 1): every authentication message received from a peer goes
// through decodeMessage(), which checks every field before the state machines look at it and
// names the first field that is wrong. A malformed message maps to the failure explanation
// the peer will be sent: an unknown or misplaced message type is "incorrect protocol message"
// (07h), anything else wrong inside a message is "incorrect payload" (06h). Whether a
// well-formed value is acceptable (a hash this side does not offer, a TID of another
// transaction) is for the state machines to decide.
//
// Reserved fields must be zero, and so must the bytes after the message: Authentication
// Receive fills the host's buffer up to its allocation length, so a receiver sees the message
// followed by zero padding, never by other data.

import { readU16le, readU8 } from '../../util/bytes.js';
import { HASHES, isHashId } from './hash.js';
import {
  AuthId,
  AuthType,
  ChallengeHeader,
  FailureLayout,
  FailureReason,
  FAILURE_REASON_CODE,
  ID_LIST_SLOTS,
  NegotiateHeader,
  ProtocolDescriptor,
  ReplyHeader,
  SecureChannel,
  Success1Header,
  Success2Layout,
  type AuthMessage,
  type DhchapDescriptor,
  type FailureReasonCode,
} from './messages.js';

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** The explanation to send in AUTH_Failure1/2. */
      readonly reason: FailureReasonCode;
      /** The offending field, as the spec names it (`HL`, `DHVLEN`, `descriptor[0].DHLEN`). */
      readonly field: string;
      readonly message: string;
    };

class Malformed extends Error {
  constructor(
    readonly reason: FailureReasonCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const payload = (field: string, message: string): Malformed =>
  new Malformed(FailureReason.INCORRECT_PAYLOAD, field, `${field}: ${message}`);

/** A copy of buf[from, to) that never shares memory (Buffer.slice would). */
function copy(buf: Uint8Array, from: number, to: number): Uint8Array {
  return Uint8Array.prototype.slice.call(buf, from, to);
}

function need(buf: Uint8Array, n: number, what: string): void {
  if (buf.length < n) throw payload('length', `${what} needs ${n} bytes, got ${buf.length}`);
}

function zeros(buf: Uint8Array, from: number, to: number, field: string): void {
  for (let i = from; i < to; i++) {
    if (buf[i] !== 0)
      throw payload(field, `reserved byte at offset ${i} is 0x${buf[i]!.toString(16)}, must be 0`);
  }
}

function hashLength(hl: number): void {
  if (hl !== 32 && hl !== 48 && hl !== 64) {
    throw payload('HL', `${hl} is not a hash length (32, 48 or 64)`);
  }
}

/** The message of `buf` (a whole Authentication Send payload or Receive buffer). */
export function decodeMessage(buf: Uint8Array): Decoded<AuthMessage> {
  try {
    return { ok: true, value: decode(buf) };
  } catch (e) {
    if (e instanceof Malformed)
      return { ok: false, reason: e.reason, field: e.field, message: e.message };
    throw e;
  }
}

function decode(buf: Uint8Array): AuthMessage {
  need(buf, 2, 'a message');
  const type = readU8(buf, 0);
  const id = readU8(buf, 1);
  if (type === AuthType.COMMON) {
    if (id === AuthId.NEGOTIATE) return negotiate(buf);
    if (id === AuthId.FAILURE1 || id === AuthId.FAILURE2) return failure(buf, id);
  } else if (type === AuthType.DHCHAP) {
    if (id === AuthId.CHALLENGE) return challenge(buf);
    if (id === AuthId.REPLY) return reply(buf);
    if (id === AuthId.SUCCESS1) return success1(buf);
    if (id === AuthId.SUCCESS2) return success2(buf);
  } else {
    throw new Malformed(
      FailureReason.INCORRECT_MESSAGE,
      'AUTH_TYPE',
      `AUTH_TYPE: 0x${type.toString(16)} is not 00h or 01h`,
    );
  }
  throw new Malformed(
    FailureReason.INCORRECT_MESSAGE,
    'AUTH_ID',
    `AUTH_ID: 0x${id.toString(16)} is not a message of AUTH_TYPE 0x${type.toString(16).padStart(2, '0')}`,
  );
}

function negotiate(buf: Uint8Array): AuthMessage {
  need(buf, NegotiateHeader.size, 'AUTH_Negotiate');
  const h = NegotiateHeader.decode(buf);
  zeros(buf, 2, 4, 'AUTH_Negotiate reserved');
  if (h.scc > SecureChannel.REPLACE_TLS_PSK)
    throw payload('SC_C', `0x${h.scc.toString(16)} is not 00h, 01h or 02h`);
  if (h.napd === 0) throw payload('NAPD', 'no authentication protocol descriptor');
  const end = NegotiateHeader.size + h.napd * ProtocolDescriptor.size;
  need(buf, end, `AUTH_Negotiate with NAPD ${h.napd}`);
  const descriptors: DhchapDescriptor[] = [];
  for (let i = 0; i < h.napd; i++) {
    const off = NegotiateHeader.size + i * ProtocolDescriptor.size;
    const d = ProtocolDescriptor.decode(buf, off);
    const f = `descriptor[${i}]`;
    zeros(buf, off + 1, off + 2, `${f} reserved`);
    if (d.halen > ID_LIST_SLOTS) throw payload(`${f}.HALEN`, `${d.halen} exceeds ${ID_LIST_SLOTS}`);
    if (d.dhlen > ID_LIST_SLOTS) throw payload(`${f}.DHLEN`, `${d.dhlen} exceeds ${ID_LIST_SLOTS}`);
    zeros(d.hashIds, d.halen, ID_LIST_SLOTS, `${f}.HashIDList past HALEN`);
    zeros(d.dhGroupIds, d.dhlen, ID_LIST_SLOTS, `${f}.DHGIDList past DHLEN`);
    descriptors.push({
      authId: d.authId,
      hashIds: [...d.hashIds.subarray(0, d.halen)],
      dhGroupIds: [...d.dhGroupIds.subarray(0, d.dhlen)],
    });
  }
  zeros(buf, end, buf.length, 'bytes after the message');
  return { kind: 'negotiate', tid: h.tid, scc: h.scc, descriptors };
}

function challenge(buf: Uint8Array): AuthMessage {
  need(buf, ChallengeHeader.size, 'DH-HMAC-CHAP_Challenge');
  const h = ChallengeHeader.decode(buf);
  zeros(buf, 2, 4, 'Challenge reserved');
  zeros(buf, 7, 8, 'Challenge reserved');
  hashLength(h.hl);
  if (isHashId(h.hashId) && HASHES[h.hashId].length !== h.hl) {
    throw payload(
      'HL',
      `${h.hl} does not match HASHID 0x${h.hashId.toString(16)} (${HASHES[h.hashId].length} bytes)`,
    );
  }
  const end = ChallengeHeader.size + h.hl + h.dhvlen;
  need(buf, end, `DH-HMAC-CHAP_Challenge with HL ${h.hl} and DHVLEN ${h.dhvlen}`);
  zeros(buf, end, buf.length, 'bytes after the message');
  const c = ChallengeHeader.size;
  return {
    kind: 'challenge',
    tid: h.tid,
    hashId: h.hashId,
    dhGroupId: h.dhGroupId,
    seqnum: h.seqnum,
    challenge: copy(buf, c, c + h.hl),
    dhValue: copy(buf, c + h.hl, end),
  };
}

function reply(buf: Uint8Array): AuthMessage {
  need(buf, ReplyHeader.size, 'DH-HMAC-CHAP_Reply');
  const h = ReplyHeader.decode(buf);
  zeros(buf, 2, 4, 'Reply reserved');
  zeros(buf, 7, 8, 'Reply reserved');
  zeros(buf, 9, 10, 'Reply reserved');
  hashLength(h.hl);
  if (h.cvalid > 1) throw payload('CVALID', `0x${h.cvalid.toString(16)} is not 0 or 1`);
  const r = ReplyHeader.size;
  const end = r + 2 * h.hl + h.dhvlen;
  need(buf, end, `DH-HMAC-CHAP_Reply with HL ${h.hl} and DHVLEN ${h.dhvlen}`);
  if (h.cvalid === 0) zeros(buf, r + h.hl, r + 2 * h.hl, 'CVAL with CVALID cleared');
  zeros(buf, end, buf.length, 'bytes after the message');
  return {
    kind: 'reply',
    tid: h.tid,
    seqnum: h.seqnum,
    response: copy(buf, r, r + h.hl),
    challenge: h.cvalid === 1 ? copy(buf, r + h.hl, r + 2 * h.hl) : undefined,
    dhValue: copy(buf, r + 2 * h.hl, end),
  };
}

function success1(buf: Uint8Array): AuthMessage {
  need(buf, Success1Header.size, 'DH-HMAC-CHAP_Success1');
  const h = Success1Header.decode(buf);
  zeros(buf, 2, 4, 'Success1 reserved');
  zeros(buf, 7, 8, 'Success1 reserved');
  zeros(buf, 9, 16, 'Success1 reserved');
  hashLength(h.hl);
  if (h.rvalid > 1) throw payload('RVALID', `0x${h.rvalid.toString(16)} is not 0 or 1`);
  const s = Success1Header.size;
  // With RVALID cleared a sender may stop after the header; the response slot is then absent
  // or zero.
  const end = h.rvalid === 1 ? s + h.hl : s;
  need(buf, end, `DH-HMAC-CHAP_Success1 with HL ${h.hl}`);
  zeros(
    buf,
    end,
    buf.length,
    h.rvalid === 1 ? 'bytes after the message' : 'RVAL with RVALID cleared',
  );
  return {
    kind: 'success1',
    tid: h.tid,
    hl: h.hl,
    response: h.rvalid === 1 ? copy(buf, s, end) : undefined,
  };
}

function success2(buf: Uint8Array): AuthMessage {
  need(buf, Success2Layout.size, 'DH-HMAC-CHAP_Success2');
  const tid = readU16le(buf, 4);
  zeros(buf, 2, 4, 'Success2 reserved');
  zeros(buf, 6, buf.length, 'Success2 reserved');
  return { kind: 'success2', tid };
}

function failure(buf: Uint8Array, id: number): AuthMessage {
  need(buf, FailureLayout.size, 'AUTH_Failure');
  const h = FailureLayout.decode(buf);
  zeros(buf, 2, 4, 'AUTH_Failure reserved');
  if (h.rescode !== FAILURE_REASON_CODE) {
    throw payload('RESCODE', `0x${h.rescode.toString(16)} is not 01h (authentication failure)`);
  }
  if (h.rescodeExp < 1 || h.rescodeExp > 7) {
    throw payload('RESCODE_EXP', `0x${h.rescodeExp.toString(16)} is not an explanation (01h..07h)`);
  }
  zeros(buf, FailureLayout.size, buf.length, 'bytes after the message');
  return {
    kind: id === AuthId.FAILURE1 ? 'failure1' : 'failure2',
    tid: h.tid,
    reason: h.rescodeExp,
  };
}
