// Host-side error type with a stable machine-readable `code` (DESIGN.md house rule 8): tests and
// callers branch on `code`, never on message text, unless the text must match QEMU/PMDK/ndctl.
// Guest and peer mistakes are NVMe statuses, not EmuErrors (house rule 2).

/** The stable error codes. Values equal their keys so they survive JSON and logs unchanged. */
export const ErrorCode = {
  /** Invalid user configuration (options, properties, constraints checked at realize time). */
  EMU_ERR_CONFIG: 'EMU_ERR_CONFIG',
  /** A host-side storage operation failed (open, read, write, mmap, fsync of a backend). */
  EMU_ERR_BACKEND_IO: 'EMU_ERR_BACKEND_IO',
  /** A peer broke a wire protocol in a way that ends the session (NVMe/TCP, QMP). */
  EMU_ERR_PROTOCOL: 'EMU_ERR_PROTOCOL',
  /** Bytes could not be decoded: truncated or malformed structure. */
  EMU_ERR_DECODE: 'EMU_ERR_DECODE',
  /** The operation is not valid in the current state (e.g. device not realized, already closed). */
  EMU_ERR_STATE: 'EMU_ERR_STATE',
  /** The request is understood but deliberately not implemented. */
  EMU_ERR_UNSUPPORTED: 'EMU_ERR_UNSUPPORTED',
} as const;

export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export class EmuError extends Error {
  /** Stable machine-readable error code; branch on it, not on the message. */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `e` is an EmuError carrying `code` (narrowing helper for catch blocks). */
export function isEmuError(e: unknown, code?: string): e is EmuError {
  return e instanceof EmuError && (code === undefined || e.code === code);
}
