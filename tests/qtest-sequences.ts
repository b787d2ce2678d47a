// Register-level sequences in the spirit of QEMU's tests/qtest/nvme-test.c, written once against
// the userspace driver so they run on nvmemu (InProcessBus) and on QEMU 7.2 (QtestBus). Each
// returns a trace of "label = value" lines; the differential test compares the traces.

import { readU16le, readU32le, readU64le, writeU32le, writeU64le } from '../src/util/bytes.js';
import type { NvmeDriver } from '../src/nvme/driver/index.js';
import { AdminOpc } from '../src/nvme/spec/opcodes.js';

export type Trace = string[];
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

async function cfg(d: NvmeDriver, t: Trace, off: number, size: 1 | 2 | 4 = 4): Promise<void> {
  t.push(`cfg[${hex(off)}]/${size} = ${hex(await d.cfgRead(off, size))}`);
}

/** PCI identity, capability chain, BAR sizing and writable bits (reference §2.1). */
export async function configSpace(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  for (const off of [0x00, 0x08, 0x0c, 0x2c, 0x34, 0x3c]) await cfg(d, t, off);
  for (const off of [0x40, 0x44, 0x48, 0x60, 0x64, 0x80, 0x84, 0x8c, 0xa4, 0x100, 0x104]) {
    await cfg(d, t, off);
  }
  // BAR sizing: all ones, read back, restore.
  for (const off of [0x10, 0x14, 0x18, 0x1c]) {
    const old = await d.cfgRead(off, 4);
    await d.cfgWrite(off, 4, 0xffff_ffff);
    await cfg(d, t, off);
    await d.cfgWrite(off, 4, old);
  }
  const cmd = await d.cfgRead(0x04, 2);
  await d.cfgWrite(0x04, 2, 0xffff);
  await cfg(d, t, 0x04, 2);
  await d.cfgWrite(0x04, 2, cmd);
  // Read-only identity.
  await d.cfgWrite(0x00, 4, 0);
  await cfg(d, t, 0x00);
  return t;
}

async function reg(d: NvmeDriver, t: Trace, off: number, size: 4 | 8 = 4): Promise<void> {
  t.push(
    `bar0[${hex(off)}]/${size} = ${hex(size === 8 ? await d.reg64(off) : await d.reg32(off))}`,
  );
}

/** Every register read and write (reference §2.2), 32- and 64-bit, sub-dword accesses. */
export async function registers(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  await reg(d, t, 0x00, 8);
  await reg(d, t, 0x00);
  await reg(d, t, 0x04);
  await reg(d, t, 0x08);
  t.push(`cap byte 1 = ${hex(await d.bus.read(d.bar0 + 1n, 1))}`);
  t.push(`cap word 2 = ${hex(await d.bus.read(d.bar0 + 2n, 2))}`);
  // Read-only registers ignore writes.
  await d.setReg32(0x00, 0);
  await d.setReg32(0x08, 0);
  await d.setReg32(0x1c, 0xffff_ffff);
  await reg(d, t, 0x00);
  await reg(d, t, 0x08);
  await reg(d, t, 0x1c);
  // INTMS/INTMC: one mask, set and clear.
  await d.setReg32(0x0c, 0x5);
  await reg(d, t, 0x0c);
  await reg(d, t, 0x10);
  await d.setReg32(0x10, 0x1);
  await reg(d, t, 0x0c);
  await reg(d, t, 0x10);
  await d.setReg32(0x10, 0xffff_ffff);
  // AQA/ASQ/ACQ stored (32-bit halves and 64-bit).
  await d.setReg32(0x24, 0x001f_001f);
  await d.setReg32(0x28, 0x1234_5000);
  await d.setReg32(0x2c, 0x1);
  await d.setReg64(0x30, 0x2_6789_a000n);
  await reg(d, t, 0x24);
  await reg(d, t, 0x28, 8);
  await reg(d, t, 0x30, 8);
  await reg(d, t, 0x34);
  // NSSR "NVMe" is unsupported: nothing happens, reads 0.
  await d.setReg32(0x20, 0x4e56_4d65);
  await reg(d, t, 0x20);
  await reg(d, t, 0x1c);
  // CMB and PMR registers without CMB/PMR, reserved space, doorbells.
  for (const off of [0x38, 0x3c, 0x40, 0x50, 0x58, 0xe00, 0xe08, 0xf00, 0xffc, 0x1000, 0x1004]) {
    await reg(d, t, off);
  }
  // CC stored verbatim while disabled (no EN).
  await d.setReg32(0x14, 0x0046_0000);
  await reg(d, t, 0x14);
  await reg(d, t, 0x1c);
  await d.setReg32(0x14, 0);
  return t;
}

