// `nvmemu nvme list` (nvme-cli 2.3's `nvme list`): the namespaces of one subsystem (-n NQN), or
// of every NVM subsystem the target's discovery log names, in nvme-cli's columns.

import { discover, NvmeTcpController } from '../../nvme-tcp/host/index.js';
import type { ConnectOptions } from '../../nvme-tcp/host/index.js';
import { readU16le, readU32le, readU64le, readU8 } from '../../util/bytes.js';
import { emit, identify, type NvmeSubcommand } from './admin-cmds.js';
import { decodeIdCtrl } from './fields.js';
import { siSize } from './human.js';
import { connectOptions, str } from './options.js';

const none = {};

/** Discovery log SUBTYPE 2h: an NVM subsystem (not a discovery subsystem). */
const SUBTYPE_NVME = 2;

/** One row of `nvme list` (nvme-cli 2.3's JSON keys). */
interface ListEntry {
  NameSpace: number;
  DevicePath: string;
  Firmware: string;
  ModelNumber: string;
  SerialNumber: string;
  UsedBytes: bigint;
  MaximumLBA: bigint;
  PhysicalSize: bigint;
  SectorSize: number;
  /** Metadata bytes per block (the Format column). */
  MetadataSize: number;
}

/** The namespaces of one subsystem, through one association. */
async function listSubsystem(o: ConnectOptions): Promise<ListEntry[]> {
  const c = await NvmeTcpController.connect({ ...o, ioQueues: 0, kato: 0 });
  try {
    const idc = decodeIdCtrl(c.identify);
    const list = await identify(c, 0x02);
    const out: ListEntry[] = [];
    for (let i = 0; i < 1024; i++) {
      const nsid = readU32le(list, 4 * i);
      if (nsid === 0) break;
      const ns = await identify(c, 0x00, nsid);
      const flbas = readU8(ns, 26);
      const lbaf = (flbas & 0xf) | (((flbas >> 5) & 3) << 4);
      const ds = 2 ** readU8(ns, 130 + 4 * lbaf);
      out.push({
        NameSpace: nsid,
        DevicePath: `tcp://${o.address}:${o.port ?? 4420}/${o.subnqn}/${nsid}`,
        Firmware: String(idc.fr),
        ModelNumber: String(idc.mn),
        SerialNumber: String(idc.sn),
        UsedBytes: readU64le(ns, 16) * BigInt(ds),
        MaximumLBA: readU64le(ns, 0),
        PhysicalSize: readU64le(ns, 0) * BigInt(ds),
        SectorSize: ds,
        MetadataSize: readU16le(ns, 128 + 4 * lbaf),
      });
    }
    return out;
  } finally {
    await c.disconnect();
  }
}

/** nvme-cli's binary size suffix for the Format column: `512   B`, `  4 KiB`. */
function binSize(n: number): string {
  let v = n;
  let u = '';
  for (const next of ['Ki', 'Mi', 'Gi']) {
    if (v < 1024) break;
    v /= 1024;
    u = next;
  }
  return `${v.toFixed(0).padStart(3)} ${u.padStart(2)}B`;
}

/** `nvme list`'s table: nvme-cli 2.3's columns, each as wide as its widest cell. */
function listTable(devices: readonly ListEntry[]): string {
  const head = ['Node', 'Generic', 'SN', 'Model', 'Namespace', 'Usage', 'Format', 'FW Rev'];
  const min = [21, 21, 20, 40, 9, 26, 16, 8];
  const rows = devices.map((d) => [
    d.DevicePath,
    '-',
    d.SerialNumber,
    d.ModelNumber,
    String(d.NameSpace),
    `${siSize(d.UsedBytes).padStart(9)} / ${siSize(d.PhysicalSize).padStart(9)}`,
    `${binSize(d.SectorSize)} + ${String(d.MetadataSize).padStart(2)} B`,
    d.Firmware,
  ]);
  const width = head.map((h, i) => Math.max(min[i]!, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join(' ')
      .trimEnd() + '\n';
  return fmt(head) + fmt(width.map((w) => '-'.repeat(w))) + rows.map(fmt).join('');
}

export const LIST_COMMAND: NvmeSubcommand = {
  name: 'list',
  options: none,
  shortS: true,
  async run(v, io) {
    const devices: ListEntry[] = [];
    if (str(v, 'nqn') !== undefined) {
      devices.push(...(await listSubsystem(connectOptions(v))));
    } else {
      // Like `nvme discover`: -s/--trsvcid is the discovery port here (default 8009).
      const log = await discover(connectOptions(v, { discovery: true }));
      for (const e of log.entries) {
        if (e.subtype !== SUBTYPE_NVME) continue;
        const port = Number(e.trsvcid);
        const address = e.traddr === '0.0.0.0' || e.traddr === '::' ? str(v, 'traddr')! : e.traddr;
        devices.push(
          ...(await listSubsystem({
            ...connectOptions(v, { discovery: true }),
            address,
            port,
            subnqn: e.subnqn,
            discovery: false,
          })),
        );
      }
    }
    emit(v, io, { Devices: devices }, () => listTable(devices));
    return 0;
  },
};
