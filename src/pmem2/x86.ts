// x86-64 machine code for the cpu.ts kernels: a two-pass assembler over byte lists and the
// routines themselves (System V register arguments: rdi, rsi, rdx, rcx).
//
// Arguments through memory. koffi charges about 10 ns per argument on top of ~20 ns per call
// (measured on this project's machine: void f() 21 ns, f(u64, u64) 50 ns), which is most of the
// cost of a CACHE_LINE persist's FFI crossing. So every kernel is entered through a prologue that
// loads its numeric arguments from an 8-slot Float64Array ("argument block") that JS fills just
// before the argument-less call: `cvttsd2si r64, [block + 8*i]` converts each double to the
// integer it holds exactly (addresses < 2^47, lengths < 2^53). Only the JS buffer of ntcopyBuf is
// passed as a real argument (koffi hands native code the TypedArray's storage).

export type FlushInsn = 'clwb' | 'clflushopt' | 'clflush';

type Item = number[] | { label: string } | { jump: number[]; to: string };

/** Two-pass assembler; every jump is a near (rel32) jump so layout never needs relaxation. */
export function assemble(items: Item[]): number[] {
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
const JBE = [0x0f, 0x86];
const JZ = [0x0f, 0x84];
const JMP = [0xe9];
export const SFENCE = [0x0f, 0xae, 0xf8];
export const RET = [0xc3];
const VZEROUPPER = [0xc5, 0xf8, 0x77];

export type ArgReg = 'rdi' | 'rsi' | 'rdx' | 'rcx';
const REG: Record<ArgReg, number> = { rdi: 7, rsi: 6, rdx: 2, rcx: 1 };

/**
 * `mov rax, block` then `cvttsd2si reg, [rax + 8*slot]` for each (reg, slot). With `bufInRdi`,
 * koffi's one pointer argument (rdi) first moves to rsi, where ntcopy expects its source.
 */
export function argPrologue(
  block: bigint,
  args: readonly (readonly [ArgReg, number])[],
  bufInRdi = false,
): number[] {
  const out: number[] = bufInRdi ? [0x48, 0x89, 0xfe] : []; // mov rsi, rdi
  out.push(0x48, 0xb8); // mov rax, imm64
  for (let i = 0n; i < 8n; i++) out.push(Number((block >> (8n * i)) & 0xffn));
  for (const [reg, slot] of args)
    out.push(0xf2, 0x48, 0x0f, 0x2c, 0x40 | (REG[reg] << 3), 8 * slot);
  return out;
}

/** Slot of the argument block where ntcopyBuf reports "overlap, nothing copied" (1.0). */
export const OVERLAP_SLOT = 7;

/**
 * Entry of ntcopyBuf: koffi's pointer to the JS buffer arrives in rdi (moved to rsi), d, n and
 * fence come from the block. A forward copy is wrong when the source is a view of the map with
 * s < d < s + n; the kernel then copies nothing and stores 1.0 in slot OVERLAP_SLOT, so JS can
 * take the temporal path. (Detecting the alias in JS would need TypedArray.prototype.buffer,
 * which TurboFan does not inline here: 20–40 ns per call.)
 */
export function ntcopyBufEntry(block: bigint): number[] {
  return assemble([
    argPrologue(
      block,
      [
        ['rdi', 0],
        ['rdx', 2],
        ['rcx', 3],
      ],
      true,
    ),
    [0x4c, 0x8d, 0x14, 0x16], // lea r10, [rsi+rdx]
    [0x48, 0x39, 0xf7], // cmp rdi, rsi
    { jump: JBE, to: 'copy' },
    [0x4c, 0x39, 0xd7], // cmp rdi, r10
    { jump: JAE, to: 'copy' },
    [0x49, 0xbb, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], // mov r11, 1.0
    [0x4c, 0x89, 0x58, 8 * OVERLAP_SLOT], // mov [rax + 8*slot], r11
    RET,
    { label: 'copy' },
  ]);
}

/** `<insn> [rdi]` and `<insn> [r8]`/`[r9]`, each padded to 5 bytes with a leading NOP. */
function flushAt(insn: FlushInsn, reg: 'rdi' | 'r8' | 'r9'): number[] {
  const rm = { rdi: 7, r8: 0, r9: 1 }[reg];
  const rex = reg === 'rdi' ? [] : [0x41];
  const op = insn === 'clwb' ? 6 : 7; // 0F AE /6 = CLWB (66), /7 = CLFLUSHOPT (66) or CLFLUSH
  const bytes = [...(insn === 'clflush' ? [] : [0x66]), ...rex, 0x0f, 0xae, (op << 3) | rm];
  while (bytes.length < 5) bytes.unshift(0x90);
  return bytes;
}

/** flush(rdi = p, rsi = n): one flush per 64-byte line overlapping [p, p+n); SFENCE if `fence`. */
export function flushLoop(insn: FlushInsn, fence: boolean): number[] {
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

/** The 64-byte block of ntcopy/ntset: loads (copy only) and four 16-byte or two 32-byte NT stores. */
function ntBlock(set: boolean, avx: boolean): number[] {
  if (avx) {
    const loads = set
      ? []
      : [
          ...[0xc5, 0xfe, 0x6f, 0x06], // vmovdqu ymm0, [rsi]
          ...[0xc5, 0xfe, 0x6f, 0x4e, 0x20], // vmovdqu ymm1, [rsi+32]
        ];
    const second = set ? 0x47 : 0x4f; // ymm0 or ymm1 into [rdi+32]
    return [
      ...loads,
      ...[0xc5, 0xfd, 0xe7, 0x07], // vmovntdq [rdi], ymm0
      ...[0xc5, 0xfd, 0xe7, second, 0x20], // vmovntdq [rdi+32], ymm0/ymm1
    ];
  }
  const loads = set
    ? []
    : [
        ...[0xf3, 0x0f, 0x6f, 0x06], // movdqu xmm0, [rsi]
        ...[0xf3, 0x0f, 0x6f, 0x4e, 0x10], // movdqu xmm1, [rsi+16]
        ...[0xf3, 0x0f, 0x6f, 0x56, 0x20], // movdqu xmm2, [rsi+32]
        ...[0xf3, 0x0f, 0x6f, 0x5e, 0x30], // movdqu xmm3, [rsi+48]
      ];
  const x = set ? [0, 0, 0, 0] : [0, 1, 2, 3];
  return [
    ...loads,
    ...[0x66, 0x0f, 0xe7, 0x07 | (x[0]! << 3)], // movntdq [rdi], xmmA
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[1]! << 3), 0x10], // movntdq [rdi+16], xmmB
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[2]! << 3), 0x20],
    ...[0x66, 0x0f, 0xe7, 0x47 | (x[3]! << 3), 0x30],
  ];
}

