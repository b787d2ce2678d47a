// The controller side of DH-HMAC-CHAP for one queue (NVMe Base Spec 2.0 §8.13.5), as a pure
// state machine: the target feeds it the payload of each Authentication Send and asks it for
// the payload of each Authentication Receive. It does no I/O and keeps no timers (the target
// aborts a transaction that stalls, as Linux does after KATO or 120 s, by calling reset()).
//
//   host                      controller state      AUTH_Send / AUTH_Receive
//   AUTH_Negotiate      ->    await-negotiate  ->   send-challenge
//                       <-    Challenge             await-reply
//   Reply               ->                          send-success1
//                       <-    Success1              await-success2 | authenticated
//   Success2            ->                          authenticated      (bidirectional only)
//
// A protocol error found in an AUTH_Send is answered by AUTH_Failure1 at the next
// AUTH_Receive (the AUTH_Send itself completes successfully, as nvmet does); an
// AUTH_Failure2 from the host ends the transaction. AUTH_Negotiate restarts it from any state
// (re-authentication, §8.13.5.x). Secure channel concatenation (SC_C != 0) is not offered:
// it is refused with "secure channel concatenation mismatch".

import { checkPublicValue, DH_GROUPS, dhKeyPair, type DhGroupId, type DhKeyPair } from './dh.js';
import { decodeMessage } from './decode.js';
import { HASHES, type HashId } from './hash.js';
import {
  DHCHAP_AUTHID,
  encodeMessage,
  FailureReason,
  type AuthMessage,
  type FailureReasonCode,
} from './messages.js';
import { augmentedChallenge, controllerResponse, hostResponse } from './response.js';
import type { DhchapSecret } from './secret.js';
import {
  ALL_DH_GROUPS,
  ALL_HASHES,
  defaultRandom,
  defaultSeqnum,
  sameResponse,
  type AuthFailure,
  type Negotiated,
  type RandomSource,
} from './common.js';

export interface ControllerAuthConfig {
  readonly hostNqn: string;
  readonly subsysNqn: string;
  /** The host's secret: the controller checks the host's response with it. */
  readonly hostSecret: DhchapSecret;
  /** The controller's secret, for bidirectional authentication (absent: refused). */
  readonly ctrlSecret?: DhchapSecret;
  /** Hashes the controller accepts, most preferred first (default SHA-256, -384, -512). */
  readonly hashes?: readonly HashId[];
  /** DH groups the controller accepts, most preferred first (default null, then 2048..8192). */
  readonly dhGroups?: readonly DhGroupId[];
  readonly random?: RandomSource;
  readonly nextSeqnum?: () => number;
}

export type ControllerAuthState =
  | 'await-negotiate'
  | 'send-challenge'
  | 'await-reply'
  | 'send-success1'
  | 'await-success2'
  | 'send-failure1'
  | 'authenticated'
  | 'failed';

/** The answer to an Authentication Receive. */
export type ReceiveResult =
  | { readonly ok: true; readonly message: Uint8Array }
  /** AL is smaller than the message: the command fails (Invalid Field in AL), state kept. */
  | { readonly ok: false; readonly need: number };

interface Transaction {
  readonly tid: number;
  readonly hash: HashId;
  readonly dhGroup: DhGroupId;
  c1?: Uint8Array;
  s1?: number;
  dh?: DhKeyPair;
  /** C2 and S2 when the host asked the controller to authenticate itself. */
  c2?: Uint8Array;
  s2?: number;
  shared?: Uint8Array;
  pending?: Uint8Array | undefined;
}

export class ControllerAuth {
  readonly #cfg: ControllerAuthConfig;
  readonly #random: RandomSource;
  readonly #seqnum: () => number;
  #state: ControllerAuthState = 'await-negotiate';
  #tx: Transaction | undefined;
  /** TID to put in AUTH_Failure1 when no transaction was set up. */
  #failTid = 0;
  #failReason: FailureReasonCode = FailureReason.FAILED;
  #failure: AuthFailure | undefined;
  #negotiated: Negotiated | undefined;

  constructor(cfg: ControllerAuthConfig) {
    this.#cfg = cfg;
    this.#random = cfg.random ?? defaultRandom;
    this.#seqnum = cfg.nextSeqnum ?? defaultSeqnum;
  }

  get state(): ControllerAuthState {
    return this.#state;
  }

  /** True once the queue is authenticated (until the next AUTH_Negotiate or reset). */
  get authenticated(): boolean {
    return this.#state === 'authenticated';
  }

  /** Why the last transaction failed (undefined while none failed). */
  get failure(): AuthFailure | undefined {
    return this.#failure;
  }

