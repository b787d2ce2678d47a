// NVMe completion status values as QEMU 7.2 returns them (reference qemu-nvme.md §0).
//
// A status here is the 15-bit Status Field of the CQE without the phase tag (NVMe Base Spec 2.0
// §4.6.1.2 Figure 93): bits 7:0 SC, 10:8 SCT, 12:11 CRD, 13 More, 14 DNR. The constants carry
// SCT<<8 | SC only; DNR is added at the point of return (`withDnr`) because QEMU decides DNR per
// call site, not per code. The CQE carries `status << 1 | phase` (spec/command.ts encodeCqe).

/** Named status codes, value = SCT << 8 | SC. */
export const Status = {
  // Generic Command Status (SCT 0)
  SUCCESS: 0x000,
  INVALID_OPCODE: 0x001,
  INVALID_FIELD: 0x002,
  DATA_TRANSFER_ERROR: 0x004,
  INTERNAL_DEVICE_ERROR: 0x006,
  ABORT_REQUESTED: 0x007,
  ABORT_SQ_DELETION: 0x008,
  INVALID_NSID: 0x00b,
  COMMAND_SEQUENCE_ERROR: 0x00c,
  INVALID_SGL_SEG_DESCR: 0x00d,
  INVALID_NUM_SGL_DESCRS: 0x00e,
  DATA_SGL_LEN_INVALID: 0x00f,
  MD_SGL_LEN_INVALID: 0x010,
  SGL_DESCR_TYPE_INVALID: 0x011,
  INVALID_USE_OF_CMB: 0x012,
  INVALID_PRP_OFFSET: 0x013,
  /** The host selected a 64-bit Host Identifier and asked for 128-bit data, or the reverse. */
  HOST_ID_INCONSISTENT: 0x018,
  FDP_DISABLED: 0x029,
  /** [7.2] generic "command set not supported/invalid" (CNS 11h on a zoned NS). */
  INVALID_CMD_SET: 0x02c,
  LBA_RANGE: 0x080,
  RESERVATION_CONFLICT: 0x083,
  FORMAT_IN_PROGRESS: 0x084,
  // Command Specific Status (SCT 1)
  CQ_INVALID: 0x100,
  INVALID_QID: 0x101,
  MAX_QSIZE_EXCEEDED: 0x102,
  AER_LIMIT_EXCEEDED: 0x105,
  INVALID_IRQ_VECTOR: 0x108,
  INVALID_FORMAT: 0x10a,
  INVALID_QUEUE_DEL: 0x10c,
  FID_NOT_SAVEABLE: 0x10d,
  FEAT_NOT_CHANGEABLE: 0x10e,
  FEAT_NOT_NS_SPEC: 0x10f,
  NS_INSUFFICIENT_CAPACITY: 0x115,
  NS_ID_UNAVAILABLE: 0x116,
  NS_ALREADY_ATTACHED: 0x118,
  NS_PRIVATE: 0x119,
  NS_NOT_ATTACHED: 0x11a,
  THIN_PROVISIONING_NOT_SUPPORTED: 0x11b,
  NS_CTRL_LIST_INVALID: 0x11c,
  INVALID_CTRL_ID: 0x11f,
  INVALID_SEC_CTRL_STATE: 0x120,
  INVALID_NUM_RESOURCES: 0x121,
  INVALID_RESOURCE_ID: 0x122,
  ANA_GROUP_ID_INVALID: 0x124,
  IOCS_NOT_SUPPORTED: 0x129,
  IOCS_COMBINATION_REJECTED: 0x12b,
  INVALID_IOCS: 0x12c,
  INVALID_PROT_INFO: 0x181,
  CMD_SIZE_LIMIT: 0x183,
  INCOMPATIBLE_NS_OR_FORMAT: 0x185,
  OVERLAPPING_IO_RANGE: 0x187,
  ZONE_INVALID_OP: 0x1b6,
  ZONE_NO_ZRWA: 0x1b7,
  ZONE_BOUNDARY_ERROR: 0x1b8,
  ZONE_FULL: 0x1b9,
  ZONE_READ_ONLY: 0x1ba,
  ZONE_OFFLINE: 0x1bb,
  ZONE_INVALID_WRITE: 0x1bc,
  ZONE_TOO_MANY_ACTIVE: 0x1bd,
  ZONE_TOO_MANY_OPEN: 0x1be,
  ZONE_INVAL_TRANSITION: 0x1bf,
  // Media and Data Integrity Errors (SCT 2)
  WRITE_FAULT: 0x280,
  UNRECOVERED_READ: 0x281,
  E2E_GUARD_ERROR: 0x282,
  E2E_APP_ERROR: 0x283,
  E2E_REF_ERROR: 0x284,
  CMP_FAILURE: 0x285,
  DULB: 0x287,
  // Path Related Status (SCT 3, §8.20.3): retried by a multipath host on another path, no DNR.
  ANA_PERSISTENT_LOSS: 0x301,
  ANA_INACCESSIBLE: 0x302,
  ANA_TRANSITION: 0x303,
} as const;

export type StatusName = keyof typeof Status;

/** Do Not Retry, bit 14 of the status field (QEMU's NVME_DNR). */
export const DNR = 0x4000;
/** More (more status information in the Error log), bit 13. QEMU never sets it. */
export const MORE = 0x2000;
/** SCT (10:8) | SC (7:0): the code without CRD/More/DNR. */
export const CODE_MASK = 0x7ff;
/** The whole 15-bit status field. */
export const STATUS_MASK = 0x7fff;

/** `s` with Do Not Retry set. */
export function withDnr(s: number): number {
  return s | DNR;
}

/** True when the status has DNR set. */
export function hasDnr(s: number): boolean {
  return (s & DNR) !== 0;
}

/** The SCT<<8|SC part of a status (drops DNR, More and CRD). */
export function statusCode(s: number): number {
  return s & CODE_MASK;
}

/** Status Code Type (bits 10:8). */
export function statusType(s: number): number {
  return (s >>> 8) & 0x7;
}

const NAMES = new Map<number, StatusName>(
  (Object.entries(Status) as [StatusName, number][]).map(([k, v]) => [v, k]),
);

/** True for a code (without DNR/More) that this table declares. */
export function isKnownStatus(s: number): boolean {
  return NAMES.has(statusCode(s));
}

/**
 * Human-readable name: `INVALID_FIELD+DNR`, `LBA_RANGE`, or `0x3ff` for codes outside the table
 * (e.g. a peer's status we do not generate ourselves).
 */
export function statusName(s: number): string {
  const code = statusCode(s);
  const base = NAMES.get(code) ?? `0x${code.toString(16).padStart(3, '0')}`;
  return base + ((s & MORE) !== 0 ? '+MORE' : '') + (hasDnr(s) ? '+DNR' : '');
}
