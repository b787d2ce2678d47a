// Opcodes (NVMe Base Spec 2.0 §5 Figure 138, NVM Command Set 1.0 §3, ZNS 1.1 §4) and the
// 7.2 Commands Supported and Effects values of the I/O command sets (reference §3.4 LID 05h).
// The admin table lives in ctrl/admin-table.ts, where dispatch derives from it.

import type { AccessGroup } from './namespace-api.js';

export const AdminOpc = {
  DELETE_SQ: 0x00,
  CREATE_SQ: 0x01,
  GET_LOG_PAGE: 0x02,
  DELETE_CQ: 0x04,
  CREATE_CQ: 0x05,
  IDENTIFY: 0x06,
  ABORT: 0x08,
  SET_FEATURES: 0x09,
  GET_FEATURES: 0x0a,
  ASYNC_EVENT_REQ: 0x0c,
  NS_MANAGEMENT: 0x0d,
  FW_COMMIT: 0x10,
  FW_DOWNLOAD: 0x11,
  NS_ATTACHMENT: 0x15,
  KEEP_ALIVE: 0x18,
  DIRECTIVE_SEND: 0x19,
  DIRECTIVE_RECV: 0x1a,
  VIRT_MNGMT: 0x1c,
  DBBUF_CONFIG: 0x7c,
  FABRICS: 0x7f,
  FORMAT_NVM: 0x80,
  SECURITY_SEND: 0x81,
  SECURITY_RECV: 0x82,
  SANITIZE: 0x84,
} as const;

export const IoOpc = {
  FLUSH: 0x00,
  WRITE: 0x01,
  READ: 0x02,
  WRITE_UNCOR: 0x04,
  COMPARE: 0x05,
  WRITE_ZEROES: 0x08,
  DSM: 0x09,
  VERIFY: 0x0c,
  RESV_REGISTER: 0x0d,
  RESV_REPORT: 0x0e,
  RESV_ACQUIRE: 0x11,
  IO_MGMT_RECV: 0x12,
  RESV_RELEASE: 0x15,
  COPY: 0x19,
  IO_MGMT_SEND: 0x1d,
  ZONE_MGMT_SEND: 0x79,
  ZONE_MGMT_RECV: 0x7a,
  ZONE_APPEND: 0x7d,
} as const;

/** Command Effects bits (Base Spec 2.0 Figure 211). */
export const Effects = {
  CSUPP: 0x1,
  LBCC: 0x2,
  NCC: 0x4,
  NIC: 0x8,
  CCC: 0x10,
} as const;

/** Command Set Identifiers (Base Spec 2.0 Figure 286). */
export const Csi = { NVM: 0x00, ZONED: 0x02 } as const;

/** [7.2] I/O commands of the NVM command set with their effects (reference §3.4). */
export const NVM_IO_EFFECTS: ReadonlyMap<number, number> = new Map([
  [IoOpc.FLUSH, Effects.CSUPP | Effects.LBCC],
  [IoOpc.WRITE, Effects.CSUPP | Effects.LBCC],
  [IoOpc.READ, Effects.CSUPP],
  [IoOpc.COMPARE, Effects.CSUPP],
  [IoOpc.WRITE_ZEROES, Effects.CSUPP | Effects.LBCC],
  [IoOpc.DSM, Effects.CSUPP | Effects.LBCC],
  [IoOpc.VERIFY, Effects.CSUPP],
  // Beyond QEMU 7.2 (which answers Invalid Opcode): blocks fail reads until rewritten.
  [IoOpc.WRITE_UNCOR, Effects.CSUPP | Effects.LBCC],
  // Simple Copy (ns/copy.ts): ONCS bit 8 and OCFS derive from this entry.
  [IoOpc.COPY, Effects.CSUPP | Effects.LBCC],
  // Flexible Data Placement (ns/fdp/placement.ts): FDP Disabled outside an FDP subsystem.
  [IoOpc.IO_MGMT_RECV, Effects.CSUPP],
  [IoOpc.IO_MGMT_SEND, Effects.CSUPP | Effects.LBCC],
  // Reservations (ns/resv; beyond QEMU 7.2): ONCS bit 5 derives from these entries.
  [IoOpc.RESV_REGISTER, Effects.CSUPP],
  [IoOpc.RESV_REPORT, Effects.CSUPP],
  [IoOpc.RESV_ACQUIRE, Effects.CSUPP],
  [IoOpc.RESV_RELEASE, Effects.CSUPP],
]);