/** Enable failures and successes, disable, shutdown (reference §2.3, §2.4). */
export async function enableSequences(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  const cc = (f: { css?: number; mps?: number; sq?: number; cq?: number }): number =>
    1 | ((f.css ?? 0) << 4) | ((f.mps ?? 0) << 7) | ((f.sq ?? 6) << 16) | ((f.cq ?? 4) << 20);
  const attempt = async (
    label: string,
    ccv: number,
    aqa = 0x001f_001f,
    asq = 0x10_0000n,
    acq = 0x11_0000n,
  ): Promise<void> => {
    await d.setReg32(0x24, aqa);
    await d.setReg64(0x28, asq);
    await d.setReg64(0x30, acq);
    await d.setReg32(0x14, ccv);
    t.push(`${label}: csts = ${hex(await d.waitCsts((c) => (c & 3) !== 0, 500))}`);
    await d.setReg32(0x14, 0);
    t.push(`${label}: after disable csts = ${hex(await d.waitCsts((c) => (c & 1) === 0, 500))}`);
  };
  await attempt('asqs 0', cc({}), 0x001f_0000);
  await attempt('acqs 0', cc({}), 0x0000_001f);
  await attempt('asq misaligned', cc({}), 0x001f_001f, 0x10_0800n);
  await attempt('acq misaligned', cc({}), 0x001f_001f, 0x10_0000n, 0x11_0010n);
  await attempt('css 1', cc({ css: 1 }));
  await attempt('css 7', cc({ css: 7 }));
  await attempt('css 6', cc({ css: 6 }));
  await attempt('mps 5', cc({ mps: 5 }));
  await attempt('mps 4 (asq 64K aligned)', cc({ mps: 4 }), 0x001f_001f, 0x20_0000n, 0x30_0000n);
  await attempt('iosqes 7', cc({ sq: 7 }));
  await attempt('iocqes 3', cc({ cq: 3 }));
  await attempt('good', cc({}));
  await reg(d, t, 0x24);
  await reg(d, t, 0x28, 8);
  await reg(d, t, 0x14);
  // Enable, shutdown, clear shutdown, disable.
  await d.setReg32(0x14, cc({}));
  t.push(`enabled csts = ${hex(await d.waitCsts((c) => (c & 3) !== 0))}`);
  await d.setReg32(0x14, cc({}) | (1 << 14));
  t.push(`shn 1 csts = ${hex(await d.waitCsts((c) => (c & 0xc) === 8))}`);
  await reg(d, t, 0x14);
  await d.setReg32(0x14, cc({}));
  t.push(`shn 0 csts = ${hex(await d.reg32(0x1c))}`);
  await d.setReg32(0x14, 0);
  t.push(`disabled csts = ${hex(await d.waitCsts((c) => (c & 1) === 0))}`);
  await reg(d, t, 0x14);
  return t;
}

const cqeLine = (label: string, c: { status: number; dw0: number }): string =>
  `${label}: status ${hex(c.status)} dw0 ${hex(c.dw0)}`;

