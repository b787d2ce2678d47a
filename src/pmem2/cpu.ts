// CPU cache-flush and non-temporal kernels (pmdk.md §2.3–2.4) for x86-64.
//
// JavaScript cannot issue CLWB/CLFLUSHOPT/SFENCE or non-temporal stores, and CACHE_LINE
// granularity is only honest with them: on a MAP_SYNC (DAX) mapping the data is persistent once
// its lines have been written back and fenced. So we assemble five tiny routines into an
// executable page at load time and call them through koffi (one FFI call per operation, ~30 ns):
//
//   flush(p, n)        write back every 64-byte line overlapping [p, p+n)   (no fence)
//   persist(p, n)      flush + SFENCE
//   fence()            SFENCE
//   ntcopy(d, s, n)    forward copy, non-temporal 16-byte stores for the 64-byte aligned middle,
//                      8-byte stores for the 8-aligned edges, bytes otherwise; the two partially
//                      written edge lines are flushed; no fence (the caller drains)
//   ntset(d, c, n)     same shape for memset
//
// Instruction choice follows PMDK's preference CLWB > CLFLUSHOPT > CLFLUSH, read from
// /proc/cpuinfo flags, with PMEM_NO_CLWB=1 / PMEM_NO_CLFLUSHOPT=1 honoured (read once, like
// PMDK's library constructor). Edge stores are 8-byte stores whenever dst and len are 8-aligned,
// which keeps PMDK's 8-byte store guarantee (§1.2).
//
// Where the kernels are unavailable (not x86-64, or the executable page is refused) `cpu` is null
// and callers fall back to msync of the page-rounded range, which the kernel implements on DAX by
// writing the dirty lines back; slower, still correct.

import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  mmap,
  view,
  PROT_EXEC,
  mprotect,
} from '../memory/libc.js';
import { envFlag } from './env.js';

export type FlushInsn = 'clwb' | 'clflushopt' | 'clflush';

export interface CpuKernels {
  readonly insn: FlushInsn;
  readonly flush: (p: number, n: number) => void;
  readonly persist: (p: number, n: number) => void;
  readonly fence: () => void;
  readonly ntcopy: (dst: number, src: number, n: number) => void;
  /** ntcopy with the source in JS memory (koffi passes the TypedArray's storage). */
  readonly ntcopyBuf: (dst: number, src: Uint8Array, n: number) => void;
  readonly ntset: (dst: number, c: number, n: number) => void;
}

type Item = number[] | { label: string } | { jump: number[]; to: string };

/** Two-pass assembler; every jump is a near (rel32) jump so layout never needs relaxation. */
function assemble(items: Item[]): number[] {
  const labels = new Map<string, number>();
  let pc = 0;
  for (const it of items) {
    if (Array.isArray(it)) pc += it.length;
    else if ('label' in it) labels.set(it.label, pc);
    else pc += it.jump.length + 4;
  }
  const out: number[] = [];
  for (const it of items) {
    if (Array.isArray(it)) out.push(...it);
    else if ('jump' in it) {
      const target = labels.get(it.to);
      if (target === undefined) throw new Error(`assembler: no label ${it.to}`);
      const rel = target - (out.length + it.jump.length + 4);
      out.push(...it.jump, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff);
    }
  }
  return out;
}

const JAE = [0x0f, 0x83];
const JB = [0x0f, 0x82];
const JZ = [0x0f, 0x84];
const JMP = [0xe9];
const SFENCE = [0x0f, 0xae, 0xf8];
const RET = [0xc3];

/** `<insn> [rdi]` and `<insn> [r8]`/`[r9]`, each padded to 5 bytes with a leading NOP. */
function flushAt(insn: FlushInsn, reg: 'rdi' | 'r8' | 'r9'): number[] {
  const rm = { rdi: 7, r8: 0, r9: 1 }[reg];
  const rex = reg === 'rdi' ? [] : [0x41];
  const op = insn === 'clwb' ? 6 : 7; // 0F AE /6 = CLWB (66), /7 = CLFLUSHOPT (66) or CLFLUSH
  const bytes = [...(insn === 'clflush' ? [] : [0x66]), ...rex, 0x0f, 0xae, (op << 3) | rm];
  while (bytes.length < 5) bytes.unshift(0x90);
  return bytes;
}

