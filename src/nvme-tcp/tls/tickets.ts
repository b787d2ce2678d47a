// TLS 1.3 session tickets and Linux's NVMe/TCP host (found with the Debian 13 guest; see
// docs/security.md). After a TLS 1.3 handshake OpenSSL's server sends a NewSessionTicket — even
// with SSL_OP_NO_TICKET, and for external-PSK handshakes too. Linux's host does the handshake in
// tlshd (GnuTLS, with GNUTLS_NO_TICKETS) and then hands the socket to kernel TLS, which receives
// the ticket as a handshake record that nvme-tcp does not handle ("unhandled TLS record"), so
// the connection fails. GnuTLS servers (tlshd serving nvmet) send no ticket.
//
// Node has no binding for SSL_CTX_set_num_tickets, but OpenSSL's configuration can set it for
// every server context of the process (`NumTickets = 0`, OpenSSL ≥ 1.1.1) when the process
// starts with it: `nvmemu run` re-executes itself with OPENSSL_CONF pointing at this text when
// TLS is on (cli/tls-reexec.ts); other processes can do the same. The target warns when its
// process was not started so (ticketsDisabled), since Linux hosts would then fail. (Node's own
// TLS client is not a probe for this: OpenSSL sends it no ticket either way.)

import { readFileSync } from 'node:fs';

/** An OpenSSL configuration whose only effect is NumTickets = 0 for Node's TLS servers. */
export const NO_TICKETS_OPENSSL_CONF = `# nvmemu: TLS 1.3 servers send no session tickets (Linux's kTLS NVMe/TCP host cannot take one)
nodejs_conf = nodejs_init
[nodejs_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
NumTickets = 0
`;

/**
 * Whether this process started with an OpenSSL configuration that sets NumTickets = 0 (through
 * OPENSSL_CONF, as `nvmemu run` does): OpenSSL reads it once, at start, so the environment and
 * the file it names say what the process's TLS servers do.
 */
export function ticketsDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const path = env.OPENSSL_CONF;
  if (path === undefined || path === '') return false;
  try {
    return /^\s*NumTickets\s*=\s*0\s*$/m.test(readFileSync(path, 'utf8'));
  } catch {
    return false;
  }
}
