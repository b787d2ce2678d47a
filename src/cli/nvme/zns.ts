// `nvmemu nvme zns <command>`: nvme-cli's zns plugin (id-ctrl, id-ns, report-zones,
// open/close/finish/reset/offline-zone, set-zone-desc, zone-append, changed-zone-list) over
// NVMe/TCP, with nvme-cli's option names, messages and JSON fields (docs/zns.md).
//
// Short options that nvme-cli gives to zns options but nvmemu already uses for the target
// (-a --traddr, -n --nqn) keep their target meaning: select all is `--select-all`, the
// namespace `--namespace-id`. -s is the start LBA as in nvme-cli, so the port is --trsvcid.

import { readFileSync } from 'node:fs';
import type { CliIo } from '../io.js';
import { getLogPageInit, NvmeStatusError } from '../../nvme-tcp/host/index.js';
import type { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU64le, readU8 } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { nsidOf, num, outputFormat, str, UsageError, withController } from './options.js';
import type { Values } from './options.js';
import { decodeIdNsZoned, toJsonU64, ZoneReport } from './zns-format.js';

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
const CSI_ZONED = 2;

async function identify(
  c: NvmeTcpController,
  cns: number,
  nsid: number,
  csi = 0,
): Promise<Uint8Array> {
  const r = await c.adminOk(
    'Identify',
    { opcode: AdminOpc.IDENTIFY, nsid, cdw10: cns, cdw11: csi << 24 },
    { readLength: 4096 },
  );
  return r.data;
}

/** What report-zones and friends need from Identify: LBA size, zone size, extension bytes. */
async function nsInfo(
  c: NvmeTcpController,
  nsid: number,
): Promise<{ lbaSize: number; zsze: bigint; zdes: number; nlbaf: number; flbas: number }> {
  const ns = await identify(c, 0x00, nsid);
  const zns = await identify(c, 0x05, nsid, CSI_ZONED);
  const flbas = readU8(ns, 26);
  const idx = (flbas & 0xf) | (((flbas >> 5) & 3) << 4);
  return {
    lbaSize: 2 ** readU8(ns, 130 + 4 * idx),
    zsze: readU64le(zns, 2816 + 16 * idx),
    zdes: readU8(zns, 2816 + 16 * idx + 8) * 64,
    nlbaf: readU8(ns, 25),
    flbas: idx,
  };
}

/** Zone Management Receive (report zones) of `len` bytes from `slba`. */
async function reportZones(
  c: NvmeTcpController,
  nsid: number,
  slba: bigint,
  len: number,
  o: { extended: boolean; state: number; partial: boolean },
): Promise<Uint8Array> {
  const r = await c.ioCommand(
    {
      opcode: IoOpc.ZONE_MGMT_RECV,
      nsid,
      cdw10: Number(slba & 0xffff_ffffn),
      cdw11: Number(slba >> 32n),
      cdw12: len / 4 - 1,
      cdw13: (o.extended ? 1 : 0) | (o.state << 8) | (o.partial ? 1 << 16 : 0),
    },
    { readLength: len },
  );
  if (r.status !== 0) throw new NvmeStatusError('zns report-zones', r.status);
  return r.data;
}

function emit(v: Values, io: CliIo, json: unknown, text: () => string): void {
  io.out(outputFormat(v) === 'json' ? toJsonU64(json) : text());
}

const mgmtOpts = {
  'start-lba': { type: 'string', short: 's' },
  'select-all': { type: 'boolean' },
} as const;

/** open/close/finish/reset/offline-zone: Zone Management Send with one action. */
function sendAction(
  name: string,
  zsa: number,
  extra: NvmeSubcommand['options'] = {},
): NvmeSubcommand {
  return {
    name: `zns ${name}`,
    options: { ...mgmtOpts, ...extra },
    shortS: false,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const zslba = BigInt(num(v, 'start-lba', 0));
      const all = v['select-all'] === true;
      const zrwa = v.zrwa === true;
      const zcapc = await withController(v, 1, async (c) => {
        const r = await c.ioCommand({
          opcode: IoOpc.ZONE_MGMT_SEND,
          nsid,
          cdw10: Number(zslba & 0xffff_ffffn),
          cdw11: Number(zslba >> 32n),
          cdw13: zsa | (all ? 1 << 8 : 0) | (zrwa ? 1 << 9 : 0),
        });
        if (r.status !== 0) throw new NvmeStatusError(`zns ${name}`, r.status);
        // DW0 bit 0: Zone Capacity Changed (Finish with ZCAPC); nvme-cli 2.3 prints it.
        return r.dw0;
      });
      io.out(
        `zns-${name}: Success, action:${zsa} zone:${zslba.toString(16)} all:${all ? 1 : 0} zcapc:${zcapc} nsid:${nsid}\n`,
      );
      return 0;
    },
  };
}

