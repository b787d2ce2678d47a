// Identify data of a namespace (reference qemu-nvme.md §3.5, §5.1):
// - CNS 00h Identify Namespace, NVM Command Set Spec 1.0 §4.1.5.1 Figure 97 / Base Spec 2.0
//   Figure 280 (4096 bytes);
// - CNS 03h Namespace Identification Descriptor list, Base Spec 2.0 §5.17.2.3 Figure 285;
// - CNS 05h CSI 0, I/O Command Set specific Identify Namespace for the NVM command set,
//   NVM Command Set Spec 1.0 §4.1.5.2 Figure 98.
// Values are QEMU 7.2's; fields QEMU leaves zero are zero here.

import { defineLayout } from '../../util/layout.js';
import { ByteWriter, writeU32le } from '../../util/bytes.js';
import type { LbaFormat } from './lbaf.js';

export const IDENTIFY_SIZE = 4096;
/** Identify NS has 64 LBAF entries of 4 bytes from byte 128. */
const LBAF_OFFSET = 128;
const LBAF_ENTRIES = 64;

export const IdNsLayout = defineLayout('identify-ns', IDENTIFY_SIZE, [
  { name: 'nsze', offset: 0, type: 'u64le' },
  { name: 'ncap', offset: 8, type: 'u64le' },
  { name: 'nuse', offset: 16, type: 'u64le' },
  { name: 'nsfeat', offset: 24, type: 'u8' },
  { name: 'nlbaf', offset: 25, type: 'u8' },
  { name: 'flbas', offset: 26, type: 'u8' },
  { name: 'mc', offset: 27, type: 'u8' },
  { name: 'dpc', offset: 28, type: 'u8' },
  { name: 'dps', offset: 29, type: 'u8' },
  { name: 'nmic', offset: 30, type: 'u8' },
  { name: 'rescap', offset: 31, type: 'u8' },
  { name: 'fpi', offset: 32, type: 'u8' },
  { name: 'dlfeat', offset: 33, type: 'u8' },
  { name: 'nawun', offset: 34, type: 'u16le' },
  { name: 'nawupf', offset: 36, type: 'u16le' },
  { name: 'nacwu', offset: 38, type: 'u16le' },
  { name: 'nabsn', offset: 40, type: 'u16le' },
  { name: 'nabo', offset: 42, type: 'u16le' },
  { name: 'nabspf', offset: 44, type: 'u16le' },
  { name: 'noiob', offset: 46, type: 'u16le' },
  { name: 'nvmcap', offset: 48, type: { bytes: 16 } },
  { name: 'npwg', offset: 64, type: 'u16le' },
  { name: 'npwa', offset: 66, type: 'u16le' },
  { name: 'npdg', offset: 68, type: 'u16le' },
  { name: 'npda', offset: 70, type: 'u16le' },
  { name: 'nows', offset: 72, type: 'u16le' },
  { name: 'mssrl', offset: 74, type: 'u16le' },
  { name: 'mcl', offset: 76, type: 'u32le' },
  { name: 'msrc', offset: 80, type: 'u8' },
  { name: 'nulbaf', offset: 82, type: 'u8' },
  { name: 'anagrpid', offset: 92, type: 'u32le' },
  { name: 'nsattr', offset: 99, type: 'u8' },
  { name: 'nvmsetid', offset: 100, type: 'u16le' },
  { name: 'endgid', offset: 102, type: 'u16le' },
  { name: 'nguid', offset: 104, type: { bytes: 16 } },
  // EUI-64 is a byte string (big-endian as a number), QEMU stores cpu_to_be64(eui64).
  { name: 'eui64', offset: 120, type: 'u64be' },
  { name: 'lbaf', offset: LBAF_OFFSET, type: { bytes: LBAF_ENTRIES * 4 } },
]);

/** One LBA Format entry: MS (u16), LBADS (u8), RP (bits 1:0 of byte 3). */
export const LbafLayout = defineLayout('lbaf', 4, [
  { name: 'ms', offset: 0, type: 'u16le' },
  { name: 'lbads', offset: 2, type: 'u8' },
  { name: 'rp', offset: 3, type: 'u8' },
]);

