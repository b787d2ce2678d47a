// nvme-cli's multi-host commands against an NVMe/TCP target (docs/nvme-cli.md): ana-log,
// resv-register, resv-acquire, resv-release, resv-report, create-ns and delete-ns, with nvme-cli
// 2.3's option names, output and JSON (nvme.c, nvme-print.c; 2.13 prints the same, and picks
// the extended report itself when CTRATT bit 0 is set, as here). Short options that collide with
// the target options (-a, -t, -n; -s for create-ns, whose -s is --nsze) are long only: --racqa,
// --rrela, --rtype, --anagrp-id, --namespace-id, --trsvcid. The device name nvme-cli prints is
// the subsystem NQN.

import { NvmeStatusError } from '../../nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU32le, readU64le, writeU32le, writeU64le } from '../../util/bytes.js';
import { anaStateName } from '../../nvme/spec/ana.js';
import { emit, type NvmeSubcommand } from './admin-cmds.js';
import { identify } from './admin-cmds.js';
import { num, nsidOf, str, UsageError, withController, type Values } from './options.js';

const BIN: Record<string, bigint> = {
  '': 1n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
};

/** A 64-bit option (keys, sizes): decimal or 0x hex, a K/M/G/T suffix for sizes (nvme-cli's OPT_SUFFIX). */
export function big(v: Values, name: string, def: bigint): bigint {
  const s = str(v, name);
  if (s === undefined) return def;
  const m = /^(?:0x([0-9a-f]+)|(\d+)([KMGT]?))$/i.exec(s.trim());
  const n =
    m === null
      ? -1n
      : m[1] !== undefined
        ? BigInt(`0x${m[1]}`)
        : BigInt(m[2]!) * BIN[m[3]!.toUpperCase()]!;
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn)
    throw new UsageError(`invalid value '${s}' for --${name}`);
  return n;
}

/** A byte-sized option in [0, max]. */
function field(v: Values, name: string, def: number, max: number): number {
  const n = num(v, name, def);
  if (n > max) throw new UsageError(`invalid ${name}:${n}`);
  return n;
}

const keys = (a: bigint, b: bigint): Uint8Array => {
  const d = new Uint8Array(16);
  writeU64le(d, 0, a);
  writeU64le(d, 8, b);
  return d;
};

/** One reservation command on I/O queue 1 that must succeed. */
async function resvCommand(
  v: Values,
  what: string,
  opcode: number,
  cdw10: number,
  data: Uint8Array,
): Promise<void> {
  const nsid = nsidOf(v, 1);
  const r = await withController(v, 1, (c) =>
    c.ioCommand({ opcode, nsid, cdw10 }, { write: data }),
  );
  if (r.status !== 0) throw new NvmeStatusError(what, r.status, r.dw0, { opcode, queue: 'io' });
}

export interface AnaGroup {
  readonly grpid: number;
  readonly nnsids: number;
  readonly chgcnt: bigint;
  readonly state: string;
  readonly nsids: readonly number[];
}

/** The ANA log page (NVMe 2.0 Figures 227-228). */
export function decodeAnaLog(d: Uint8Array): { chgcnt: bigint; groups: AnaGroup[] } {
  const ngrps = readU16le(d, 8);
  const groups: AnaGroup[] = [];
  let off = 16;
  for (let i = 0; i < ngrps && off + 32 <= d.length; i++) {
    const nnsids = readU32le(d, off + 4);
    const nsids: number[] = [];
    for (let j = 0; j < nnsids && off + 36 + 4 * j <= d.length; j++) {
      nsids.push(readU32le(d, off + 32 + 4 * j));
    }
    groups.push({
      grpid: readU32le(d, off),
      nnsids,
      chgcnt: readU64le(d, off + 8),
      state: d[off + 16]! === 0 ? 'invalid state' : anaStateName(d[off + 16]! & 0xf),
      nsids,
    });
    off += 32 + 4 * nnsids;
  }
  return { chgcnt: readU64le(d, 0), groups };
}