export const ZNS_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'zns id-ctrl',
    options: {},
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, (c) => identify(c, 0x06, 0, CSI_ZONED));
      const zasl = readU8(d, 0);
      emit(v, io, { zasl }, () => `NVMe ZNS Identify Controller:\nzasl    : ${zasl}\n`);
      return 0;
    },
  },
  {
    name: 'zns id-ns',
    options: {},
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const [ns, d] = await withController(v, 0, async (c) => [
        await identify(c, 0x00, nsid),
        await identify(c, 0x05, nsid, CSI_ZONED),
      ]);
      const obj = decodeIdNsZoned(d, readU8(ns, 25));
      const inUse = readU8(ns, 26) & 0xf;
      emit(v, io, obj, () => {
        let s = 'ZNS Command Set Identify Namespace:\n';
        for (const [k, x] of Object.entries(obj)) {
          if (typeof x !== 'number') continue;
          const hexed = k === 'mar' || k === 'mor' || k === 'zoc' || k === 'ozcs';
          s += `${k.padEnd(8)}: ${hexed && x !== 0 ? hex(x) : String(x)}\n`;
        }
        obj.lbafe.forEach((l, i) => {
          s += `lbafe ${String(i).padStart(2)}: zsze:${hex(l.zsze)} zdes:${l.zdes}${i === inUse ? ' (in use)' : ''}\n`;
        });
        return s;
      });
      return 0;
    },
  },
  {
    name: 'zns report-zones',
    options: {
      'start-lba': { type: 'string', short: 's' },
      descs: { type: 'string', short: 'd' },
      state: { type: 'string', short: 'S' },
      extended: { type: 'boolean', short: 'e' },
      partial: { type: 'boolean', short: 'p' },
      'human-readable': { type: 'boolean', short: 'H' },
    },
    shortS: false,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const state = num(v, 'state', 0);
      const extended = v.extended === true;
      const partial = v.partial === true;
      const { total, zones } = await withController(v, 1, async (c) => {
        const info = await nsInfo(c, nsid);
        const ext = extended ? info.zdes : 0;
        const entry = 64 + ext;
        const o = { extended, state, partial };
        // nvme-cli counts the matching zones of the whole namespace (a report from LBA 0).
        const head = await reportZones(c, nsid, 0n, 64, { ...o, extended: false, partial: false });
        let slba = BigInt(num(v, 'start-lba', 0));
        const nr = Number(readU64le(head, 0));
        const want = Math.min(num(v, 'descs', nr), nr);
        // Chunks that fit MDTS, continuing after the last reported zone (as nvme-cli 2.x).
        const max = c.mdtsBytes === 0 ? 1 << 20 : c.mdtsBytes;
        const per = Math.max(1, Math.floor((Math.min(max, 1 << 20) - 64) / entry));
        const out = new ZoneReport(ext);
        while (out.count < want) {
          const n = Math.min(per, want - out.count);
          const d = await reportZones(c, nsid, slba, 64 + n * entry, { ...o, partial: true });
          if (out.add(d, n) === 0) break;
          slba = out.lastSlba + info.zsze;
        }
        return { total: nr, zones: out };
      });
      // The chunks go out as bytes where the output takes them (no string of 10 MB to make and
      // encode again).
      const write =
        io.outBytes !== undefined
          ? (b: Uint8Array): void => io.outBytes!(b)
          : (b: Uint8Array): void =>
              io.out(Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1'));
      if (outputFormat(v) === 'json') zones.writeJson(total, write);
      else zones.writeText(total, write);
      return 0;
    },
  },
  sendAction('close-zone', 0x01),
  sendAction('finish-zone', 0x02),
  sendAction('open-zone', 0x03, { zrwa: { type: 'boolean', short: 'r' } }),
  sendAction('reset-zone', 0x04),
  sendAction('offline-zone', 0x05),
  {
    name: 'zns set-zone-desc',
    options: {
      'start-lba': { type: 'string', short: 's' },
      data: { type: 'string', short: 'd' },
      zrwa: { type: 'boolean', short: 'r' },
    },
    shortS: false,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const zslba = BigInt(num(v, 'start-lba', 0));
      const file = str(v, 'data');
      await withController(v, 1, async (c) => {
        const { zdes } = await nsInfo(c, nsid);
        if (zdes === 0) throw new UsageError('zone format does not provide descriptor extension');
        const src = new Uint8Array(readFileSync(file ?? 0));
        const buf = new Uint8Array(zdes);
        buf.set(src.subarray(0, zdes));
        const r = await c.ioCommand(
          {
            opcode: IoOpc.ZONE_MGMT_SEND,
            nsid,
            cdw10: Number(zslba & 0xffff_ffffn),
            cdw11: Number(zslba >> 32n),
            cdw13: 0x10 | (v.zrwa === true ? 1 << 9 : 0),
          },
          { write: buf },
        );
        if (r.status !== 0) throw new NvmeStatusError('zns set-zone-desc', r.status);
      });
      io.out(`set-zone-desc: Success, zone:${zslba.toString(16)} nsid:${nsid}\n`);
      return 0;
    },
  },
  {
    name: 'zns zone-append',
    options: {
      zslba: { type: 'string', short: 's' },
      'data-size': { type: 'string', short: 'z' },
      data: { type: 'string', short: 'd' },
      'force-unit-access': { type: 'boolean', short: 'f' },
      'limited-retry': { type: 'boolean', short: 'l' },
      piremap: { type: 'boolean', short: 'P' },
    },
    shortS: false,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const zslba = BigInt(num(v, 'zslba', 0));
      const size = num(v, 'data-size', 0);
      if (size === 0) throw new UsageError('data size not provided');
      const file = str(v, 'data');
      const lba = await withController(v, 1, async (c) => {
        const { lbaSize } = await nsInfo(c, nsid);
        if (size % lbaSize !== 0) {
          throw new UsageError(`Data size:${hex(size)} not aligned to lba size:${hex(lbaSize)}`);
        }
        const buf = new Uint8Array(size);
        buf.set(new Uint8Array(readFileSync(file ?? 0)).subarray(0, size));
        const cdw12 =
          (size / lbaSize - 1) |
          (v['force-unit-access'] === true ? 1 << 30 : 0) |
          (v['limited-retry'] === true ? 1 << 31 : 0) |
          (v.piremap === true ? 1 << 25 : 0);
        const r = await c.ioCommand(
          {
            opcode: IoOpc.ZONE_APPEND,
            nsid,
            cdw10: Number(zslba & 0xffff_ffffn),
            cdw11: Number(zslba >> 32n),
            cdw12: cdw12 >>> 0,
          },
          { write: buf },
        );
        if (r.status !== 0) throw new NvmeStatusError('zns zone-append', r.status);
        return (BigInt(r.dw1) << 32n) | BigInt(r.dw0);
      });
      io.out(`Success appended data to LBA ${lba.toString(16)}\n`);
      return 0;
    },
  },
  {
    name: 'zns changed-zone-list',
    options: { rae: { type: 'boolean', short: 'r' } },
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const d = await withController(v, 0, async (c) => {
        const r = await c.adminOk(
          'Get Log Page 0xbf',
          getLogPageInit(0xbf, 4096, 0, { nsid, csi: CSI_ZONED, rae: v.rae === true }),
          { readLength: 4096 },
        );
        return r.data;
      });
      const nrzid = readU16le(d, 0);
      const obj: Record<string, number | bigint | string> = {};
      if (nrzid === 0xffff) {
        obj.result =
          'Too many zones have changed to fit into the log. Use report zones for changes.';
      } else {
        obj.nrzid = nrzid;
        for (let i = 0; i < Math.min(nrzid, 511); i++) {
          obj[`zid ${String(i).padStart(3, '0')}`] = readU64le(d, 8 + 8 * i);
        }
      }
      emit(v, io, obj, () => {
        let s = `NVMe Changed Zone List:\n`;
        for (const [k, x] of Object.entries(obj))
          s += `${k}: ${typeof x === 'string' ? x : hex(x)}\n`;
        return s;
      });
      return 0;
    },
  },
];