function flushLoop(insn: FlushInsn, fence: boolean): number[] {
  return assemble([
    [0x48, 0x01, 0xfe], // add rsi, rdi        (end)
    [0x48, 0x83, 0xe7, 0xc0], // and rdi, -64
    { label: 'loop' },
    [0x48, 0x39, 0xf7], // cmp rdi, rsi
    { jump: JAE, to: 'done' },
    flushAt(insn, 'rdi'),
    [0x48, 0x83, 0xc7, 0x40], // add rdi, 64
    { jump: JMP, to: 'loop' },
    { label: 'done' },
    fence ? SFENCE : [],
    RET,
  ]);
}

/** Shared skeleton of ntcopy/ntset; `load*` are empty for set (value already in rax/xmm0). */
function ntLoop(insn: FlushInsn, set: boolean): number[] {
  const ldB = set ? [] : [0x8a, 0x06]; // mov al, [rsi]
  const ldQ = set ? [] : [0x48, 0x8b, 0x06]; // mov rax, [rsi]
  const adv = (n: number): number[] => [
    ...(set ? [] : [0x48, 0x83, 0xc6, n]), // add rsi, n
    ...[0x48, 0x83, 0xc7, n], // add rdi, n
    ...[0x48, 0x83, 0xea, n], // sub rdx, n
  ];
  const advB = [...(set ? [] : [0x48, 0xff, 0xc6]), 0x48, 0xff, 0xc7, 0x48, 0xff, 0xca];
  const body = set
    ? []
    : [
        ...[0xf3, 0x0f, 0x6f, 0x06], // movdqu xmm0, [rsi]
        ...[0xf3, 0x0f, 0x6f, 0x4e, 0x10], // movdqu xmm1, [rsi+16]
        ...[0xf3, 0x0f, 0x6f, 0x56, 0x20], // movdqu xmm2, [rsi+32]
        ...[0xf3, 0x0f, 0x6f, 0x5e, 0x30], // movdqu xmm3, [rsi+48]
      ];
  const x = set ? [0, 0, 0, 0] : [0, 1, 2, 3];
  const stores = [
    ...[0x66, 0x0f, 0xe7, 0x07 | (x[0]! << 3)], // movntdq [rdi], xmmA
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[1]! << 3), 0x10], // movntdq [rdi+16], xmmB
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[2]! << 3), 0x20],
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[3]! << 3), 0x30],
  ];
  const prologue = set
    ? [
        ...[0x40, 0x0f, 0xb6, 0xc6], // movzx eax, sil
        ...[0x48, 0xb9, 1, 1, 1, 1, 1, 1, 1, 1], // mov rcx, 0x0101010101010101
        ...[0x48, 0x0f, 0xaf, 0xc1], // imul rax, rcx
        ...[0x66, 0x48, 0x0f, 0x6e, 0xc0], // movq xmm0, rax
        ...[0x66, 0x0f, 0x6c, 0xc0], // punpcklqdq xmm0, xmm0
      ]
    : [];
  return assemble([
    prologue,
    [0x49, 0x89, 0xf8], // mov r8, rdi
    [0x4c, 0x8d, 0x0c, 0x17], // lea r9, [rdi+rdx]
    { label: 'headB' },
    [0x40, 0xf6, 0xc7, 0x07], // test dil, 7
    { jump: JZ, to: 'headQ' },
    [0x48, 0x85, 0xd2], // test rdx, rdx
    { jump: JZ, to: 'edges' },
    [...ldB, 0x88, 0x07, ...advB], // [mov al,[rsi]]; mov [rdi], al; advance 1
    { jump: JMP, to: 'headB' },
    { label: 'headQ' },
    [0x40, 0xf6, 0xc7, 0x3f], // test dil, 63
    { jump: JZ, to: 'body' },
    [0x48, 0x83, 0xfa, 0x08], // cmp rdx, 8
    { jump: JB, to: 'tailB' },
    [...ldQ, 0x48, 0x89, 0x07, ...adv(8)], // [mov rax,[rsi]]; mov [rdi], rax; advance 8
    { jump: JMP, to: 'headQ' },
    { label: 'body' },
    [0x48, 0x83, 0xfa, 0x40], // cmp rdx, 64
    { jump: JB, to: 'tailQ' },
    [...body, ...stores, ...adv(64)],
    { jump: JMP, to: 'body' },
    { label: 'tailQ' },
    [0x48, 0x83, 0xfa, 0x08], // cmp rdx, 8
    { jump: JB, to: 'tailB' },
    [...ldQ, 0x48, 0x89, 0x07, ...adv(8)],
    { jump: JMP, to: 'tailQ' },
    { label: 'tailB' },
    [0x48, 0x85, 0xd2], // test rdx, rdx
    { jump: JZ, to: 'edges' },
    [...ldB, 0x88, 0x07, ...advB],
    { jump: JMP, to: 'tailB' },
    { label: 'edges' },
    [0x4d, 0x39, 0xc8], // cmp r8, r9
    { jump: JAE, to: 'done' },
    [0x49, 0x83, 0xe0, 0xc0], // and r8, -64
    flushAt(insn, 'r8'),
    [0x49, 0xff, 0xc9], // dec r9
    [0x49, 0x83, 0xe1, 0xc0], // and r9, -64
    flushAt(insn, 'r9'),
    { label: 'done' },
    RET,
  ]);
}

