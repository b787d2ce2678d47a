// One association (reference nvme-tcp.md §2.2–§2.5): a host bound to one controller through an
// admin queue connection plus I/O queue connections. It owns what exists only over fabrics: the
// CC/CSTS properties, KATO enforcement, the Identify Controller fields a fabrics controller must
// report (§2.8), and teardown when the admin queue goes or KATO expires.

import { writeAscii, writeU16le, writeU32le, writeU8 } from '../../util/bytes.js';
import { AdminOpc } from '../../nvme/spec/opcodes.js';
import { Status, withDnr } from '../../nvme/spec/status.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';
import type { FabricsController, FabricsSubsystem } from './backend.js';
import type { TargetConnection } from './connection.js';

/** Property offsets (§2.3). */
export const Prop = { CAP: 0x00, VS: 0x08, CC: 0x14, CSTS: 0x1c, NSSR: 0x20 } as const;

const CC_EN = 0x1;
const CC_SHN_SHIFT = 14;
const CSTS_RDY = 0x1;
const CSTS_CFS = 0x2;
const CSTS_SHST_MASK = 0xc;
const CSTS_SHST_OCCURRING = 0x4;
const CSTS_SHST_COMPLETE = 0x8;

/** Keep Alive granularity reported in KAS (100 ms units, §2.4): 1 s like nvmet. */
const KAS = 10;

export class Association {
  readonly subsys: FabricsSubsystem;
  readonly ctrl: FabricsController;
  readonly hostnqn: string;
  readonly admin: TargetConnection;
  readonly io = new Map<number, TargetConnection>();
  /** Keep Alive Timeout in ms (0 = disabled). */
  kato: number;
  cc = 0;
  csts = 0;
  /** I/O queues granted by Set Features 07h (the controller's maximum until then). */
  grantedQueues: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #graceMs: number;
  readonly #onExpire: (a: Association) => void;
  readonly #inCapsuleSize: number;
  dead = false;

  constructor(init: {
    subsys: FabricsSubsystem;
    ctrl: FabricsController;
    hostnqn: string;
    admin: TargetConnection;
    kato: number;
    graceMs: number;
    inCapsuleSize: number;
    onExpire: (a: Association) => void;
  }) {
    this.subsys = init.subsys;
    this.ctrl = init.ctrl;
    this.hostnqn = init.hostnqn;
    this.admin = init.admin;
    this.kato = init.kato;
    this.grantedQueues = init.ctrl.maxIoQueues;
    this.#graceMs = init.graceMs;
    this.#onExpire = init.onExpire;
    this.#inCapsuleSize = init.inCapsuleSize;
    this.keepAlive();
  }

  get ready(): boolean {
    return (this.csts & CSTS_RDY) !== 0;
  }

