// Structure field tables for nvme-cli style output: one declaration per field (nvme-cli's JSON
// name, offset, type) drives both the `-o json` object and the `name : value` text
// (house rule 6). Offsets are NVMe Base Spec 2.0 Figures 275 (Identify Controller) and 280
// (Identify Namespace), 207 (SMART), 205 (Error Information), 209 (Firmware Slot).

import { asciiField, readU16le, readU32le, readU64le, readU8 } from '../../util/bytes.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'u128' | 'str' | 'hex' | 'ieee';
export type Field = readonly [name: string, offset: number, type: FieldType, len?: number];
export type Value = number | bigint | string;

export function readField(b: Uint8Array, [, off, type, len]: Field): Value {
  switch (type) {
    case 'u8':
      return readU8(b, off);
    case 'u16':
      return readU16le(b, off);
    case 'u32':
      return readU32le(b, off);
    case 'u64':
      return readU64le(b, off);
    case 'u128':
      return readU64le(b, off) | (readU64le(b, off + 8) << 64n);
    case 'str':
      return asciiField(b, off, len ?? 0);
    case 'hex':
      return Buffer.from(b.subarray(off, off + (len ?? 0))).toString('hex');
    case 'ieee':
      return (readU8(b, off + 2) << 16) | (readU8(b, off + 1) << 8) | readU8(b, off);
  }
}

export function decode(b: Uint8Array, fields: readonly Field[]): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const f of fields) out[f[0]] = readField(b, f);
  return out;
}

/** nvme-cli's text layout: name padded to 10, ` : `, hex for flag-like integers. */
export function textLines(obj: Record<string, unknown>, hexNames: ReadonlySet<string>): string {
  return Object.entries(obj)
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => {
      const s =
        typeof v === 'number' && hexNames.has(k)
          ? `0x${v.toString(16)}`
          : typeof v === 'bigint'
            ? v.toString()
            : String(v);
      return `${k.padEnd(9)} : ${s}\n`;
    })
    .join('');
}

/** JSON with bigints as numbers when safe (nvme-cli prints 128-bit counters as numbers). */
export function toJson(value: unknown): string {
  return (
    JSON.stringify(
      value,
      (_k, v: unknown) =>
        typeof v === 'bigint'
          ? v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v.toString()
          : v,
      2,
    ) + '\n'
  );
}

export const ID_CTRL: readonly Field[] = [
  ['vid', 0, 'u16'],
  ['ssvid', 2, 'u16'],
  ['sn', 4, 'str', 20],
  ['mn', 24, 'str', 40],
  ['fr', 64, 'str', 8],
  ['rab', 72, 'u8'],
  ['ieee', 73, 'ieee'],
  ['cmic', 76, 'u8'],
  ['mdts', 77, 'u8'],
  ['cntlid', 78, 'u16'],
  ['ver', 80, 'u32'],
  ['rtd3r', 84, 'u32'],
  ['rtd3e', 88, 'u32'],
  ['oaes', 92, 'u32'],
  ['ctratt', 96, 'u32'],
  ['rrls', 100, 'u16'],
  ['cntrltype', 111, 'u8'],
  ['fguid', 112, 'hex', 16],
  ['crdt1', 128, 'u16'],
  ['crdt2', 130, 'u16'],
  ['crdt3', 132, 'u16'],
  ['nvmsr', 253, 'u8'],
  ['vwci', 254, 'u8'],
  ['mec', 255, 'u8'],
  ['oacs', 256, 'u16'],
  ['acl', 258, 'u8'],
  ['aerl', 259, 'u8'],
  ['frmw', 260, 'u8'],
  ['lpa', 261, 'u8'],
  ['elpe', 262, 'u8'],
  ['npss', 263, 'u8'],
  ['avscc', 264, 'u8'],
  ['apsta', 265, 'u8'],
  ['wctemp', 266, 'u16'],
  ['cctemp', 268, 'u16'],
  ['mtfa', 270, 'u16'],
  ['hmpre', 272, 'u32'],
  ['hmmin', 276, 'u32'],
  ['tnvmcap', 280, 'u128'],
  ['unvmcap', 296, 'u128'],
  ['rpmbs', 312, 'u32'],
  ['edstt', 316, 'u16'],
  ['dsto', 318, 'u8'],
  ['fwug', 319, 'u8'],
  ['kas', 320, 'u16'],
  ['hctma', 322, 'u16'],
  ['mntmt', 324, 'u16'],
  ['mxtmt', 326, 'u16'],
  ['sanicap', 328, 'u32'],
  ['hmminds', 332, 'u32'],
  ['hmmaxd', 336, 'u16'],
  ['nsetidmax', 338, 'u16'],
  ['endgidmax', 340, 'u16'],
  ['anatt', 342, 'u8'],
  ['anacap', 343, 'u8'],
  ['anagrpmax', 344, 'u32'],
  ['nanagrpid', 348, 'u32'],
  ['pels', 352, 'u32'],
  ['domainid', 356, 'u16'],
  ['megcap', 368, 'u128'],
  ['sqes', 512, 'u8'],
  ['cqes', 513, 'u8'],
  ['maxcmd', 514, 'u16'],
  ['nn', 516, 'u32'],
  ['oncs', 520, 'u16'],
  ['fuses', 522, 'u16'],
  ['fna', 524, 'u8'],
  ['vwc', 525, 'u8'],
  ['awun', 526, 'u16'],
  ['awupf', 528, 'u16'],
  ['icsvscc', 530, 'u8'],
  ['nwpc', 531, 'u8'],
  ['acwu', 532, 'u16'],
  ['ocfs', 534, 'u16'],
  ['sgls', 536, 'u32'],
  ['mnan', 540, 'u32'],
  ['maxdna', 544, 'u128'],
  ['maxcna', 560, 'u32'],
  ['subnqn', 768, 'str', 256],
  ['ioccsz', 1792, 'u32'],
  ['iorcsz', 1796, 'u32'],
  ['icdoff', 1800, 'u16'],
  ['fcatt', 1802, 'u8'],
  ['msdbd', 1803, 'u8'],
  ['ofcs', 1804, 'u16'],
];

