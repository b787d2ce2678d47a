// What Node's TLS can serve with an external PSK (socket.ts tells how that was found), apart
// from node:tls itself: configuration checks (-object x-nvmemu-host) and the target's port
// need these without loading node:tls, which a machine without TLS never uses.

import type { CipherHash } from './psk.js';

/** The only cipher suite Node's TLS can use with an external PSK. */
export const TLS_PSK_CIPHERS = 'TLS_AES_128_GCM_SHA256';
/** Longest PSK identity Node's TLS sends or accepts (OpenSSL PSK_MAX_IDENTITY_LEN). */
export const MAX_PSK_IDENTITY_BYTES = 256;

/**
 * Why a PSK cannot be served by Node's TLS, or undefined when it can. This is the message
 * the target gives for a TLS key it cannot use.
 */
export function tlsPskProblem(hash: CipherHash, identity?: string): string | undefined {
  if (hash === 2) {
    return (
      'TLS with a SHA-384 PSK (identity NVMe0R02/NVMe1R02, cipher suite TLS_AES_256_GCM_SHA384) ' +
      "is not supported: Node.js's TLS binds external PSKs to SHA-256 (OpenSSL's legacy PSK " +
      'callback); use a 32-byte key (NVMeTLSkey-1:01:..., or :00: with 32 bytes)'
    );
  }
  if (identity !== undefined && Buffer.byteLength(identity) > MAX_PSK_IDENTITY_BYTES) {
    return (
      `the PSK identity is ${Buffer.byteLength(identity)} bytes; Node.js's TLS accepts at most ` +
      `${MAX_PSK_IDENTITY_BYTES} (shorter host or subsystem NQNs are needed)`
    );
  }
  return undefined;
}
