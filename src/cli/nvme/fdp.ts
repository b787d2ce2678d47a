// `nvmemu nvme fdp <command>`: nvme-cli's fdp plugin (configs, usage, stats, events, status,
// update, set-events) over NVMe/TCP, with its option names and its text output (docs/fdp.md).
// nvme-cli 2.3 has the plugin with these names; its newer releases print the same lines.
//
// Short options nvme-cli gives that nvmemu uses for the target keep their target meaning:
// the namespace is `--namespace-id` (-n is --nqn), `--save` has no short form (-s is the port),
// nor has `--event-types` (-t is --transport).

import type { CliIo } from '../io.js';
import { getLogPageInit, NvmeStatusError } from '../../nvme-tcp/host/index.js';
import type { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU32le, readU64le, writeU16le } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { toJson } from './fields.js';
import { nsidOf, num, numList, outputFormat, UsageError, withController } from './options.js';
import type { Values } from './options.js';

const EVENT_NAMES = new Map<number, string>([
  [0x00, 'Reclaim Unit Not Fully Written'],
  [0x01, 'Reclaim Unit Active Time Limit Exceeded'],
  [0x02, 'Controller Level Reset Modified Reclaim Unit Handles'],
  [0x03, 'Invalid Placement Identifier'],
  [0x80, 'Media Reallocated'],
  [0x81, 'Implicitly Modified Reclaim Unit Handle'],
]);
const RUHA = ['Unused', 'Host Specified', 'Controller Specified'];

/** Output of a decoded log in the chosen format (raw: the bytes as read). */
function emit(
  v: Values,
  io: CliIo,
  raw: Uint8Array,
  json: () => unknown,
  text: () => string,
): number {
  if (v['raw-binary'] === true || outputFormat(v) === 'binary') {
    io.out(Buffer.from(raw).toString('latin1'));
  } else if (outputFormat(v) === 'json') io.out(toJson(json()));
  else io.out(text());
  return 0;
}

/** An endurance-group log: header first for its length, then the whole page. */
async function egLog(
  c: NvmeTcpController,
  lid: number,
  egid: number,
  lsp = 0,
  len?: number,
): Promise<Uint8Array> {
  const read = (n: number): Promise<Uint8Array> =>
    c
      .adminOk(
        `Get Log Page ${lid.toString(16)}h`,
        { ...getLogPageInit(lid, n, 0, { nsid: 0xffffffff, lsp, lsi: egid }) },
        { readLength: n },
      )
      .then((r) => r.data);
  if (len !== undefined) return read(len);
  const head = await read(8);
  return read(readU32le(head, 4));
}

const egOpt = {
  'endgrp-id': { type: 'string', short: 'e' },
  'raw-binary': { type: 'boolean', short: 'r' },
} as const;

function configs(buf: Uint8Array): {
  fdpa: number;
  vss: number;
  nrg: number;
  nruh: number;
  maxpids: number;
  nnss: number;
  runs: bigint;
  erutl: number;
  ruhs: number[];
}[] {
  const n = readU16le(buf, 0) + 1;
  const out = [];
  let at = 16;
  for (let i = 0; i < n && at + 64 <= buf.length; i++) {
    const size = readU16le(buf, at);
    const nruh = readU16le(buf, at + 8);
    out.push({
      fdpa: buf[at + 2]!,
      vss: buf[at + 3]!,
      nrg: readU32le(buf, at + 4),
      nruh,
      maxpids: readU16le(buf, at + 10),
      nnss: readU32le(buf, at + 12),
      runs: readU64le(buf, at + 16),
      erutl: readU32le(buf, at + 24),
      ruhs: Array.from(
        { length: Math.min(nruh, (size - 64) / 4) },
        (_, j) => buf[at + 64 + 4 * j]!,
      ),
    });
    at += size;
  }
  return out;
}

