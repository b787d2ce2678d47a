// Where the CLI writes. Tests pass buffers; the executable passes the process streams.

export interface CliIo {
  out(text: string): void;
  /**
   * ASCII or UTF-8 bytes for stdout, handed over (never reused by the caller). Optional: large
   * outputs (`zns report-zones`) use it where it exists and decode for out() where not.
   */
  outBytes?(bytes: Uint8Array): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  outBytes: (bytes) => void process.stdout.write(bytes),
  err: (text) => void process.stderr.write(text),
};

/** Collects output in memory (tests and in-process use). */
export function bufferIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}
