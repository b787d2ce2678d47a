// Identify Controller (CNS 01h) and the I/O command set specific controller structures
// (CNS 06h), reference §2.6, NVMe Base Spec 2.0 Figure 275. Declared once as a layout table and
// encoded once: the fields that depend on the personality (PCIe or fabrics: NVMe-oF 1.1 §4.1,
// reference nvme-tcp.md §2.8) and on the namespaces' features derive from the controller's
// state and command table, never patched afterwards.

import { defineLayout } from '../../util/layout.js';
import { writeU32le, writeU64le } from '../../util/bytes.js';
import { Status, withDnr } from '../spec/status.js';
import type { ControllerState } from './state.js';
import { TEMP_CRITICAL, TEMP_WARNING } from './features-state.js';
import { IoOpc, NVM_IO_EFFECTS } from '../spec/opcodes.js';
import { ELPE } from './error-log.js';
import { COPY_FORMATS } from '../ns/copy.js';
import { MQES } from './regs.js';
import { enduranceGroupOf } from '../subsys/endurance.js';
import {
  ANACAP,
  ANAGRPMAX,
  ANATT,
  CMIC_ANA,
  CMIC_MULTI_PORT,
  OAES_ANA_CHANGE,
} from '../spec/ana.js';

/**
 * TNVMCAP/UNVMCAP: the subsystem's capacity for Namespace Management (subsys `nvm-capacity`),
 * both 0 when it has none (QEMU 7.2).
 */
function capacityFields(cap: { total: bigint; unallocated: bigint } | undefined): {
  tnvmcap?: Uint8Array;
  unvmcap?: Uint8Array;
} {
  if (cap === undefined) return {};
  const u128 = (v: bigint): Uint8Array => {
    const b = new Uint8Array(16);
    writeU64le(b, 0, v & 0xffff_ffff_ffff_ffffn);
    writeU64le(b, 8, v >> 64n);
    return b;
  };
  return { tnvmcap: u128(cap.total), unvmcap: u128(cap.unallocated) };
}

export const ID_SIZE = 4096;

export const IdCtrlLayout = defineLayout('identify-controller', ID_SIZE, [
  { name: 'vid', offset: 0, type: 'u16le' },
  { name: 'ssvid', offset: 2, type: 'u16le' },
  { name: 'sn', offset: 4, type: { ascii: 20 } },
  { name: 'mn', offset: 24, type: { ascii: 40 } },
  { name: 'fr', offset: 64, type: { ascii: 8 } },
  { name: 'rab', offset: 72, type: 'u8' },
  { name: 'ieee', offset: 73, type: { bytes: 3 } },
  { name: 'cmic', offset: 76, type: 'u8' },
  { name: 'mdts', offset: 77, type: 'u8' },
  { name: 'cntlid', offset: 78, type: 'u16le' },
  { name: 'ver', offset: 80, type: 'u32le' },
  { name: 'oaes', offset: 92, type: 'u32le' },
  { name: 'ctratt', offset: 96, type: 'u32le' },
  { name: 'cntrltype', offset: 111, type: 'u8' },
  { name: 'oacs', offset: 256, type: 'u16le' },
  { name: 'acl', offset: 258, type: 'u8' },
  { name: 'aerl', offset: 259, type: 'u8' },
  { name: 'frmw', offset: 260, type: 'u8' },
  { name: 'lpa', offset: 261, type: 'u8' },
  { name: 'elpe', offset: 262, type: 'u8' },
  { name: 'wctemp', offset: 266, type: 'u16le' },
  { name: 'cctemp', offset: 268, type: 'u16le' },
  // Namespace Management capacity (u128 little endian; ctrl/ns-mgmt.ts).
  { name: 'tnvmcap', offset: 280, type: { bytes: 16 } },
  { name: 'unvmcap', offset: 296, type: { bytes: 16 } },
  { name: 'kas', offset: 320, type: 'u16le' },
  { name: 'endgidmax', offset: 340, type: 'u16le' },
  // Asymmetric Namespace Access (§8.20; spec/ana.ts).
  { name: 'anatt', offset: 342, type: 'u8' },
  { name: 'anacap', offset: 343, type: 'u8' },
  { name: 'anagrpmax', offset: 344, type: 'u32le' },
  { name: 'nanagrpid', offset: 348, type: 'u32le' },
  { name: 'sqes', offset: 512, type: 'u8' },
  { name: 'cqes', offset: 513, type: 'u8' },
  { name: 'maxcmd', offset: 514, type: 'u16le' },
  { name: 'nn', offset: 516, type: 'u32le' },
  { name: 'mnan', offset: 540, type: 'u32le' },
  { name: 'oncs', offset: 520, type: 'u16le' },
  { name: 'vwc', offset: 525, type: 'u8' },
  { name: 'awun', offset: 526, type: 'u16le' },
  { name: 'awupf', offset: 528, type: 'u16le' },
  { name: 'ocfs', offset: 534, type: 'u16le' },
  { name: 'sgls', offset: 536, type: 'u32le' },
  { name: 'subnqn', offset: 768, type: { ascii: 256, pad: 0 } },
  // NVMe over Fabrics (NVMe-oF 1.1 Figure 28): zero on PCIe.
  { name: 'ioccsz', offset: 1792, type: 'u32le' },
  { name: 'iorcsz', offset: 1796, type: 'u32le' },
  { name: 'icdoff', offset: 1800, type: 'u16le' },
  { name: 'fcatt', offset: 1802, type: 'u8' },
  { name: 'msdbd', offset: 1803, type: 'u8' },
  { name: 'ofcs', offset: 1804, type: 'u16le' },
  { name: 'psd0Mp', offset: 2048, type: 'u16le' },
  { name: 'psd0Enlat', offset: 2052, type: 'u32le' },
  { name: 'psd0Exlat', offset: 2056, type: 'u32le' },
]);

