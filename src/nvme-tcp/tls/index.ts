// NVMe/TCP TLS (TP 8011, TP 8018): PSK formats and derivations, and TLS 1.3 PSK sockets on
// node:tls. See docs/security.md for what Node's TLS can and cannot do.
export {
  TlsPsk,
  parseTlsPsk,
  retainedPsk,
  pskDigest,
  formatPskIdentity,
  parsePskIdentity,
  deriveTlsKey,
} from './psk.js';
export type { PskHash, CipherHash, PskDerivation, PskIdentity, DerivedTlsKey } from './psk.js';
export { hkdfExtract, hkdfExpand, hkdfExpandLabel, hkdfLabel } from './hkdf.js';
export {
  TLS_PSK_CIPHERS,
  MAX_PSK_IDENTITY_BYTES,
  tlsPskProblem,
  createTlsPskServer,
  connectTlsPsk,
  pskIdentityOf,
} from './socket.js';
export type { TlsPskServerOptions, TlsPskClientOptions } from './socket.js';
export { NO_TICKETS_OPENSSL_CONF, ticketsDisabled } from './tickets.js';
