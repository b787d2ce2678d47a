// Typed handles of an `nvme` device for the public API: a controller (admin commands, raw
// submit) and its namespaces (read, write, flush, zones). Every command goes through the
// in-process host (nvme/pci/local-host.ts) on the controller's admin queue and one I/O queue pair,
// the same submit/reap surface the NVMe/TCP target drives; nothing here bypasses the command
// checks a real host would meet.

import type { Host } from '../nvme/pci/local-host.js';
import type { CmdInit, Cqe } from '../nvme/spec/command.js';
import { AdminOpc, IoOpc } from '../nvme/spec/opcodes.js';
import { bufferData } from '../nvme/spec/transfer.js';
import { readU16le, readU32le, readU64le, readU8, writeU32le, writeU64le } from '../util/bytes.js';
import { NvmeCommandError, NvmemuError, NvmemuErrorCode } from './errors.js';

/** What a handle needs from its machine: the live host of its controller (after power cuts too). */
export interface HostSource {
  /** The enabled host of the controller, with I/O queue 1 created. */
  host(): Promise<Host>;
  /** Forgets the host: the next command enables the controller again (after a reset). */
  dropHost(): void;
}

/** Identify Namespace facts, decoded (NVMe Base Spec 2.0 Figure 280, ZNS 1.1 Figure 49). */
export interface NamespaceInfo {
  /** The namespace ID. */
  readonly nsid: number;
  /** Bytes per logical block of the format in use (512, 4096, ...). */
  readonly blockSize: number;
  /** Metadata bytes per block of the format in use (0 without metadata). */
  readonly metadataSize: number;
  /** NSZE: size in logical blocks. */
  readonly blocks: bigint;
  /** NCAP: capacity in logical blocks. */
  readonly capacity: bigint;
  /** NUSE: blocks in use (allocated). */
  readonly used: bigint;
  /** Whether the namespace uses the Zoned Namespace command set (CSI 02h). */
  readonly zoned: boolean;
  /** Zone size in logical blocks (zoned namespaces only). */
  readonly zoneSize: bigint | undefined;
}

/** Zone states (ZNS 1.1 Figure 37, bits 7:4 of the descriptor's ZS byte). */
export type ZoneStateName =
  'empty' | 'implicitly-open' | 'explicitly-open' | 'closed' | 'read-only' | 'full' | 'offline';

const ZONE_STATES: Readonly<Record<number, ZoneStateName>> = {
  0x1: 'empty',
  0x2: 'implicitly-open',
  0x3: 'explicitly-open',
  0x4: 'closed',
  0xd: 'read-only',
  0xe: 'full',
  0xf: 'offline',
};

/** One zone descriptor of a Report Zones answer. */
export interface ZoneInfo {
  /** Zone Start LBA. */
  readonly start: bigint;
  /** Zone capacity in logical blocks (writable blocks from `start`). */
  readonly capacity: bigint;
  /** Write pointer (meaningless for full, read-only and offline zones). */
  readonly writePointer: bigint;
  readonly state: ZoneStateName;
}

/** The Zone Send Actions of Zone Management Send (ZNS 1.1 Figure 42). */
const ZoneAction = { close: 0x1, finish: 0x2, open: 0x3, reset: 0x4, offline: 0x5 } as const;

/** Options of {@link NvmeNamespace.write}. */
export interface WriteOptions {
  /** Force Unit Access: the write is durable when it completes (no flush needed). */
  readonly fua?: boolean;
}

const IO_QUEUE = 1;
/** NLB is a 0's based 16-bit field: at most 65536 blocks per command. */
const MAX_NLB = 0x10000;

function lbaDwords(lba: bigint): { cdw10: number; cdw11: number } {
  return { cdw10: Number(lba & 0xffff_ffffn), cdw11: Number(lba >> 32n) };
}

function checkLba(lba: number | bigint, what: string): bigint {
  const v = typeof lba === 'bigint' ? lba : Number.isSafeInteger(lba) ? BigInt(lba) : -1n;
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) {
    throw new NvmemuError(NvmemuErrorCode.EMU_ERR_ARGUMENT, `${what}: invalid LBA ${String(lba)}`);
  }
  return v;
}

function checkCount(count: number, what: string): number {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new NvmemuError(
      NvmemuErrorCode.EMU_ERR_ARGUMENT,
      `${what}: block count must be a positive integer, got ${count}`,
    );
  }
  return count;
}

async function ok(what: string, p: Promise<Cqe>): Promise<Cqe> {
  const cqe = await p;
  if (cqe.status !== 0) throw new NvmeCommandError(what, cqe.status);
  return cqe;
}

/**
 * An `-device nvme` controller of a running machine, driven by an in-process host.
 * Obtain it with `machine.nvme(id)`; it stays valid across power cuts and restarts.
 */