/** Fields nvme-cli prints in hex in its normal output. */
export const ID_CTRL_HEX = new Set([
  'vid',
  'ssvid',
  'ieee',
  'cmic',
  'ver',
  'oaes',
  'ctratt',
  'oacs',
  'frmw',
  'lpa',
  'avscc',
  'apsta',
  'sanicap',
  'sqes',
  'cqes',
  'oncs',
  'fuses',
  'fna',
  'vwc',
  'icsvscc',
  'nwpc',
  'ocfs',
  'sgls',
  'fcatt',
  'ofcs',
  'cntlid',
  'cntrltype',
  'anacap',
]);

const PSD: readonly Field[] = [
  ['max_power', 0, 'u16'],
  ['flags', 3, 'u8'],
  ['entry_lat', 4, 'u32'],
  ['exit_lat', 8, 'u32'],
  ['read_tput', 12, 'u8'],
  ['read_lat', 13, 'u8'],
  ['write_tput', 14, 'u8'],
  ['write_lat', 15, 'u8'],
  ['idle_power', 16, 'u16'],
  ['idle_scale', 18, 'u8'],
  ['active_power', 20, 'u16'],
  ['active_power_work', 22, 'u8'],
];

export function decodeIdCtrl(b: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = decode(b, ID_CTRL);
  const npss = readU8(b, 263);
  out.psds = Array.from({ length: npss + 1 }, (_, i) => decode(b.subarray(2048 + 32 * i), PSD));
  return out;
}

export const ID_NS: readonly Field[] = [
  ['nsze', 0, 'u64'],
  ['ncap', 8, 'u64'],
  ['nuse', 16, 'u64'],
  ['nsfeat', 24, 'u8'],
  ['nlbaf', 25, 'u8'],
  ['flbas', 26, 'u8'],
  ['mc', 27, 'u8'],
  ['dpc', 28, 'u8'],
  ['dps', 29, 'u8'],
  ['nmic', 30, 'u8'],
  ['rescap', 31, 'u8'],
  ['fpi', 32, 'u8'],
  ['dlfeat', 33, 'u8'],
  ['nawun', 34, 'u16'],
  ['nawupf', 36, 'u16'],
  ['nacwu', 38, 'u16'],
  ['nabsn', 40, 'u16'],
  ['nabo', 42, 'u16'],
  ['nabspf', 44, 'u16'],
  ['noiob', 46, 'u16'],
  ['nvmcap', 48, 'u128'],
  ['npwg', 64, 'u16'],
  ['npwa', 66, 'u16'],
  ['npdg', 68, 'u16'],
  ['npda', 70, 'u16'],
  ['nows', 72, 'u16'],
  ['mssrl', 74, 'u16'],
  ['mcl', 76, 'u32'],
  ['msrc', 80, 'u8'],
  ['anagrpid', 92, 'u32'],
  ['nsattr', 99, 'u8'],
  ['nvmsetid', 100, 'u16'],
  ['endgid', 102, 'u16'],
  ['nguid', 104, 'hex', 16],
  ['eui64', 120, 'hex', 8],
];

