// I/O `nvmemu nvme` commands (nvme-cli names and options): read, write, compare, write-zeroes,
// write-uncor, verify, dsm, flush. As in nvme-cli, -s is --start-block and -c --block-count
// (0's based) here, so the port is given as --trsvcid.

import { readFileSync, writeFileSync } from 'node:fs';
import type { CliIo } from '../io.js';
import type { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { NvmeStatusError } from '../../nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../../nvme/spec/opcodes.js';
import { readU16le, readU32le, readU8, writeU32le, writeU64le } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { num, numList, nsidOf, str, withController, UsageError } from './options.js';
import type { Values } from './options.js';

const blockOpts = {
  'start-block': { type: 'string', short: 's' },
  'block-count': { type: 'string', short: 'c' },
  'force-unit-access': { type: 'boolean', short: 'f' },
} as const;

/** The namespace's current format as a transfer sees it (Identify NS, and CNS 05h for PIF). */
interface NsFormat {
  readonly lbaSize: number;
  readonly ms: number;
  /** FLBAS bit 4: metadata interleaved in the data buffer. */
  readonly extended: boolean;
  /** DPS bits 2:0. */
  readonly piType: number;
  /** PI tuple bytes: 8 (16-bit guard) or 16 (64-bit guard). */
  readonly tuple: number;
}

async function nsFormat(c: NvmeTcpController, nsid: number): Promise<NsFormat> {
  const id = (cdw10: number, cdw11 = 0): Promise<Uint8Array> =>
    c
      .adminOk(
        'Identify Namespace',
        { opcode: AdminOpc.IDENTIFY, nsid, cdw10, cdw11 },
        { readLength: 4096 },
      )
      .then((r) => r.data);
  const ns = await id(0);
  const flbas = readU8(ns, 26);
  const idx = (flbas & 0xf) | (((flbas >> 5) & 3) << 4);
  const piType = readU8(ns, 29) & 7;
  // ELBAF PIF (bits 8:7) of the NVM command set Identify Namespace.
  const pif = piType === 0 ? 0 : (readU32le(await id(0x05), 12 + 4 * idx) >>> 7) & 3;
  return {
    lbaSize: 2 ** readU8(ns, 130 + 4 * idx),
    ms: readU16le(ns, 128 + 4 * idx),
    extended: (flbas & 0x10) !== 0,
    piType,
    tuple: pif === 2 ? 16 : 8,
  };
}

/** Protection and placement dwords from nvme-cli's options (cdw3, cdw12 bits, cdw13-15). */
function protectionDwords(v: Values): {
  cdw3: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
  pract: boolean;
} {
  const prinfo = num(v, 'prinfo', 0);
  if (prinfo > 0xf)
    throw new UsageError('--prinfo is a 4-bit field (PRACT 8, guard 4, apptag 2, reftag 1)');
  const refText = str(v, 'ref-tag') ?? '0';
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(refText))
    throw new UsageError(`invalid value '${refText}' for --ref-tag`);
  const ref = BigInt(refText);
  if (ref < 0n || ref > 0xffff_ffff_ffffn) throw new UsageError('--ref-tag is at most 48 bits');
  const appTag = num(v, 'app-tag', 0);
  const appMask = num(v, 'app-tag-mask', 0);
  const dtype = num(v, 'dir-type', 0);
  const dspec = num(v, 'dir-spec', 0);
  if (appTag > 0xffff || appMask > 0xffff || dtype > 0xf || dspec > 0xffff) {
    throw new UsageError('--app-tag, --app-tag-mask and --dir-spec are 16 bits, --dir-type 4 bits');
  }
  return {
    // 64-bit guard formats take reference tag bits 47:32 from cdw3 (storage tag size 0).
    cdw3: Number(ref >> 32n),
    cdw12: ((prinfo << 26) | (dtype << 20)) >>> 0,
    cdw13: (dspec << 16) >>> 0,
    cdw14: Number(ref & 0xffff_ffffn),
    cdw15: (appTag | (appMask << 16)) >>> 0,
    pract: (prinfo & 0x8) !== 0,
  };
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
  const pi = protectionDwords(v);
  const cdw12 = (nlb0 | fua | cdw12Extra | pi.cdw12) >>> 0;
  const file = str(v, 'data');
  return withController(v, 1, async (c) => {
    let bytes = 0;
    if (dir !== 'none') {
      const f = await nsFormat(c, nsid);
      // PRACT with tuple-only metadata: the controller inserts/strips it, data only moves.
      const strip = pi.pract && f.piType !== 0 && f.ms === f.tuple;
      if (f.ms > 0 && !strip && str(v, 'metadata') !== undefined) {
        throw new UsageError(
          f.extended
            ? 'the namespace uses extended LBAs: metadata travels interleaved in --data'
            : 'NVMe/TCP has no separate metadata buffer (MPTR): use an extended-LBA format (mset=1) or PRACT (--prinfo 8) with PI-only metadata',
        );
      }
      bytes = (nlb0 + 1) * (f.lbaSize + (f.extended && !strip ? f.ms : 0));
    }
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
      {
        opcode,
        nsid,
        cdw3: pi.cdw3,
        cdw10,
        cdw11,
        cdw12,
        cdw13: pi.cdw13,
        cdw14: pi.cdw14,
        cdw15: pi.cdw15,
      },
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

/** nvme-cli's protection and placement options (-a is --traddr here: --app-tag is long only). */
const piOpts = {
  metadata: { type: 'string', short: 'M' },
  'metadata-size': { type: 'string', short: 'y' },
  prinfo: { type: 'string', short: 'p' },
  'ref-tag': { type: 'string', short: 'r' },
  'app-tag': { type: 'string' },
  'app-tag-mask': { type: 'string', short: 'm' },
  'dir-type': { type: 'string', short: 'T' },
  'dir-spec': { type: 'string', short: 'S' },
} as const;

const dataOpts = {
  ...blockOpts,
  ...piOpts,
  'data-size': { type: 'string', short: 'z' },
  data: { type: 'string', short: 'd' },
} as const;

export const IO_COMMANDS: readonly NvmeSubcommand[] = [
  {
    name: 'read',
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'read', IoOpc.READ, 'read'),
  },
  {
    name: 'write',
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'write', IoOpc.WRITE, 'write'),
  },
  {
    name: 'compare',
    options: dataOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'compare', IoOpc.COMPARE, 'write'),
  },
  {
    name: 'write-zeroes',
    options: { ...blockOpts, ...piOpts, deac: { type: 'boolean', short: 'd' } },
    shortS: false,
    run: (v, io) =>
      runIo(v, io, 'write-zeroes', IoOpc.WRITE_ZEROES, 'none', v.deac === true ? 1 << 25 : 0),
  },
  {
    name: 'write-uncor',
    options: blockOpts,
    shortS: false,
    run: (v, io) => runIo(v, io, 'write-uncor', IoOpc.WRITE_UNCOR, 'none'),
  },
  {
    name: 'verify',
    options: { ...blockOpts, ...piOpts },
    shortS: false,
    run: (v, io) => runIo(v, io, 'verify', IoOpc.VERIFY, 'none'),
  },
  {
    name: 'dsm',
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