/** [7.2] Zoned command set: the NVM set plus the three zone commands. */
export const ZONED_IO_EFFECTS: ReadonlyMap<number, number> = new Map([
  ...NVM_IO_EFFECTS,
  [IoOpc.ZONE_MGMT_SEND, Effects.CSUPP | Effects.LBCC],
  [IoOpc.ZONE_MGMT_RECV, Effects.CSUPP],
  [IoOpc.ZONE_APPEND, Effects.CSUPP | Effects.LBCC],
]);

/** I/O command names (traces, the Error Information log, the monitor). */
export const IO_COMMAND_NAMES: ReadonlyMap<number, string> = new Map([
  [IoOpc.FLUSH, 'Flush'],
  [IoOpc.WRITE, 'Write'],
  [IoOpc.READ, 'Read'],
  [IoOpc.WRITE_UNCOR, 'Write Uncorrectable'],
  [IoOpc.COMPARE, 'Compare'],
  [IoOpc.WRITE_ZEROES, 'Write Zeroes'],
  [IoOpc.DSM, 'Dataset Management'],
  [IoOpc.VERIFY, 'Verify'],
  [IoOpc.RESV_REGISTER, 'Reservation Register'],
  [IoOpc.RESV_REPORT, 'Reservation Report'],
  [IoOpc.RESV_ACQUIRE, 'Reservation Acquire'],
  [IoOpc.IO_MGMT_RECV, 'I/O Management Receive'],
  [IoOpc.RESV_RELEASE, 'Reservation Release'],
  [IoOpc.COPY, 'Copy'],
  [IoOpc.IO_MGMT_SEND, 'I/O Management Send'],
  [IoOpc.ZONE_MGMT_SEND, 'Zone Management Send'],
  [IoOpc.ZONE_MGMT_RECV, 'Zone Management Receive'],
  [IoOpc.ZONE_APPEND, 'Zone Append'],
]);

/** I/O opcodes whose cdw10-11 hold an SLBA (Zone Append: the zone's ZSLBA). */
export const LBA_OPCODES: ReadonlySet<number> = new Set<number>([
  IoOpc.WRITE,
  IoOpc.READ,
  IoOpc.WRITE_UNCOR,
  IoOpc.COMPARE,
  IoOpc.WRITE_ZEROES,
  IoOpc.VERIFY,
  IoOpc.ZONE_APPEND,
]);

/**
 * The I/O commands of the Read and Write Command Groups of the reservation rules (Base Spec 2.1
 * Figure 646; NVM Command Set 1.0 "Command Behavior in the Presence of a Reservation"; ZNS 1.1
 * Figure 52). Copy is a write of its destination; its source namespaces are checked as reads.
 * Commands not listed (the reservation commands themselves, FDP's I/O Management) are allowed.
 */
export const RESV_GROUP: ReadonlyMap<number, AccessGroup> = new Map<number, AccessGroup>([
  [IoOpc.READ, 'read'],
  [IoOpc.COMPARE, 'read'],
  [IoOpc.VERIFY, 'read'],
  [IoOpc.ZONE_MGMT_RECV, 'read'],
  [IoOpc.FLUSH, 'write'],
  [IoOpc.WRITE, 'write'],
  [IoOpc.WRITE_UNCOR, 'write'],
  [IoOpc.WRITE_ZEROES, 'write'],
  [IoOpc.DSM, 'write'],
  [IoOpc.COPY, 'write'],
  [IoOpc.ZONE_APPEND, 'write'],
  [IoOpc.ZONE_MGMT_SEND, 'write'],
]);
