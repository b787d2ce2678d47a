// Progress for long operations, drawn only on a terminal: one status line on stderr, rewritten
// in place (`\r`) and erased at the end, so pipes and log files never see it. A bar for sized
// work (preallocation; the CLI's formats and BTT writes), a free-text line for the rest (the
// CLI's step counters and elapsed times). Small enough that a dependency is not worth it.
// NVMEMU_PROGRESS=0 turns progress off, =1 forces it on (tests, `script` sessions).

import { formatSizeHuman } from '../config/size.js';

export interface ProgressSink {
  update(done: bigint, total: bigint): void;
  end(): void;
}

/** What progress writes to: a stream that may be a terminal. */
export type ProgressStream = Pick<NodeJS.WriteStream, 'write'> & { readonly isTTY?: boolean };

/** Backends smaller than this preallocate without a bar (it would only flicker). */
export const PROGRESS_MIN_BYTES = 64n << 20n;

const WIDTH = 30;

/** Whether progress goes to `stream`: when it is a terminal, unless NVMEMU_PROGRESS says. */
export function progressWanted(stream: ProgressStream = process.stderr): boolean {
  const env = process.env.NVMEMU_PROGRESS;
  if (env === '0') return false;
  if (env === '1') return true;
  return stream.isTTY === true;
}

/** A rewritable line of text. */
export interface StatusLine {
  set(text: string): void;
  /** Erases the line (if anything was shown). */
  end(): void;
}

const SILENT: StatusLine = { set: () => undefined, end: () => undefined };

/** A status line on `stream` when progress is wanted there, otherwise one that prints nothing. */
export function statusLine(stream: ProgressStream = process.stderr): StatusLine {
  if (!progressWanted(stream)) return SILENT;
  let shown = false;
  return {
    set(text) {
      shown = true;
      stream.write(`\r\x1b[K${text}`);
    },
    end() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** A bar on `stream` when progress is wanted there, otherwise undefined (callers stay silent). */
export function ttyProgress(
  label: string,
  stream: ProgressStream = process.stderr,
): ProgressSink | undefined {
  if (!progressWanted(stream)) return undefined;
  const line = statusLine(stream);
  let last = -1;
  return {
    update(done, total) {
      const pct = total === 0n ? 100 : Number((done * 100n) / total);
      if (pct === last) return;
      last = pct;
      const filled = Math.round((pct * WIDTH) / 100);
      const bar = '#'.repeat(filled) + '.'.repeat(WIDTH - filled);
      line.set(
        `${label} [${bar}] ${String(pct).padStart(3)}% ${formatSizeHuman(done)}/${formatSizeHuman(total)}`,
      );
    },
    end() {
      line.end();
    },
  };
}