function anaText(dev: string, log: ReturnType<typeof decodeAnaLog>): string {
  let s = `Asymmetric Namespace Access Log for NVMe device: ${dev}\n`;
  s += 'ANA LOG HEADER :-\n';
  s += `chgcnt\t:\t${log.chgcnt}\n`;
  s += `ngrps\t:\t${log.groups.length}\n`;
  s += 'ANA Log Desc :-\n';
  for (const g of log.groups) {
    s += `grpid\t:\t${g.grpid}\n`;
    s += `nnsids\t:\t${g.nnsids}\n`;
    s += `chgcnt\t:\t${g.chgcnt}\n`;
    s += `state\t:\t${g.state}\n`;
    for (const n of g.nsids) s += `\tnsid\t:\t${n}\n`;
    s += '\n';
  }
  return s;
}

export interface ResvStatus {
  readonly gen: number;
  readonly rtype: number;
  readonly regctl: number;
  readonly ptpls: number;
  readonly regctls: readonly { cntlid: number; rcsts: number; hostid: string; rkey: bigint }[];
}

/** The Reservation Status data structure (Figures 582-585), regular or extended. */
export function decodeResvStatus(d: Uint8Array, eds: boolean): ResvStatus {
  const regctl = readU16le(d, 5);
  const head = eds ? 64 : 24;
  const size = eds ? 64 : 24;
  const n = Math.min(regctl, Math.floor((d.length - head) / size));
  const regctls = Array.from({ length: Math.max(0, n) }, (_, i) => {
    const o = head + size * i;
    const hostid = eds
      ? Buffer.from(d.subarray(o + 16, o + 32)).toString('hex')
      : readU64le(d, o + 8).toString(16);
    return {
      cntlid: readU16le(d, o),
      rcsts: d[o + 2]!,
      hostid,
      rkey: readU64le(d, o + (eds ? 8 : 16)),
    };
  });
  return { gen: readU32le(d, 0), rtype: d[4]!, regctl, ptpls: d[9]!, regctls };
}

function resvText(s: ResvStatus, eds: boolean): string {
  let t = '\nNVME Reservation status:\n\n';
  t += `gen       : ${s.gen}\nrtype     : ${s.rtype}\nregctl    : ${s.regctl}\nptpls     : ${s.ptpls}\n`;
  s.regctls.forEach((r, i) => {
    const x = (n: number | bigint): string => n.toString(16);
    if (eds) {
      t += `regctlext[${i}] :\n  cntlid     : ${x(r.cntlid)}\n  rcsts      : ${x(r.rcsts)}\n`;
      t += `  rkey       : ${x(r.rkey)}\n  hostid     : ${r.hostid}\n`;
    } else {
      t += `regctl[${i}] :\n  cntlid  : ${x(r.cntlid)}\n  rcsts   : ${x(r.rcsts)}\n`;
      t += `  hostid  : ${r.hostid}\n  rkey    : ${x(r.rkey)}\n`;
    }
  });
  return `${t}\n`;
}

function resvJson(s: ResvStatus, eds: boolean): unknown {
  return {
    gen: s.gen,
    rtype: s.rtype,
    regctl: s.regctl,
    ptpls: s.ptpls,
    [eds ? 'regctlext' : 'regctls']: s.regctls.map((r) =>
      eds
        ? { cntlid: r.cntlid, rcsts: r.rcsts, rkey: r.rkey, hostid: r.hostid }
        : { cntlid: r.cntlid, rcsts: r.rcsts, hostid: BigInt(`0x${r.hostid}`), rkey: r.rkey },
    ),
  };
}

const IEKEY = { type: 'boolean', short: 'i', description: 'ignore existing key' } as const;