export class NvmeController {
  /** The device's `id=`. */
  readonly id: string;
  readonly #src: HostSource;
  #mdtsBytes: number | undefined;

  /** @internal Built by the machine; use `machine.nvme(id)`. */
  constructor(id: string, src: HostSource) {
    this.id = id;
    this.#src = src;
  }

  /** The namespace `nsid` of this controller (checked when its first command runs). */
  namespace(nsid = 1): NvmeNamespace {
    if (!Number.isInteger(nsid) || nsid < 1 || nsid > 0xffff_fffe) {
      throw new NvmemuError(NvmemuErrorCode.EMU_ERR_ARGUMENT, `invalid namespace id ${nsid}`);
    }
    return new NvmeNamespace(this, nsid);
  }

  /** Active namespace ids (Identify CNS 02h), ascending. */
  async namespaceIds(): Promise<number[]> {
    const list = await this.identify(0x02);
    const ids: number[] = [];
    for (let i = 0; i < 1024; i++) {
      const nsid = readU32le(list, 4 * i);
      if (nsid === 0) break;
      ids.push(nsid);
    }
    return ids;
  }

  /**
   * Identify (admin 06h): 4096 bytes of the structure `cns` names (default 01h, the Identify
   * Controller data structure). Throws {@link NvmeCommandError} on a non-zero status.
   */
  async identify(cns = 0x01, nsid = 0, csi = 0): Promise<Uint8Array> {
    const buf = new Uint8Array(4096);
    await ok(
      `Identify CNS ${cns.toString(16)}h`,
      this.admin({ opcode: AdminOpc.IDENTIFY, nsid, cdw10: cns, cdw11: csi << 24 }, buf),
    );
    return buf;
  }

  /** Get Log Page (admin 02h): `length` bytes (a multiple of 4) of log `lid`. */
  async getLogPage(lid: number, length: number, nsid = 0xffff_ffff): Promise<Uint8Array> {
    if (!Number.isInteger(length) || length < 4 || length % 4 !== 0) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_ARGUMENT,
        `log length must be a positive multiple of 4, got ${length}`,
      );
    }
    const buf = new Uint8Array(length);
    const numd = length / 4 - 1;
    await ok(
      `Get Log Page ${lid.toString(16)}h`,
      this.admin(
        {
          opcode: AdminOpc.GET_LOG_PAGE,
          nsid,
          cdw10: (lid & 0xff) | ((numd & 0xffff) << 16),
          cdw11: numd >>> 16,
        },
        buf,
      ),
    );
    return buf;
  }

  /**
   * Submits an admin command and resolves with its completion, whatever its status (check
   * `cqe.status`). `data` is the host buffer: read by commands that send data, filled by
   * commands that return data.
   */
  async admin(cmd: CmdInit, data?: Uint8Array): Promise<Cqe> {
    const host = await this.#src.host();
    return await host.admin(cmd, data);
  }

  /**
   * Submits an I/O command on I/O queue 1 and resolves with its completion, whatever its status.
   * For anything the typed methods do not cover (Compare, Verify, Copy, reservations, ...).
   */
  async submit(cmd: CmdInit, data?: Uint8Array, meta?: Uint8Array): Promise<Cqe> {
    const host = await this.#src.host();
    return meta === undefined
      ? await host.command(IO_QUEUE, cmd, data)
      : await host.command(IO_QUEUE, cmd, data, bufferData(meta));
  }

  /** Controller reset (CC.EN = 0): pending commands are cancelled; the next command re-enables. */
  async reset(): Promise<void> {
    const host = await this.#src.host();
    host.disable();
    this.#src.dropHost();
    this.#mdtsBytes = undefined;
  }

  /** @internal Maximum data transfer in bytes (0: no limit), from Identify Controller MDTS. */
  async maxTransferBytes(): Promise<number> {
    if (this.#mdtsBytes === undefined) {
      const id = await this.identify(0x01);
      const mdts = readU8(id, 77);
      // MDTS is in units of CAP.MPSMIN (4 KiB for nvmemu's controllers).
      this.#mdtsBytes = mdts === 0 ? 0 : 4096 * 2 ** mdts;
    }
    return this.#mdtsBytes;
  }
}

/**
 * One namespace of an {@link NvmeController}: block I/O with LBAs in the namespace's block size.
 * Data-moving methods split requests at MDTS and at 65536 blocks, as a driver does.
 */
export class NvmeNamespace {
  /** The controller this namespace is reached through. */
  readonly controller: NvmeController;
  /** The namespace ID. */
  readonly nsid: number;
  #info: NamespaceInfo | undefined;

  /** @internal Use `controller.namespace(nsid)`. */
  constructor(controller: NvmeController, nsid: number) {
    this.controller = controller;
    this.nsid = nsid;
  }

