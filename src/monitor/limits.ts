// Resource limits of the monitor endpoints (issue 19), with their counters and log lines.
//
// A monitor is a remote control of the host's files, so it must not be a way to exhaust the
// process either: every endpoint caps the size of one message (a QMP JSON value, an HMP line)
// and the number of sessions open at once. Each cap is configurable per endpoint
// (`x-max-message-size=BYTES`, `x-max-sessions=N` on `-qmp`/`-monitor`); when one bites, the
// client gets an error, the monitor logs one line naming the endpoint and the limit, and a
// counter goes up (x-nvmemu-query-stats, provider "monitor").

/** Default cap of one QMP message: 1 MiB (no nvmemu command takes more than a few KiB). */
export const DEFAULT_QMP_MESSAGE_BYTES = 1 << 20;
/** Default cap of one HMP command line: 64 KiB. */
export const DEFAULT_HMP_LINE_BYTES = 64 * 1024;
/** Default cap of sessions open at once on one endpoint. */
export const DEFAULT_MAX_SESSIONS = 16;

export interface EndpointLimits {
  /** Longest message accepted (QMP: one JSON value; HMP: one line), in bytes. */
  readonly maxMessageBytes: number;
  /** Sessions open at once; the next one is refused with an error and closed. */
  readonly maxSessions: number;
}

export function defaultLimits(proto: 'QMP' | 'HMP'): EndpointLimits {
  return {
    maxMessageBytes: proto === 'QMP' ? DEFAULT_QMP_MESSAGE_BYTES : DEFAULT_HMP_LINE_BYTES,
    maxSessions: DEFAULT_MAX_SESSIONS,
  };
}

/** Monotonic counters of the limits that bit, over all endpoints of one monitor. */
export class MonitorCounters {
  /** Sessions accepted since start. */
  sessionsAccepted = 0;
  /** Sessions refused because an endpoint had `maxSessions` open. */
  sessionsRefused = 0;
  /** QMP messages / HMP lines dropped for exceeding `maxMessageBytes`. */
  oversizedMessages = 0;
  /** Sessions open now (all endpoints). */
  sessionsOpen = 0;
}

/** One line on stderr, the default sink of monitor log lines. */
export function stderrLog(line: string): void {
  process.stderr.write(`${line}\n`);
}