/** Queue creation/deletion statuses, doorbell misuse reported through AER (§2.5, §3.2). */
export async function queuesAndDoorbells(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  t.push(`enable csts = ${hex(await d.enable({ depth: 16 }))}`);
  const cq = async (label: string, cdw10: number, cdw11: number, prp1 = 0x40_0000n) =>
    t.push(cqeLine(label, await d.command(0, { opcode: AdminOpc.CREATE_CQ, prp1, cdw10, cdw11 })));
  const sq = async (label: string, cdw10: number, cdw11: number, prp1 = 0x41_0000n) =>
    t.push(cqeLine(label, await d.command(0, { opcode: AdminOpc.CREATE_SQ, prp1, cdw10, cdw11 })));
  await cq('cq qid 0', (15 << 16) | 0, 1);
  await cq('cq qid 65', (15 << 16) | 65, 1);
  await cq('cq qsize 0', (0 << 16) | 1, 1);
  await cq('cq qsize 0x800', (0x800 << 16) | 1, 1);
  await cq('cq prp misaligned', (15 << 16) | 1, 1, 0x40_0008n);
  await cq('cq vector with msix off', (15 << 16) | 1, (1 << 16) | 3);
  await cq('cq vector 65', (15 << 16) | 1, (65 << 16) | 3);
  await cq('cq pc 0', (15 << 16) | 1, 0);
  await cq('cq ok', (15 << 16) | 1, 1);
  await cq('cq exists', (15 << 16) | 1, 1);
  await sq('sq cqid 0', (15 << 16) | 1, 1);
  await sq('sq cqid 2', (15 << 16) | 1, (2 << 16) | 1);
  await sq('sq qid 0', (15 << 16) | 0, (1 << 16) | 1);
  await sq('sq qsize 0', (0 << 16) | 1, (1 << 16) | 1);
  await sq('sq prp misaligned', (15 << 16) | 1, (1 << 16) | 1, 0x41_0004n);
  await sq('sq pc 0', (15 << 16) | 1, 1 << 16);
  await sq('sq ok', (15 << 16) | 1, (1 << 16) | 1);
  const del = async (label: string, opcode: number, qid: number) =>
    t.push(cqeLine(label, await d.command(0, { opcode, cdw10: qid })));
  await del('delete cq with sq', AdminOpc.DELETE_CQ, 1);
  await del('delete sq 0', AdminOpc.DELETE_SQ, 0);
  await del('delete sq 9', AdminOpc.DELETE_SQ, 9);
  await del('delete cq 9', AdminOpc.DELETE_CQ, 9);
  const nq = await d.command(0, { opcode: AdminOpc.SET_FEATURES, cdw10: 7, cdw11: 0x00ff_00ff });
  t.push(cqeLine('set nq after queues', nq));
  // Doorbell misuse with one AER outstanding: unknown SQ doorbell.
  const aer = await d.submit(0, { opcode: AdminOpc.ASYNC_EVENT_REQ });
  await d.setReg32(d.sqDoorbell(7), 1);
  t.push(cqeLine('aer after sq7 doorbell', await d.wait(0, aer)));
  // Reading the Error log with RAE=0 unmasks Error events; a bad value is then reported.
  const log = await d.admin({ opcode: AdminOpc.GET_LOG_PAGE, cdw10: (15 << 16) | 1 }, { len: 64 });
  t.push(cqeLine('error log read', log.cqe));
  const aer2 = await d.submit(0, { opcode: AdminOpc.ASYNC_EVENT_REQ });
  await d.setReg32(d.sqDoorbell(1), 16);
  t.push(cqeLine('aer after bad sq1 value', await d.wait(0, aer2)));
  // A doorbell value within range but for a CQ with nothing posted is accepted silently.
  await d.setReg32(d.cqDoorbell(1), 0);
  await del('delete sq 1', AdminOpc.DELETE_SQ, 1);
  await del('delete cq 1', AdminOpc.DELETE_CQ, 1);
  return t;
}

