// Admin-side `nvmemu nvme` commands with nvme-cli's names, options and JSON field names:
// discover, list, id-ctrl, id-ns, ns-descs, list-ns, list-ctrl, get-log, smart-log, error-log,
// fw-log, effects-log, get-feature, set-feature, format, attach-ns, detach-ns.

import { readFileSync } from 'node:fs';
import type { CliIo } from '../io.js';
import { discover, getLogPageInit, NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { adrfamName, subtypeName, treqName, trtypeName } from '../../nvme-tcp/discovery.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU32le, readU8, writeU16le } from '../../util/bytes.js';
import { idCtrlText, idNsText, smartText } from './human.js';
import {
  ERROR_ENTRY,
  decodeSmart,
  decode,
  decodeIdCtrl,
  decodeIdNs,
  textLines,
  toJson,
} from './fields.js';
import {
  connectOptions,
  num,
  numList,
  nsidOf,
  outputFormat,
  str,
  withController,
} from './options.js';
import type { Values } from './options.js';
import type { OptionTable } from '../options.js';
import { withElapsed } from '../progress.js';

/** A command's implementation; its summary is in catalogue.ts (help needs it unloaded). */
export interface NvmeSubcommand {
  readonly name: string;
  /** Extra options beyond the target options. */
  readonly options: OptionTable;
  /** Whether -s means the port (true) or --start-block (false). */
  readonly shortS: boolean;
  run(v: Values, io: CliIo): Promise<number>;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

export function emit(
  v: Values,
  io: CliIo,
  json: unknown,
  text: () => string,
  raw?: Uint8Array,
): void {
  const f = outputFormat(v);
  if (f === 'json') io.out(toJson(json));
  else if (f === 'binary' && raw !== undefined) io.out(Buffer.from(raw).toString('latin1'));
  else io.out(text());
}

export async function identify(
  c: NvmeTcpController,
  cns: number,
  nsid = 0,
  cntid = 0,
): Promise<Uint8Array> {
  const r = await c.adminOk(
    `Identify CNS ${hex(cns)}`,
    {
      opcode: AdminOpc.IDENTIFY,
      nsid,
      cdw10: cns | (cntid << 16),
    },
    { readLength: 4096 },
  );
  return r.data;
}

async function getLog(
  c: NvmeTcpController,
  lid: number,
  len: number,
  nsid = 0xffffffff,
  extra: { lpo?: number; lsp?: number; rae?: boolean; csi?: number } = {},
): Promise<Uint8Array> {
  const r = await c.adminOk(
    `Get Log Page ${hex(lid)}`,
    getLogPageInit(lid, len, extra.lpo ?? 0, { nsid, ...extra }),
    {
      readLength: len,
    },
  );
  return r.data;
}

function hexdump(b: Uint8Array): string {
  let s = '';
  for (let off = 0; off < b.length; off += 16) {
    const row = Array.from(b.subarray(off, off + 16), (x) => x.toString(16).padStart(2, '0')).join(
      ' ',
    );
    s += `${off.toString(16).padStart(4, '0')}: ${row}\n`;
  }
  return s;
}

const none = {};

/** nvme-cli's `-H, --human-readable`. */
const HUMAN = { type: 'boolean', short: 'H', description: 'decode the fields' } as const;

export const ADMIN_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'discover',
    options: none,
    shortS: true,
    async run(v, io) {
      const o = connectOptions(v, { discovery: true });
      const log = await discover(o);
      const records = log.entries.map((e) => ({
        trtype: trtypeName(e.trtype),
        adrfam: adrfamName(e.adrfam),
        subtype: subtypeName(e.subtype),
        treq: treqName(e.treq),
        portid: e.portid,
        trsvcid: e.trsvcid,
        subnqn: e.subnqn,
        traddr: e.traddr,
        eflags: e.eflags === 0 ? 'none' : hex(e.eflags),
        // nvme-cli's names of the TCP TSAS SECTYPE (0 none, 1 TLS 1.2, 2 TLS 1.3).
        sectype: ['none', 'tls', 'tls13'][e.sectype] ?? String(e.sectype),
      }));
      emit(v, io, { genctr: log.genctr, records }, () => {
        let s = `\nDiscovery Log Number of Records ${log.numrec}, Generation counter ${log.genctr}\n`;
        records.forEach((r, i) => {
          s += `=====Discovery Log Entry ${i}======\n`;
          for (const [k, val] of Object.entries(r)) s += `${(k + ':').padEnd(9)}${String(val)}\n`;
        });
        return s;
      });
      return 0;
    },
  },
  {
    name: 'id-ctrl',
    options: { 'human-readable': HUMAN },
    shortS: true,
    async run(v, io) {
      const id = await withController(v, 0, (c) => Promise.resolve(c.identify));
      const obj = decodeIdCtrl(id);
      emit(v, io, obj, () => idCtrlText(obj, v['human-readable'] === true), id);
      return 0;
    },
  },
  {
    name: 'id-ns',
    options: { 'human-readable': HUMAN },
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const id = await withController(v, 0, (c) => identify(c, 0x00, nsid));
      const obj = decodeIdNs(id);
      emit(v, io, obj, () => idNsText(id, obj, nsid, v['human-readable'] === true), id);
      return 0;
    },
  },
  {
    name: 'ns-descs',
    options: none,
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const d = await withController(v, 0, (c) => identify(c, 0x03, nsid));
      const obj: Record<string, string | number> = {};
      const names: Record<number, string> = { 1: 'eui64', 2: 'nguid', 3: 'uuid', 4: 'csi' };
      for (let off = 0; off + 4 <= d.length;) {
        const nidt = readU8(d, off);
        const nidl = readU8(d, off + 1);
        if (nidl === 0) break;
        const val = d.subarray(off + 4, off + 4 + nidl);
        const name = names[nidt] ?? `type${nidt}`;
        obj[name] = nidt === 4 ? readU8(val, 0) : Buffer.from(val).toString('hex');
        off += 4 + nidl;
      }
      emit(
        v,
        io,
        obj,
        () =>
          `NVME Namespace Identification Descriptors NS ${nsid}:\n` +
          Object.entries(obj)
            .map(([k, x]) => `${k.padEnd(6)}: ${String(x)}\n`)
            .join(''),
        d,
      );
      return 0;
    },
  },
  {
    name: 'list-ns',
    options: { all: { type: 'boolean' } },
    shortS: true,
    async run(v, io) {
      const cns = v.all === true ? 0x10 : 0x02;
      const start = nsidOf(v, 0);
      const d = await withController(v, 0, (c) => identify(c, cns, start));
      const ids: number[] = [];
      for (let i = 0; i < 1024 && readU32le(d, 4 * i) !== 0; i++) ids.push(readU32le(d, 4 * i));
      emit(v, io, { nsid_list: ids.map((nsid) => ({ nsid })) }, () =>
        ids.map((n, i) => `[${String(i).padStart(4)}]:${hex(n)}\n`).join(''),
      );
      return 0;
    },
  },
  {
    name: 'list-ctrl',
    options: { cntid: { type: 'string', short: 'c' } },
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, (c) =>
        identify(c, 0x13, nsidOf(v, 0), num(v, 'cntid', 0)),
      );
      const n = readU16le(d, 0);
      const ids = Array.from({ length: Math.min(n, 2047) }, (_, i) => readU16le(d, 2 + 2 * i));
      emit(
        v,
        io,
        { num_ctrl: n, ctrl_list: ids.map((ctrl_id) => ({ ctrl_id })) },
        () =>
          `num of ctrls present: ${n}\n` +
          ids.map((x, i) => `[${String(i).padStart(4)}]:${hex(x)}\n`).join(''),
      );
      return 0;
    },
  },
  {
    name: 'get-log',
    options: {
      'log-id': { type: 'string', short: 'i' },
      'log-len': { type: 'string', short: 'l' },
      lpo: { type: 'string', short: 'O' },
      lsp: { type: 'string', short: 'S' },
      rae: { type: 'boolean', short: 'r' },
      csi: { type: 'string', short: 'y' },
    },
    shortS: true,
    async run(v, io) {
      const lid = num(v, 'log-id');
      const len = num(v, 'log-len');
      const d = await withController(v, 0, (c) =>
        getLog(c, lid, len, nsidOf(v, 0xffffffff), {
          lpo: num(v, 'lpo', 0),
          lsp: num(v, 'lsp', 0),
          rae: v.rae === true,
          csi: num(v, 'csi', 0),
        }),
      );
      emit(
        v,
        io,
        { log_id: lid, data: Buffer.from(d).toString('hex') },
        () =>
          `Device:${str(v, 'nqn') ?? ''} log-id:${lid} namespace-id:${hex(nsidOf(v, 0xffffffff))}\n${hexdump(d)}`,
        d,
      );
      return 0;
    },
  },
  {
    name: 'smart-log',
    options: { 'human-readable': HUMAN },
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 0xffffffff);
      const human = v['human-readable'] === true;
      const d = await withController(v, 0, (c) => getLog(c, 0x02, 512, nsid));
      const obj = decodeSmart(d, human);
      emit(
        v,
        io,
        obj,
        () =>
          smartText(
            decodeSmart(d) as Record<string, number | bigint>,
            str(v, 'nqn') ?? '',
            nsid,
            human,
          ),
        d,
      );
      return 0;
    },
  },
  {
    name: 'error-log',
    options: { 'log-entries': { type: 'string', short: 'e' } },
    shortS: true,
    async run(v, io) {
      const n = num(v, 'log-entries', 64);
      const d = await withController(v, 0, (c) => getLog(c, 0x01, 64 * n, 0xffffffff));
      const errors = Array.from({ length: n }, (_, i) => decode(d.subarray(64 * i), ERROR_ENTRY));
      emit(
        v,
        io,
        { errors },
        () =>
          errors
            .map(
              (e, i) =>
                ` Entry[${String(i).padStart(2)}]   \n.................\n${textLines(e, new Set(['sqid', 'cmdid', 'status_field', 'parm_error_location', 'lba', 'nsid', 'vs', 'trtype', 'cs', 'trtype_spec_info']))}.................\n`,
            )
            .join(''),
        d,
      );
      return 0;
    },
  },
  {
    name: 'fw-log',
    options: none,
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, (c) => getLog(c, 0x03, 512, 0xffffffff));
      const obj: Record<string, string | number> = { afi: readU8(d, 0) };
      for (let i = 0; i < 7; i++) {
        const frs = Buffer.from(d.subarray(8 + 8 * i, 16 + 8 * i))
          .toString('latin1')
          .replace(/\0+$/, '');
        if (frs !== '') obj[`frs${i + 1}`] = frs;
      }
      emit(
        v,
        io,
        obj,
        () =>
          `Firmware Log for device:${str(v, 'nqn') ?? ''}\n` +
          Object.entries(obj)
            .map(([k, x]) => `${k.padEnd(5)}: ${typeof x === 'number' ? hex(x) : x}\n`)
            .join(''),
        d,
      );
      return 0;
    },
  },
  {
    name: 'effects-log',
    options: { csi: { type: 'string', short: 'c' } },
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, (c) =>
        getLog(c, 0x05, 4096, 0, { csi: num(v, 'csi', 0) }),
      );
      const acs: Record<string, number> = {};
      const iocs: Record<string, number> = {};
      for (let i = 0; i < 256; i++) {
        const a = readU32le(d, 4 * i);
        const b = readU32le(d, 1024 + 4 * i);
        if (a !== 0) acs[String(i)] = a;
        if (b !== 0) iocs[String(i)] = b;
      }
      emit(
        v,
        io,
        { acs, iocs },
        () => {
          let s = 'Admin Command Set\n';
          for (const [k, x] of Object.entries(acs))
            s += `ACS${k.padEnd(4)} [${hex(Number(k)).padEnd(5)}] ${hex(x).padStart(10)}\n`;
          s += '\nNVM Command Set\n';
          for (const [k, x] of Object.entries(iocs))
            s += `IOCS${k.padEnd(3)} [${hex(Number(k)).padEnd(5)}] ${hex(x).padStart(10)}\n`;
          return s;
        },
        d,
      );
      return 0;
    },
  },
  {
    name: 'get-feature',
    options: {
      'feature-id': { type: 'string', short: 'f' },
      sel: { type: 'string', short: 'S' },
      cdw11: { type: 'string', short: 'c' },
      'data-len': { type: 'string', short: 'l' },
    },
    shortS: true,
    async run(v, io) {
      const fid = num(v, 'feature-id');
      const len = num(v, 'data-len', 0);
      const r = await withController(v, 0, (c) =>
        c.adminOk(
          'Get Features',
          {
            opcode: AdminOpc.GET_FEATURES,
            nsid: nsidOf(v, 0),
            cdw10: fid | (num(v, 'sel', 0) << 8),
            cdw11: num(v, 'cdw11', 0),
          },
          { readLength: len },
        ),
      );
      emit(
        v,
        io,
        { feature_id: fid, value: r.dw0, data: Buffer.from(r.data).toString('hex') },
        () =>
          `get-feature:${hex(fid)}, Current value:${hex(r.dw0).replace('0x', '0x'.padEnd(2))}\n${r.data.length > 0 ? hexdump(r.data) : ''}`,
        r.data,
      );
      return 0;
    },
  },
  {
    name: 'set-feature',
    options: {
      'feature-id': { type: 'string', short: 'f' },
      value: { type: 'string', short: 'v' },
      cdw12: { type: 'string', short: 'c' },
      data: { type: 'string', short: 'd' },
      save: { type: 'boolean', short: 'S' },
    },
    shortS: true,
    async run(v, io) {
      const fid = num(v, 'feature-id');
      const file = str(v, 'data');
      const data = file !== undefined ? new Uint8Array(readFileSync(file)) : undefined;
      const r = await withController(v, 0, (c) =>
        c.adminOk(
          'Set Features',
          {
            opcode: AdminOpc.SET_FEATURES,
            nsid: nsidOf(v, 0),
            cdw10: fid | (v.save === true ? 1 << 31 : 0),
            cdw11: num(v, 'value', 0),
            cdw12: num(v, 'cdw12', 0),
          },
          data !== undefined ? { write: data } : {},
        ),
      );
      emit(
        v,
        io,
        { feature_id: fid, value: num(v, 'value', 0), result: r.dw0 },
        () =>
          `set-feature:${hex(fid)}, value:${hex(num(v, 'value', 0))}, cdw12:${hex(num(v, 'cdw12', 0))}, save:${v.save === true ? 1 : 0}\n`,
      );
      return 0;
    },
  },
  {
    name: 'format',
    options: {
      lbaf: { type: 'string', short: 'l' },
      ses: { type: 'string' },
      pi: { type: 'string', short: 'i' },
      pil: { type: 'string', short: 'p' },
      ms: { type: 'string', short: 'm' },
    },
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 1);
      const cdw10 =
        (num(v, 'lbaf', 0) & 0xf) |
        (num(v, 'ms', 0) << 4) |
        (num(v, 'pi', 0) << 5) |
        (num(v, 'pil', 0) << 8) |
        (num(v, 'ses', 0) << 9) |
        ((num(v, 'lbaf', 0) >> 4) << 12);
      // The target formats; all the host sees is the time it takes (on a terminal).
      await withController(v, 0, (c) =>
        withElapsed(`Formatting namespace ${hex(nsid)}...`, () =>
          c.adminOk('Format NVM', { opcode: AdminOpc.FORMAT_NVM, nsid, cdw10 }),
        ),
      );
      io.out(`Success formatting namespace:${hex(nsid)}\n`);
      return 0;
    },
  },
  ...(['attach-ns', 'detach-ns'] as const).map((name): NvmeSubcommand => ({
    name,
    options: { controllers: { type: 'string', short: 'c' } },
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v);
      const ids = numList(v, 'controllers');
      const list = new Uint8Array(4096);
      writeU16le(list, 0, ids.length);
      ids.forEach((id, i) => writeU16le(list, 2 + 2 * i, id));
      const sel = name === 'attach-ns' ? 0 : 1;
      await withController(v, 0, (c) =>
        c.adminOk(
          'Namespace Attachment',
          { opcode: AdminOpc.NS_ATTACHMENT, nsid, cdw10: sel },
          { write: list },
        ),
      );
      io.out(`${name}: Success, nsid:${nsid}\n`);
      return 0;
    },
  })),
];
