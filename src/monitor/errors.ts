// QMP errors: `{"error": {"class": ..., "desc": ...}}` (QEMU docs/interop/qmp-spec.rst). The
// class set is closed; `desc` is for people and carries QEMU 7.2's wording where QEMU has one.
// Handlers throw QmpError; anything else that escapes a handler is turned into a GenericError
// by the dispatcher (a client mistake never takes the monitor down).

import { ConfigError } from '../config/errors.js';
import { EmuError } from '../util/errors.js';

export type QmpErrorClass = 'GenericError' | 'CommandNotFound' | 'DeviceNotFound';

export class QmpError extends EmuError {
  readonly errorClass: QmpErrorClass;

  constructor(errorClass: QmpErrorClass, desc: string) {
    super('EMU_ERR_QMP', desc);
    this.errorClass = errorClass;
  }
}

export const genericError = (desc: string): QmpError => new QmpError('GenericError', desc);

/** Maps whatever a command threw to the error a client sees. */
export function toQmpError(e: unknown): QmpError {
  if (e instanceof QmpError) return e;
  // Configuration errors already carry QEMU's text; the option prefix is a command-line thing.
  if (e instanceof ConfigError) return genericError(e.message);
  if (e instanceof AggregateError) return genericError(e.message);
  if (e instanceof Error) return genericError(e.message);
  return genericError(String(e));
}
