// `nvmemu run --nvme-tcp tls=...`: Linux's NVMe/TCP host cannot take the TLS 1.3 session ticket
// OpenSSL's server sends after the handshake (kernel TLS: "unhandled TLS record 22"; seen with the
// Debian 13 guest, docs/security.md), and only an OpenSSL configuration read at process start
// turns it off (nvme-tcp/tls/tickets.ts). So when TLS is asked for and this process did not start
// with such a configuration, run re-executes itself with OPENSSL_CONF naming one, passing stdio,
// signals and the exit status through. The environment is inherited, so `-daemonize`'s detached
// process gets it too.

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_TICKETS_OPENSSL_CONF, ticketsDisabled } from '../nvme-tcp/tls/tickets.js';

/** Whether `argv` (of `nvmemu run`) turns TLS on: `--nvme-tcp ...tls=required|not-required...`. */
export function wantsTls(argv: readonly string[]): boolean {
  let tls = false;
  argv.forEach((a, i) => {
    const text =
      a === '--nvme-tcp' ? argv[i + 1] : a.startsWith('--nvme-tcp=') ? a.slice(11) : undefined;
    // The last --nvme-tcp wins, as the option parser does.
    if (text !== undefined) tls = /(?:^|,)tls=(?:required|not-required)(?:,|$)/.test(text);
  });
  return tls;
}

/** Writes the OpenSSL configuration (once per user and version of it) and returns its path. */
function configFile(): string {
  const dir = join(tmpdir(), `nvmemu-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'openssl-no-tickets.cnf');
  writeFileSync(path, NO_TICKETS_OPENSSL_CONF, { mode: 0o644 });
  return path;
}

/**
 * Runs `nvmemu run ARGV` again in a child with NumTickets = 0 when TLS is asked for and this
 * process lacks it; resolves with the child's exit status. Undefined: run here.
 */
export function reexecForTls(argv: readonly string[]): Promise<number> | undefined {
  if (!wantsTls(argv) || ticketsDisabled()) return undefined;
  // node:child_process loads only here: a run without TLS never spawns.
  return import('node:child_process').then(({ spawn }) => serveInChild(spawn, argv));
}

function serveInChild(
  spawn: typeof import('node:child_process').spawn,
  argv: readonly string[],
): Promise<number> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, main, 'run', ...argv], {
    stdio: 'inherit',
    env: { ...process.env, OPENSSL_CONF: configFile() },
  });
  const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    const done = (code: number): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.once('exit', (code, signal) => done(code ?? (signal === null ? 1 : 128 + 15)));
    child.once('error', () => done(1));
  });
}