/**
 * CNS 05h CSI 0: LBSTM, PIC, the 64 extended LBA formats (ELBAF, u32 each), and NPDGL/NPDAL
 * (NVM Command Set 1.1 Figure 114; QEMU 10.0 sets them to the deallocation granularity).
 */
export const IdNsNvmLayout = defineLayout('identify-ns-nvm', IDENTIFY_SIZE, [
  { name: 'lbstm', offset: 0, type: 'u64le' },
  { name: 'pic', offset: 8, type: 'u8' },
  { name: 'elbaf', offset: 12, type: { bytes: LBAF_ENTRIES * 4 } },
  { name: 'npdgl', offset: 268, type: 'u32le' },
  { name: 'npdal', offset: 284, type: 'u32le' },
]);

/**
 * NSFEAT bits QEMU sets: bit 2 DAE (deallocated/unwritten error, DULBE), bit 4 OPTPERF, and
 * (QEMU 10.0) bit 5, OPTPERF bit 1: NPDGL/NPDAL of the NVM namespace structure are valid.
 */
export const NSFEAT_DULBE = 0x04;
export const NSFEAT_OPTPERF = 0x10;
export const NSFEAT_NPDGL = 0x20;
/** MC: extended (bit 0) and separate (bit 1) metadata both supported. */
const MC_EXTENDED_AND_SEPARATE = 0x03;
/** DPC: PI types 1, 2, 3 and first/last position (0x1f) — advertised even without PI. */
const DPC_ALL = 0x1f;

/**
 * CNS 08h/1Fh, the I/O Command Set Independent Identify Namespace structure (Base Spec 2.0
 * §5.17.2.8, Figure 280): QEMU 10.0 fills NMIC, ENDGID and NSTAT (bit 0: namespace ready).
 */
export const IdNsIndependentLayout = defineLayout('identify-ns-independent', IDENTIFY_SIZE, [
  { name: 'nsfeat', offset: 0, type: 'u8' },
  { name: 'nmic', offset: 1, type: 'u8' },
  { name: 'rescap', offset: 2, type: 'u8' },
  { name: 'fpi', offset: 3, type: 'u8' },
  { name: 'anagrpid', offset: 4, type: 'u32le' },
  { name: 'nsattr', offset: 8, type: 'u8' },
  { name: 'nvmsetid', offset: 10, type: 'u16le' },
  { name: 'endgid', offset: 12, type: 'u16le' },
  { name: 'nstat', offset: 14, type: 'u8' },
]);

/** NSTAT bit 0: the namespace is ready. */
export const NSTAT_READY = 0x01;

export function encodeIdentifyIndependent(f: {
  readonly nmic: number;
  readonly endgid: number;
  readonly nstat: number;
}): Uint8Array {
  return IdNsIndependentLayout.encode({
    nsfeat: 0,
    nmic: f.nmic,
    rescap: 0,
    fpi: 0,
    anagrpid: 0,
    nsattr: 0,
    nvmsetid: 0,
    endgid: f.endgid,
    nstat: f.nstat,
  });
}

/** What Identify NS reports; every field the namespace owns. */
export interface IdNsFields {
  readonly nsze: number;
  readonly nsfeat: number;
  readonly formats: readonly LbaFormat[];
  readonly flbas: number;
  readonly dps: number;
  readonly nmic: number;
  readonly npdg: number;
  readonly mssrl: number;
  readonly mcl: number;
  readonly msrc: number;
  readonly nguid: Uint8Array | undefined;
  readonly eui64: bigint;
  /** Endurance group (1 in an FDP subsystem or at the 10.0 level, else 0). */
  readonly endgid?: number;
  /** DLFEAT (spec/levels.ts): bits 2:0 deallocated blocks read as zeros, bit 3 DEAC. */
  readonly dlfeat: number;
  /** ANA group the subsystem reports for the namespace (0: none). */
  readonly anagrpid?: number;
  /** Reservation Capabilities (RESCAP, byte 31; ns/resv). */
  readonly rescap?: number;
}

