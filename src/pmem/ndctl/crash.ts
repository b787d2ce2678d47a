// Power-cut simulation for crash tests: record every write an operation issues, then rebuild
// the media as it would be if power failed after any prefix of them (optionally with the next
// write torn at an 8-byte boundary, the atomic store unit of x86 pmem).

import { MemMedia, type Media } from './media.js';

export interface WriteRecord {
  readonly off: number;
  readonly data: Uint8Array;
}

/** A MemMedia that logs every write (copying the data). */
export class RecordingMedia extends MemMedia {
  readonly log: WriteRecord[] = [];

  override write(off: number, data: Uint8Array): void {
    this.log.push({ off, data: data.slice() });
    super.write(off, data);
  }
}

/** Starts recording on a copy of `before`. */
export function recordFrom(before: Uint8Array): RecordingMedia {
  return new RecordingMedia(before.slice());
}

/**
 * The media after the first `complete` writes of `log` landed on `before`, plus the first
 * `tornBytes` bytes of write number `complete` (0 = not torn).
 */
export function cutAfter(
  before: Uint8Array,
  log: readonly WriteRecord[],
  complete: number,
  tornBytes = 0,
): Media & { bytes: Uint8Array } {
  const m = new MemMedia(before.slice());
  for (let i = 0; i < complete; i++) m.write(log[i]!.off, log[i]!.data);
  const next = log[complete];
  if (next !== undefined && tornBytes > 0) {
    m.write(next.off, next.data.subarray(0, Math.min(tornBytes, next.data.length)));
  }
  return m;
}

/** Every crash point of `log`: each prefix, and each prefix plus a torn half of the next write. */
export function* crashPoints(
  log: readonly WriteRecord[],
): Generator<{ complete: number; torn: number }> {
  for (let i = 0; i <= log.length; i++) {
    yield { complete: i, torn: 0 };
    const next = log[i];
    if (next !== undefined && next.data.length > 8) {
      yield { complete: i, torn: Math.floor(next.data.length / 16) * 8 };
    }
  }
}
