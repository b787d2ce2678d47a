// I/O `nvmemu nvme` commands (nvme-cli names and options): read, write, compare, write-zeroes,
// write-uncor, verify, dsm, flush. As in nvme-cli, -s is --start-block and -c --block-count
// (0's based) here, so the port is given as --trsvcid.

import { readFileSync, writeFileSync } from 'node:fs';
import type { CliIo } from '../io.js';
import type { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { NvmeStatusError } from '../../nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../../nvme/spec/opcodes.js';
import { readU8, writeU32le, writeU64le } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { num, numList, nsidOf, str, withController, UsageError } from './options.js';
import type { Values } from './options.js';

const blockOpts = {
  'start-block': { type: 'string', short: 's' },
  'block-count': { type: 'string', short: 'c' },
  'force-unit-access': { type: 'boolean', short: 'f' },
} as const;

/** LBA data size of the namespace's current format (Identify NS FLBAS → LBAF LBADS). */
async function lbaSize(c: NvmeTcpController, nsid: number): Promise<number> {
  const r = await c.adminOk(
    'Identify Namespace',
    { opcode: AdminOpc.IDENTIFY, nsid, cdw10: 0 },
    {
      readLength: 4096,
    },
  );
  const flbas = readU8(r.data, 26);
  const idx = (flbas & 0xf) | (((flbas >> 5) & 3) << 4);
  return 2 ** readU8(r.data, 130 + 4 * idx);
}

function rangeDwords(v: Values): { cdw10: number; cdw11: number; nlb0: number } {
  const slba = BigInt(num(v, 'start-block', 0));
  const nlb0 = num(v, 'block-count', 0);
  if (nlb0 > 0xffff) throw new UsageError("--block-count is 0's based and at most 65535");
  return { cdw10: Number(slba & 0xffff_ffffn), cdw11: Number(slba >> 32n), nlb0 };
}

async function runIo(
  v: Values,
  io: CliIo,
  name: string,
  opcode: number,
  dir: 'read' | 'write' | 'none',
  cdw12Extra = 0,
): Promise<number> {
  const nsid = nsidOf(v, 1);
  const { cdw10, cdw11, nlb0 } = rangeDwords(v);
  const fua = v['force-unit-access'] === true ? 1 << 30 : 0;
  const cdw12 = nlb0 | fua | cdw12Extra;
  const file = str(v, 'data');
  return withController(v, 1, async (c) => {
    const bytes = dir === 'none' ? 0 : (nlb0 + 1) * (await lbaSize(c, nsid));
    const size = num(v, 'data-size', bytes);
    if (dir !== 'none' && size < bytes) {
      throw new UsageError(
        `--data-size ${size} is smaller than ${nlb0 + 1} blocks (${bytes} bytes)`,
      );
    }
    let write: Uint8Array | undefined;
    if (dir === 'write') {
      const src = file !== undefined ? readFileSync(file) : readFileSync(0);
      write = new Uint8Array(bytes);
      write.set(src.subarray(0, bytes));
    }
    const r = await c.ioCommand(
      { opcode, nsid, cdw10, cdw11, cdw12 },
      dir === 'read' ? { readLength: bytes } : write !== undefined ? { write } : {},
    );
    if (r.status !== 0) throw new NvmeStatusError(name, r.status);
    if (dir === 'read') {
      if (file !== undefined) writeFileSync(file, r.data);
      else io.out(Buffer.from(r.data).toString('latin1'));
    }
    if (dir !== 'read' || file !== undefined) io.out(`${name}: Success\n`);
    return 0;
  });
}

const dataOpts = {
  ...blockOpts,
  'data-size': { type: 'string', short: 'z' },
  data: { type: 'string', short: 'd' },
} as const;

export const IO_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'read',
    summary: "Read (-s start-block, -c block-count 0's based, -z data-size, -d FILE or stdout)",
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'read', IoOpc.READ, 'read'),
  },
  {
    name: 'write',
    summary: 'Write (-s, -c, -z, -d FILE or stdin)',
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'write', IoOpc.WRITE, 'write'),
  },
  {
    name: 'compare',
    summary: 'Compare (-s, -c, -z, -d FILE or stdin)',
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'compare', IoOpc.COMPARE, 'write'),
  },
  {
    name: 'write-zeroes',
    summary: 'Write Zeroes (-s, -c, --deac)',
    options: { ...blockOpts, deac: { type: 'boolean', short: 'd' } },
    shortS: false,
    run: (v, io) =>
      runIo(v, io, 'write-zeroes', IoOpc.WRITE_ZEROES, 'none', v.deac === true ? 1 << 25 : 0),
  },
  {
    name: 'write-uncor',
    summary: 'Write Uncorrectable (-s, -c)',
    options: blockOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'write-uncor', IoOpc.WRITE_UNCOR, 'none'),
  },
  {
    name: 'verify',
    summary: 'Verify (-s, -c)',
    options: blockOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'verify', IoOpc.VERIFY, 'none'),
  },
  {
    name: 'dsm',
    summary: 'Dataset Management (--slbs, --blocks, --ctx-attrs, --ad, --idw, --idr)',
    options: {
      slbs: { type: 'string', short: 's' },
      blocks: { type: 'string', short: 'b' },
      'ctx-attrs': { type: 'string', short: 'a' },
      ad: { type: 'boolean', short: 'd' },
      idw: { type: 'boolean', short: 'w' },
      idr: { type: 'boolean', short: 'r' },
    },
    shortS: false,
    async run(v, io) {
      const slbs = numList(v, 'slbs');
      const blocks = numList(v, 'blocks');
      const attrs = numList(v, 'ctx-attrs');
      if (slbs.length === 0 || slbs.length !== blocks.length || slbs.length > 256) {
        throw new UsageError('--slbs and --blocks must list the same number (1..256) of ranges');
      }
      const ranges = new Uint8Array(16 * slbs.length);
      slbs.forEach((s, i) => {
        writeU32le(ranges, 16 * i, attrs[i] ?? 0);
        writeU32le(ranges, 16 * i + 4, blocks[i]!);
        writeU64le(ranges, 16 * i + 8, BigInt(s));
      });
      const cdw11 = (v.idr === true ? 1 : 0) | (v.idw === true ? 2 : 0) | (v.ad === true ? 4 : 0);
      const nsid = nsidOf(v, 1);
      await withController(v, 1, async (c) => {
        const r = await c.ioCommand(
          { opcode: IoOpc.DSM, nsid, cdw10: slbs.length - 1, cdw11 },
          { write: ranges },
        );
        if (r.status !== 0) throw new NvmeStatusError('dsm', r.status);
      });
      io.out('NVMe DSM: success\n');
      return 0;
    },
  },
  {
    name: 'flush',
    summary: 'Flush (--namespace-id; 0xffffffff = all)',
    options: {},
    shortS: true,
    async run(v, io) {
      const nsid = nsidOf(v, 0xffffffff);
      await withController(v, 1, async (c) => {
        const r = await c.ioCommand({ opcode: IoOpc.FLUSH, nsid });
        if (r.status !== 0) throw new NvmeStatusError('flush', r.status);
      });
      io.out('NVMe Flush: success\n');
      return 0;
    },
  },
];