  /** Restarts the KATO timer (Keep Alive, Set Features 0Fh). Generous: KATO + grace (§2.4). */
  keepAlive(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.kato === 0 || this.dead) return;
    this.#timer = setTimeout(() => this.#onExpire(this), this.kato + this.#graceMs);
    this.#timer.unref();
  }

  stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Property Get (§2.3): CAP 8 (or its low 4) bytes, VS/CC/CSTS/NSSR 4 bytes. */
  getProperty(ofst: number, size8: boolean): Completion {
    const lo = (v: bigint): number => Number(v & 0xffff_ffffn);
    const hi = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
    if (ofst === Prop.CAP) {
      return size8
        ? { status: 0, dw0: lo(this.ctrl.cap), dw1: hi(this.ctrl.cap) }
        : { status: 0, dw0: lo(this.ctrl.cap) };
    }
    // Unsupported offsets answer Invalid Field *without* DNR: nvme-cli 2.3's show-regs walks
    // every register from CAP to CMBSZ and only skips a status equal to plain 02h; with DNR
    // (0x4002, as nvmet answers) it stops at INTMS and the command fails (seen in the Linux
    // 6.1 guest). The kernel never reads these offsets, so nothing retries on the missing DNR.
    if (size8) return { status: Status.INVALID_FIELD };
    switch (ofst) {
      case Prop.VS:
        return { status: 0, dw0: this.ctrl.vs };
      case Prop.CC:
        return { status: 0, dw0: this.cc };
      case Prop.CSTS:
        return { status: 0, dw0: this.csts };
      case Prop.NSSR:
        return { status: 0, dw0: 0 };
      default:
        return { status: Status.INVALID_FIELD };
    }
  }

  /** Property Set (§2.3): only CC is writable (nvmet likewise). */
  async setProperty(ofst: number, size8: boolean, value: bigint): Promise<Completion> {
    if (ofst !== Prop.CC || size8) return { status: withDnr(Status.INVALID_FIELD) };
    await this.writeCc(Number(value & 0xffff_ffffn));
    return { status: 0 };
  }

  /** CC write: EN 0→1 enables (RDY follows at once, §6.6), 1→0 resets, SHN shuts down. */
  async writeCc(value: number): Promise<void> {
    const old = this.cc;
    this.cc = value >>> 0;
    if ((old & CC_EN) === 0 && (value & CC_EN) !== 0) {
      this.csts = this.ctrl.enable(value) ? CSTS_RDY : CSTS_CFS;
    } else if ((old & CC_EN) !== 0 && (value & CC_EN) === 0) {
      await this.ctrl.reset();
      this.csts = 0;
    }
    const oldShn = (old >>> CC_SHN_SHIFT) & 3;
    const shn = (value >>> CC_SHN_SHIFT) & 3;
    if (oldShn === 0 && shn !== 0) {
      this.csts = (this.csts & ~CSTS_SHST_MASK) | CSTS_SHST_OCCURRING;
      await this.ctrl.shutdown();
      this.csts = (this.csts & ~CSTS_SHST_MASK) | CSTS_SHST_COMPLETE;
    } else if (shn === 0) {
      this.csts &= ~CSTS_SHST_MASK;
    }
  }

  /**
   * Identify Controller data as this association must see it (§2.8): the fabrics fields are
   * overlaid on whatever the controller writes, piece by piece.
   */
  identifyOverlay(data: HostData): HostData {
    if (this.ctrl.cntrltype !== 1) return data;
    return overlay(data, this.#identifyPatches());
  }

  /**
   * Commands Supported and Effects (LID 05h) as this association must see it: the PCIe-only
   * admin commands the fabrics layer refuses are not listed as supported (their ACS entries,
   * one dword per opcode from byte 0, read as 0), and Keep Alive, which the fabrics layer
   * answers, is (CSUPP only). `lpo` is the Get Log Page offset.
   */
  effectsOverlay(data: HostData, lpo: bigint): HostData {
    if (this.ctrl.cntrltype !== 1 || lpo >= 1024n) return data;
    const base = Number(lpo);
    const zero = new Uint8Array(4);
    const csupp = Uint8Array.of(1, 0, 0, 0);
    return overlay(data, [
      ...[...PCIE_ONLY_ADMIN].map((op) => ({ off: op * 4 - base, bytes: zero })),
      { off: AdminOpc.KEEP_ALIVE * 4 - base, bytes: csupp },
    ]);
  }

  #identifyPatches(): Patch[] {
    const f = (n: number, write: (b: Uint8Array) => void): Uint8Array => {
      const b = new Uint8Array(n);
      write(b);
      return b;
    };
    const mqes = Number(this.ctrl.cap & 0xffffn);
    const cmic = f(1, (b) => writeU8(b, 0, 0x02));
    const at = (off: number, bytes: Uint8Array): Patch => ({ off, bytes });
    return [
      // CMIC.MCTRS: a reconnect may overlap the old association (§2.8, §3.4).
      at(76, cmic),
      at(
        78,
        f(2, (b) => writeU16le(b, 0, this.ctrl.cntlid)),
      ),
      at(
        111,
        f(1, (b) => writeU8(b, 0, this.ctrl.cntrltype)),
      ),
      // OACS bit 8 (Doorbell Buffer Config) off: a PCIe-only command, refused over fabrics.
      { off: 257, andMask: 0xfe },
      at(
        320,
        f(2, (b) => writeU16le(b, 0, KAS)),
      ),
      at(
        514,
        f(2, (b) => writeU16le(b, 0, Math.min(0xffff, mqes + 1))),
      ),
      // SGLS: bit0 SGLs supported, bit20 in-capsule data address is an offset.
      at(
        536,
        f(4, (b) => writeU32le(b, 0, 0x0010_0001)),
      ),
      at(
        768,
        f(256, (b) => writeAscii(b, 0, this.subsys.nqn, 256, 0)),
      ),
      at(
        1792,
        f(4, (b) => writeU32le(b, 0, (64 + this.#inCapsuleSize) / 16)),
      ),
      at(
        1796,
        f(4, (b) => writeU32le(b, 0, 1)),
      ),
      // ICDOFF 0, FCATT 0 (dynamic model), MSDBD 1, OFCS bit0 (Disconnect supported).
      at(
        1800,
        f(6, (b) => (writeU8(b, 3, 1), writeU16le(b, 4, 1))),
      ),
    ];
  }
}

/**
 * Admin commands that exist only on PCIe (NVMe-oF 1.1 §2: queues are created by Connect, there
 * are no doorbells): Delete/Create I/O SQ/CQ and Doorbell Buffer Config. nvmet answers them
 * Invalid Opcode; the in-process controller would otherwise create a queue nobody can reach.
 */
export const PCIE_ONLY_ADMIN: ReadonlySet<number> = new Set([
  AdminOpc.DELETE_SQ,
  AdminOpc.CREATE_SQ,
  AdminOpc.DELETE_CQ,
  AdminOpc.CREATE_CQ,
  AdminOpc.DBBUF_CONFIG,
]);

/** A change to controller→host data at byte `off`: new bytes, or one byte ANDed with a mask. */
type Patch =
  | { readonly off: number; readonly bytes: Uint8Array }
  | { readonly off: number; readonly andMask: number };

/** `data` with `patches` applied to whatever chunks the controller writes (any split). */
function overlay(data: HostData, patches: readonly Patch[]): HostData {
  return {
    length: data.length,
    fromHost: (o, l) => data.fromHost(o, l),
    toHost(offset, chunk) {
      const copy = chunk.slice();
      for (const p of patches) {
        if ('andMask' in p) {
          const i = p.off - offset;
          if (i >= 0 && i < copy.length) copy[i] = copy[i]! & p.andMask;
          continue;
        }
        const from = Math.max(p.off, offset);
        const to = Math.min(p.off + p.bytes.length, offset + copy.length);
        if (from < to) copy.set(p.bytes.subarray(from - p.off, to - p.off), from - offset);
      }
      return data.toHost(offset, copy);
    },
  };
}
