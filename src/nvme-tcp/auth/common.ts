// Pieces shared by the two DH-HMAC-CHAP state machines.

import { randomBytes, randomInt } from 'node:crypto';
import { DH_GROUPS, type DhGroupId } from './dh.js';
import { HASHES, type HashId } from './hash.js';
import { FAILURE_REASON_TEXT, type FailureReasonCode } from './messages.js';

/** Random bytes; tests inject a deterministic source. */
export type RandomSource = (n: number) => Uint8Array;
export const defaultRandom: RandomSource = (n) => new Uint8Array(randomBytes(n));
/** A sequence number; never 0, which the Reply reserves for "C2 only for a PSK". */
export const defaultSeqnum = (): number => randomInt(1, 0x1_0000_0000);

/** Every hash, in Linux's offer order. */
export const ALL_HASHES: readonly HashId[] = [1, 2, 3];
/** Every DH group, in Linux's offer order (null first). */
export const ALL_DH_GROUPS: readonly DhGroupId[] = [0, 1, 2, 3, 4, 5];

/** What an authentication transaction agreed on. */
export interface Negotiated {
  readonly hash: HashId;
  readonly dhGroup: DhGroupId;
  readonly bidirectional: boolean;
}

/** Why a transaction failed and which side decided it (log lines, tests; never secrets). */
export interface AuthFailure {
  readonly reason: FailureReasonCode;
  /** 'local': this side detected it and told the peer; 'peer': the peer's AUTH_Failure. */
  readonly by: 'local' | 'peer';
  readonly detail: string;
}

export function describeFailure(f: AuthFailure): string {
  const text = FAILURE_REASON_TEXT[f.reason] ?? `reason 0x${f.reason.toString(16)}`;
  return `${f.by === 'peer' ? 'peer reported' : 'failed'}: ${text} (${f.detail})`;
}

/**
 * What a failure means from one side (`self`), for log lines and errors: the reason, the
 * detail this side found, and which AUTH_Failure message carried it.
 */
export function explainFailure(f: AuthFailure, self: 'host' | 'controller'): string {
  const text = FAILURE_REASON_TEXT[f.reason] ?? 'unknown reason';
  const code = `reason 0x${f.reason.toString(16).padStart(2, '0')}`;
  if (f.by === 'peer') {
    return self === 'host'
      ? `the controller sent AUTH_Failure1: ${text} (${code})`
      : `the host sent AUTH_Failure2: ${text} (${code})`;
  }
  const sent = self === 'host' ? 'AUTH_Failure2' : 'AUTH_Failure1';
  return `${text}: ${f.detail} (${code}, ${sent} sent)`;
}

export function describeNegotiated(n: Negotiated): string {
  return `hash ${HASHES[n.hash].linux} dhgroup ${DH_GROUPS[n.dhGroup].name}${n.bidirectional ? ', bidirectional' : ''}`;
}

/** Constant-time equality of two responses (a timing oracle would leak the expected one). */
export function sameResponse(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