function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    return new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** The flush instruction PMDK would pick (pmdk.md §2.4), or null without CLFLUSH. */
export function pickFlushInsn(flags: Set<string>, env: NodeJS.ProcessEnv): FlushInsn | null {
  if (flags.has('clwb') && !envFlag(env, 'PMEM_NO_CLWB')) return 'clwb';
  if (flags.has('clflushopt') && !envFlag(env, 'PMEM_NO_CLFLUSHOPT')) return 'clflushopt';
  return flags.has('clflush') ? 'clflush' : null;
}

function build(): CpuKernels | null {
  if (process.arch !== 'x64') return null;
  const flags = cpuFlags();
  const insn = pickFlushInsn(flags, process.env);
  if (insn === null || !flags.has('sse2')) return null;
  const parts = [
    flushLoop(insn, false),
    flushLoop(insn, true),
    [...SFENCE, ...RET],
    ntLoop(insn, false),
    ntLoop(insn, true),
  ];
  try {
    const page = mmap(4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const mem = new Uint8Array(view(page, 4096));
    const offs: number[] = [];
    let at = 0;
    for (const p of parts) {
      offs.push(at);
      mem.set(p, at);
      at += (p.length + 15) & ~15;
    }
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) !== 0) return null;
    const fn = (i: number, proto: string): unknown =>
      koffi.decode(page + BigInt(offs[i]!), koffi.proto(proto));
    return {
      insn,
      flush: fn(0, 'void pmem2_ts_flush(uint64_t p, uint64_t n)') as CpuKernels['flush'],
      persist: fn(1, 'void pmem2_ts_persist(uint64_t p, uint64_t n)') as CpuKernels['persist'],
      fence: fn(2, 'void pmem2_ts_fence(void)') as CpuKernels['fence'],
      ntcopy: fn(
        3,
        'void pmem2_ts_ntcopy(uint64_t d, uint64_t s, uint64_t n)',
      ) as CpuKernels['ntcopy'],
      ntcopyBuf: fn(
        3,
        'void pmem2_ts_ntcopy_buf(uint64_t d, const void *s, uint64_t n)',
      ) as CpuKernels['ntcopyBuf'],
      ntset: fn(4, 'void pmem2_ts_ntset(uint64_t d, int c, uint64_t n)') as CpuKernels['ntset'],
    };
  } catch {
    return null;
  }
}

/** The kernels, built once at load (PMDK reads the PMEM_NO_* variables in its constructor). */
export const cpu: CpuKernels | null = build();