/** ONCS bits for optional NVM commands, derived from the one I/O command table. */
const ONCS_COMMAND_BITS: readonly (readonly [number, number])[] = [
  [IoOpc.COMPARE, 1 << 0],
  [IoOpc.WRITE_UNCOR, 1 << 1],
  [IoOpc.DSM, 1 << 2],
  [IoOpc.WRITE_ZEROES, 1 << 3],
  [IoOpc.COPY, 1 << 8],
  [IoOpc.RESV_REGISTER, 1 << 5],
];
/**
 * ONCS: a bit per optional command the I/O command table holds, plus the level's fixed bits
 * (spec/levels.ts: Save/Select and Timestamp; at 10.0 also Copy Single Atomicity and All Fast
 * Copy). Like QEMU, Verify (bit 7) is not advertised although it is implemented. QEMU 7.2
 * reads 0x15d, 10.0 0x75d (with Copy, without Write Uncorrectable).
 */
const ONCS_COMMANDS = ONCS_COMMAND_BITS.reduce(
  (acc, [opc, bit]) => (NVM_IO_EFFECTS.has(opc) ? acc | bit : acc),
  0,
);
/** OCFS: the Copy descriptor formats ns/copy.ts implements, while Copy is in the I/O table. */
const OCFS = NVM_IO_EFFECTS.has(IoOpc.COPY) ? COPY_FORMATS : 0;
/** Keep Alive granularity over fabrics, in 100 ms units: 1 s like nvmet (§2.4). */
export const FABRICS_KAS = 10;
/**
 * CTRATT bit 4 (Endurance Groups), bit 15 (Extended LBA Formats, QEMU 7.2), bit 16 (MEM,
 * QEMU 10.0's `ctratt.mem`) and bit 19 (Flexible Data Placement).
 */
const CTRATT_EGS = 1 << 4;
const CTRATT_ELBAS = 0x8000;
const CTRATT_MEM = 1 << 16;
const CTRATT_FDPS = 1 << 19;
/** CTRATT bit 0: 128-bit Host Identifier support. */
const CTRATT_HID128 = 0x1;
/** SGLS over fabrics: SGLs supported (bit 0), in-capsule data address is an offset (bit 20). */
const FABRICS_SGLS = 0x0010_0001;