export function encodeIdentifyNs(f: IdNsFields): Uint8Array {
  const lbaf = new Uint8Array(LBAF_ENTRIES * 4);
  f.formats.forEach((fmt, i) =>
    LbafLayout.encode({ ms: fmt.ms, lbads: fmt.ds, rp: 0 }, lbaf, i * 4),
  );
  const nsze = BigInt(f.nsze);
  return IdNsLayout.encode({
    nsze,
    // No thin provisioning: NCAP = NUSE = NSZE.
    ncap: nsze,
    nuse: nsze,
    nsfeat: f.nsfeat,
    // 0's based count.
    nlbaf: f.formats.length - 1,
    flbas: f.flbas,
    mc: MC_EXTENDED_AND_SEPARATE,
    dpc: DPC_ALL,
    dps: f.dps,
    nmic: f.nmic,
    rescap: f.rescap ?? 0,
    dlfeat: f.dlfeat,
    npdg: f.npdg,
    npda: f.npdg,
    mssrl: f.mssrl,
    mcl: f.mcl,
    msrc: f.msrc,
    endgid: f.endgid ?? 0,
    anagrpid: f.anagrpid ?? 0,
    nguid: f.nguid ?? new Uint8Array(16),
    eui64: f.eui64,
    lbaf,
  });
}

/**
 * CNS 00h with NSID FFFFFFFFh (Base Spec 2.0 §5.17.2.1): the capabilities common to the
 * namespaces this controller may create (Namespace Management): the LBA formats, metadata and
 * protection capabilities, RESCAP; sizes and the selected format are zero.
 */
export function encodeCommonNs(formats: readonly LbaFormat[], rescap: number): Uint8Array {
  return encodeIdentifyNs({
    nsze: 0,
    nsfeat: 0,
    formats,
    flbas: 0,
    dps: 0,
    nmic: 0,
    npdg: 0,
    mssrl: 0,
    mcl: 0,
    msrc: 0,
    nguid: undefined,
    eui64: 0n,
    rescap,
    dlfeat: 0,
  });
}

/**
 * CNS 05h CSI 0. ELBAF[i] bits 8:7 = PIF, set (QEMU) only for the format selected at realize;
 * NPDGL = NPDAL = `npdgl` blocks (0 where the level leaves them out).
 */
export function encodeIdentifyNsNvm(pif: number, pifIndex: number, npdgl = 0): Uint8Array {
  const elbaf = new Uint8Array(LBAF_ENTRIES * 4);
  writeU32le(elbaf, pifIndex * 4, (pif & 0x3) << 7);
  return IdNsNvmLayout.encode({ lbstm: 0n, pic: 0, elbaf, npdgl, npdal: npdgl });
}

/** Namespace Identifier Types (Base Spec 2.0 Figure 286). */
export const Nidt = { EUI64: 1, NGUID: 2, UUID: 3, CSI: 4 } as const;

/**
 * CNS 03h: descriptors in QEMU's order — UUID if set, NGUID if set, EUI-64 if non-zero, CSI
 * always — each a 4-byte header (NIDT, NIDL, 2 reserved) and NIDL bytes; zero-terminated.
 */
export function encodeDescriptors(
  uuid: Uint8Array | undefined,
  nguid: Uint8Array | undefined,
  eui64: bigint,
  csi: number,
): Uint8Array {
  const w = new ByteWriter(IDENTIFY_SIZE);
  const put = (type: number, id: Uint8Array): void => {
    w.u8(type);
    w.u8(id.length);
    w.zeros(2);
    w.bytes(id);
  };
  if (uuid !== undefined) put(Nidt.UUID, uuid);
  if (nguid !== undefined) put(Nidt.NGUID, nguid);
  if (eui64 !== 0n) {
    const e = new ByteWriter(8);
    e.u64be(eui64);
    put(Nidt.EUI64, e.buf);
  }
  put(Nidt.CSI, Uint8Array.of(csi));
  return w.buf;
}