/** Identify Controller bytes and data pointer edge cases on admin commands (§2.5, §2.6). */
export async function prpEdges(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  t.push(`enable csts = ${hex(await d.enable({ depth: 16 }))}`);
  const id = await d.identify(1);
  const words: string[] = [];
  for (let i = 0; i < 4096; i += 4) {
    if (i >= 64 && i < 72) continue; // FR: QEMU's version string vs nvmemu's
    const w = readU32le(id.data, i);
    if (w !== 0) words.push(`${hex(i)}:${hex(w)}`);
  }
  t.push(`identify ${hex(id.cqe.status)} ${words.join(' ')}`);
  const ident = async (label: string, prp1: bigint, prp2: bigint, flags = 0): Promise<void> => {
    const c = await d.command(0, { opcode: AdminOpc.IDENTIFY, cdw10: 1, prp1, prp2, psdt: flags });
    t.push(cqeLine(label, c));
  };
  const page = await d.buffer(3 * 4096);
  await ident('prp1 offset 0x800, prp2 aligned', page.addr + 0x800n, page.addr + 0x1000n);
  await ident('prp1 offset 0x800, prp2 misaligned', page.addr + 0x800n, page.addr + 0x1010n);
  await ident('prp1 aligned, prp2 garbage unused', page.addr, 0xdead_beefn);
  await ident('prp1 in bar0', d.bar0, 0n);
  await ident('prp1 beyond ram', 0x7fff_f000_0000n, 0n);
  await ident('psdt 1 on admin', page.addr, 0n, 1);
  await ident('psdt 3 on admin', page.addr, 0n, 3);
  // A log page spanning a PRP list: 3 pages of the Commands Supported and Effects log.
  const list = await d.buffer(4096);
  const pages = await d.buffer(3 * 4096);
  const ents = new Uint8Array(16);
  writeU64le(ents, 0, pages.addr + 0x1000n);
  writeU64le(ents, 8, pages.addr + 0x2000n);
  await d.bus.memWrite(list.addr, ents);
  const numd = (3 * 4096) / 4 - 1;
  const effects = await d.command(0, {
    opcode: AdminOpc.GET_LOG_PAGE,
    cdw10: ((numd & 0xffff) << 16) | 5,
    prp1: pages.addr + 0x800n,
    prp2: list.addr,
  });
  t.push(cqeLine('effects log over a prp list', effects));
  const misaligned = new Uint8Array(8);
  writeU64le(misaligned, 0, pages.addr + 0x1004n);
  await d.bus.memWrite(list.addr, misaligned);
  const bad = await d.command(0, {
    opcode: AdminOpc.GET_LOG_PAGE,
    cdw10: ((numd & 0xffff) << 16) | 5,
    prp1: pages.addr + 0x800n,
    prp2: list.addr,
  });
  t.push(cqeLine('prp list entry misaligned', bad));
  const unreadable = await d.command(0, {
    opcode: AdminOpc.GET_LOG_PAGE,
    cdw10: ((numd & 0xffff) << 16) | 5,
    prp1: pages.addr,
    prp2: 0x7fff_f000_0000n,
  });
  t.push(cqeLine('prp list unreadable', unreadable));
  return t;
}