export const FDP_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'fdp configs',
    options: { ...egOpt, 'human-readable': { type: 'boolean', short: 'H' } },
    shortS: true,
    run: (v, io) =>
      withController(v, 0, async (c) => {
        const buf = await egLog(c, 0x20, num(v, 'endgrp-id', 1));
        const list = configs(buf);
        return emit(
          v,
          io,
          buf,
          () => ({ n: list.length, configs: list }),
          () =>
            list
              .map((d) => {
                let s = `FDP Attributes: 0x${d.fdpa.toString(16)}\n`;
                if (v['human-readable'] === true) {
                  s += `  [3:0] : ${d.fdpa & 0xf}\tReclaim Group Identifier Format\n`;
                  s += `  [4:4] : ${(d.fdpa >> 4) & 1}\tFDP Volatile Write Cache\n`;
                  s += `  [7:7] : ${d.fdpa >> 7}\tFDP Configuration Valid\n`;
                }
                s += `Vendor Specific Size: ${d.vss}\nNumber of Reclaim Groups: ${d.nrg}\n`;
                s += `Number of Reclaim Unit Handles: ${d.nruh}\nNumber of Namespaces Supported: ${d.nnss}\n`;
                s += `Reclaim Unit Nominal Size: ${d.runs}\nEstimated Reclaim Unit Time Limit: ${d.erutl}\n`;
                s += 'Reclaim Unit Handle List:\n';
                d.ruhs.forEach(
                  (t, j) =>
                    (s += `  [${j}]: ${t === 1 ? 'Initially Isolated' : 'Persistently Isolated'}\n`),
                );
                return s;
              })
              .join(''),
        );
      }),
  },
  {
    name: 'fdp usage',
    options: egOpt,
    shortS: true,
    run: (v, io) =>
      withController(v, 0, async (c) => {
        const head = await egLog(c, 0x21, num(v, 'endgrp-id', 1), 0, 8);
        const n = readU16le(head, 0);
        const buf = await egLog(c, 0x21, num(v, 'endgrp-id', 1), 0, 8 + 8 * n);
        const ruha = Array.from({ length: n }, (_, i) => buf[8 + 8 * i]!);
        return emit(
          v,
          io,
          buf,
          () => ({ nruh: n, ruhus: ruha.map((a) => ({ ruha: a })) }),
          () =>
            ruha
              .map(
                (a, i) =>
                  `Reclaim Unit Handle ${i} Attributes: 0x${a.toString(16)} (${RUHA[a] ?? 'Unknown'})\n`,
              )
              .join(''),
        );
      }),
  },
  {
    name: 'fdp stats',
    options: egOpt,
    shortS: true,
    run: (v, io) =>
      withController(v, 0, async (c) => {
        const buf = await egLog(c, 0x22, num(v, 'endgrp-id', 1), 0, 64);
        const u128 = (o: number): bigint => (readU64le(buf, o + 8) << 64n) | readU64le(buf, o);
        const [hbmw, mbmw, mbe] = [u128(0), u128(16), u128(32)];
        return emit(
          v,
          io,
          buf,
          () => ({ hbmw, mbmw, mbe }),
          () =>
            `Host Bytes with Metadata Written (HBMW): ${hbmw}\nMedia Bytes with Metadata Written (MBMW): ${mbmw}\nMedia Bytes Erased (MBE): ${mbe}\n`,
        );
      }),
  },
  {
    name: 'fdp events',
    options: { ...egOpt, 'host-events': { type: 'boolean', short: 'E' } },
    shortS: true,
    run: (v, io) =>
      withController(v, 0, async (c) => {
        const buf = await egLog(
          c,
          0x23,
          num(v, 'endgrp-id', 1),
          v['host-events'] === true ? 1 : 0,
          64 + 64 * 63,
        );
        const n = readU32le(buf, 0);
        const events = Array.from({ length: n }, (_, i) => {
          const at = 64 + 64 * i;
          const flags = buf[at + 1]!;
          return {
            type: buf[at]!,
            flags,
            pid: readU16le(buf, at + 2),
            timestamp: readU64le(buf, at + 4) & 0xffff_ffff_ffffn,
            nsid: readU32le(buf, at + 12),
            rgid: readU16le(buf, at + 32),
            ruhid: buf[at + 34]!,
          };
        });
        return emit(
          v,
          io,
          buf,
          () => ({ n, events }),
          () =>
            events
              .map((e, i) => {
                const when = new Date(Number(e.timestamp)).toString();
                let s = `Event[${i}]\n  Event Type: 0x${e.type.toString(16)} (${EVENT_NAMES.get(e.type) ?? 'Reserved'})\n`;
                s += `  Event Timestamp: ${e.timestamp} (${when})\n`;
                if ((e.flags & 1) !== 0)
                  s += `  Placement Identifier (PID): 0x${e.pid.toString(16)}\n`;
                if ((e.flags & 2) !== 0) s += `  Namespace Identifier (NSID): ${e.nsid}\n`;
                // nvmemu always fills the location (reclaim group, handle).
                s += `  Reclaim Group Identifier: ${e.rgid}\n  Reclaim Unit Handle Identifier ${e.ruhid}\n\n`;
                return s;
              })
              .join(''),
        );
      }),
  },
  {
    name: 'fdp status',
    options: { 'raw-binary': { type: 'boolean', short: 'r' } },
    shortS: true,
    run: (v, io) =>
      withController(v, 1, async (c) => {
        const nsid = nsidOf(v, 1);
        const recv = async (len: number): Promise<Uint8Array> => {
          const r = await c.ioCommand(
            { opcode: IoOpc.IO_MGMT_RECV, nsid, cdw10: 1, cdw11: len / 4 - 1 },
            { readLength: len },
          );
          if (r.status !== 0) throw new NvmeStatusError('fdp status', r.status);
          return r.data;
        };
        const n = readU16le(await recv(16), 14);
        const buf = await recv(16 + 32 * n);
        const list = Array.from({ length: n }, (_, i) => ({
          pid: readU16le(buf, 16 + 32 * i),
          ruhid: readU16le(buf, 18 + 32 * i),
          earutr: readU32le(buf, 20 + 32 * i),
          ruamw: readU64le(buf, 24 + 32 * i),
        }));
        return emit(
          v,
          io,
          buf,
          () => ({ nruhsd: n, ruhss: list }),
          () =>
            list
              .map(
                (d) =>
                  `Placement Identifier ${d.pid}; Reclaim Unit Handle Identifier ${d.ruhid}\n` +
                  `  Estimated Active Reclaim Unit Time Remaining (EARUTR): ${d.earutr}\n` +
                  `  Reclaim Unit Available Media Writes (RUAMW): ${d.ruamw}\n\n`,
              )
              .join(''),
        );
      }),
  },
  {
    name: 'fdp update',
    options: { pids: { type: 'string', short: 'p' } },
    shortS: true,
    run: (v, io) =>
      withController(v, 1, async (c) => {
        const pids = numList(v, 'pids');
        if (pids.length === 0)
          throw new UsageError('--pids (-p) lists at least one placement identifier');
        const buf = new Uint8Array(2 * pids.length);
        pids.forEach((p, i) => writeU16le(buf, 2 * i, p));
        const r = await c.ioCommand(
          { opcode: IoOpc.IO_MGMT_SEND, nsid: nsidOf(v, 1), cdw10: 1 | ((pids.length - 1) << 16) },
          { write: buf },
        );
        if (r.status !== 0) throw new NvmeStatusError('fdp update', r.status);
        io.out('update: Success\n');
        return 0;
      }),
  },
  {
    name: 'fdp set-events',
    options: {
      'placement-handle': { type: 'string', short: 'p' },
      'event-types': { type: 'string' },
      enable: { type: 'boolean', short: 'e' },
      save: { type: 'boolean' },
    },
    shortS: true,
    run: (v, io) =>
      withController(v, 0, async (c) => {
        const types = numList(v, 'event-types');
        if (types.length === 0) throw new UsageError('--event-types lists at least one event type');
        const ph = num(v, 'placement-handle', 0);
        const r = await c.admin.submit(
          {
            opcode: AdminOpc.SET_FEATURES,
            nsid: nsidOf(v, 1),
            cdw10: 0x1e | (v.save === true ? 1 << 31 : 0),
            cdw11: ph | (types.length << 16),
            cdw12: v.enable === true ? 1 : 0,
          },
          { write: Uint8Array.from(types) },
        );
        if (r.status !== 0) throw new NvmeStatusError('set-events', r.status);
        io.out('set-events: Success\n');
        return 0;
      }),
  },
];
