// Test doubles for the controller tests: a namespace implementing NamespaceApi with
// observable calls, and a controller factory. Not a stand-in for nvme/ns: it implements just
// enough of the I/O path (Read/Write of a RAM buffer, optional delay) to exercise queues.

import { readU64le, writeU64le } from '../src/util/bytes.js';
import type { NamespaceApi, NsSmartCounters } from '../src/nvme/spec/namespace-api.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import type { Completion } from '../src/nvme/spec/transfer.js';
import type { CommandContext } from '../src/nvme/spec/namespace-api.js';
import type { NvmeCmd } from '../src/nvme/spec/command.js';
import { PcieController } from '../src/nvme/pci/pcie-controller.js';
import { Controller } from '../src/nvme/ctrl/controller.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { defaultParams, type ControllerParams } from '../src/nvme/ctrl/params.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';

export interface FakeNsOptions {
  readonly csi?: 0 | 2;
  readonly shared?: boolean;
  readonly detached?: boolean;
  readonly blocks?: number;
  readonly lbaSize?: number;
  /** Milliseconds each I/O takes (setTimeout), for in-flight tests. */
  readonly delayMs?: number;
}

export class FakeNamespace implements NamespaceApi {
  readonly csi: 0 | 2;
  readonly shared: boolean;
  readonly detached: boolean;
  readonly lbaSize: number;
  readonly dulbeCapable = true;
  errorRecovery = 0;
  writeCache = true;
  sizeBlocks: bigint;
  readonly media: Uint8Array;
  readonly formats: number[][] = [];
  flushes = 0;
  failFlush = false;
  shutdowns = 0;
  executed = 0;
  inFlight = 0;
  maxInFlight = 0;
  #counters = { bytesRead: 0n, bytesWritten: 0n, readCommands: 0n, writeCommands: 0n };

  constructor(
    readonly nsid: number,
    private readonly opts: FakeNsOptions = {},
  ) {
    this.csi = opts.csi ?? 0;
    this.shared = opts.shared ?? true;
    this.detached = opts.detached ?? false;
    this.lbaSize = opts.lbaSize ?? 512;
    this.sizeBlocks = BigInt(opts.blocks ?? 64);
    this.media = new Uint8Array(Number(this.sizeBlocks) * this.lbaSize);
  }

  setWriteCache(enabled: boolean): Promise<void> {
    this.writeCache = enabled;
    return Promise.resolve();
  }

  identify(inSubsystem: boolean): Uint8Array {
    const b = new Uint8Array(4096);
    writeU64le(b, 0, this.sizeBlocks);
    writeU64le(b, 8, this.sizeBlocks);
    b[30] = inSubsystem && this.shared ? 1 : 0; // NMIC
    return b;
  }

  identifyIoCs(csi: number): Uint8Array | number {
    if (csi === 0 || (csi === 2 && this.csi === 2)) {
      const b = new Uint8Array(4096);
      b[0] = 0xc0 | csi;
      return b;
    }
    return withDnr(Status.INVALID_FIELD);
  }

  descriptors(): Uint8Array {
    const b = new Uint8Array(4096);
    b.set([0x04, 0x01, 0x00, 0x00, this.csi]);
    return b;
  }

  transferLength(cmd: NvmeCmd): { data: number; meta: number } | undefined {
    if (cmd.opcode !== 0x01 && cmd.opcode !== 0x02) return undefined;
    return { data: ((cmd.cdw12 & 0xffff) + 1) * this.lbaSize, meta: 0 };
  }

  async execute(ctx: CommandContext): Promise<Completion> {
    this.executed++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.opts.delayMs !== undefined) {
        await new Promise((r) => setTimeout(r, this.opts.delayMs));
      }
      const { cmd } = ctx;
      const slba = readU64le(Uint8Array.from([...u32(cmd.cdw10), ...u32(cmd.cdw11)]), 0);
      const nlb = (cmd.cdw12 & 0xffff) + 1;
      const off = Number(slba) * this.lbaSize;
      const len = nlb * this.lbaSize;
      if (cmd.opcode !== 0x01 && cmd.opcode !== 0x02)
        return { status: withDnr(Status.INVALID_OPCODE) };
      if (slba + BigInt(nlb) > this.sizeBlocks) {
        return { status: withDnr(Status.LBA_RANGE), field: 'slba' };
      }
      if (cmd.opcode === 0x01) {
        const d = ctx.data.fromHost(0, len);
        if (typeof d === 'number') return { status: d };
        this.media.set(d, off);
        this.#counters.bytesWritten += BigInt(len);
        this.#counters.writeCommands++;
        return { status: 0 };
      }
      const st = ctx.data.toHost(0, this.media.slice(off, off + len));
      if (st === 0) {
        this.#counters.bytesRead += BigInt(len);
        this.#counters.readCommands++;
      }
      return { status: st };
    } finally {
      this.inFlight--;
    }
  }

  format(lbaf: number, ses: number, pi: number, pil: number, mset: number): Promise<Completion> {
    this.formats.push([lbaf, ses, pi, pil, mset]);
    if (this.csi === 2) return Promise.resolve({ status: withDnr(Status.INVALID_FORMAT) });
    if (lbaf > 7) return Promise.resolve({ status: withDnr(Status.INVALID_FORMAT) });
    this.media.fill(0);
    return Promise.resolve({ status: 0 });
  }

  smart(): NsSmartCounters {
    return { ...this.#counters };
  }
  setCounters(c: Partial<NsSmartCounters>): void {
    Object.assign(this.#counters, c);
  }

  flush(): Promise<void> {
    this.flushes++;
    return this.failFlush ? Promise.reject(new Error('EIO')) : Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

export interface Rig {
  readonly ctrl: Controller;
  /** The controller's PCIe personality: registers, rings, submit/reap. */
  readonly pcie: PcieController;
  readonly host: Host;
  readonly subsys: Subsystem;
  readonly ns: FakeNamespace[];
}

/** A controller without explicit subsystem (QEMU 7.2 default), namespaces attached, enabled. */
export function rig(
  opts: { params?: Partial<ControllerParams>; ns?: FakeNamespace[]; enable?: boolean } = {},
): Rig {
  const subsys = new Subsystem(false, 'nqn.2019-08.org.qemu:deadbeef');
  const ctrl = new Controller(defaultParams('deadbeef', opts.params), subsys);
  subsys.addController(ctrl);
  const ns = opts.ns ?? [new FakeNamespace(1)];
  for (const n of ns) subsys.addNamespace(n, ctrl);
  const host = new Host(ctrl);
  if (opts.enable ?? true) host.enable();
  return { ctrl, pcie: host.pcie, host, subsys, ns };
}

/** The PCIe personality of `ctrl` (registers, rings) for tests that drive it directly. */
export function pcieOf(ctrl: Controller): PcieController {
  return PcieController.of(ctrl);
}

/** A fresh 4 KiB host buffer. */
export function page(n = 1): Uint8Array {
  return new Uint8Array(4096 * n);
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
