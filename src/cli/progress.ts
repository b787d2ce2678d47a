// The CLI's progress helpers on top of memory/progress.ts (terminal only, erased at the end).

import { statusLine, type ProgressStream } from '../memory/progress.js';

export { progressWanted, statusLine, ttyProgress } from '../memory/progress.js';

/**
 * Runs `work` with an elapsed-time line (`label 3 s`) refreshed every second, for operations
 * whose progress the CLI cannot see (the target formats while the CLI waits). Nothing shows
 * during the first second, so quick operations stay silent.
 */
export async function withElapsed<T>(
  label: string,
  work: () => Promise<T>,
  stream: ProgressStream = process.stderr,
): Promise<T> {
  const line = statusLine(stream);
  const t0 = Date.now();
  const timer = setInterval(
    () => line.set(`${label} ${Math.round((Date.now() - t0) / 1000)} s`),
    1000,
  );
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    line.end();
  }
}
