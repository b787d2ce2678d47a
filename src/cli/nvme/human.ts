// nvme-cli 2.3's normal-output layouts of Identify Controller, Identify Namespace and the
// SMART / Health log, and the bit-field decoding `-H` adds under a field. Field meanings are
// NVMe Base Spec 2.0 Figures 275 (Identify Controller), 280 (Identify Namespace) and 207
// (SMART); each decoder is a table of bit ranges (house rule 6). Decoded lines read
// `  [hi:lo] : 0xV\t<meaning>`; reserved ranges are shown only when non-zero.

import { readU16le, readU8 } from '../../util/bytes.js';
import { celsius, decodeBits, ID_CTRL_BITS, ID_NS_BITS, type Bits } from './human-bits.js';

/** A 128-bit counter as nvme-cli prints it: decimal with thousands separators. */
export function thousands(v: bigint | number): string {
  return BigInt(v)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

type Fmt = 'hex' | 'dec' | 'str' | 'u128';
type Row = readonly [name: string, fmt: Fmt];

function line(name: string, width: number, v: unknown, fmt: Fmt): string {
  let s: string;
  if (fmt === 'hex') s = `0x${(v as number | bigint).toString(16)}`;
  else if (fmt === 'u128') s = thousands(v as bigint);
  else s = String(v);
  return `${name.padEnd(width)}: ${s}\n`;
}

function render(
  obj: Readonly<Record<string, unknown>>,
  rows: readonly Row[],
  width: number,
  bits: Readonly<Record<string, readonly Bits[]>>,
  human: boolean,
): string {
  let s = '';
  for (const [name, fmt] of rows) {
    const v = obj[name];
    if (v === undefined) continue;
    s += line(name, width, v, fmt);
    const b = bits[name];
    if (human && b !== undefined && typeof v !== 'string') s += decodeBits(v as number, b);
  }
  return s;
}

const ID_CTRL_ROWS: readonly Row[] = [
  ['vid', 'hex'],
  ['ssvid', 'hex'],
  ['sn', 'str'],
  ['mn', 'str'],
  ['fr', 'str'],
  ['rab', 'dec'],
  ['ieee', 'str'],
  ['cmic', 'hex'],
  ['mdts', 'dec'],
  ['cntlid', 'hex'],
  ['ver', 'hex'],
  ['rtd3r', 'hex'],
  ['rtd3e', 'hex'],
  ['oaes', 'hex'],
  ['ctratt', 'hex'],
  ['rrls', 'hex'],
  ['cntrltype', 'dec'],
  ['fguid', 'str'],
  ['crdt1', 'dec'],
  ['crdt2', 'dec'],
  ['crdt3', 'dec'],
  ['nvmsr', 'dec'],
  ['vwci', 'dec'],
  ['mec', 'dec'],
  ['oacs', 'hex'],
  ['acl', 'dec'],
  ['aerl', 'dec'],
  ['frmw', 'hex'],
  ['lpa', 'hex'],
  ['elpe', 'dec'],
  ['npss', 'dec'],
  ['avscc', 'hex'],
  ['apsta', 'hex'],
  ['wctemp', 'dec'],
  ['cctemp', 'dec'],
  ['mtfa', 'dec'],
  ['hmpre', 'dec'],
  ['hmmin', 'dec'],
  ['tnvmcap', 'u128'],
  ['unvmcap', 'u128'],
  ['rpmbs', 'hex'],
  ['edstt', 'dec'],
  ['dsto', 'dec'],
  ['fwug', 'dec'],
  ['kas', 'dec'],
  ['hctma', 'hex'],
  ['mntmt', 'dec'],
  ['mxtmt', 'dec'],
  ['sanicap', 'hex'],
  ['hmminds', 'dec'],
  ['hmmaxd', 'dec'],
  ['nsetidmax', 'dec'],
  ['endgidmax', 'dec'],
  ['anatt', 'dec'],
  ['anacap', 'dec'],
  ['anagrpmax', 'dec'],
  ['nanagrpid', 'dec'],
  ['pels', 'dec'],
  ['domainid', 'dec'],
  ['megcap', 'u128'],
  ['sqes', 'hex'],
  ['cqes', 'hex'],
  ['maxcmd', 'dec'],
  ['nn', 'dec'],
  ['oncs', 'hex'],
  ['fuses', 'hex'],
  ['fna', 'hex'],
  ['vwc', 'hex'],
  ['awun', 'dec'],
  ['awupf', 'dec'],
  ['icsvscc', 'dec'],
  ['nwpc', 'dec'],
  ['acwu', 'dec'],
  ['ocfs', 'hex'],
  ['sgls', 'hex'],
  ['mnan', 'dec'],
  ['maxdna', 'u128'],
  ['maxcna', 'dec'],
  ['subnqn', 'str'],
  ['ioccsz', 'dec'],
  ['iorcsz', 'dec'],
  ['icdoff', 'dec'],
  ['fcatt', 'hex'],
  ['msdbd', 'dec'],
  ['ofcs', 'dec'],
];

/** `nvme id-ctrl` normal output (`human`: -H). `obj` is the decoded JSON object. */
export function idCtrlText(obj: Readonly<Record<string, unknown>>, human: boolean): string {
  const ieee = (obj.ieee as number).toString(16).padStart(6, '0');
  let s = 'NVME Identify Controller:\n';
  s += render({ ...obj, ieee }, ID_CTRL_ROWS, 10, ID_CTRL_BITS, human);
  const psds = (obj.psds ?? []) as Record<string, number>[];
  psds.forEach((p, i) => {
    const scale = (p.flags ?? 0) & 1 ? 10000 : 100;
    const mp = ((p.max_power ?? 0) / scale).toFixed(scale === 100 ? 2 : 4);
    const op = ((p.flags ?? 0) & 2) !== 0 ? 'non-operational' : 'operational';
    s += `ps ${String(i).padStart(4)} : mp:${mp}W ${op} enlat:${p.entry_lat ?? 0} exlat:${p.exit_lat ?? 0} rrt:${p.read_tput ?? 0} rrl:${p.read_lat ?? 0}\n`;
    s += `          rwt:${p.write_tput ?? 0} rwl:${p.write_lat ?? 0} idle_power:- active_power:-\n`;
  });
  return s;
}

const ID_NS_ROWS: readonly Row[] = [
  ['nsze', 'hex'],
  ['ncap', 'hex'],
  ['nuse', 'hex'],
  ['nsfeat', 'hex'],
  ['nlbaf', 'dec'],
  ['flbas', 'hex'],
  ['mc', 'hex'],
  ['dpc', 'hex'],
  ['dps', 'hex'],
  ['nmic', 'hex'],
  ['rescap', 'hex'],
  ['fpi', 'hex'],
  ['dlfeat', 'dec'],
  ['nawun', 'dec'],
  ['nawupf', 'dec'],
  ['nacwu', 'dec'],
  ['nabsn', 'dec'],
  ['nabo', 'dec'],
  ['nabspf', 'dec'],
  ['noiob', 'dec'],
  ['nvmcap', 'u128'],
];

const ID_NS_ROWS_IOOPT: readonly Row[] = [
  ['npwg', 'dec'],
  ['npwa', 'dec'],
  ['npdg', 'dec'],
  ['npda', 'dec'],
  ['nows', 'dec'],
];

const ID_NS_ROWS_TAIL: readonly Row[] = [
  ['mssrl', 'dec'],
  ['mcl', 'dec'],
  ['msrc', 'dec'],
  ['nulbaf', 'dec'],
  ['anagrpid', 'dec'],
  ['nsattr', 'dec'],
  ['nvmsetid', 'dec'],
  ['endgid', 'dec'],
  ['nguid', 'str'],
  ['eui64', 'str'],
];

const RP = ['Best', 'Better', 'Good', 'Degraded'];

/** `nvme id-ns` normal output (`human`: -H), from the raw 4096 bytes and the decoded object. */
export function idNsText(
  id: Uint8Array,
  obj: Readonly<Record<string, unknown>>,
  nsid: number,
  human: boolean,
): string {
  let s = `NVME Identify Namespace ${nsid}:\n`;
  s += render(obj, ID_NS_ROWS, 8, ID_NS_BITS, human);
  if ((readU8(id, 24) & 0x10) !== 0) s += render(obj, ID_NS_ROWS_IOOPT, 8, {}, false);
  s += render({ ...obj, nulbaf: readU8(id, 84) }, ID_NS_ROWS_TAIL, 8, {}, false);
  const flbas = readU8(id, 26);
  const inUse = (flbas & 0xf) | (((flbas >> 5) & 3) << 4);
  const nlbaf = readU8(id, 25) + readU8(id, 84);
  for (let i = 0; i <= nlbaf; i++) {
    const ms = readU16le(id, 128 + 4 * i);
    const ds = readU8(id, 130 + 4 * i);
    const rp = readU8(id, 131 + 4 * i) & 3;
    const used = i === inUse ? '(in use)' : '';
    s += human
      ? `LBA Format ${String(i).padStart(2)} : Metadata Size: ${String(ms).padEnd(3)} bytes - Data Size: ${String(2 ** ds).padEnd(2)} bytes - Relative Performance: 0x${rp.toString(16)} ${RP[rp]} ${used}\n`
      : `lbaf ${String(i).padStart(2)} : ms:${String(ms).padEnd(3)} lbads:${String(ds).padEnd(2)} rp:0x${rp.toString(16)} ${used}\n`;
  }
  return s;
}

/** nvme-cli's SI size: `%.2f <k|M|G|T|P>B` (powers of 1000). */
export function siSize(bytes: bigint | number): string {
  let v = Number(bytes);
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}B`;
}

/** `nvme smart-log` normal output (`human`: -H decodes the critical warning). */
export function smartText(
  obj: Readonly<Record<string, number | bigint>>,
  device: string,
  nsid: number,
  human: boolean,
): string {
  const n = (k: string): bigint => BigInt(obj[k] ?? 0);
  const cw = Number(n('critical_warning'));
  let s = `Smart Log for NVME device:${device} namespace-id:${nsid.toString(16)}\n`;
  s += `critical_warning\t\t\t: 0x${cw.toString(16)}\n`;
  if (human) {
    const bits = [
      'Available Spare[0]             ',
      'Temp. Threshold[1]             ',
      'NVM subsystem Reliability[2]   ',
      'Read-only[3]                   ',
      'Volatile mem. backup failed[4] ',
      'Persistent Mem. RO[5]          ',
    ];
    bits.forEach((label, i) => (s += `      ${label}: ${(cw >> i) & 1}\n`));
  }
  s += `temperature\t\t\t\t: ${celsius(Number(n('temperature')))}\n`;
  s += `available_spare\t\t\t\t: ${n('avail_spare')}%\n`;
  s += `available_spare_threshold\t\t: ${n('spare_thresh')}%\n`;
  s += `percentage_used\t\t\t\t: ${n('percent_used')}%\n`;
  s += `endurance group critical warning summary: 0x${n('endurance_grp_critical_warning_summary').toString(16)}\n`;
  s += `Data Units Read\t\t\t\t: ${thousands(n('data_units_read'))} (${siSize(n('data_units_read') * 512000n)})\n`;
  s += `Data Units Written\t\t\t: ${thousands(n('data_units_written'))} (${siSize(n('data_units_written') * 512000n)})\n`;
  const rows: [string, string][] = [
    ['host_read_commands', 'host_read_commands\t\t\t'],
    ['host_write_commands', 'host_write_commands\t\t\t'],
    ['controller_busy_time', 'controller_busy_time\t\t\t'],
    ['power_cycles', 'power_cycles\t\t\t\t'],
    ['power_on_hours', 'power_on_hours\t\t\t\t'],
    ['unsafe_shutdowns', 'unsafe_shutdowns\t\t\t'],
    ['media_errors', 'media_errors\t\t\t\t'],
    ['num_err_log_entries', 'num_err_log_entries\t\t\t'],
  ];
  for (const [k, label] of rows) s += `${label}: ${thousands(n(k))}\n`;
  s += `Warning Temperature Time\t\t: ${n('warning_temp_time')}\n`;
  s += `Critical Composite Temperature Time\t: ${n('critical_comp_time')}\n`;
  for (let i = 1; i <= 8; i++) {
    const t = obj[`temperature_sensor_${i}`];
    if (t !== undefined) s += `Temperature Sensor ${i}           : ${celsius(Number(t))}\n`;
  }
  s += `Thermal Management T1 Trans Count\t: ${n('thm_temp1_trans_count')}\n`;
  s += `Thermal Management T2 Trans Count\t: ${n('thm_temp2_trans_count')}\n`;
  s += `Thermal Management T1 Total Time\t: ${n('thm_temp1_total_time')}\n`;
  s += `Thermal Management T2 Total Time\t: ${n('thm_temp2_total_time')}\n`;
  return s;
}
