// Host-side errors of the namespace layer.

import { ConfigError } from '../../config/errors.js';
import { ErrorCode } from '../../util/errors.js';

/**
 * A configuration QEMU accepts but this emulator does not implement yet (zoned namespaces,
 * protection information). It is a ConfigError (the option layer prints it like any other
 * command-line error) with the stable code EMU_ERR_UNSUPPORTED.
 */
export class UnsupportedConfigError extends ConfigError {
  override readonly code = ErrorCode.EMU_ERR_UNSUPPORTED;
}