  /** What the last successful negotiation chose. */
  get negotiated(): Negotiated | undefined {
    return this.#negotiated;
  }

  /** Forgets the transaction (a stalled one timed out; the queue is not authenticated). */
  reset(): void {
    this.#state = 'await-negotiate';
    this.#tx = undefined;
    this.#negotiated = undefined;
  }

  /** The payload of an Authentication Send (after its SECP/SPSP/TL fields were checked). */
  onSend(payload: Uint8Array): void {
    const d = decodeMessage(payload);
    if (!d.ok) {
      if (this.#tx === undefined && payload.length >= 6)
        this.#failTid = payload[4]! | (payload[5]! << 8);
      this.#fail(d.reason, d.message);
      return;
    }
    const m = d.value;
    switch (m.kind) {
      case 'negotiate':
        this.#negotiate(m);
        return;
      case 'reply':
        if (this.#state !== 'await-reply' || this.#tx === undefined) {
          this.#fail(FailureReason.INCORRECT_MESSAGE, `Reply in state ${this.#state}`);
          return;
        }
        this.#reply(this.#tx, m);
        return;
      case 'success2':
        if (this.#state !== 'await-success2' || this.#tx === undefined) {
          this.#fail(FailureReason.INCORRECT_MESSAGE, `Success2 in state ${this.#state}`);
          return;
        }
        if (m.tid !== this.#tx.tid) {
          this.#fail(
            FailureReason.INCORRECT_MESSAGE,
            `Success2 T_ID ${m.tid}, transaction ${this.#tx.tid}`,
          );
          return;
        }
        this.#state = 'authenticated';
        return;
      case 'failure2':
        this.#failure = {
          reason: m.reason as FailureReasonCode,
          by: 'peer',
          detail: 'AUTH_Failure2 from the host',
        };
        this.#state = 'failed';
        this.#tx = undefined;
        return;
      case 'challenge':
      case 'success1':
      case 'failure1':
        this.#fail(FailureReason.INCORRECT_MESSAGE, `${m.kind} is a controller-to-host message`);
        return;
    }
  }

  /** The payload of an Authentication Receive with allocation length `al`. */
  onReceive(al: number): ReceiveResult {
    switch (this.#state) {
      case 'send-challenge':
        return this.#deliver(al, this.#challenge(this.#tx!), 'await-reply');
      case 'send-success1': {
        const tx = this.#tx!;
        const bidirectional = tx.c2 !== undefined;
        return this.#deliver(
          al,
          this.#success1(tx),
          bidirectional ? 'await-success2' : 'authenticated',
        );
      }
      case 'send-failure1':
        return this.#deliver(al, this.#failure1(), 'failed');
      case 'await-negotiate':
      case 'await-reply':
      case 'await-success2':
      case 'authenticated':
      case 'failed':
        this.#fail(
          FailureReason.INCORRECT_MESSAGE,
          `Authentication Receive in state ${this.#state}`,
        );
        return this.#deliver(al, this.#failure1(), 'failed');
    }
  }

  #deliver(al: number, message: Uint8Array, next: ControllerAuthState): ReceiveResult {
    if (al < message.length) return { ok: false, need: message.length };
    if (this.#tx !== undefined) this.#tx.pending = undefined;
    this.#state = next;
    if (next === 'failed' || next === 'authenticated') this.#tx = undefined;
    return { ok: true, message };
  }

  #fail(reason: FailureReasonCode, detail: string): void {
    this.#failReason = reason;
    this.#failure = { reason, by: 'local', detail };
    this.#negotiated = undefined;
    this.#state = 'send-failure1';
  }

  #negotiate(m: Extract<AuthMessage, { kind: 'negotiate' }>): void {
    this.#tx = undefined;
    this.#negotiated = undefined;
    this.#failTid = m.tid;
    const desc = m.descriptors.find((d) => d.authId === DHCHAP_AUTHID);
    if (desc === undefined) {
      this.#fail(FailureReason.PROTOCOL_NOT_USABLE, 'no DH-HMAC-CHAP protocol descriptor');
      return;
    }
    if (m.scc !== 0) {
      this.#fail(
        FailureReason.CONCAT_MISMATCH,
        `SC_C ${m.scc}: secure channel concatenation is not supported`,
      );
      return;
    }
    const hash = (this.#cfg.hashes ?? ALL_HASHES).find((h) => desc.hashIds.includes(h));
    if (hash === undefined) {
      this.#fail(FailureReason.HASH_UNUSABLE, `host offers hashes [${desc.hashIds.join(', ')}]`);
      return;
    }
    const dhGroup = (this.#cfg.dhGroups ?? ALL_DH_GROUPS).find((g) => desc.dhGroupIds.includes(g));
    if (dhGroup === undefined) {
      this.#fail(
        FailureReason.DHGROUP_UNUSABLE,
        `host offers DH groups [${desc.dhGroupIds.join(', ')}]`,
      );
      return;
    }
    this.#tx = { tid: m.tid, hash, dhGroup };
    this.#state = 'send-challenge';
  }

  #challenge(tx: Transaction): Uint8Array {
    if (tx.pending !== undefined) return tx.pending; // AL was too small: same message again
    const hl = HASHES[tx.hash].length;
    tx.c1 = this.#random(hl);
    tx.s1 = this.#seqnum();
    if (tx.dhGroup !== 0)
      tx.dh = dhKeyPair(tx.dhGroup, this.#random(DH_GROUPS[tx.dhGroup].privateBytes));
    tx.pending = encodeMessage({
      kind: 'challenge',
      tid: tx.tid,
      hashId: tx.hash,
      dhGroupId: tx.dhGroup,
      seqnum: tx.s1,
      challenge: tx.c1,
      dhValue: tx.dh?.publicValue ?? new Uint8Array(0),
    });
    return tx.pending;
  }

  #reply(tx: Transaction, m: Extract<AuthMessage, { kind: 'reply' }>): void {
    const hl = HASHES[tx.hash].length;
    if (m.tid !== tx.tid) {
      this.#fail(FailureReason.INCORRECT_MESSAGE, `Reply T_ID ${m.tid}, transaction ${tx.tid}`);
      return;
    }
    if (m.response.length !== hl) {
      this.#fail(FailureReason.INCORRECT_PAYLOAD, `HL ${m.response.length}, the hash needs ${hl}`);
      return;
    }
    let challenge = tx.c1!;
    if (tx.dhGroup === 0) {
      if (m.dhValue.length !== 0) {
        this.#fail(
          FailureReason.INCORRECT_PAYLOAD,
          `DHVLEN ${m.dhValue.length} with the null DH group`,
        );
        return;
      }
    } else {
      const why = checkPublicValue(tx.dhGroup, m.dhValue);
      if (why !== undefined) {
        this.#fail(FailureReason.INCORRECT_PAYLOAD, why);
        return;
      }
      tx.shared = tx.dh!.sharedSecret(m.dhValue);
      challenge = augmentedChallenge(tx.hash, tx.shared, challenge);
    }
    if (m.challenge !== undefined && m.seqnum === 0) {
      this.#fail(FailureReason.INCORRECT_PAYLOAD, 'SEQNUM 0 with CVALID set and no secure channel');
      return;
    }
    const expected = hostResponse({
      hash: tx.hash,
      key: this.#cfg.hostSecret.transform(this.#cfg.hostNqn),
      challenge,
      seqnum: tx.s1!,
      tid: tx.tid,
      scc: 0,
      hostNqn: this.#cfg.hostNqn,
      subsysNqn: this.#cfg.subsysNqn,
    });
    if (!sameResponse(expected, m.response)) {
      this.#fail(FailureReason.FAILED, 'host response mismatch');
      return;
    }
    if (m.challenge !== undefined) {
      if (this.#cfg.ctrlSecret === undefined) {
        this.#fail(
          FailureReason.FAILED,
          'host asks for bidirectional authentication; no controller secret',
        );
        return;
      }
      tx.c2 = m.challenge;
      tx.s2 = m.seqnum;
    }
    this.#negotiated = {
      hash: tx.hash,
      dhGroup: tx.dhGroup,
      bidirectional: m.challenge !== undefined,
    };
    this.#state = 'send-success1';
  }

  #success1(tx: Transaction): Uint8Array {
    const hl = HASHES[tx.hash].length;
    let response: Uint8Array | undefined;
    if (tx.c2 !== undefined) {
      const challenge =
        tx.shared === undefined ? tx.c2 : augmentedChallenge(tx.hash, tx.shared, tx.c2);
      response = controllerResponse({
        hash: tx.hash,
        key: this.#cfg.ctrlSecret!.transform(this.#cfg.subsysNqn),
        challenge,
        seqnum: tx.s2!,
        tid: tx.tid,
        scc: 0,
        hostNqn: this.#cfg.hostNqn,
        subsysNqn: this.#cfg.subsysNqn,
      });
    }
    return encodeMessage({ kind: 'success1', tid: tx.tid, hl, response });
  }

  #failure1(): Uint8Array {
    return encodeMessage({
      kind: 'failure1',
      tid: this.#tx?.tid ?? this.#failTid,
      reason: this.#failReason,
    });
  }
}