export const MULTIHOST_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'ana-log',
    options: { groups: { type: 'boolean', short: 'g', description: 'return ANA groups only' } },
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, async (c) => {
        // nvme-cli's length: the header and NANAGRPID descriptors (+ MNAN NSIDs without ANACAP
        // bit 6).
        const id = c.identify;
        let len = 16 + readU32le(id, 348) * 32;
        if ((id[343]! & 0x40) === 0) len += readU32le(id, 540) * 4;
        len = Math.max(16, Math.ceil(len / 4) * 4);
        const lsp = v.groups === true ? 1 : 0;
        const numd = len / 4 - 1;
        const r = await c.adminOk(
          'Get Log Page 0Ch',
          {
            opcode: AdminOpc.GET_LOG_PAGE,
            nsid: 0xffff_ffff,
            cdw10: 0x0c | (lsp << 8) | (1 << 15) | ((numd & 0xffff) << 16),
            cdw11: numd >>> 16,
          },
          { readLength: len },
        );
        return r.data;
      });
      const dev = str(v, 'nqn') ?? '';
      const log = decodeAnaLog(d);
      emit(
        v,
        io,
        {
          'Asymmetric Namespace Access Log for NVMe device': dev,
          chgcnt: log.chgcnt,
          ngrps: log.groups.length,
          'ANA DESC LIST ': log.groups.map((g) => ({
            grpid: g.grpid,
            nnsids: g.nnsids,
            chgcnt: g.chgcnt,
            state: g.state,
            NSIDS: g.nsids.map((nsid) => ({ nsid })),
          })),
        },
        () => anaText(dev, log),
        d,
      );
      return 0;
    },
  },
  {
    name: 'resv-register',
    options: {
      crkey: { type: 'string', short: 'c', description: 'current reservation key' },
      nrkey: { type: 'string', short: 'k', description: 'new reservation key' },
      rrega: { type: 'string', short: 'r', description: 'reservation registration action' },
      cptpl: { type: 'string', short: 'p', description: 'change persistence through power loss' },
      iekey: IEKEY,
    },
    shortS: true,
    async run(v, io) {
      const cptpl = num(v, 'cptpl', 0);
      if (cptpl > 3) throw new UsageError(`invalid cptpl:${cptpl}`);
      const rrega = field(v, 'rrega', 0, 7);
      const cdw10 = (rrega | (v.iekey === true ? 8 : 0) | (cptpl << 30)) >>> 0;
      const data = keys(big(v, 'crkey', 0n), big(v, 'nrkey', 0n));
      await resvCommand(v, 'Reservation Register', IoOpc.RESV_REGISTER, cdw10, data);
      io.out('NVME Reservation  success\n');
      return 0;
    },
  },
  {
    name: 'resv-acquire',
    options: {
      crkey: { type: 'string', short: 'c', description: 'current reservation key' },
      prkey: { type: 'string', short: 'p', description: 'pre-empt reservation key' },
      rtype: { type: 'string', short: 't', description: 'reservation type' },
      racqa: { type: 'string', short: 'a', description: 'reservation acquire action' },
      iekey: IEKEY,
    },
    shortS: true,
    async run(v, io) {
      const racqa = field(v, 'racqa', 0, 7);
      const cdw10 = racqa | (v.iekey === true ? 8 : 0) | (field(v, 'rtype', 0, 255) << 8);
      const data = keys(big(v, 'crkey', 0n), big(v, 'prkey', 0n));
      await resvCommand(v, 'Reservation Acquire', IoOpc.RESV_ACQUIRE, cdw10, data);
      io.out('NVME Reservation Acquire success\n');
      return 0;
    },
  },
  {
    name: 'resv-release',
    options: {
      crkey: { type: 'string', short: 'c', description: 'current reservation key' },
      rtype: { type: 'string', short: 't', description: 'reservation type' },
      rrela: { type: 'string', short: 'a', description: 'reservation release action' },
      iekey: IEKEY,
    },
    shortS: true,
    async run(v, io) {
      const rrela = field(v, 'rrela', 0, 7);
      const cdw10 = rrela | (v.iekey === true ? 8 : 0) | (field(v, 'rtype', 0, 255) << 8);
      const data = new Uint8Array(8);
      writeU64le(data, 0, big(v, 'crkey', 0n));
      await resvCommand(v, 'Reservation Release', IoOpc.RESV_RELEASE, cdw10, data);
      io.out('NVME Reservation Release success\n');
      return 0;
    },
  },
  {
    name: 'resv-report',
    options: {
      numd: { type: 'string', short: 'd', description: 'number of dwords to transfer' },
      eds: { type: 'boolean', short: 'e', description: 'request extended data structure' },
    },
    shortS: true,
    async run(v, io) {
      let numd = num(v, 'numd', 0);
      // nvme-cli's bounds: a page at most, the header at least.
      if (numd === 0 || numd >= 0x1000 >> 2) numd = (0x1000 >> 2) - 1;
      if (numd < 3) numd = 3;
      const nsid = nsidOf(v, 1);
      const { data, eds } = await withController(v, 1, async (c) => {
        // As nvme-cli 2.13: the extended structure when the controller has 128-bit host IDs.
        const eds = v.eds === true || (readU32le(c.identify, 96) & 1) === 1;
        const opcode = IoOpc.RESV_REPORT;
        const r = await c.ioCommand(
          { opcode, nsid, cdw10: numd, cdw11: eds ? 1 : 0 },
          { readLength: (numd + 1) * 4 },
        );
        if (r.status !== 0) {
          throw new NvmeStatusError('Reservation Report', r.status, r.dw0, { opcode, queue: 'io' });
        }
        return { data: r.data, eds };
      });
      const s = decodeResvStatus(data, eds);
      emit(v, io, resvJson(s, eds), () => resvText(s, eds), data);
      return 0;
    },
  },
  {
    name: 'create-ns',
    options: {
      nsze: { type: 'string', short: 's', description: 'size of ns (NSZE)' },
      ncap: { type: 'string', short: 'c', description: 'capacity of ns (NCAP)' },
      flbas: { type: 'string', short: 'f', description: 'Formatted LBA size (FLBAS)' },
      dps: { type: 'string', short: 'd', description: 'data protection settings (DPS)' },
      nmic: {
        type: 'string',
        short: 'm',
        description: 'multipath and sharing capabilities (NMIC)',
      },
      'anagrp-id': { type: 'string', short: 'a', description: 'ANA Group Identifier (ANAGRPID)' },
      'nvmset-id': { type: 'string', short: 'i', description: 'NVM Set Identifier (NVMSETID)' },
      'block-size': {
        type: 'string',
        short: 'b',
        description: 'target block size (instead of --flbas)',
      },
      csi: { type: 'string', short: 'y', description: 'command set identifier (CSI)' },
    },
    shortS: false,
    async run(v, io) {
      const bs = big(v, 'block-size', 0n);
      if (str(v, 'flbas') !== undefined && bs !== 0n) {
        throw new UsageError(
          'Invalid specification of both FLBAS and Block Size, please specify only one',
        );
      }
      const nsid = await withController(v, 0, async (c) => {
        let flbas = field(v, 'flbas', 0, 255);
        if (bs !== 0n) {
          if ((bs & (bs - 1n)) !== 0n) {
            throw new UsageError(
              `Invalid value for block size (${bs}). Block size must be a power of two`,
            );
          }
          // The formats every namespace may use: Identify Namespace of NSID FFFFFFFFh.
          const all = await identify(c, 0x00, 0xffff_ffff);
          const found = Array.from({ length: all[25]! + 1 }, (_, i) => i).find(
            (i) => 2n ** BigInt(all[128 + 4 * i + 2]!) === bs && readU16le(all, 128 + 4 * i) === 0,
          );
          if (found === undefined) {
            throw new UsageError(`FLBAS corresponding to block size ${bs} not found`);
          }
          flbas = found;
        }
        const d = new Uint8Array(4096);
        const nsze = big(v, 'nsze', 0n);
        writeU64le(d, 0, nsze);
        writeU64le(d, 8, big(v, 'ncap', 0n));
        d[26] = flbas;
        d[29] = field(v, 'dps', 0, 255);
        d[30] = field(v, 'nmic', 0, 255);
        writeU32le(d, 92, num(v, 'anagrp-id', 0));
        d[100] = num(v, 'nvmset-id', 0) & 0xff;
        d[101] = num(v, 'nvmset-id', 0) >>> 8;
        const r = await c.adminOk(
          'Namespace Management',
          { opcode: AdminOpc.NS_MANAGEMENT, cdw10: 0, cdw11: field(v, 'csi', 0, 255) << 24 },
          { write: d },
        );
        return r.dw0;
      });
      io.out(`create-ns: Success, created nsid:${nsid}\n`);
      return 0;
    },
  },
  {
    name: 'delete-ns',
    options: {},
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v);
      await withController(v, 0, (c) =>
        c.adminOk('Namespace Management', { opcode: AdminOpc.NS_MANAGEMENT, nsid, cdw10: 1 }),
      );
      io.out(`delete-ns: Success, deleted nsid:${nsid}\n`);
      return 0;
    },
  },
];
