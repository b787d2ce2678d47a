// The hand-assembled kernels: golden bytes for the smallest routine, and every routine of every
// variant disassembled with binutils' objdump (skipped, with the reason, when it is missing) to
// check that the bytes mean what the comments say.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cpu, kernelCode } from './cpu.js';
import { flushLoop, type FlushInsn } from './x86.js';

const BLOCK = 0x7f0011223000n;

const objdump = spawnSync('objdump', ['--version']);
const noObjdump =
  objdump.error !== undefined || objdump.status !== 0
    ? 'objdump not installed (apt-get install -y binutils)'
    : false;
if (noObjdump !== false) console.log(`# x86 disassembly tests skipped: ${noObjdump}`);

const dir = mkdtempSync(join(tmpdir(), 'pmem2-x86-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** objdump's mnemonics and operands, one string per instruction. */
function disassemble(code: number[]): string[] {
  const f = join(dir, 'code.bin');
  writeFileSync(f, Buffer.from(code));
  const r = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386:x86-64', f], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .map((l) => /^\s*[0-9a-f]+:\t(?:[0-9a-f]{2} )+\s*\t(.*)$/.exec(l)?.[1]?.trim())
    .filter((x): x is string => x !== undefined)
    .map((x) => x.replace(/\s+/g, ' '));
}

describe('x86-64 kernels', () => {
  it('flush + SFENCE assembles to pinned bytes (CLWB)', () => {
    // add rsi,rdi; and rdi,-64; cmp rdi,rsi; jae done; nop; clwb [rdi]; add rdi,64; jmp; sfence; ret
    assert.deepEqual(
      flushLoop('clwb', true),
      [
        0x48, 0x01, 0xfe, 0x48, 0x83, 0xe7, 0xc0, 0x48, 0x39, 0xf7, 0x0f, 0x83, 0x0e, 0, 0, 0, 0x90,
        0x66, 0x0f, 0xae, 0x37, 0x48, 0x83, 0xc7, 0x40, 0xe9, 0xe9, 0xff, 0xff, 0xff, 0x0f, 0xae,
        0xf8, 0xc3,
      ],
    );
  });

  it('are built on an x86-64 CPU with a flush instruction (no silent msync fallback)', (t) => {
    if (process.arch !== 'x64') return t.skip('not x86-64');
    const flags = readFileSync('/proc/cpuinfo', 'utf8');
    if (!/^flags\s*:.*\bclflush\b/m.test(flags)) return t.skip('CPU without CLFLUSH');
    assert.notEqual(cpu, null);
  });

  for (const insn of ['clwb', 'clflushopt', 'clflush'] as const satisfies readonly FlushInsn[])
    for (const avx of [false, true])
      it(`disassemble as documented: ${insn}${avx ? ', AVX' : ''}`, { skip: noObjdump }, () => {
        const [flush, persist, fence, ntcopy, ntcopyBuf, ntset] = kernelCode(insn, avx, BLOCK).map(
          disassemble,
        );
        const loads = (regs: string[]): string[] => [
          'movabs $0x7f0011223000,%rax',
          ...regs.map((r, i) => `cvttsd2si 0x${(8 * i).toString(16)}(%rax),%${r}`),
        ];
        const has = (code: string[], re: RegExp): boolean => code.some((l) => re.test(l));
        // flush and persist: arguments from the block, one flush per line, SFENCE only in persist
        for (const [code, fenced] of [
          [flush!, false],
          [persist!, true],
        ] as const) {
          assert.deepEqual(code.slice(0, 3), loads(['rdi', 'rsi']));
          assert.ok(has(code, new RegExp(`^${insn} \\(%rdi\\)$`)), code.join('\n'));
          assert.equal(has(code, /^sfence$/), fenced);
          assert.deepEqual(code.slice(-1), ['ret']);
        }
        assert.deepEqual(persist!.slice(-2), ['sfence', 'ret']);
        assert.deepEqual(fence, ['sfence', 'ret']);
        // non-temporal kernels: NT stores of the right width, edge flushes, SFENCE behind ecx
        const nt = avx ? /^vmovntdq %ymm\d,/ : /^movntdq %xmm\d,/;
        for (const code of [ntcopy!, ntcopyBuf!, ntset!]) {
          assert.ok(has(code, nt), code.join('\n'));
          assert.ok(has(code, new RegExp(`^${insn} \\(%r8\\)$`)));
          assert.ok(has(code, new RegExp(`^${insn} \\(%r9\\)$`)));
          const s = code.indexOf('sfence');
          assert.ok(s > 0 && /^test %ecx,%ecx$/.test(code[s - 2]!) && /^je /.test(code[s - 1]!));
          assert.deepEqual(code.slice(-1), ['ret']);
          assert.equal(code.at(-2) === 'vzeroupper', avx);
          // the fence flag (rcx, from slot 3) must survive the body: nothing after it writes rcx
          const flag = code.indexOf('cvttsd2si 0x18(%rax),%rcx');
          assert.ok(flag > 0);
          assert.ok(
            !has(code.slice(flag + 1), /^(?!test|cmp).*,%(rcx|ecx|cx|cl)$/),
            code.join('\n'),
          );
        }
        assert.deepEqual(ntcopy!.slice(0, 5), loads(['rdi', 'rsi', 'rdx', 'rcx']));
        assert.deepEqual(ntset!.slice(0, 5), loads(['rdi', 'rsi', 'rdx', 'rcx']));
        // ntcopyBuf: koffi's pointer moves to rsi; overlap from below reports 1.0 in slot 7
        assert.deepEqual(ntcopyBuf!.slice(0, 2), ['mov %rdi,%rsi', 'movabs $0x7f0011223000,%rax']);
        assert.ok(has(ntcopyBuf!, /^movabs \$0x3ff0000000000000,%r11$/));
        assert.ok(has(ntcopyBuf!, /^mov %r11,0x38\(%rax\)$/));
      });
});
