// A one-line progress bar for long preallocations, drawn only on a terminal. Small enough
// that a dependency is not worth it: one `\r`-rewritten line on stderr, cleared at the end.

import { formatSizeHuman } from '../config/size.js';

export interface ProgressSink {
  update(done: bigint, total: bigint): void;
  end(): void;
}

/** Backends smaller than this preallocate without a bar (it would only flicker). */
export const PROGRESS_MIN_BYTES = 64n << 20n;

const WIDTH = 30;

/** A bar on `stream` when it is a TTY, otherwise undefined (callers then stay silent). */
export function ttyProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): ProgressSink | undefined {
  if (stream.isTTY !== true) return undefined;
  let last = -1;
  return {
    update(done, total) {
      const pct = total === 0n ? 100 : Number((done * 100n) / total);
      if (pct === last) return;
      last = pct;
      const filled = Math.round((pct * WIDTH) / 100);
      const bar = '#'.repeat(filled) + '.'.repeat(WIDTH - filled);
      stream.write(
        `\r${label} [${bar}] ${String(pct).padStart(3)}% ${formatSizeHuman(done)}/${formatSizeHuman(total)}`,
      );
    },
    end() {
      if (last >= 0) stream.write('\r\x1b[K');
    },
  };
}
