// `nvmemu nvme copy`: Simple Copy (I/O 0x19) with nvme-cli's options (docs/zns.md): --sdlba,
// --slbs, --blocks (0's based NLB per range, passed through as nvme-cli does), --format (0 or
// 1), FUA / limited retry, PRINFO and the per-range expected tags. -s is --slbs (so the port is
// --trsvcid) and --app-tag has no short option (-a is the target address).

import type { CliIo } from '../io.js';
import { NvmeStatusError } from '../../nvme-tcp/host/index.js';
import { IoOpc } from '../../nvme/spec/opcodes.js';
import { writeU16le, writeU32le, writeU64le, writeU8 } from '../../util/bytes.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { nsidOf, num, numList, UsageError, withController } from './options.js';
import type { Values } from './options.js';

export interface CopyRange {
  readonly slba: bigint;
  /** 0's based. */
  readonly nlb: number;
  readonly eilbrt: bigint;
  readonly elbat: number;
  readonly elbatm: number;
}

/** Source Range Entries: format 0 (32 bytes) or format 1 (40 bytes, 48-bit reference tag). */
export function encodeCopyRanges(ranges: readonly CopyRange[], format: 0 | 1): Uint8Array {
  const size = format === 0 ? 32 : 40;
  const buf = new Uint8Array(ranges.length * size);
  ranges.forEach((r, i) => {
    const at = i * size;
    writeU64le(buf, at + 8, r.slba);
    writeU16le(buf, at + 16, r.nlb);
    if (format === 0) {
      writeU32le(buf, at + 24, Number(r.eilbrt & 0xffff_ffffn));
      writeU16le(buf, at + 28, r.elbat);
      writeU16le(buf, at + 30, r.elbatm);
    } else {
      // Expected initial logical block storage and reference tag: the 48-bit reference tag
      // is the last 6 bytes of the 10-byte field at 26, big-endian as in the PI tuple.
      for (let b = 0; b < 6; b++) {
        writeU8(buf, at + 30 + b, Number((r.eilbrt >> BigInt(8 * (5 - b))) & 0xffn));
      }
      writeU16le(buf, at + 36, r.elbat);
      writeU16le(buf, at + 38, r.elbatm);
    }
  });
  return buf;
}

function list(v: Values, name: string, n: number): number[] {
  const l = numList(v, name);
  if (l.length !== 0 && l.length !== n) {
    throw new UsageError(`--${name} must list ${n} values (one per source range)`);
  }
  return l;
}

export const COPY_COMMAND: NvmeSubcommand = {
  name: 'copy',
  options: {
    sdlba: { type: 'string', short: 'd' },
    slbs: { type: 'string', short: 's' },
    blocks: { type: 'string', short: 'b' },
    'limited-retry': { type: 'boolean', short: 'l' },
    'force-unit-access': { type: 'boolean', short: 'f' },
    prinfow: { type: 'string', short: 'p' },
    prinfor: { type: 'string', short: 'P' },
    'ref-tag': { type: 'string', short: 'r' },
    'expected-ref-tags': { type: 'string', short: 'R' },
    'app-tag': { type: 'string' },
    'expected-app-tags': { type: 'string', short: 'A' },
    'app-tag-mask': { type: 'string', short: 'm' },
    'expected-app-tag-masks': { type: 'string', short: 'M' },
    'dir-type': { type: 'string', short: 'T' },
    'dir-spec': { type: 'string', short: 'S' },
    format: { type: 'string', short: 'F' },
  },
  shortS: false,
  async run(v, io: CliIo) {
    const nsid = nsidOf(v, 1);
    const slbs = numList(v, 'slbs');
    const blocks = numList(v, 'blocks');
    if (slbs.length === 0 || slbs.length !== blocks.length || slbs.length > 256) {
      throw new UsageError('formats must have the same number of --slbs and --blocks (1..256)');
    }
    const format = num(v, 'format', 0);
    if (format !== 0 && format !== 1) {
      throw new UsageError(`invalid format ${format} (nvmemu sends formats 0 and 1)`);
    }
    const refs = list(v, 'expected-ref-tags', slbs.length);
    const tags = list(v, 'expected-app-tags', slbs.length);
    const masks = list(v, 'expected-app-tag-masks', slbs.length);
    const ranges = slbs.map((s, i) => ({
      slba: BigInt(s),
      nlb: blocks[i]!,
      eilbrt: BigInt(refs[i] ?? 0),
      elbat: tags[i] ?? 0,
      elbatm: masks[i] ?? 0,
    }));
    const sdlba = BigInt(num(v, 'sdlba', 0));
    const cdw12 =
      (slbs.length - 1) |
      (format << 8) |
      ((num(v, 'prinfor', 0) & 0xf) << 12) |
      ((num(v, 'dir-type', 0) & 0xf) << 20) |
      ((num(v, 'prinfow', 0) & 0xf) << 26) |
      (v['force-unit-access'] === true ? 1 << 30 : 0) |
      (v['limited-retry'] === true ? 1 << 31 : 0);
    const cdw15 = (num(v, 'app-tag', 0) & 0xffff) | ((num(v, 'app-tag-mask', 0) & 0xffff) << 16);
    const data = encodeCopyRanges(ranges, format);
    await withController(v, 1, async (c) => {
      const r = await c.ioCommand(
        {
          opcode: IoOpc.COPY,
          nsid,
          cdw10: Number(sdlba & 0xffff_ffffn),
          cdw11: Number(sdlba >> 32n),
          cdw12: cdw12 >>> 0,
          cdw13: (num(v, 'dir-spec', 0) & 0xffff) << 16,
          cdw14: num(v, 'ref-tag', 0) >>> 0,
          cdw15: cdw15 >>> 0,
        },
        { write: data },
      );
      if (r.status !== 0) throw new NvmeStatusError('copy', r.status, r.dw0);
    });
    io.out('NVMe Copy: success\n');
    return 0;
  },
};
