// The host side of DH-HMAC-CHAP for one queue (NVMe Base Spec 2.0 §8.13.5), as a pure state
// machine: start() gives the AUTH_Negotiate to send, and every message received with
// Authentication Receive goes to onReceive(), which says what to send next, whether to
// receive again, and when the transaction is over.
//
//   start()            -> send Negotiate, receive          await-challenge
//   Challenge          -> send Reply, receive              await-success1
//   Success1           -> [send Success2] done             authenticated
//   a bad message      -> send AUTH_Failure2, done         failed
//   AUTH_Failure1      -> done (nothing to send)           failed
//
// Bidirectional authentication is requested when a controller secret is configured: the
// Reply carries C2 and a non-zero S2, and Success1 must carry the controller's response.

import { checkPublicValue, DH_GROUPS, dhKeyPair, isDhGroupId, type DhGroupId } from './dh.js';
import { decodeMessage } from './decode.js';
import { HASHES, isHashId, type HashId } from './hash.js';
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

/** Authentication Receive allocation length: enough for a Challenge with ffdhe8192. */
export const HOST_RECEIVE_LENGTH = 4096;

export interface HostAuthConfig {
  readonly hostNqn: string;
  readonly subsysNqn: string;
  readonly hostSecret: DhchapSecret;
  /** Set to authenticate the controller too (bidirectional). */
  readonly ctrlSecret?: DhchapSecret;
  /** Transaction identifier of this AUTH_Negotiate (Linux counts per controller). */
  readonly tid: number;
  /** Hashes offered, in order (default SHA-256, -384, -512). */
  readonly hashes?: readonly HashId[];
  /** DH groups offered, in order (default null, ffdhe2048..8192). */
  readonly dhGroups?: readonly DhGroupId[];
  readonly random?: RandomSource;
  readonly nextSeqnum?: () => number;
}

export type HostAuthState =
  'idle' | 'await-challenge' | 'await-success1' | 'authenticated' | 'failed';

export type HostOutcome =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly failure: AuthFailure };

/** What the host does next. */
export interface HostStep {
  /** Send this with Authentication Send first. */
  readonly send?: Uint8Array;
  /** Then issue Authentication Receive with this allocation length. */
  readonly receive?: number;
  /** The transaction is over. */
  readonly done?: HostOutcome;
}

export class HostAuth {
  readonly #cfg: HostAuthConfig;
  readonly #random: RandomSource;
  readonly #seqnum: () => number;
  #state: HostAuthState = 'idle';
  #hash: HashId | undefined;
  #dhGroup: DhGroupId = 0;
  #shared: Uint8Array | undefined;
  #c2: Uint8Array | undefined;
  #s2 = 0;

  constructor(cfg: HostAuthConfig) {
    if (!Number.isInteger(cfg.tid) || cfg.tid < 0 || cfg.tid > 0xffff) {
      throw new RangeError(`T_ID ${cfg.tid} is not a 16-bit value`);
    }
    this.#cfg = cfg;
    this.#random = cfg.random ?? defaultRandom;
    this.#seqnum = cfg.nextSeqnum ?? defaultSeqnum;
  }

  get state(): HostAuthState {
    return this.#state;
  }

  start(): HostStep {
    if (this.#state !== 'idle') throw new Error(`HostAuth.start() in state ${this.#state}`);
    this.#state = 'await-challenge';
    return {
      send: encodeMessage({
        kind: 'negotiate',
        tid: this.#cfg.tid,
        scc: 0,
        descriptors: [
          {
            authId: DHCHAP_AUTHID,
            hashIds: this.#cfg.hashes ?? ALL_HASHES,
            dhGroupIds: this.#cfg.dhGroups ?? ALL_DH_GROUPS,
          },
        ],
      }),
      receive: HOST_RECEIVE_LENGTH,
    };
  }

  /** A message received with Authentication Receive. */
  onReceive(buf: Uint8Array): HostStep {
    const d = decodeMessage(buf);
    if (!d.ok) return this.#fail(d.reason, d.message);
    const m = d.value;
    if (m.kind === 'failure1') {
      this.#state = 'failed';
      return {
        done: {
          ok: false,
          failure: {
            reason: m.reason as FailureReasonCode,
            by: 'peer',
            detail: 'AUTH_Failure1 from the controller',
          },
        },
      };
    }
    if (m.tid !== this.#cfg.tid) {
      return this.#fail(
        FailureReason.INCORRECT_MESSAGE,
        `${m.kind} T_ID ${m.tid}, transaction ${this.#cfg.tid}`,
      );
    }
    switch (this.#state) {
      case 'await-challenge':
        if (m.kind !== 'challenge')
          return this.#fail(FailureReason.INCORRECT_MESSAGE, `${m.kind} instead of a Challenge`);
        return this.#challenge(m);
      case 'await-success1':
        if (m.kind !== 'success1')
          return this.#fail(FailureReason.INCORRECT_MESSAGE, `${m.kind} instead of Success1`);
        return this.#success1(m);
      case 'idle':
      case 'authenticated':
      case 'failed':
        throw new Error(`HostAuth.onReceive() in state ${this.#state}`);
    }
  }