/**
 * Truncates an Identify string field the way QEMU's strpadcpy does (padding is the layout's).
 * Non-ASCII characters (QEMU copies UTF-8 bytes) become '?' so the field stays ASCII.
 */
function fit(s: string, len: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > len ? ascii.slice(0, len) : ascii;
}

export function identifyController(c: ControllerState): Uint8Array {
  const p = c.params;
  const explicitSubsys = c.subsys.explicit;
  const fabrics = c.fabrics;
  let oacs = 0;
  for (const a of c.adminCommands()) oacs |= a.oacs;
  // Endurance group 1 (subsys/endurance.ts) is reported here for an `nvme-subsys` (QEMU 10.0
  // sets CTRATT.EGS and ENDGIDMAX with the subsystem device only, though every namespace of
  // its implicit subsystem is in the group too); an FDP subsystem is always such a one.
  const egs = explicitSubsys && enduranceGroupOf(c.subsys, c.level) !== undefined;
  let ctratt = CTRATT_ELBAS;
  if (egs) ctratt |= CTRATT_EGS;
  if (p.ctrattMem) ctratt |= CTRATT_MEM;
  if (c.subsys.fdp !== undefined) ctratt |= CTRATT_FDPS;
  const ana = c.subsys.anaReporting;
  return IdCtrlLayout.encode({
    vid: p.useIntelId ? 0x8086 : 0x1b36,
    ssvid: 0x1af4,
    sn: fit(p.serial, 20),
    mn: 'QEMU NVMe Ctrl',
    // FR: the active slot's firmware revision, or the QEMU version the level reproduces.
    fr: fit(c.level.identifyFr ?? p.firmwareRevision, 8),
    rab: 6,
    ieee: p.useIntelId ? Uint8Array.of(0xb3, 0x02, 0x00) : Uint8Array.of(0x00, 0x54, 0x52),
    // CMIC bit 1 (several controllers): in a subsystem, and always over fabrics, where a
    // reconnect's new association may overlap the old one (reference nvme-tcp.md §2.8); bits 0
    // and 3 (several ports, ANA reporting) in an ANA subsystem.
    cmic:
      (explicitSubsys || fabrics !== undefined ? 0x02 : 0) | (ana ? CMIC_MULTI_PORT | CMIC_ANA : 0),
    mdts: p.mdts,
    cntlid: p.cntlid,
    ver: 0x00010400,
    oaes: 0x100 | (ana ? OAES_ANA_CHANGE : 0),
    // Bit 0: 128-bit host identifiers, which fabrics hosts have (Connect HOSTID), so that Linux
    // asks for the extended Reservation Status.
    ctratt: ctratt | (fabrics !== undefined ? CTRATT_HID128 : 0),
    cntrltype: 1,
    oacs,
    acl: 3,
    aerl: p.aerl,
    frmw: 0x03,
    lpa: 0x07,
    elpe: ELPE,
    wctemp: TEMP_WARNING,
    cctemp: TEMP_CRITICAL,
    kas: fabrics !== undefined ? FABRICS_KAS : 0,
    endgidmax: egs ? 1 : 0,
    anatt: ana ? ANATT : 0,
    anacap: ana ? ANACAP : 0,
    anagrpmax: ana ? ANAGRPMAX : 0,
    nanagrpid: ana ? ANAGRPMAX : 0,
    ...capacityFields(c.subsys.capacity),
    sqes: 0x66,
    cqes: 0x44,
    maxcmd: fabrics !== undefined ? Math.min(0xffff, MQES + 1) : 0,
    nn: 256,
    // MNAN: an ANA host sizes the ANA log by it (Linux refuses ANA with MNAN 0).
    mnan: ana ? 256 : 0,
    oncs: ONCS_COMMANDS | c.level.oncsFixed,
    vwc: 0x07,
    // Atomic write units (QEMU 10.0 `atomic.awun`/`atomic.awupf`, 0's based blocks).
    awun: p.awun,
    awupf: p.awupf,
    ocfs: OCFS,
    sgls: fabrics !== undefined ? FABRICS_SGLS : c.level.sgls,
    subnqn: fit(c.subsys.subnqn, 255),
    ioccsz: fabrics !== undefined ? (64 + fabrics.inCapsuleSize) / 16 : 0,
    iorcsz: fabrics !== undefined ? 1 : 0,
    icdoff: 0,
    // FCATT 0: the dynamic controller model is not claimed; MSDBD 1; OFCS bit 0: Disconnect.
    fcatt: 0,
    msdbd: fabrics !== undefined ? 1 : 0,
    ofcs: fabrics !== undefined ? 1 : 0,
    psd0Mp: 0x09c4,
    psd0Enlat: 16,
    psd0Exlat: 4,
  });
}

