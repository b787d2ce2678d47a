// nvme-cli's SR-IOV commands against an NVMe/TCP target (docs/sriov.md): virt-mgmt,
// list-secondary, primary-ctrl-caps, with nvme-cli 2.3's option names and output. nvme-cli's
// short options -a (action) and -n (nr) collide with the target options (-a traddr, -n nqn),
// so here they are long only: --act, --nr (and --cntlid/-c, --rt/-r as nvme-cli).

import type { CliIo } from '../io.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU32le } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { toJson } from './fields.js';
import { num, outputFormat, UsageError, withController, type Values } from './options.js';

const hex = (n: number): string => `0x${n.toString(16)}`;
const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function emit(v: Values, io: CliIo, json: unknown, text: () => string, raw: Uint8Array): void {
  const f = outputFormat(v);
  if (f === 'json') io.out(toJson(json));
  else if (f === 'binary') io.out(Buffer.from(raw).toString('latin1'));
  else io.out(text());
}

/** Primary Controller Capabilities (Figure 280) as nvme-cli names the fields. */
export function decodePrimaryCaps(d: Uint8Array): Record<string, number> {
  return {
    cntlid: readU16le(d, 0),
    portid: readU16le(d, 2),
    crt: d[4]!,
    vqfrt: readU32le(d, 32),
    vqrfa: readU32le(d, 36),
    vqrfap: readU16le(d, 40),
    vqprt: readU16le(d, 42),
    vqfrsm: readU16le(d, 44),
    vqgran: readU16le(d, 46),
    vifrt: readU32le(d, 64),
    virfa: readU32le(d, 68),
    virfap: readU16le(d, 72),
    viprt: readU16le(d, 74),
    vifrsm: readU16le(d, 76),
    vigran: readU16le(d, 78),
  };
}

export interface SecondaryEntry {
  readonly scid: number;
  readonly pcid: number;
  readonly scs: number;
  readonly vfn: number;
  readonly nvq: number;
  readonly nvi: number;
}

/** Secondary Controller List (Figure 281). */
export function decodeSecondaryList(d: Uint8Array, max = 127): SecondaryEntry[] {
  const n = Math.min(d[0]!, max, 127);
  return Array.from({ length: n }, (_, i) => {
    const o = 32 + 32 * i;
    return {
      scid: readU16le(d, o),
      pcid: readU16le(d, o + 2),
      scs: d[o + 4]!,
      vfn: readU16le(d, o + 8),
      nvq: readU16le(d, o + 10),
      nvi: readU16le(d, o + 12),
    };
  });
}

function primaryCapsText(c: Record<string, number>): string {
  const pad = (k: string): string => k.padEnd(10);
  return (
    'NVME Identify Primary Controller Capabilities:\n' +
    `${pad('cntlid')}: ${hex(c.cntlid!)}\n` +
    `${pad('portid')}: ${hex(c.portid!)}\n` +
    `${pad('crt')}: ${hex(c.crt!)}\n` +
    ['vqfrt', 'vqrfa', 'vqrfap', 'vqprt', 'vqfrsm', 'vqgran']
      .concat(['vifrt', 'virfa', 'virfap', 'viprt', 'vifrsm', 'vigran'])
      .map((k) => `${pad(k)}: ${c[k]!}\n`)
      .join('')
  );
}

function secondaryText(list: readonly SecondaryEntry[]): string {
  let s = 'Identify Secondary Controller List:\n';
  s += `   NUMID       : Number of Identifiers           : ${list.length}\n`;
  list.forEach((e, i) => {
    s += `   SCEntry[${String(i).padEnd(3)}]:\n`;
    s += '................\n';
    s += `     SCID      : Secondary Controller Identifier : ${hex4(e.scid)}\n`;
    s += `     PCID      : Primary Controller Identifier   : ${hex4(e.pcid)}\n`;
    s += `     SCS       : Secondary Controller State      : ${hex4(e.scs)} (${(e.scs & 1) === 1 ? 'Online' : 'Offline'})\n`;
    s += `     VFN       : Virtual Function Number         : ${hex4(e.vfn)}\n`;
    s += `     NVQ       : Num VQ Flex Resources Assigned  : ${hex4(e.nvq)}\n`;
    s += `     NVI       : Num VI Flex Resources Assigned  : ${hex4(e.nvi)}\n`;
  });
  return s;
}

export const VIRT_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'virt-mgmt',
    options: {
      cntlid: { type: 'string', short: 'c' },
      rt: { type: 'string', short: 'r' },
      act: { type: 'string' },
      nr: { type: 'string' },
    },
    shortS: true,
    async run(v, io) {
      const cntlid = num(v, 'cntlid', 0);
      const rt = num(v, 'rt', 0);
      const act = num(v, 'act', 0);
      const nr = num(v, 'nr', 0);
      if (cntlid > 0xffff || rt > 7 || act > 0xf || nr > 0xffff) {
        throw new UsageError('cntlid/rt/act/nr out of range');
      }
      const r = await withController(v, 0, (c) =>
        c.adminOk('Virtualization Management', {
          opcode: AdminOpc.VIRT_MNGMT,
          cdw10: (cntlid << 16) | (rt << 8) | act,
          cdw11: nr,
        }),
      );
      io.out(`success, Number of Controller Resources Modified (NRM):${hex(r.dw0)}\n`);
      return 0;
    },
  },
  {
    name: 'list-secondary',
    options: {
      cntid: { type: 'string', short: 'c' },
      'num-entries': { type: 'string', short: 'e' },
    },
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, async (c) => {
        const r = await c.adminOk(
          'Identify CNS 0x15',
          { opcode: AdminOpc.IDENTIFY, cdw10: 0x15 | (num(v, 'cntid', 0) << 16) },
          { readLength: 4096 },
        );
        return r.data;
      });
      const list = decodeSecondaryList(d, num(v, 'num-entries', 128));
      emit(
        v,
        io,
        {
          num: list.length,
          'secondary-controllers': list.map((e) => ({
            'secondary-controller-identifier': e.scid,
            'primary-controller-identifier': e.pcid,
            'secondary-controller-state': e.scs,
            'virtual-function-number': e.vfn,
            'num-virtual-queues': e.nvq,
            'num-virtual-interrupts': e.nvi,
          })),
        },
        () => secondaryText(list),
        d,
      );
      return 0;
    },
  },
  {
    name: 'primary-ctrl-caps',
    options: { cntlid: { type: 'string', short: 'c' } },
    shortS: true,
    async run(v, io) {
      const d = await withController(v, 0, async (c) => {
        const r = await c.adminOk(
          'Identify CNS 0x14',
          { opcode: AdminOpc.IDENTIFY, cdw10: 0x14 | (num(v, 'cntlid', 0) << 16) },
          { readLength: 4096 },
        );
        return r.data;
      });
      const caps = decodePrimaryCaps(d);
      emit(v, io, caps, () => primaryCapsText(caps), d);
      return 0;
    },
  },
];