  #fail(reason: FailureReasonCode, detail: string): HostStep {
    this.#state = 'failed';
    return {
      send: encodeMessage({ kind: 'failure2', tid: this.#cfg.tid, reason }),
      done: { ok: false, failure: { reason, by: 'local', detail } },
    };
  }

  #challenge(m: Extract<AuthMessage, { kind: 'challenge' }>): HostStep {
    const offered = this.#cfg.hashes ?? ALL_HASHES;
    if (!isHashId(m.hashId) || !offered.includes(m.hashId)) {
      return this.#fail(
        FailureReason.HASH_UNUSABLE,
        `HASHID 0x${m.hashId.toString(16)} was not offered`,
      );
    }
    const groups = this.#cfg.dhGroups ?? ALL_DH_GROUPS;
    if (!isDhGroupId(m.dhGroupId) || !groups.includes(m.dhGroupId)) {
      return this.#fail(
        FailureReason.DHGROUP_UNUSABLE,
        `DHGID 0x${m.dhGroupId.toString(16)} was not offered`,
      );
    }
    const hash = m.hashId;
    const group = m.dhGroupId;
    let challenge = m.challenge;
    let dhValue: Uint8Array = new Uint8Array(0);
    if (group === 0) {
      if (m.dhValue.length !== 0) {
        return this.#fail(
          FailureReason.INCORRECT_PAYLOAD,
          `DHVLEN ${m.dhValue.length} with the null DH group`,
        );
      }
    } else {
      const why = checkPublicValue(group, m.dhValue);
      if (why !== undefined) return this.#fail(FailureReason.INCORRECT_PAYLOAD, why);
      const pair = dhKeyPair(group, this.#random(DH_GROUPS[group].privateBytes));
      this.#shared = pair.sharedSecret(m.dhValue);
      dhValue = pair.publicValue;
      challenge = augmentedChallenge(hash, this.#shared, challenge);
    }
    const response = hostResponse({
      hash,
      key: this.#cfg.hostSecret.transform(this.#cfg.hostNqn),
      challenge,
      seqnum: m.seqnum,
      tid: this.#cfg.tid,
      scc: 0,
      hostNqn: this.#cfg.hostNqn,
      subsysNqn: this.#cfg.subsysNqn,
    });
    if (this.#cfg.ctrlSecret !== undefined) {
      this.#c2 = this.#random(HASHES[hash].length);
      this.#s2 = this.#seqnum();
    }
    this.#hash = hash;
    this.#dhGroup = group;
    this.#state = 'await-success1';
    return {
      send: encodeMessage({
        kind: 'reply',
        tid: this.#cfg.tid,
        seqnum: this.#s2,
        response,
        challenge: this.#c2,
        dhValue,
      }),
      receive: HOST_RECEIVE_LENGTH,
    };
  }

  #success1(m: Extract<AuthMessage, { kind: 'success1' }>): HostStep {
    const hash = this.#hash!;
    if (m.hl !== HASHES[hash].length) {
      return this.#fail(
        FailureReason.INCORRECT_PAYLOAD,
        `HL ${m.hl}, the hash needs ${HASHES[hash].length}`,
      );
    }
    const negotiated: Negotiated = {
      hash,
      dhGroup: this.#dhGroup,
      bidirectional: this.#c2 !== undefined,
    };
    if (this.#c2 === undefined) {
      if (m.response !== undefined) {
        return this.#fail(
          FailureReason.INCORRECT_PAYLOAD,
          'RVALID set but no controller challenge was sent',
        );
      }
      this.#state = 'authenticated';
      return { done: { ok: true, negotiated } };
    }
    if (m.response === undefined) {
      return this.#fail(
        FailureReason.FAILED,
        'controller did not authenticate itself (RVALID cleared)',
      );
    }
    const challenge =
      this.#shared === undefined ? this.#c2 : augmentedChallenge(hash, this.#shared, this.#c2);
    const expected = controllerResponse({
      hash,
      key: this.#cfg.ctrlSecret!.transform(this.#cfg.subsysNqn),
      challenge,
      seqnum: this.#s2,
      tid: this.#cfg.tid,
      scc: 0,
      hostNqn: this.#cfg.hostNqn,
      subsysNqn: this.#cfg.subsysNqn,
    });
    if (!sameResponse(expected, m.response)) {
      return this.#fail(FailureReason.FAILED, 'controller response mismatch');
    }
    this.#state = 'authenticated';
    return {
      send: encodeMessage({ kind: 'success2', tid: this.#cfg.tid }),
      done: { ok: true, negotiated },
    };
  }
}
