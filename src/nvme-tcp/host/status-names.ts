// Status names that depend on the command (issue 19). A Command Specific status (SCT 1) means
// different things for different commands: 0x181 is Invalid Protection Information for a
// Read or Write but Controller Busy for a Fabrics Connect. The host library names a status
// through the command that received it, so a refused Connect reads as a Connect failure.
//
// Fabrics command statuses (NVMe Base Spec 2.0 §3.3 Figure "Fabrics Command Status Values";
// the values Linux names NVME_SC_CONNECT_* / NVME_SC_DISCOVERY_RESTART / NVME_SC_AUTH_REQUIRED):
//   80h Incompatible Format          Connect
//   81h Controller Busy              Connect
//   82h Connect Invalid Parameters   Connect
//   83h Connect Restart Discovery    Connect
//   84h Connect Invalid Host         Connect
//   85h Invalid Queue Type           Disconnect
//   90h Discover Restart             Get Log Page (Discovery log page)
//   91h Authentication Required      any command on a queue not yet authenticated
// Anything else falls back to the command-independent table (nvme/spec/status.ts).

import { statusCode, statusName, statusType, hasDnr, MORE } from '../../nvme/spec/status.js';

/** Fabrics command opcode (NVMe Base Spec 2.0 §6.1). */
export const FABRICS_OPCODE = 0x7f;
/** Fabrics command types (FCTYPE, NVMe Base Spec 2.0 §6.1 Figure 540). */
export const FabricsType = {
  PROPERTY_SET: 0x00,
  CONNECT: 0x01,
  PROPERTY_GET: 0x04,
  AUTHENTICATION_SEND: 0x05,
  AUTHENTICATION_RECEIVE: 0x06,
  DISCONNECT: 0x08,
} as const;
const GET_LOG_PAGE = 0x02;

/** The command a status answered: enough to pick the right name. */
export interface StatusContext {
  readonly opcode: number;
  /** FCTYPE when `opcode` is 0x7f. */
  readonly fctype?: number;
  /** Admin or I/O queue: the same opcode means different commands on each. */
  readonly queue: 'admin' | 'io';
}

interface Entry {
  readonly name: string;
  /** True when the meaning applies to this command. */
  readonly applies: (c: StatusContext) => boolean;
}

const isFabrics = (fctype: number) => (c: StatusContext) =>
  c.opcode === FABRICS_OPCODE && c.fctype === fctype;

/** Command Specific (SCT 1) codes whose meaning is the Fabrics one for these commands. */
const FABRICS_STATUS = new Map<number, Entry>([
  [0x180, { name: 'CONNECT_INCOMPATIBLE_FORMAT', applies: isFabrics(FabricsType.CONNECT) }],
  [0x181, { name: 'CONNECT_CONTROLLER_BUSY', applies: isFabrics(FabricsType.CONNECT) }],
  [0x182, { name: 'CONNECT_INVALID_PARAMETERS', applies: isFabrics(FabricsType.CONNECT) }],
  [0x183, { name: 'CONNECT_RESTART_DISCOVERY', applies: isFabrics(FabricsType.CONNECT) }],
  [0x184, { name: 'CONNECT_INVALID_HOST', applies: isFabrics(FabricsType.CONNECT) }],
  [0x185, { name: 'INVALID_QUEUE_TYPE', applies: isFabrics(FabricsType.DISCONNECT) }],
  [
    0x190,
    {
      name: 'DISCOVER_RESTART',
      applies: (c) => c.queue === 'admin' && c.opcode === GET_LOG_PAGE,
    },
  ],
  // Any command on a fabrics queue that has not completed in-band authentication.
  [0x191, { name: 'AUTHENTICATION_REQUIRED', applies: () => true }],
]);

/** The human description of the Fabrics statuses (for messages people read). */
export const FABRICS_STATUS_TEXT: Readonly<Record<string, string>> = {
  CONNECT_INCOMPATIBLE_FORMAT: 'Incompatible Format',
  CONNECT_CONTROLLER_BUSY: 'Controller Busy',
  CONNECT_INVALID_PARAMETERS: 'Connect Invalid Parameters',
  CONNECT_RESTART_DISCOVERY: 'Connect Restart Discovery',
  CONNECT_INVALID_HOST: 'Connect Invalid Host',
  INVALID_QUEUE_TYPE: 'Invalid Queue Type',
  DISCOVER_RESTART: 'Discover Restart',
  AUTHENTICATION_REQUIRED: 'Authentication Required',
};

/**
 * The name of `status` as the answer to `command`: a Fabrics name where the command gives
 * the code that meaning, else statusName() (`INVALID_FIELD+DNR`, `0x3ff`). Without a
 * command it is statusName() unchanged.
 */
export function statusNameFor(status: number, command?: StatusContext): string {
  if (command !== undefined && statusType(status) === 1) {
    const e = FABRICS_STATUS.get(statusCode(status));
    if (e?.applies(command) === true) {
      return e.name + ((status & MORE) !== 0 ? '+MORE' : '') + (hasDnr(status) ? '+DNR' : '');
    }
  }
  return statusName(status);
}
