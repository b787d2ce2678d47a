// A minimal RAM-backed FabricsController for transport tests (not a product component): one NVM
// namespace (512-byte LBAs), Identify CNS 00h/01h/02h, Set Features 07h, Read/Write/Flush. It
// isolates the NVMe/TCP target's behaviour from the real controller's, so PDU-flow tests stay
// exact and fast; the machine-backed tests cover the real controller.

import {
  readU32le,
  readU64le,
  writeAscii,
  writeU16le,
  writeU32le,
  writeU64le,
  writeU8,
} from '../src/util/bytes.js';
import type { NvmeCmd } from '../src/nvme/spec/command.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import type { Completion, HostData } from '../src/nvme/spec/transfer.js';
import type { FabricsController, FabricsSubsystem } from '../src/nvme-tcp/target/backend.js';

export const FAKE_LBA = 512;

/** CAP: MQES 127, CQR, TO 15, CSS bit 37. */
const CAP = 127n | (1n << 16n) | (15n << 24n) | (1n << 37n);

export class FakeController implements FabricsController {
  readonly cntrltype = 1 as const;
  readonly cap = CAP;
  readonly vs = 0x0001_0400;
  readonly mdtsBytes = 1 << 20;
  readonly maxIoQueues = 4;
  readonly cntlid: number;
  readonly media: Uint8Array;
  enabled = false;
  resets = 0;
  shutdowns = 0;
  readonly #aers: ((c: Completion) => void)[] = [];

  constructor(cntlid: number, media: Uint8Array) {
    this.cntlid = cntlid;
    this.media = media;
  }

  enable(cc: number): boolean {
    // IOSQES 6 / IOCQES 4 (§2.3), like nvmet's enable checks.
    const ok = ((cc >>> 16) & 0xf) === 6 && ((cc >>> 20) & 0xf) === 4;
    this.enabled = ok;
    return ok;
  }

  reset(): Promise<void> {
    this.resets++;
    this.enabled = false;
    for (const done of this.#aers.splice(0)) done({ status: Status.ABORT_SQ_DELETION });
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }

  async admin(cmd: NvmeCmd, data: HostData): Promise<Completion> {
    switch (cmd.opcode) {
      case AdminOpc.IDENTIFY: {
        const cns = cmd.cdw10 & 0xff;
        const b = new Uint8Array(4096);
        if (cns === 1) {
          writeU16le(b, 0, 0x1b36);
          writeAscii(b, 4, 'fake', 20);
          writeAscii(b, 24, 'fake ctrl', 40);
          writeU8(b, 77, 8);
          writeU16le(b, 78, this.cntlid);
          writeU32le(b, 516, 1);
          writeU8(b, 525, 1);
        } else if (cns === 0) {
          if (cmd.nsid !== 1) return { status: withDnr(Status.INVALID_NSID) };
          const n = BigInt(this.media.length / FAKE_LBA);
          writeU64le(b, 0, n);
          writeU64le(b, 8, n);
          writeU64le(b, 16, n);
          writeU8(b, 130, 9);
        } else if (cns === 2) {
          if (cmd.nsid < 1) writeU32le(b, 0, 1);
        } else {
          return { status: withDnr(Status.INVALID_FIELD) };
        }
        return { status: await data.toHost(0, b.subarray(0, data.length)) };
      }
      case AdminOpc.SET_FEATURES:
        if ((cmd.cdw10 & 0xff) === 0x07) return { status: 0, dw0: 0x0003_0003 };
        return { status: withDnr(Status.INVALID_FIELD) };
      case AdminOpc.ASYNC_EVENT_REQ:
        return new Promise((resolve) => this.#aers.push(resolve));
      default:
        return { status: withDnr(Status.INVALID_OPCODE) };
    }
  }

  async io(_sqid: number, cmd: NvmeCmd, data: HostData): Promise<Completion> {
    if (cmd.opcode === IoOpc.FLUSH) return { status: 0 };
    if (cmd.nsid !== 1) return { status: withDnr(Status.INVALID_NSID) };
    const slba = Number(BigInt(cmd.cdw10 >>> 0) | (BigInt(cmd.cdw11 >>> 0) << 32n));
    const nlb = (cmd.cdw12 & 0xffff) + 1;
    const off = slba * FAKE_LBA;
    const len = nlb * FAKE_LBA;
    if (off + len > this.media.length) return { status: withDnr(Status.LBA_RANGE) };
    if (data.length !== len) return { status: withDnr(Status.DATA_SGL_LEN_INVALID) };
    switch (cmd.opcode) {
      case IoOpc.READ:
        return { status: await data.toHost(0, this.media.subarray(off, off + len)) };
      case IoOpc.WRITE: {
        const d = await data.fromHost(0, len);
        if (typeof d === 'number') return { status: d };
        this.media.set(d, off);
        return { status: 0 };
      }
      default:
        return { status: withDnr(Status.INVALID_OPCODE) };
    }
  }
}

/** A subsystem of `n` fake controllers sharing one medium. */
export function fakeSubsystem(
  nqn: string,
  n = 1,
  blocks = 2048,
  allowedHosts?: string[],
): { subsys: FabricsSubsystem; ctrls: FakeController[]; media: Uint8Array } {
  const media = new Uint8Array(blocks * FAKE_LBA);
  const ctrls = Array.from({ length: n }, (_, i) => new FakeController(i, media));
  return { subsys: { nqn, kind: 'nvm', controllers: ctrls, allowedHosts }, ctrls, media };
}

/** Pins reads of Identify fields in tests. */
export const idField = {
  u32: (b: Uint8Array, off: number) => readU32le(b, off),
  u64: (b: Uint8Array, off: number) => readU64le(b, off),
};
