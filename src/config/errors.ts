// Configuration errors carry QEMU's message text and, once the option layer knows it, the
// option that caused them, so that the CLI prints `nvmemu: -device nvme,...: message` exactly
// where QEMU prints `qemu-system-x86_64: -device nvme,...: message`.

import { EmuError } from '../util/errors.js';

export class ConfigError extends EmuError {
  /** The user-visible property the message is about, if any (`zoned.zone_size`). */
  readonly property: string | undefined;
  /** The option as typed (`-device nvme,serial=x`), filled in by the option layer. */
  location: string | undefined;

  constructor(message: string, property?: string, location?: string) {
    super('EMU_ERR_CONFIG', message);
    this.name = 'ConfigError';
    this.property = property;
    this.location = location;
  }

  /** The line QEMU would print (without the program-name prefix). */
  describe(): string {
    return this.location ? `${this.location}: ${this.message}` : this.message;
  }
}

/** Attaches an option location to a ConfigError thrown by `fn`. */
export function at<T>(location: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError && e.location === undefined) e.location = location;
    throw e;
  }
}