export function decodeIdNs(b: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = decode(b, ID_NS);
  const nlbaf = readU8(b, 25);
  out.lbafs = Array.from({ length: nlbaf + 1 }, (_, i) => ({
    ms: readU16le(b, 128 + 4 * i),
    ds: readU8(b, 130 + 4 * i),
    rp: readU8(b, 131 + 4 * i) & 3,
  }));
  return out;
}

/** SMART / Health Information (LID 02h), nvme-cli JSON names. */
export const SMART: readonly Field[] = [
  ['critical_warning', 0, 'u8'],
  ['temperature', 1, 'u16'],
  ['avail_spare', 3, 'u8'],
  ['spare_thresh', 4, 'u8'],
  ['percent_used', 5, 'u8'],
  ['endurance_grp_critical_warning_summary', 6, 'u8'],
  ['data_units_read', 32, 'u128'],
  ['data_units_written', 48, 'u128'],
  ['host_read_commands', 64, 'u128'],
  ['host_write_commands', 80, 'u128'],
  ['controller_busy_time', 96, 'u128'],
  ['power_cycles', 112, 'u128'],
  ['power_on_hours', 128, 'u128'],
  ['unsafe_shutdowns', 144, 'u128'],
  ['media_errors', 160, 'u128'],
  ['num_err_log_entries', 176, 'u128'],
  ['warning_temp_time', 192, 'u32'],
  ['critical_comp_time', 196, 'u32'],
];

/** The thermal management counters that follow the temperature sensors (offsets 216..231). */
const SMART_THM: readonly Field[] = [
  ['thm_temp1_trans_count', 216, 'u32'],
  ['thm_temp2_trans_count', 220, 'u32'],
  ['thm_temp1_total_time', 224, 'u32'],
  ['thm_temp2_total_time', 228, 'u32'],
];

/**
 * The SMART / Health log as nvme-cli 2.3 prints it in JSON (json_smart_log): the fields above,
 * `temperature_sensor_N` for each non-zero sensor (offset 200 + 2(N-1), Kelvin), then the
 * thermal management counters. With `human` (-H) the critical warning is an object of its bits.
 */
export function decodeSmart(b: Uint8Array, human = false): Record<string, unknown> {
  const out: Record<string, unknown> = decode(b, SMART);
  if (human) {
    const cw = readU8(b, 0);
    out.critical_warning = {
      value: cw,
      available_spare: cw & 1,
      temp_threshold: (cw >> 1) & 1,
      reliability_degraded: (cw >> 2) & 1,
      ro: (cw >> 3) & 1,
      vmbu_failed: (cw >> 4) & 1,
      pmr_ro: (cw >> 5) & 1,
    };
  }
  for (let i = 0; i < 8; i++) {
    const t = readU16le(b, 200 + 2 * i);
    if (t !== 0) out[`temperature_sensor_${i + 1}`] = t;
  }
  Object.assign(out, decode(b, SMART_THM));
  return out;
}

/** Error Information entry (64 bytes, LID 01h). */
export const ERROR_ENTRY: readonly Field[] = [
  ['error_count', 0, 'u64'],
  ['sqid', 8, 'u16'],
  ['cmdid', 10, 'u16'],
  ['status_field', 12, 'u16'],
  ['parm_error_location', 14, 'u16'],
  ['lba', 16, 'u64'],
  ['nsid', 24, 'u32'],
  ['vs', 28, 'u8'],
  ['trtype', 29, 'u8'],
  ['cs', 32, 'u64'],
  ['trtype_spec_info', 40, 'u16'],
];