/** I/O with PRPs and SGLs on namespace 1 (needs a 512-byte LBA namespace). */
export async function ioEdges(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  t.push(`enable csts = ${hex(await d.enable({ depth: 16 }))}`);
  const r = await d.createIoQueuePair(1, 16);
  t.push(cqeLine('create cq', r.cq));
  const data = new Uint8Array(8192).map((_, i) => (i * 7 + 3) & 0xff);
  const buf = await d.buffer(8192, data);
  const w = await d.command(1, {
    opcode: 0x01,
    nsid: 1,
    prp1: buf.prp1,
    prp2: buf.prp2,
    cdw12: 15,
  });
  t.push(cqeLine('write 16 blocks prp', w));
  const rb = await d.buffer(8192);
  const rd = await d.command(1, { opcode: 0x02, nsid: 1, prp1: rb.prp1, prp2: rb.prp2, cdw12: 15 });
  t.push(cqeLine('read 16 blocks prp', rd));
  const back = await d.bus.memRead(rb.addr, 8192);
  t.push(`read data equal = ${String(Buffer.compare(back, data) === 0)}`);
  // SGL: one data block descriptor.
  const sgl = async (label: string, desc: Uint8Array, nlb = 15): Promise<void> => {
    const c = await d.command(1, { opcode: 0x02, nsid: 1, psdt: 1, dptr: desc, cdw12: nlb });
    t.push(cqeLine(label, c));
  };
  const dd = (addr: bigint, len: number, type: number): Uint8Array => {
    const b = new Uint8Array(16);
    writeU64le(b, 0, addr);
    writeU32le(b, 8, len);
    b[15] = type << 4;
    return b;
  };
  const sb = await d.buffer(8192);
  await sgl('sgl data block', dd(sb.addr, 8192, 0));
  await sgl('sgl data block short', dd(sb.addr, 4096, 0));
  await sgl('sgl bit bucket first', dd(sb.addr, 8192, 1));
  await sgl('sgl keyed type', dd(sb.addr, 8192, 4));
  // Segment with two data blocks.
  const seg = await d.buffer(4096);
  const segBytes = new Uint8Array(32);
  segBytes.set(dd(sb.addr, 4096, 0), 0);
  segBytes.set(dd(sb.addr + 4096n, 4096, 0), 16);
  await d.bus.memWrite(seg.addr, segBytes);
  await sgl('sgl last segment of 2 data blocks', dd(seg.addr, 32, 3));
  await sgl('sgl segment length 8', dd(seg.addr, 8, 3));
  await sgl('sgl segment length 0', dd(seg.addr, 0, 2));
  // A segment whose descriptors include a segment before the end.
  const nested = new Uint8Array(32);
  nested.set(dd(seg.addr, 32, 2), 0);
  nested.set(dd(sb.addr, 8192, 0), 16);
  await d.bus.memWrite(seg.addr + 0x100n, nested);
  await sgl('sgl segment inside data list', dd(seg.addr + 0x100n, 32, 3));
  // Excess: data beyond the transfer.
  const excess = new Uint8Array(32);
  excess.set(dd(sb.addr, 8192, 0), 0);
  excess.set(dd(sb.addr, 512, 0), 16);
  await d.bus.memWrite(seg.addr + 0x200n, excess);
  await sgl('sgl excess descriptor', dd(seg.addr + 0x200n, 32, 3));
  // Last segment not ending in data: points on to another segment.
  const chain = new Uint8Array(16);
  chain.set(dd(seg.addr, 32, 3), 0);
  await d.bus.memWrite(seg.addr + 0x300n, chain);
  await sgl('sgl last segment ending in segment', dd(seg.addr + 0x300n, 16, 3));
  await sgl('sgl segment ending in last segment', dd(seg.addr + 0x300n, 16, 2));
  const psdt3 = await d.command(1, { opcode: 0x02, nsid: 1, psdt: 3, prp1: sb.addr, cdw12: 0 });
  t.push(cqeLine('psdt 3 on read', psdt3));
  const prpBar = await d.command(1, { opcode: 0x02, nsid: 1, prp1: d.bar0, cdw12: 0 });
  t.push(cqeLine('read into bar0', prpBar));
  return t;
}

