// The authentication protocol messages carried by Authentication Send / Receive (NVMe Base
// Spec 2.0 §8.13.4 / §8.13.5, TP 8006; field names as in the spec figures, byte order LE).
// Each fixed part is a layout table whose size a test pins; the variable parts (descriptors,
// challenge, response, DH values) follow it. decode.ts parses them, this file builds them.
//
//   message              AUTH_TYPE  AUTH_ID  size
//   AUTH_Negotiate       00h        00h      8 + 64 * NAPD      host -> controller
//   DH-HMAC-CHAP_Challenge 01h      01h      16 + HL + DHVLEN   controller -> host
//   DH-HMAC-CHAP_Reply   01h        02h      16 + 2*HL + DHVLEN host -> controller
//   DH-HMAC-CHAP_Success1 01h       03h      16 + HL            controller -> host
//   DH-HMAC-CHAP_Success2 01h       04h      16                 host -> controller
//   AUTH_Failure2        00h        F0h      8                  host -> controller
//   AUTH_Failure1        00h        F1h      8                  controller -> host

import { defineLayout } from '../../util/layout.js';
import type { DhGroupId } from './dh.js';
import type { HashId } from './hash.js';

/** Security Protocol of Authentication Send/Receive for NVMe in-band authentication. */
export const AUTH_SECP = 0xe9;
/** SPSP0 / SPSP1 of Authentication Send/Receive: 01h, 01h (DH-HMAC-CHAP over SECP E9h). */
export const AUTH_SPSP = 0x01;

export const AuthType = { COMMON: 0x00, DHCHAP: 0x01 } as const;
export const AuthId = {
  NEGOTIATE: 0x00,
  CHALLENGE: 0x01,
  REPLY: 0x02,
  SUCCESS1: 0x03,
  SUCCESS2: 0x04,
  FAILURE2: 0xf0,
  FAILURE1: 0xf1,
} as const;
/** AUTHID of the DH-HMAC-CHAP protocol descriptor. */
export const DHCHAP_AUTHID = 0x01;
/** Size of the HashIDList and of the DHGIDList of a protocol descriptor. */
export const ID_LIST_SLOTS = 30;

/** Secure channel concatenation request of AUTH_Negotiate (SC_C). */
export const SecureChannel = { NONE: 0x00, NEW_TLS_PSK: 0x01, REPLACE_TLS_PSK: 0x02 } as const;

/** AUTH_Failure reason code (the only one defined) and explanations (§8.13.4.3). */
export const FAILURE_REASON_CODE = 0x01;
export const FailureReason = {
  /** Authentication failed (a response did not verify). */
  FAILED: 0x01,
  /** Authentication protocol not usable. */
  PROTOCOL_NOT_USABLE: 0x02,
  /** Secure channel concatenation mismatch. */
  CONCAT_MISMATCH: 0x03,
  /** Hash function not usable. */
  HASH_UNUSABLE: 0x04,
  /** DH group not usable. */
  DHGROUP_UNUSABLE: 0x05,
  /** Incorrect payload. */
  INCORRECT_PAYLOAD: 0x06,
  /** Incorrect protocol message. */
  INCORRECT_MESSAGE: 0x07,
} as const;
export type FailureReasonCode = (typeof FailureReason)[keyof typeof FailureReason];

export const FAILURE_REASON_TEXT: Readonly<Record<number, string>> = {
  1: 'authentication failed',
  2: 'authentication protocol not usable',
  3: 'secure channel concatenation mismatch',
  4: 'hash function not usable',
  5: 'DH group not usable',
  6: 'incorrect payload',
  7: 'incorrect protocol message',
};

export const NegotiateHeader = defineLayout('AUTH_Negotiate', 8, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'scc', offset: 6, type: 'u8' },
  { name: 'napd', offset: 7, type: 'u8' },
] as const);

export const ProtocolDescriptor = defineLayout('auth protocol descriptor', 64, [
  { name: 'authId', offset: 0, type: 'u8' },
  { name: 'rsvd1', offset: 1, type: { bytes: 1 } },
  { name: 'halen', offset: 2, type: 'u8' },
  { name: 'dhlen', offset: 3, type: 'u8' },
  { name: 'hashIds', offset: 4, type: { bytes: ID_LIST_SLOTS } },
  { name: 'dhGroupIds', offset: 34, type: { bytes: ID_LIST_SLOTS } },
] as const);

export const ChallengeHeader = defineLayout('DH-HMAC-CHAP_Challenge', 16, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'hl', offset: 6, type: 'u8' },
  { name: 'rsvd7', offset: 7, type: { bytes: 1 } },
  { name: 'hashId', offset: 8, type: 'u8' },
  { name: 'dhGroupId', offset: 9, type: 'u8' },
  { name: 'dhvlen', offset: 10, type: 'u16le' },
  { name: 'seqnum', offset: 12, type: 'u32le' },
] as const);

export const ReplyHeader = defineLayout('DH-HMAC-CHAP_Reply', 16, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'hl', offset: 6, type: 'u8' },
  { name: 'rsvd7', offset: 7, type: { bytes: 1 } },
  { name: 'cvalid', offset: 8, type: 'u8' },
  { name: 'rsvd9', offset: 9, type: { bytes: 1 } },
  { name: 'dhvlen', offset: 10, type: 'u16le' },
  { name: 'seqnum', offset: 12, type: 'u32le' },
] as const);