/** Identify Controller of a discovery controller (NVMe-oF 1.1 §5.1; reference §2.6). */
export function identifyDiscovery(c: ControllerState): Uint8Array {
  return IdCtrlLayout.encode({
    vid: 0,
    ssvid: 0,
    sn: fit(c.params.serial, 20),
    mn: 'nvmemu discovery controller',
    fr: fit(c.params.firmwareRevision, 8),
    rab: 0,
    ieee: new Uint8Array(3),
    cmic: 0,
    mdts: 0,
    cntlid: c.cntlid,
    ver: c.vs,
    oaes: 0,
    ctratt: 0,
    cntrltype: 2,
    oacs: 0,
    acl: 0,
    aerl: c.params.aerl,
    frmw: 0,
    // LPA bit 2: extended data for Get Log Page (LPO, NUMDU).
    lpa: 0x04,
    elpe: 0,
    wctemp: 0,
    cctemp: 0,
    kas: FABRICS_KAS,
    endgidmax: 0,
    sqes: 0x66,
    cqes: 0x44,
    maxcmd: Number(c.cap & 0xffffn) + 1,
    nn: 0,
    oncs: 0,
    vwc: 0,
    awun: 0,
    awupf: 0,
    ocfs: 0,
    sgls: 0x1,
    subnqn: fit(c.subsys.subnqn, 255),
    // IOCCSZ 4 / IORCSZ 1: some newer hosts check them even for discovery; MSDBD 1.
    ioccsz: 4,
    iorcsz: 1,
    icdoff: 0,
    fcatt: 0,
    msdbd: 1,
    ofcs: 0,
    psd0Mp: 0,
    psd0Enlat: 0,
    psd0Exlat: 0,
  });
}

/** QEMU's BDRV_REQUEST_MAX_BYTES (INT_MAX rounded down to 512-byte sectors). */
const BDRV_REQUEST_MAX_BYTES = 0x7fff_fe00;

/** CNS 06h: NVM (CSI 0) or Zoned (CSI 2) controller structure, else 0x002+DNR. */
export function identifyCtrlCsi(c: ControllerState, csi: number): Uint8Array | number {
  const buf = new Uint8Array(ID_SIZE);
  if (csi === 0) {
    buf[0] = c.params.vsl;
    // DMRSL: min over attached namespaces of the largest request in blocks (UINT32_MAX if none).
    let dmrsl = 0xffff_ffff;
    for (const ns of c.namespaces.values()) {
      dmrsl = Math.min(dmrsl, Math.floor(BDRV_REQUEST_MAX_BYTES / ns.lbaSize));
    }
    // DMRL (ranges per Dataset Management) and DMSL (its total blocks): QEMU 10.0 reports 255
    // ranges (the command's own maximum) and DMSL = DMRL x DMRSL; 7.2 leaves both 0.
    const dmrl = c.level.dmrl;
    buf[3] = dmrl;
    writeU32le(buf, 4, dmrsl);
    writeU64le(buf, 8, BigInt(dmrl) * BigInt(dmrsl));
    return buf;
  }
  if (csi === 2) {
    buf[0] = c.params.zasl;
    return buf;
  }
  return withDnr(Status.INVALID_FIELD);
}