/** CMB (cmb_size_mb=2): registers before/after CMBMSC, BAR2 access at the edges (§11). */
export async function cmbSequence(d: NvmeDriver, bar2: bigint): Promise<Trace> {
  const t: Trace = [];
  await reg(d, t, 0x00, 8);
  await reg(d, t, 0x38);
  await reg(d, t, 0x3c);
  await d.setReg64(0x50, 0x1n);
  await reg(d, t, 0x38);
  await reg(d, t, 0x3c);
  await d.setReg32(0x38, 0);
  await reg(d, t, 0x38);
  const size = 2n << 20n;
  await d.bus.write(bar2, 4, 0x1122_3344n);
  t.push(`cmb byte 0 = ${hex(await d.bus.read(bar2, 1))}`);
  t.push(`cmb word 1 = ${hex(await d.bus.read(bar2 + 1n, 2))}`);
  t.push(`cmb qword 0 = ${hex(await d.bus.read(bar2, 8))}`);
  await d.bus.write(bar2 + size - 1n, 4, 0x5566_7788n);
  t.push(`cmb last byte = ${hex(await d.bus.read(bar2 + size - 1n, 1))}`);
  t.push(`cmb last word = ${hex(await d.bus.read(bar2 + size - 1n, 2))}`);
  t.push(`cmb last dword = ${hex(await d.bus.read(bar2 + size - 1n, 4))}`);
  // Controller addressing: CMSE with CBA = the BAR address; an SQ in the CMB.
  await d.setReg64(0x50, bar2 | 0x3n);
  await reg(d, t, 0x50, 8);
  await reg(d, t, 0x58);
  // Admin SQ in the CMB, CQ in RAM.
  await d.setReg32(0x24, 0x000f_000f);
  await d.setReg64(0x28, bar2 + 0x10_0000n);
  await d.setReg64(0x30, 0x50_0000n);
  await d.bus.memWrite(0x50_0000n, new Uint8Array(256));
  await d.setReg32(0x14, 1 | (6 << 16) | (4 << 20));
  t.push(`enable with sq in cmb csts = ${hex(await d.waitCsts((c) => (c & 3) !== 0))}`);
  // Identify via the SQ in the CMB, data buffer in the CMB.
  const sqe = new Uint8Array(64);
  sqe[0] = 0x06;
  sqe[2] = 0x42;
  writeU64le(sqe, 24, bar2 + 0x2000n);
  writeU32le(sqe, 40, 1);
  for (let i = 0; i < 64; i += 8) {
    await d.bus.write(bar2 + 0x10_0000n + BigInt(i), 8, readU64le(sqe, i));
  }
  await d.setReg32(0x1000, 1);
  let cqe: Uint8Array = new Uint8Array(16);
  for (let i = 0; i < 200; i++) {
    cqe = await d.bus.memRead(0x50_0000n, 16);
    if ((cqe[14]! & 1) === 1) break;
    await d.bus.idle();
  }
  t.push(`cqe via cmb sq: cid ${hex(cqe[12]!)} status ${hex(readU16le(cqe, 14))}`);
  t.push(`identify in cmb: vid ${hex(await d.bus.read(bar2 + 0x2000n, 2))}`);
  // Mixing CMB and host memory: PRP1 in the CMB, PRP2 in RAM.
  sqe[2] = 0x43;
  writeU64le(sqe, 24, bar2 + 0x2800n);
  writeU64le(sqe, 32, 0x60_0000n);
  for (let i = 0; i < 64; i += 8) {
    await d.bus.write(bar2 + 0x10_0040n + BigInt(i), 8, readU64le(sqe, i));
  }
  await d.setReg32(0x1000, 2);
  for (let i = 0; i < 200; i++) {
    cqe = await d.bus.memRead(0x50_0010n, 16);
    if ((cqe[14]! & 1) === 1) break;
    await d.bus.idle();
  }
  t.push(`mixed cmb/host: status ${hex(readU16le(cqe, 14) >> 1)}`);
  // CRE = 0 clears CMBLOC/CMBSZ.
  await d.setReg64(0x50, 0n);
  await reg(d, t, 0x38);
  await reg(d, t, 0x3c);
  return t;
}

/** An Error event raised while Error events are masked, then the log read with RAE=0. */
export async function aerQueuedWhileMasked(d: NvmeDriver): Promise<Trace> {
  const t: Trace = [];
  t.push(`enable csts = ${hex(await d.enable({ depth: 16 }))}`);
  const aer = await d.submit(0, { opcode: AdminOpc.ASYNC_EVENT_REQ });
  await d.setReg32(d.sqDoorbell(7), 1);
  t.push(cqeLine('first event', await d.wait(0, aer)));
  const aer2 = await d.submit(0, { opcode: AdminOpc.ASYNC_EVENT_REQ });
  await d.setReg32(d.sqDoorbell(8), 1);
  const log = await d.admin({ opcode: AdminOpc.GET_LOG_PAGE, cdw10: (15 << 16) | 1 }, { len: 64 });
  t.push(cqeLine('error log read', log.cqe));
  let got = 'still outstanding';
  try {
    const c = await d.wait(0, aer2, 300);
    got = `status ${hex(c.status)} dw0 ${hex(c.dw0)}`;
  } catch {
    // stays outstanding
  }
  t.push(`queued event after the log read: ${got}`);
  return t;
}
