// The host side of in-band authentication over one queue (NVMe Base Spec 2.0 §8.13; the Linux
// host's nvme_auth_negotiate/nvme_auth_wait): when Connect answers with AUTHREQ.ATR, the host
// drives the phase-1 HostAuth state machine with Authentication Send (FCTYPE 05h) and
// Authentication Receive (FCTYPE 06h) until it authenticated, or fails with the reason.
// Bidirectional when a controller secret is given. TLS PSKs for the queues are derived here too.

import { HostAuth, HOST_RECEIVE_LENGTH } from '../auth/host-auth.js';
import { explainFailure, type AuthFailure, type Negotiated } from '../auth/common.js';
import { AUTH_SECP, AUTH_SPSP } from '../auth/messages.js';
import { parseDhchapSecret, type DhchapSecret } from '../auth/secret.js';
import type { HashId } from '../auth/hash.js';
import type { DhGroupId } from '../auth/dh.js';
import { deriveTlsKey, parseTlsPsk, type PskDerivation, type TlsPsk } from '../tls/psk.js';
import { tlsPskProblem } from '../tls/node-psk.js';
import { HostErrorCode, NvmeStatusError, NvmeTcpError } from './errors.js';
import type { HostQueue } from './queue.js';

const FABRICS = 0x7f;
const FC_AUTH_SEND = 0x05;
const FC_AUTH_RECV = 0x06;
/** AUTHREQ.ATR, Connect response DW0 bit 17 (NVMe-oF §3.3): the queue must authenticate. */
export const AUTHREQ_ATR = 1 << 17;
/** AUTHREQ.ASCR, Connect response DW0 bit 18: secure channel concatenation is required (unsupported). */
export const AUTHREQ_ASCR = 1 << 18;

/** DH-HMAC-CHAP settings of ConnectOptions. */
export interface DhchapOptions {
  /** The host's secret (DHHC-1 text as `nvme connect --dhchap-secret`, or parsed). */
  readonly secret: string | DhchapSecret;
  /** The controller's secret: the controller must authenticate too (bidirectional). */
  readonly ctrlSecret?: string | DhchapSecret;
  /** Hashes offered, in order (default SHA-256, -384, -512). */
  readonly hashes?: readonly HashId[];
  /** DH groups offered, in order (default null, ffdhe2048 … ffdhe8192). */
  readonly dhGroups?: readonly DhGroupId[];
}

/** TLS settings of ConnectOptions (what `nvme connect --tls --tls-key=...` does). */
export interface TlsOptions {
  /** The configured PSK in the interchange format (`NVMeTLSkey-1:01:...:`), or parsed. */
  readonly key: string | TlsPsk;
  /** How the TLS PSK is derived (default rfc8446; libnvme-compat for nvme-cli <= 2.15). */
  readonly derivation?: PskDerivation;
  /** PSK identity version (default 0, `NVMe0R01 ...`, what Linux 6.12 looks up). */
  readonly identityVersion?: 0 | 1;
}

/** Authentication failed: `failure` says why and which side decided it. */
export class NvmeAuthError extends NvmeTcpError {
  /** The reason code and which side found it; undefined for a refusal before any exchange (no secret, ASCR). */
  readonly failure: AuthFailure | undefined;
  constructor(message: string, failure?: AuthFailure) {
    super(HostErrorCode.AUTH, message);
    this.failure = failure;
  }
}

function secretOf(s: string | DhchapSecret, what: string): DhchapSecret {
  if (typeof s !== 'string') return s;
  try {
    return parseDhchapSecret(s);
  } catch (e) {
    throw new NvmeTcpError(HostErrorCode.USAGE, `${what}: ${(e as Error).message}`);
  }
}

/** The parsed secrets (once per connect, so a malformed key fails before any socket opens). */
export interface HostSecrets {
  readonly host: DhchapSecret;
  readonly ctrl: DhchapSecret | undefined;
  readonly hashes?: readonly HashId[];
  readonly dhGroups?: readonly DhGroupId[];
}

export function hostSecrets(o: DhchapOptions): HostSecrets {
  return {
    host: secretOf(o.secret, 'dhchap secret'),
    ctrl:
      o.ctrlSecret === undefined ? undefined : secretOf(o.ctrlSecret, 'dhchap controller secret'),
    ...(o.hashes !== undefined ? { hashes: o.hashes } : {}),
    ...(o.dhGroups !== undefined ? { dhGroups: o.dhGroups } : {}),
  };
}

const CDW10 = (AUTH_SECP << 24) | (AUTH_SPSP << 16) | (AUTH_SPSP << 8);

/** Runs one DH-HMAC-CHAP transaction on `q`; resolves with what was negotiated. */
export async function authenticateQueue(
  q: HostQueue,
  qid: number,
  tid: number,
  names: { hostnqn: string; subnqn: string },
  s: HostSecrets,
): Promise<Negotiated> {
  const sm = new HostAuth({
    hostNqn: names.hostnqn,
    subsysNqn: names.subnqn,
    hostSecret: s.host,
    tid,
    ...(s.ctrl !== undefined ? { ctrlSecret: s.ctrl } : {}),
    ...(s.hashes !== undefined ? { hashes: s.hashes } : {}),
    ...(s.dhGroups !== undefined ? { dhGroups: s.dhGroups } : {}),
  });
  const queue = qid === 0 ? ('admin' as const) : ('io' as const);
  let step = sm.start();
  for (;;) {
    if (step.send !== undefined) {
      const r = await q.submit(
        { opcode: FABRICS, fctype: FC_AUTH_SEND, cdw10: CDW10, cdw11: step.send.length },
        { write: step.send },
      );
      if (r.status !== 0) {
        throw new NvmeStatusError(`Authentication Send (qid ${qid})`, r.status, r.dw0, {
          opcode: FABRICS,
          fctype: FC_AUTH_SEND,
          queue,
        });
      }
    }
    const done = step.done;
    if (done !== undefined) {
      if (done.ok) return done.negotiated;
      throw new NvmeAuthError(
        `qid ${qid}: authentication failed: ${explainFailure(done.failure, 'host')}`,
        done.failure,
      );
    }
    const al = step.receive ?? HOST_RECEIVE_LENGTH;
    const r = await q.submit(
      { opcode: FABRICS, fctype: FC_AUTH_RECV, cdw10: CDW10, cdw11: al },
      { readLength: al },
    );
    if (r.status !== 0) {
      throw new NvmeStatusError(`Authentication Receive (qid ${qid})`, r.status, r.dw0, {
        opcode: FABRICS,
        fctype: FC_AUTH_RECV,
        queue,
      });
    }
    step = sm.onReceive(r.data);
  }
}

/** The identity and TLS PSK every queue of an association presents. */
export function tlsCredentials(
  o: TlsOptions,
  hostnqn: string,
  subnqn: string,
): { identity: string; key: Uint8Array } {
  let psk: TlsPsk;
  try {
    psk = typeof o.key === 'string' ? parseTlsPsk(o.key) : o.key;
  } catch (e) {
    throw new NvmeTcpError(HostErrorCode.USAGE, `TLS key: ${(e as Error).message}`);
  }
  const d = deriveTlsKey(psk, hostnqn, subnqn, o.identityVersion ?? 0, o.derivation ?? 'rfc8446');
  const problem = tlsPskProblem(d.hash, d.identity);
  if (problem !== undefined) throw new NvmeTcpError(HostErrorCode.USAGE, problem);
  return { identity: d.identity, key: d.key };
}