  /** Identify Namespace (and, for a zoned namespace, its zone size), decoded. */
  async info(): Promise<NamespaceInfo> {
    const c = this.controller;
    const id = await c.identify(0x00, this.nsid);
    const nsze = readU64le(id, 0);
    if (nsze === 0n) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_NOT_FOUND,
        `namespace ${this.nsid} is not attached to controller '${c.id}'`,
      );
    }
    const flbas = readU8(id, 26);
    const lbaf = (flbas & 0xf) | (((flbas >> 5) & 0x3) << 4);
    const blockSize = 2 ** readU8(id, 130 + 4 * lbaf);
    const metadataSize = readU16le(id, 128 + 4 * lbaf);
    const zoned = await this.#isZoned();
    let zoneSize: bigint | undefined;
    if (zoned) {
      // I/O Command Set specific Identify Namespace (CNS 05h, CSI 02h): LBAFE[lbaf].ZSZE.
      const z = await c.identify(0x05, this.nsid, 0x02);
      zoneSize = readU64le(z, 2816 + 16 * lbaf);
    }
    this.#info = {
      nsid: this.nsid,
      blockSize,
      metadataSize,
      blocks: nsze,
      capacity: readU64le(id, 8),
      used: readU64le(id, 16),
      zoned,
      zoneSize,
    };
    return this.#info;
  }

  async #isZoned(): Promise<boolean> {
    // Namespace Identification Descriptor list (CNS 03h): NIDT 04h carries the CSI.
    const d = await this.controller.identify(0x03, this.nsid);
    for (let off = 0; off + 4 <= d.length;) {
      const nidt = readU8(d, off);
      const nidl = readU8(d, off + 1);
      if (nidt === 0 || nidl === 0) break;
      if (nidt === 4) return readU8(d, off + 4) === 0x02;
      off += 4 + nidl;
    }
    return false;
  }

  async #blockSize(): Promise<number> {
    return (this.#info ?? (await this.info())).blockSize;
  }

  /** Blocks per command: MDTS and the 16-bit NLB field both bound it. */
  async #chunkBlocks(bs: number): Promise<number> {
    const mdts = await this.controller.maxTransferBytes();
    return mdts === 0 ? MAX_NLB : Math.max(1, Math.min(MAX_NLB, Math.floor(mdts / bs)));
  }

  /** Reads `count` blocks from `lba`. Throws {@link NvmeCommandError} on a failed command. */
  async read(lba: number | bigint, count: number): Promise<Uint8Array> {
    const start = checkLba(lba, 'read');
    checkCount(count, 'read');
    const bs = await this.#blockSize();
    const out = new Uint8Array(count * bs);
    const chunk = await this.#chunkBlocks(bs);
    for (let done = 0; done < count; done += chunk) {
      const n = Math.min(chunk, count - done);
      const at = start + BigInt(done);
      await ok(
        `Read LBA ${at}`,
        this.controller.submit(
          { opcode: IoOpc.READ, nsid: this.nsid, ...lbaDwords(at), cdw12: n - 1 },
          out.subarray(done * bs, (done + n) * bs),
        ),
      );
    }
    return out;
  }

  /**
   * Writes `data` (a whole number of blocks) at `lba`. Without `fua` the data may sit in the
   * namespace's volatile write cache until {@link flush}: a power cut can lose it.
   */
  async write(lba: number | bigint, data: Uint8Array, opts: WriteOptions = {}): Promise<void> {
    const start = checkLba(lba, 'write');
    const bs = await this.#blockSize();
    if (data.length === 0 || data.length % bs !== 0) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_ARGUMENT,
        `write: ${data.length} bytes is not a whole number of ${bs}-byte blocks`,
      );
    }
    const count = data.length / bs;
    const chunk = await this.#chunkBlocks(bs);
    const fua = opts.fua === true ? 1 << 30 : 0;
    for (let done = 0; done < count; done += chunk) {
      const n = Math.min(chunk, count - done);
      const at = start + BigInt(done);
      await ok(
        `Write LBA ${at}`,
        this.controller.submit(
          { opcode: IoOpc.WRITE, nsid: this.nsid, ...lbaDwords(at), cdw12: (n - 1) | fua },
          data.subarray(done * bs, (done + n) * bs),
        ),
      );
    }
  }

  /** Flush (I/O 00h): everything written before is durable when it resolves. */
  async flush(): Promise<void> {
    await ok('Flush', this.controller.submit({ opcode: IoOpc.FLUSH, nsid: this.nsid }));
  }

  /** Write Zeroes (I/O 08h) of `count` blocks from `lba`. */
  async writeZeroes(lba: number | bigint, count: number): Promise<void> {
    const start = checkLba(lba, 'writeZeroes');
    checkCount(count, 'writeZeroes');
    for (let done = 0; done < count; done += MAX_NLB) {
      const n = Math.min(MAX_NLB, count - done);
      const at = start + BigInt(done);
      await ok(
        `Write Zeroes LBA ${at}`,
        this.controller.submit({
          opcode: IoOpc.WRITE_ZEROES,
          nsid: this.nsid,
          ...lbaDwords(at),
          cdw12: n - 1,
        }),
      );
    }
  }

  /** Dataset Management, Deallocate (I/O 09h, AD): `count` blocks from `lba` become unwritten. */
  async deallocate(lba: number | bigint, count: number): Promise<void> {
    const start = checkLba(lba, 'deallocate');
    checkCount(count, 'deallocate');
    if (count > 0xffff_ffff) {
      throw new NvmemuError(NvmemuErrorCode.EMU_ERR_ARGUMENT, 'deallocate: too many blocks');
    }
    // One range descriptor (NVM Command Set 1.0 Figure 39): context, length, starting LBA.
    const range = new Uint8Array(16);
    writeU32le(range, 4, count);
    writeU64le(range, 8, start);
    await ok(
      'Dataset Management',
      this.controller.submit(
        { opcode: IoOpc.DSM, nsid: this.nsid, cdw10: 0, cdw11: 1 << 2 },
        range,
      ),
    );
  }

  /**
   * Submits any I/O command for this namespace (its `nsid` is filled in) and resolves with the
   * completion, whatever its status.
   */
  submit(cmd: CmdInit, data?: Uint8Array, meta?: Uint8Array): Promise<Cqe> {
    return this.controller.submit({ ...cmd, nsid: this.nsid }, data, meta);
  }

  /** Report Zones (Zone Management Receive, ZNS 1.1 §4.4): every zone of the namespace. */
  async zones(): Promise<ZoneInfo[]> {
    const out: ZoneInfo[] = [];
    const PER_CALL = 63; // 64-byte header + 63 descriptors = 4 KiB per command
    let next = 0n;
    for (;;) {
      const buf = new Uint8Array(64 * (PER_CALL + 1));
      await ok(
        'Report Zones',
        this.controller.submit(
          {
            opcode: IoOpc.ZONE_MGMT_RECV,
            nsid: this.nsid,
            ...lbaDwords(next),
            cdw12: buf.length / 4 - 1,
            // ZRA 00h Report Zones, ZRASF 00h all zones, Partial Report: count only these.
            cdw13: 1 << 16,
          },
          buf,
        ),
      );
      const n = Number(readU64le(buf, 0));
      for (let i = 0; i < n; i++) {
        const d = 64 * (i + 1);
        out.push({
          state: ZONE_STATES[readU8(buf, d + 1) >> 4] ?? 'offline',
          capacity: readU64le(buf, d + 8),
          start: readU64le(buf, d + 16),
          writePointer: readU64le(buf, d + 24),
        });
      }
      const last = out.at(-1);
      if (n < PER_CALL || last === undefined) return out;
      const info = this.#info ?? (await this.info());
      next = last.start + (info.zoneSize ?? 1n);
      if (next >= info.blocks) return out;
    }
  }

  /**
   * Zone Append (ZNS 1.1 §4.3): writes `data` at the zone's write pointer and resolves with the
   * LBA the controller chose.
   */
  async zoneAppend(zoneStart: number | bigint, data: Uint8Array): Promise<bigint> {
    const zslba = checkLba(zoneStart, 'zoneAppend');
    const bs = await this.#blockSize();
    if (data.length === 0 || data.length % bs !== 0) {
      throw new NvmemuError(
        NvmemuErrorCode.EMU_ERR_ARGUMENT,
        `zoneAppend: ${data.length} bytes is not a whole number of ${bs}-byte blocks`,
      );
    }
    const cqe = await ok(
      `Zone Append to zone ${zslba}`,
      this.controller.submit(
        {
          opcode: IoOpc.ZONE_APPEND,
          nsid: this.nsid,
          ...lbaDwords(zslba),
          cdw12: data.length / bs - 1,
        },
        data,
      ),
    );
    return (BigInt(cqe.dw1) << 32n) | BigInt(cqe.dw0);
  }

  /** Zone Management Send with one action on the zone at `zoneStart`, or on all zones. */
  async zoneAction(
    action: keyof typeof ZoneAction,
    zoneStart: number | bigint | 'all',
  ): Promise<void> {
    const all = zoneStart === 'all';
    const zslba = all ? 0n : checkLba(zoneStart, `zone ${action}`);
    await ok(
      `Zone ${action}`,
      this.controller.submit({
        opcode: IoOpc.ZONE_MGMT_SEND,
        nsid: this.nsid,
        ...lbaDwords(zslba),
        cdw13: ZoneAction[action] | (all ? 1 << 8 : 0),
      }),
    );
  }
}
