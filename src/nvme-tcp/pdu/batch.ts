// Sending the PDUs queued in one turn of the event loop (target connection and host queue alike).
// Small pieces (headers, CQEs, 4 KiB payloads) are copied together into one buffer — one syscall
// and one stream write instead of dozens — while large payloads go by reference through the
// socket's writev, so a 128 KiB read is never copied a second time just to be sent.

/** Pieces at least this long are written by reference, not copied. */
export const COPY_LIMIT = 16 * 1024;

/** The minimal socket surface a batch needs (net.Socket satisfies it). */
export interface BatchSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
}

/**
 * The write units for `pieces` (in order): runs of small pieces concatenated, large pieces as
 * they are. `total` is the sum of the piece lengths.
 */
export function coalesce(pieces: readonly Uint8Array[], total: number): Uint8Array[] {
  if (pieces.length === 1) return [pieces[0]!];
  if (total < COPY_LIMIT * 4 && pieces.every((p) => p.length < COPY_LIMIT)) {
    return [Buffer.concat(pieces, total)];
  }
  const units: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const endRun = (): void => {
    if (run.length === 1) units.push(run[0]!);
    else if (run.length > 1) units.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const p of pieces) {
    if (p.length >= COPY_LIMIT) {
      endRun();
      units.push(p);
    } else {
      run.push(p);
      runBytes += p.length;
    }
  }
  endRun();
  return units;
}

/** Writes `pieces` as coalesce() groups them, as one writev when there are several. */
export function writeBatch(
  socket: BatchSocket,
  pieces: readonly Uint8Array[],
  total: number,
): void {
  const units = coalesce(pieces, total);
  if (units.length === 1) {
    socket.write(units[0]!);
    return;
  }
  socket.cork();
  for (const u of units) socket.write(u);
  socket.uncork();
}
