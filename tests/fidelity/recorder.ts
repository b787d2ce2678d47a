// Submits commands through the userspace driver (src/nvme/driver) and records their answers in
// the fixture format. The same recorder runs against QEMU (QtestBus) and, in phase 2, against
// nvmemu's PCI function (InProcessBus): identical command sequences, comparable answers.

import type { NvmeDriver } from '../../src/nvme/driver/index.js';
import type { CmdInit } from '../../src/nvme/spec/command.js';
import { AdminOpc } from '../../src/nvme/spec/opcodes.js';
import { hex, trimmedHex, type Answer } from './answers.js';

/** What a command's description shows: opcode, NSID and the non-zero CDWs. */
function describe(q: number, init: CmdInit, len: number): string {
  const parts = [`${q === 0 ? 'admin' : 'io'} opc=${hex(init.opcode, 2)}`];
  if ((init.nsid ?? 0) !== 0) parts.push(`nsid=${hex(init.nsid!, 0)}`);
  for (const k of ['cdw10', 'cdw11', 'cdw12', 'cdw13', 'cdw14', 'cdw15'] as const) {
    const v = init[k] ?? 0;
    if (v !== 0) parts.push(`${k}=${hex(v >>> 0, 0)}`);
  }
  if (len > 0) parts.push(`len=${len}`);
  return parts.join(' ');
}

export interface Sent {
  readonly status: number;
  readonly dw0: number;
  readonly data: Uint8Array;
}

export class Recorder {
  readonly answers: Record<string, Answer> = {};
  readonly notes: string[] = [];

  constructor(
    readonly d: NvmeDriver,
    /** Milliseconds a command may take before it is recorded as not completed. */
    readonly timeoutMs = 5000,
  ) {}

  put(key: string, a: Answer): void {
    if (key in this.answers) throw new Error(`answer '${key}' recorded twice`);
    this.answers[key] = a;
  }

  /**
   * Submits `init` on queue `q` (0 admin, 1 the I/O queue) with a fresh zeroed buffer of `len`
   * bytes (or `fill`), waits, records status, dw0 and (on success) the buffer under `key`.
   */
  async send(
    key: string,
    q: number,
    init: CmdInit,
    len = 0,
    fill?: Uint8Array,
  ): Promise<Sent | undefined> {
    const n = Math.max(len, fill?.length ?? 0);
    const buf = n > 0 ? await this.d.buffer(n, fill) : undefined;
    const cmd = describe(q, init, n);
    let cid: number;
    try {
      cid = await this.d.submit(q, {
        ...init,
        ...(buf !== undefined ? { prp1: buf.prp1, prp2: buf.prp2 } : {}),
      });
    } catch (e) {
      this.put(key, { cmd, error: (e as Error).message });
      return undefined;
    }
    let status: number;
    let dw0: number;
    try {
      const cqe = await this.d.wait(q, cid, this.timeoutMs);
      status = cqe.status;
      dw0 = cqe.dw0;
    } catch {
      this.put(key, { cmd, error: `no completion within ${this.timeoutMs} ms` });
      return undefined;
    }
    const data = buf !== undefined ? await this.d.bus.memRead(buf.addr, n) : new Uint8Array(0);
    const a: Answer = {
      cmd,
      status: hex(status, 4),
      dw0: hex(dw0 >>> 0, 8),
      ...(buf !== undefined && fill === undefined && status === 0
        ? { len: n, data: trimmedHex(data) }
        : {}),
    };
    this.put(key, a);
    return { status, dw0, data };
  }

  /** A block of 32-bit registers [from, to) read dword by dword, stored as bytes. */
  async regs(key: string, from: number, to: number): Promise<void> {
    const out = new Uint8Array(to - from);
    for (let off = from; off < to; off += 4) {
      const v = await this.d.reg32(off);
      out[off - from] = v & 0xff;
      out[off - from + 1] = (v >>> 8) & 0xff;
      out[off - from + 2] = (v >>> 16) & 0xff;
      out[off - from + 3] = (v >>> 24) & 0xff;
    }
    this.put(key, {
      cmd: `bar0 dwords ${hex(from, 3)}..${hex(to - 1, 3)}`,
      len: out.length,
      data: trimmedHex(out),
    });
  }

  /** PCI configuration space [from, to) read dword by dword. */
  async config(key: string, from: number, to: number): Promise<void> {
    const out = new Uint8Array(to - from);
    for (let off = from; off < to; off += 4) {
      const v = await this.d.cfgRead(off, 4);
      out[off - from] = v & 0xff;
      out[off - from + 1] = (v >>> 8) & 0xff;
      out[off - from + 2] = (v >>> 16) & 0xff;
      out[off - from + 3] = (v >>> 24) & 0xff;
    }
    this.put(key, {
      cmd: `config dwords ${hex(from, 3)}..${hex(to - 1, 3)}`,
      len: out.length,
      data: trimmedHex(out),
    });
  }

  /** Get Log Page of `len` bytes (default 4 KiB) with LID, LSP, LSI, CSI and NSID (default all). */
  async log(
    key: string,
    o: { lid: number; lsp?: number; lsi?: number; csi?: number; nsid?: number; len?: number },
  ): Promise<Sent | undefined> {
    const len = o.len ?? 4096;
    const numd = len / 4 - 1;
    return this.send(
      key,
      0,
      {
        opcode: AdminOpc.GET_LOG_PAGE,
        nsid: o.nsid ?? 0xffff_ffff,
        cdw10: ((numd & 0xffff) << 16) | ((o.lsp ?? 0) << 8) | o.lid,
        cdw11: ((o.lsi ?? 0) << 16) | (numd >>> 16),
        cdw14: (o.csi ?? 0) << 24,
      },
      len,
    );
  }
}
