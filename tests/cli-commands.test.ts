// The command tree: every subcommand's --help lists its own options, typos get a suggestion,
// completion offers what the tree and the option tables declare (and works in a real bash),
// progress lines appear on a terminal only.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { main, rootGroup } from '../src/cli/app.js';
import { bufferIo } from '../src/cli/io.js';
import { completeWords, FILES } from '../src/cli/completion.js';
import { leaves } from '../src/cli/tree.js';
import { statusLine, ttyProgress } from '../src/memory/progress.js';
import { withElapsed } from '../src/cli/progress.js';
import { CLI } from './support/run.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await main(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('--help of every subcommand', () => {
  const all = leaves(rootGroup()).filter(({ leaf }) => !leaf.name.startsWith('__'));

  it('covers every command family', () => {
    const families = new Set(all.map(({ path }) => path[1]));
    for (const f of ['run', 'nvme', 'ndctl', 'memmap', 'scenario', 'monitor', 'completion']) {
      assert.ok(families.has(f), f);
    }
    assert.ok(all.length > 60, `${all.length} commands`);
  });

  for (const { path, leaf } of all) {
    const words = path.slice(1);
    it(`nvmemu ${words.join(' ')} --help lists its options`, async () => {
      const r = await cli(...words, '--help');
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, '');
      assert.match(r.out, /^usage: /im);
      const table = leaf.options ?? (await leaf.describe?.()) ?? {};
      for (const long of Object.keys(table)) assert.ok(r.out.includes(`--${long}`), `--${long}`);
    });
  }

  it('groups list their commands', async () => {
    for (const [group, member] of [
      ['nvme', 'smart-log'],
      ['ndctl', 'create-namespace'],
      ['memmap', 'plan'],
      ['scenario', 'schema'],
      ['nvme zns', 'report-zones'],
    ] as const) {
      const r = await cli(...group.split(' '), '--help');
      assert.equal(r.code, 0);
      assert.ok(r.out.includes(member), `${group} lists ${member}`);
    }
  });
});

describe('typos get a suggestion', () => {
  const cases: [string[], number, RegExp][] = [
    [['nvm'], 2, /^nvmemu: unknown command 'nvm' \(did you mean 'nvme'\?\)\n/],
    [['nvme', 'smart-lgo'], 2, /unknown command 'smart-lgo' \(did you mean 'smart-log'\?\)/],
    [['nvme', 'zns', 'report-zone'], 2, /did you mean 'report-zones'/],
    [['ndctl', 'lst'], 1, /'lst' is not an ndctl command\. Did you mean 'list'\?/],
    [['memmap', 'plna'], 2, /did you mean 'plan'/],
    [['scenario', 'rnu'], 2, /did you mean 'run'/],
    [['nvme', 'id-ctrl', '--nqnn', 'x'], 2, /unknown option '--nqnn' \(Did you mean --nqn\?\)/],
    [
      ['ndctl', 'list', '--regoin', 'x'],
      129,
      /unknown option '--regoin' \(Did you mean --region\?\)/,
    ],
    [['memmap', 'plan', '--szie', '1G'], 2, /Did you mean --size\?/],
    [['scenario', 'run', '--dta', 'x', 'f.json'], 2, /Did you mean --data\?/],
  ];
  for (const [argv, code, re] of cases) {
    it(`nvmemu ${argv.join(' ')}`, async () => {
      const r = await cli(...argv);
      assert.equal(r.code, code, r.err);
      assert.match(r.err, re);
    });
  }
});