export const Success1Header = defineLayout('DH-HMAC-CHAP_Success1', 16, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'hl', offset: 6, type: 'u8' },
  { name: 'rsvd7', offset: 7, type: { bytes: 1 } },
  { name: 'rvalid', offset: 8, type: 'u8' },
  { name: 'rsvd9', offset: 9, type: { bytes: 7 } },
] as const);

export const Success2Layout = defineLayout('DH-HMAC-CHAP_Success2', 16, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'rsvd6', offset: 6, type: { bytes: 10 } },
] as const);

export const FailureLayout = defineLayout('AUTH_Failure', 8, [
  { name: 'authType', offset: 0, type: 'u8' },
  { name: 'authId', offset: 1, type: 'u8' },
  { name: 'rsvd2', offset: 2, type: { bytes: 2 } },
  { name: 'tid', offset: 4, type: 'u16le' },
  { name: 'rescode', offset: 6, type: 'u8' },
  { name: 'rescodeExp', offset: 7, type: 'u8' },
] as const);

/** One DH-HMAC-CHAP protocol descriptor of AUTH_Negotiate. Unknown ids are kept as numbers. */
export interface DhchapDescriptor {
  readonly authId: number;
  readonly hashIds: readonly number[];
  readonly dhGroupIds: readonly number[];
}

export type AuthMessage =
  | {
      readonly kind: 'negotiate';
      readonly tid: number;
      readonly scc: number;
      readonly descriptors: readonly DhchapDescriptor[];
    }
  | {
      readonly kind: 'challenge';
      readonly tid: number;
      readonly hashId: number;
      readonly dhGroupId: number;
      readonly seqnum: number;
      readonly challenge: Uint8Array;
      readonly dhValue: Uint8Array;
    }
  | {
      readonly kind: 'reply';
      readonly tid: number;
      readonly seqnum: number;
      readonly response: Uint8Array;
      /** C2 when CVALID is set (the host asks the controller to authenticate). */
      readonly challenge: Uint8Array | undefined;
      readonly dhValue: Uint8Array;
    }
  | {
      readonly kind: 'success1';
      readonly tid: number;
      readonly hl: number;
      readonly response: Uint8Array | undefined;
    }
  | { readonly kind: 'success2'; readonly tid: number }
  | { readonly kind: 'failure1' | 'failure2'; readonly tid: number; readonly reason: number };

export type AuthMessageKind = AuthMessage['kind'];

function withTail(head: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(head.length + parts.reduce((n, p) => n + p.length, 0));
  out.set(head, 0);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function idList(ids: readonly number[], what: string): Uint8Array {
  if (ids.length > ID_LIST_SLOTS) throw new RangeError(`${what}: more than ${ID_LIST_SLOTS} ids`);
  return Uint8Array.from(ids);
}

/** Builds the bytes of `m` (our own messages: arguments are trusted, lengths are checked). */
export function encodeMessage(m: AuthMessage): Uint8Array {
  switch (m.kind) {
    case 'negotiate': {
      const head = NegotiateHeader.encode({
        authType: AuthType.COMMON,
        authId: AuthId.NEGOTIATE,
        tid: m.tid,
        scc: m.scc,
        napd: m.descriptors.length,
      });
      const descs = m.descriptors.map((d) =>
        ProtocolDescriptor.encode({
          authId: d.authId,
          halen: d.hashIds.length,
          dhlen: d.dhGroupIds.length,
          hashIds: idList(d.hashIds, 'HashIDList'),
          dhGroupIds: idList(d.dhGroupIds, 'DHGIDList'),
        }),
      );
      return withTail(head, ...descs);
    }
    case 'challenge':
      return withTail(
        ChallengeHeader.encode({
          authType: AuthType.DHCHAP,
          authId: AuthId.CHALLENGE,
          tid: m.tid,
          hl: m.challenge.length,
          hashId: m.hashId,
          dhGroupId: m.dhGroupId,
          dhvlen: m.dhValue.length,
          seqnum: m.seqnum,
        }),
        m.challenge,
        m.dhValue,
      );
    case 'reply':
      return withTail(
        ReplyHeader.encode({
          authType: AuthType.DHCHAP,
          authId: AuthId.REPLY,
          tid: m.tid,
          hl: m.response.length,
          cvalid: m.challenge === undefined ? 0 : 1,
          dhvlen: m.dhValue.length,
          seqnum: m.seqnum,
        }),
        m.response,
        m.challenge ?? new Uint8Array(m.response.length),
        m.dhValue,
      );
    case 'success1':
      return withTail(
        Success1Header.encode({
          authType: AuthType.DHCHAP,
          authId: AuthId.SUCCESS1,
          tid: m.tid,
          hl: m.hl,
          rvalid: m.response === undefined ? 0 : 1,
        }),
        m.response ?? new Uint8Array(m.hl),
      );
    case 'success2':
      return Success2Layout.encode({
        authType: AuthType.DHCHAP,
        authId: AuthId.SUCCESS2,
        tid: m.tid,
      });
    case 'failure1':
    case 'failure2':
      return FailureLayout.encode({
        authType: AuthType.COMMON,
        authId: m.kind === 'failure1' ? AuthId.FAILURE1 : AuthId.FAILURE2,
        tid: m.tid,
        rescode: FAILURE_REASON_CODE,
        rescodeExp: m.reason,
      });
  }
}

/** The hash and DH group lists a descriptor offers, as the typed ids this library knows. */
export interface Offer {
  readonly hashes: readonly HashId[];
  readonly dhGroups: readonly DhGroupId[];
}