/**
 * ntcopy(rdi = d, rsi = s, rdx = n, ecx = fence) / ntset(rdi = d, esi = c, rdx = n, ecx = fence):
 * forward copy or fill; non-temporal stores for the 64-byte aligned middle, 8-byte stores for the
 * 8-aligned edges, bytes otherwise; the partially written edge lines are flushed; SFENCE at
 * the end when ecx != 0. Nothing in the body may use rcx. `avx`: 32-byte VMOVNTDQ (PMDK's AVX
 * variant; VZEROUPPER before returning), else SSE2 16-byte MOVNTDQ.
 */
export function ntLoop(insn: FlushInsn, set: boolean, avx: boolean): number[] {
  const ldB = set ? [] : [0x8a, 0x06]; // mov al, [rsi]
  const ldQ = set ? [] : [0x48, 0x8b, 0x06]; // mov rax, [rsi]
  const adv = (n: number): number[] => [
    ...(set ? [] : [0x48, 0x83, 0xc6, n]), // add rsi, n
    ...[0x48, 0x83, 0xc7, n], // add rdi, n
    ...[0x48, 0x83, 0xea, n], // sub rdx, n
  ];
  const advB = [...(set ? [] : [0x48, 0xff, 0xc6]), 0x48, 0xff, 0xc7, 0x48, 0xff, 0xca];
  const prologue = set
    ? [
        ...[0x40, 0x0f, 0xb6, 0xc6], // movzx eax, sil
        ...[0x49, 0xbb, 1, 1, 1, 1, 1, 1, 1, 1], // mov r11, 0x0101010101010101
        ...[0x49, 0x0f, 0xaf, 0xc3], // imul rax, r11
        ...[0x66, 0x48, 0x0f, 0x6e, 0xc0], // movq xmm0, rax
        ...[0x66, 0x0f, 0x6c, 0xc0], // punpcklqdq xmm0, xmm0
        ...(avx ? [0xc4, 0xe3, 0x7d, 0x18, 0xc0, 0x01] : []), // vinsertf128 ymm0, ymm0, xmm0, 1
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
    [...ntBlock(set, avx), ...adv(64)],
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
    // Flush the lines the temporal head and tail stores wrote: the first line unless d was
    // 64-aligned, the last unless the end is (the NT body needs no flush, as in PMDK).
    { label: 'edges' },
    [0x4d, 0x39, 0xc8], // cmp r8, r9
    { jump: JAE, to: 'done' },
    [0x41, 0xf6, 0xc0, 0x3f], // test r8b, 63
    { jump: JZ, to: 'tailEdge' },
    [0x49, 0x83, 0xe0, 0xc0], // and r8, -64
    flushAt(insn, 'r8'),
    { label: 'tailEdge' },
    [0x41, 0xf6, 0xc1, 0x3f], // test r9b, 63
    { jump: JZ, to: 'done' },
    [0x49, 0xff, 0xc9], // dec r9
    [0x49, 0x83, 0xe1, 0xc0], // and r9, -64
    flushAt(insn, 'r9'),
    { label: 'done' },
    [0x85, 0xc9], // test ecx, ecx
    { jump: JZ, to: 'ret' },
    SFENCE,
    { label: 'ret' },
    avx ? VZEROUPPER : [],
    RET,
  ]);
}
