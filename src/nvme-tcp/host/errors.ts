// Typed host-side errors with stable codes (DESIGN.md rule 8). An NVMe error status is not an
// exception for the raw submit API (it returns the status); helpers that need success throw
// NvmeStatusError, whose `status` is the 15-bit status field. The status is named through the
// command that received it (status-names.ts): a refused Connect reads as a Connect status.

import { EmuError } from '../../util/errors.js';
import { statusNameFor, type StatusContext } from './status-names.js';

/** The stable codes of NvmeTcpError. */
export const HostErrorCode = {
  /** TCP connection could not be established (refused, unreachable, DNS). */
  CONNECT: 'NVME_TCP_CONNECT',
  /** The target broke the NVMe/TCP protocol, or sent a C2HTermReq. */
  PROTOCOL: 'NVME_TCP_PROTOCOL',
  /** The connection closed (or was closed) while commands were outstanding. */
  CLOSED: 'NVME_TCP_CLOSED',
  /** No answer in time (ICResp, a command, CSTS.RDY). */
  TIMEOUT: 'NVME_TCP_TIMEOUT',
  /** A command completed with a non-zero NVMe status. */
  STATUS: 'NVME_STATUS',
  /** Caller error: bad argument to the host API. */
  USAGE: 'NVME_TCP_USAGE',
  /** In-band authentication (DH-HMAC-CHAP) failed or was required without a secret. */
  AUTH: 'NVME_TCP_AUTH',
} as const;
/** One of HostErrorCode's values. */
export type HostErrorCodeName = (typeof HostErrorCode)[keyof typeof HostErrorCode];

/** An error of the NVMe/TCP host library; `code` is one of HostErrorCode. */
export class NvmeTcpError extends EmuError {
  /** Stable error code (HostErrorCode). */
  declare readonly code: HostErrorCodeName;
  constructor(code: HostErrorCodeName, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A command that had to succeed completed with an NVMe status (code NVME_STATUS). */
export class NvmeStatusError extends NvmeTcpError {
  /** The CQE status field (SCT << 8 | SC, with DNR/More/CRD bits). */
  readonly status: number;
  /** CQE DW0 (e.g. Connect IPO/IATTR). */
  readonly dw0: number;
  /** The status's name for this command (`CONNECT_CONTROLLER_BUSY`, `INVALID_FIELD+DNR`). */
  readonly statusName: string;
  /** `command`: the command that got the status, so that its name is that command's. */
  constructor(what: string, status: number, dw0 = 0, command?: StatusContext) {
    const name = statusNameFor(status, command);
    super(
      HostErrorCode.STATUS,
      `${what} failed: ${name} (0x${status.toString(16).padStart(4, '0')})`,
    );
    this.status = status;
    this.dw0 = dw0;
    this.statusName = name;
  }
}