describe('shell completion', () => {
  const root = rootGroup();
  const cases: [string[], string[], string[]][] = [
    [[''], ['run', 'nvme', 'ndctl', 'memmap', 'monitor', 'scenario', 'completion'], ['__complete']],
    [['nvme', ''], ['smart-log', 'id-ctrl', 'zns', 'fdp'], []],
    [['nvme', 'zns', ''], ['report-zones'], []],
    [['nvme', 'smart-log', '--'], ['--nqn', '--trsvcid', '--output-format'], []],
    [['nvme', 'smart-log', '-o', ''], ['json', 'normal', 'binary'], []],
    [['ndctl', 'create-namespace', '-'], ['--mode', '-m', '--backing', '--size'], []],
    [['run', '-device', ''], ['nvme', 'nvme-ns', 'nvdimm', 'virtio-pmem-pci'], []],
    [['run', ''], ['-device', '-drive', '--data', '-daemonize'], []],
    [['completion', ''], ['bash', 'zsh'], []],
  ];
  for (const [words, has, hasNot] of cases) {
    it(`nvmemu ${words.join(' ')}<TAB>`, async () => {
      const got = await completeWords(root, words);
      for (const w of has) assert.ok(got.includes(w), `${w} in ${got.join(' ')}`);
      for (const w of hasNot) assert.ok(!got.includes(w), `${w} not offered`);
    });
  }

  it('completes file names where a command takes a file', async () => {
    assert.deepEqual(await completeWords(root, ['scenario', 'run', '']), [FILES]);
    assert.deepEqual(await completeWords(root, ['ndctl', 'list', '--backing', '']), [FILES]);
  });

  it('the bash script completes through the program', (t) => {
    if (spawnSync('bash', ['--version']).status !== 0) {
      t.skip('bash is not installed');
      return;
    }
    const script = spawnSync(process.execPath, [CLI, 'completion', 'bash'], { encoding: 'utf8' });
    const r = spawnSync(
      'bash',
      [
        '-c',
        `nvmemu() { "${process.execPath}" "${CLI}" "$@"; }
${script.stdout}
COMP_WORDS=(nvmemu nvme smart-l); COMP_CWORD=2; _nvmemu_complete; echo "\${COMPREPLY[*]}"
COMP_WORDS=(nvmemu nvme smart-log --nq); COMP_CWORD=3; _nvmemu_complete; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout, 'smart-log\n--nqn\n', r.stderr);
  });

  it('prints a zsh script', async () => {
    const r = await cli('completion', 'zsh');
    assert.equal(r.code, 0);
    assert.match(r.out, /^#compdef nvmemu\n/);
    assert.match(r.out, /nvmemu __complete/);
    assert.equal((await cli('completion', 'fish')).code, 2);
  });
});

describe('progress on a terminal only', () => {
  const fake = (isTTY: boolean) => {
    const s = { isTTY, text: '', write: (t: string) => ((s.text += t), true) };
    return s;
  };
  const saved = process.env.NVMEMU_PROGRESS;
  const withEnv = (v: string | undefined, fn: () => void) => {
    if (v === undefined) delete process.env.NVMEMU_PROGRESS;
    else process.env.NVMEMU_PROGRESS = v;
    try {
      fn();
    } finally {
      if (saved === undefined) delete process.env.NVMEMU_PROGRESS;
      else process.env.NVMEMU_PROGRESS = saved;
    }
  };

  it('draws a bar and a status line on a TTY and erases them', () => {
    withEnv(undefined, () => {
      const tty = fake(true);
      const bar = ttyProgress('Formatting', tty)!;
      bar.update(1n << 29n, 1n << 30n);
      bar.end();
      assert.match(tty.text, /^\r\x1b\[KFormatting \[#{15}\.{15}\]  50% 512 MiB\/1 GiB\r\x1b\[K$/);
      const line = statusLine(tty);
      line.set('[2/5] power-cut');
      line.end();
      assert.equal(tty.text.endsWith('\r\x1b[K[2/5] power-cut\r\x1b[K'), true);
    });
  });

  it('writes nothing to a pipe, and NVMEMU_PROGRESS overrides', () => {
    withEnv(undefined, () => {
      const pipe = fake(false);
      assert.equal(ttyProgress('x', pipe), undefined);
      statusLine(pipe).set('x');
      assert.equal(pipe.text, '');
    });
    withEnv('0', () => assert.equal(ttyProgress('x', fake(true)), undefined));
    withEnv('1', () => assert.notEqual(ttyProgress('x', fake(false)), undefined));
  });

  it('shows the elapsed time of a long wait, nothing for a short one', async () => {
    const tty = fake(true);
    const saved2 = process.env.NVMEMU_PROGRESS;
    delete process.env.NVMEMU_PROGRESS;
    try {
      assert.equal(await withElapsed('Formatting...', () => Promise.resolve(7), tty), 7);
      assert.equal(tty.text, '');
      await withElapsed('Formatting...', () => new Promise((r) => setTimeout(r, 1150)), tty);
      assert.match(tty.text, /^\r\x1b\[KFormatting\.\.\. 1 s\r\x1b\[K$/);
    } finally {
      if (saved2 !== undefined) process.env.NVMEMU_PROGRESS = saved2;
    }
  });

  it('a scenario run in a pipe prints no progress', () => {
    const env = { ...process.env };
    delete env.NVMEMU_PROGRESS;
    const r = spawnSync(
      process.execPath,
      [CLI, 'scenario', 'run', 'examples/scenarios/power-cut.json'],
      {
        encoding: 'utf8',
        env,
        cwd: new URL('../..', import.meta.url),
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /\r/);
    assert.match(r.stdout, /^# PASS$/m);
  });
});
