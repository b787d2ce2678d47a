// The examples of README.md and docs/*.md, run as written: every ```ts block is type-checked
// against the public entry points and run as a program, every ```sh block runs in bash in an
// empty folder with `nvmemu` (and `npx nvmemu`) on the PATH — the README tour included. A block
// may be marked just above its fence:
//   <!-- snippet: skip REASON -->      not run (a ts block is still type-checked);
//   <!-- snippet: fragment REASON -->  part of a program: neither checked nor run;
//   <!-- snippet: internal REASON -->  maintainers' internal API (the public-import rule does not apply).
// Skips print their reason. Every ts block outside `internal` imports only public entry points.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'build', 'src', 'cli', 'main.js');
const PUBLIC = /^(nvmemu(\/(nvme-tcp|pmem2|faults|scenario|monitor))?|node:.*)$/;

interface Snippet {
  readonly file: string;
  readonly line: number;
  readonly lang: 'ts' | 'sh';
  readonly code: string;
  readonly mark: 'run' | 'skip' | 'fragment' | 'internal';
  readonly reason: string;
}

function snippets(): Snippet[] {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^```(ts|sh)$/.exec(lines[i]!);
      if (m === null) continue;
      const end = lines.indexOf('```', i + 1);
      let j = i - 1;
      while (j >= 0 && lines[j]!.trim() === '') j--;
      const marker = /^<!-- snippet: (skip|fragment|internal) (.*) -->$/.exec(lines[j] ?? '');
      out.push({
        file,
        line: i + 1,
        lang: m[1] as 'ts' | 'sh',
        code: lines.slice(i + 1, end).join('\n') + '\n',
        mark: (marker?.[1] as Snippet['mark'] | undefined) ?? 'run',
        reason: marker?.[2] ?? '',
      });
      i = end;
    }
  }
  return out;
}

const all = snippets();
const name = (s: Snippet): string => `${s.file}:${s.line} (${s.lang})`;

/** ts snippets live under build/ so that `import 'nvmemu'` resolves to this package's exports. */
const SNIPPET_DIR = join(ROOT, 'build', 'doc-snippets');
const tsFile = (s: Snippet): string =>
  join(SNIPPET_DIR, `${s.file.replace(/[/.]/g, '_')}_${s.line}.ts`);

let work = '';
let bin = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'nvmemu-docs-'));
  // `nvmemu` and `npx nvmemu` as an installed package provides them.
  bin = join(work, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'nvmemu'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'nvmemu'), 0o755);
  rmSync(SNIPPET_DIR, { recursive: true, force: true });
  mkdirSync(SNIPPET_DIR, { recursive: true });
  // An empty export makes each snippet a module (top-level await, no global clashes).
  for (const s of all) if (s.lang === 'ts') writeFileSync(tsFile(s), `${s.code}export {};\n`);
});
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(SNIPPET_DIR, { recursive: true, force: true });
});

describe('docs snippets', () => {
  it('finds the README tour and the library examples', () => {
    assert.ok(all.some((s) => s.file === 'README.md' && s.lang === 'sh' && s.mark === 'run'));
    assert.ok(all.filter((s) => s.file === 'docs/library.md' && s.mark === 'run').length >= 4);
  });

  it('every TypeScript example imports only public entry points', () => {
    for (const s of all.filter((x) => x.lang === 'ts' && x.mark !== 'internal')) {
      for (const m of s.code.matchAll(/^import .* from '([^']+)';$/gm)) {
        assert.match(m[1]!, PUBLIC, `${name(s)} imports ${m[1]!}`);
      }
    }
  });

  it('the TypeScript examples type-check against the public entry points', () => {
    const checked = all.filter((s) => s.lang === 'ts' && (s.mark === 'run' || s.mark === 'skip'));
    const program = ts.createProgram(checked.map(tsFile), {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const diags = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file?.fileName.replace(SNIPPET_DIR + '/', '') ?? '';
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    assert.deepEqual(diags, []);
  });

  for (const s of all) {
    if (s.mark !== 'run') {
      it(`${name(s)} [${s.mark}: ${s.reason}]`, (t) => t.skip(`${s.mark}: ${s.reason}`));
      continue;
    }
    it(`${name(s)} runs as written`, async () => {
      const dir = mkdtempSync(join(work, 'run-'));
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
      delete env.NVMEMU_DATA;
      if (s.lang === 'ts') {
        const js = ts.transpileModule(s.code, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
        }).outputText;
        const file = tsFile(s).replace(/\.ts$/, '.mjs');
        writeFileSync(file, js);
        const { stdout } = await run(process.execPath, [file], { cwd: dir, env, timeout: 60_000 });
        assert.notEqual(stdout, '', 'an example shows what it did');
        return;
      }
      const r = await run('bash', ['-c', s.code], { cwd: dir, env, timeout: 120_000 }).catch(
        (e: { code?: number; stdout?: string; stderr?: string }) =>
          assert.fail(`exit ${e.code}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`),
      );
      if (s.file === 'README.md') checkTour(r.stdout, r.stderr);
      if (s.file === 'docs/multipath.md') checkMultipath(s.code, r.stdout);
    });
  }
});

/** What the README tour must show, beyond every command succeeding. */
function checkTour(out: string, err: string): void {
  assert.match(out, /^Usage: nvmemu <command> \[options\]/m);
  assert.match(out, /Running; stop with Ctrl-C/);
  assert.match(out, /live view: http:\/\/127\.0\.0\.1:8080\//);
  assert.match(out, /^ZONES .*\(nsid 2\): 16 zones/m);
  assert.match(out, /tcp:\/\/127\.0\.0\.1:4420\/nqn\.2019-08\.org\.qemu:subsys0\/1/);
  assert.match(out, /"critical_warning": 0/);
  assert.match(out, /Memory device \[nvdimm\]: "nvdimm0"/);
  assert.match(out, /name "nvme-ns", bus nvme-bus/);
  assert.match(out, /^ {2}\[3:3\] : 0x1\tWrite Zeroes Supported$/m);
  assert.match(out, /"dev":"region0"/);
  assert.match(out, /^exit status 1$/m);
  // The one error is the deliberate one; no collision on ports, sockets or folders.
  assert.equal(err, 'nvmemu: -device nvme: serial property not set\n');
}

/** What the multipath recipes must show: the second path's controller IDs, ANA, the fence. */
function checkMultipath(code: string, out: string): void {
  if (code.includes('x_nvmemu_set_ana_state')) {
    assert.match(out, /^cntlid {4}: 0x10$/m);
    assert.match(out, /^state\t:\toptimized$/m);
    assert.match(out, /^ANA group 1 inaccessible on controller 1,2$/m);
    assert.match(out, /^path a refused the read$/m);
    assert.match(out, /^read: Success$/m);
    assert.match(out, /namespace 1: 1073741824 bytes, ana group 1, attached to 16,17$/m);
  }
  if (code.includes('resv-acquire')) {
    assert.match(out, /^host 2's write refused$/m);
    assert.match(out, /"rtype": 1,\n\s+"regctl": 2,/);
  }
}
