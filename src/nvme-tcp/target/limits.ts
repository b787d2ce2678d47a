// Resource limits of the NVMe/TCP target (issue 19; docs/security.md "Limits"): whoever reaches
// the port must not be able to hold the process's memory, sockets or time. Each limit has a
// safe default that a well-behaved host (Linux, nvme-cli, the host library) never meets, is
// configurable (`nvmemu run --nvme-tcp KEY=VALUE,...`, options.ts), and when it bites the
// target logs one line naming the limit and its option and counts it (x-nvmemu-query-stats,
// provider "nvme-tcp").

/** The limits (all per target; "per port" ones apply to the I/O and discovery ports apart). */
export interface TargetLimits {
  /** ICResp to Connect: a connection that completed ICReq but sends no Connect is closed. */
  readonly connectTimeoutMs: number;
  /** Connect to authenticated (DH-HMAC-CHAP), and a stalled re-authentication is reset. */
  readonly authTimeoutMs: number;
  /** Connections open at once on one port; the next one is closed at accept. */
  readonly maxConnections: number;
  /** Connections open at once from one peer address on one port. */
  readonly maxConnectionsPerAddress: number;
  /** I/O queues one host NQN holds over all its associations. */
  readonly maxIoQueuesPerHost: number;
  /** Entries of one queue (Connect SQSIZE + 1). */
  readonly maxQueueDepth: number;
  /** R2Ts outstanding on one connection; further writes wait for one to complete. */
  readonly maxOutstandingR2t: number;
}

export const DEFAULT_LIMITS: TargetLimits = {
  connectTimeoutMs: 10_000,
  authTimeoutMs: 30_000,
  maxConnections: 1024,
  maxConnectionsPerAddress: 256,
  maxIoQueuesPerHost: 256,
  maxQueueDepth: 1024,
  maxOutstandingR2t: 256,
};

/** The limits and counters by name, as log lines and the monitor show them. */
export type LimitName =
  | 'ic-timeout'
  | 'connect-timeout'
  | 'auth-timeout'
  | 'max-connections'
  | 'max-connections-per-address'
  | 'max-io-queues-per-host'
  | 'max-queue-depth'
  | 'max-r2t'
  | 'in-capsule-size';

/** Monotonic counters of the target (x-nvmemu-query-stats provider "nvme-tcp"). */
export class TargetCounters {
  connectionsAccepted = 0;
  connectionsOpen = 0;
  /** Closed at accept: max-connections / max-connections-per-address. */
  connectionsRefused = 0;
  /** No ICReq in time / no Connect in time. */
  icTimeouts = 0;
  connectTimeouts = 0;
  /** Connect refused for max-queue-depth / max-io-queues-per-host. */
  queuesRefused = 0;
  /** Writes that waited because max-r2t R2Ts were outstanding. */
  r2tDeferred = 0;
  /** Capsules with more in-capsule data than allowed (the connection is terminated). */
  oversizedCapsules = 0;
  /** DH-HMAC-CHAP transactions that authenticated a queue / failed / timed out. */
  authSuccesses = 0;
  authFailures = 0;
  authTimeouts = 0;
  /** TLS handshakes completed / failed (unknown identity, wrong key, not TLS). */
  tlsHandshakes = 0;
  tlsFailures = 0;
  /** Connects refused because they named another host or subsystem than the TLS identity. */
  tlsIdentityMismatches = 0;

  /** The counters as the monitor lists them. */
  entries(): [string, number][] {
    return [
      ['connections-open', this.connectionsOpen],
      ['connections-accepted', this.connectionsAccepted],
      ['connections-refused', this.connectionsRefused],
      ['ic-timeouts', this.icTimeouts],
      ['connect-timeouts', this.connectTimeouts],
      ['queues-refused', this.queuesRefused],
      ['r2t-deferred', this.r2tDeferred],
      ['oversized-capsules', this.oversizedCapsules],
      ['auth-successes', this.authSuccesses],
      ['auth-failures', this.authFailures],
      ['auth-timeouts', this.authTimeouts],
      ['tls-handshakes', this.tlsHandshakes],
      ['tls-failures', this.tlsFailures],
      ['tls-identity-mismatches', this.tlsIdentityMismatches],
    ];
  }
}

/** One line on stderr, the default sink of the target's log lines. */
export function stderrLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The target's log: every line is prefixed `nvmemu: nvme-tcp: `. Lines about a limit are rate
 * limited per limit (a flood of refused connections must not become a flood of log lines): at
 * most one per `intervalMs`, the next one saying how many were left out.
 */
export class TargetLog {
  readonly #sink: (line: string) => void;
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; skipped: number }>();

  constructor(sink: (line: string) => void = stderrLog, intervalMs = 10_000) {
    this.#sink = sink;
    this.#intervalMs = intervalMs;
  }

  line(text: string): void {
    this.#sink(`nvmemu: nvme-tcp: ${text}`);
  }

  /** A limit bit: `text` says who and what, the limit's option name is appended. */
  limit(name: LimitName, text: string): void {
    const now = Date.now();
    const last = this.#last.get(name);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.skipped++;
      return;
    }
    const more = last !== undefined && last.skipped > 0 ? ` (${last.skipped} more since)` : '';
    this.#last.set(name, { at: now, skipped: 0 });
    this.line(`${text} (${name})${more}`);
  }
}
