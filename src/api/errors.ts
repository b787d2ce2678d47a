// The errors the public API throws (DESIGN.md house rule 8): one class, a stable `code` to
// branch on, and for NVMe failures the completion status. Configuration mistakes keep the
// core's ConfigError (code EMU_ERR_CONFIG, QEMU's message and the option it is about).

import { EmuError, ErrorCode, isEmuError } from '../util/errors.js';
import { statusName } from '../nvme/spec/status.js';

/**
 * The stable codes of {@link NvmemuError} (values equal their keys). The core's codes
 * (`EMU_ERR_CONFIG`, `EMU_ERR_BACKEND_IO`, ...) are included: errors that come from building or
 * running the machine keep the code they were raised with.
 */
export const NvmemuErrorCode = {
  ...ErrorCode,
  /** No device, namespace or backend with that id in the machine. */
  EMU_ERR_NOT_FOUND: 'EMU_ERR_NOT_FOUND',
  /** The id names a device of another type (`m.nvme('nv1')` on an nvdimm). */
  EMU_ERR_WRONG_TYPE: 'EMU_ERR_WRONG_TYPE',
  /** A bad argument to an API call (an unaligned buffer, a negative LBA). */
  EMU_ERR_ARGUMENT: 'EMU_ERR_ARGUMENT',
  /** An NVMe command completed with a non-zero status; see {@link NvmeCommandError}. */
  EMU_ERR_NVME_STATUS: 'EMU_ERR_NVME_STATUS',
} as const;

/** One of {@link NvmemuErrorCode}'s values. */
export type NvmemuErrorCodeName = (typeof NvmemuErrorCode)[keyof typeof NvmemuErrorCode];

/**
 * Every error the public API raises on purpose is an `EmuError` with a stable `code`; this
 * class is the one the facade itself throws. Branch on `code`, not on the message.
 */
export class NvmemuError extends EmuError {
  declare readonly code: NvmemuErrorCodeName;
  constructor(code: NvmemuErrorCodeName, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** An NVMe command that completed with an error status (code `EMU_ERR_NVME_STATUS`). */
export class NvmeCommandError extends NvmemuError {
  /** The 15-bit status field: SCT << 8 | SC, with DNR (bit 14) and More (bit 13). */
  readonly status: number;
  /** The status as the spec names it, e.g. `LBA_RANGE+DNR`. */
  readonly statusName: string;
  constructor(what: string, status: number) {
    const name = statusName(status);
    super(
      NvmemuErrorCode.EMU_ERR_NVME_STATUS,
      `${what} failed: ${name} (0x${status.toString(16).padStart(4, '0')})`,
    );
    this.status = status;
    this.statusName = name;
  }
}

/** True when `e` carries a stable error code (any nvmemu error), optionally this one. */
export function isNvmemuError(e: unknown, code?: NvmemuErrorCodeName): e is EmuError {
  return isEmuError(e, code);
}
