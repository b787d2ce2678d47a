// What each `nvmemu` command loads (docs/architecture.md "Module loading"): host-side commands
// never load the emulator (src/machine/, the NVMe core, the NVMe/TCP target, koffi), the
// command tree loads no command's code, and `nvmemu run` loads none of the host-side commands.
// Measured as an outcome, not a time: a child process runs the CLI under a module loader hook
// that records the URL of every module it loads.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './support/run.js';

/** The hooks (they run on the loader's thread): append each loaded URL to $NVMEMU_MODULE_LOG. */
const HOOKS =
  "import { appendFileSync } from 'node:fs';" +
  'export async function load(url, context, next) {' +
  '  appendFileSync(process.env.NVMEMU_MODULE_LOG, url + "\\n");' +
  '  return next(url, context);' +
  '}';
const REGISTER =
  "import { register } from 'node:module';" +
  `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

const ROOT = new URL('../..', import.meta.url).href;

/** The modules in a hook log: paths under the repo, and `node:` builtins as they are. */
function modulesIn(log: string): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(ROOT) || u.startsWith('node:'))
    .map((u) => (u.startsWith(ROOT) ? u.slice(ROOT.length) : u));
}

/** Runs the CLI with `argv`; its exit status and the modules it loaded (paths under the repo). */
function loaded(
  argv: readonly string[],
  dir: string,
): { status: number | null; modules: string[] } {
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, CLI, ...argv],
    {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, NVMEMU_MODULE_LOG: log, NVMEMU_DATA: join(dir, 'data') },
      input: '',
    },
  );
  const modules = modulesIn(log);
  assert.ok(modules.includes('build/src/cli/main.js'), `the hook saw the CLI load: ${r.stderr}`);
  return { status: r.status, modules };
}

/** The emulator: what a host-side command must never load. */
const EMULATOR = [
  /^build\/src\/machine\//,
  /^build\/src\/devices\.js$/,
  /^build\/src\/nvme\/(ctrl|ns|subsys|pci)\//,
  /^build\/src\/nvme-tcp\/target\//,
  /^build\/src\/(faults|scenario|monitor|pmem2)\//,
  /^node_modules\/koffi\//,
];

/** The host-side commands' code: what `nvmemu run` must never load. */
const HOST_SIDE = [
  /^build\/src\/cli\/nvme\/(?!index\.js|catalogue\.js)/,
  /^build\/src\/cli\/ndctl\/(?!index\.js|version\.js)/,
  /^build\/src\/nvme-tcp\/host\//,
  /^node_modules\/valibot\//,
];

/** The command tree: `nvmemu run` goes straight to its leaf (cli/main.ts). */
const TREE = [
  /^build\/src\/cli\/(app|tree|options|completion)\.js$/,
  /^build\/src\/cli\/(nvme|ndctl)\//,
  /^node_modules\/commander\//,
];

/**
 * What the default machine's start leaves for later (docs/architecture.md "Module loading"):
 * the monitor's commands and sessions until a client connects (the fault injector and the
 * recorder with them, or with --record), the live view until --http, node:tls until a TLS
 * handshake, node:child_process unless the run re-executes itself (TLS) or -daemonize. A start that loads one of them again fails here.
 */
const LAZY_AT_START = [
  ...TREE,
  /^build\/src\/monitor\/commands\//,
  /^build\/src\/monitor\/(index|hmp|hmp-session|hmp-format|qmp-session|inspect)\.js$/,
  /^build\/src\/http\//,
  /^node_modules\/prom-client\//,
  /^build\/src\/nvme-tcp\/tls\/socket\.js$/,
  /^node:tls$/,
  /^node:child_process$/,
  /^build\/src\/faults\/(?!machine-switch\.js)/,
  /^build\/src\/replay\/(control|recorder|sink)\.js$/,
  /^build\/src\/(scenario|pmem2)\//,
  /^build\/src\/nvme-tcp\/host\//,
];

/** Every command's implementation: what the command tree alone must not load. */
const COMMANDS = [
  /^build\/src\/cli\/run\.js$/,
  /^build\/src\/cli\/nvme\/(dispatch|admin-cmds|zns|list)\.js$/,
  /^build\/src\/cli\/ndctl\/(list|namespace|context)\.js$/,
  /^build\/src\/nvme-tcp\//,
  ...EMULATOR,
];

const none = (modules: readonly string[], patterns: readonly RegExp[]): void => {
  const hits = modules.filter((m) => patterns.some((p) => p.test(m)));
  assert.deepEqual(hits, [], 'modules that should not have loaded');
};

describe('the modules each command loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-modgraph-'));
  const e820 = join(dir, 'e820.txt');
  writeFileSync(
    e820,
    'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n' +
      'BIOS-e820: [mem 0x0000000000100000-0x00000004ffffffff] usable\n',
  );
  const nvdimm = join(dir, 'nvdimm.img');
  writeFileSync(nvdimm, '');
  truncateSync(nvdimm, 64 << 20);
  // Port 1 on loopback: nobody listens, the connection is refused at once.
  const target = ['-n', 'nqn.2019-08.org.qemu:x', '--trsvcid', '1'];
  const cases: {
    argv: string[];
    status: number;
    loads: RegExp[];
    never: RegExp[];
  }[] = [
    { argv: ['--version'], status: 0, loads: [], never: COMMANDS },
    { argv: ['nvme', '--help'], status: 0, loads: [], never: COMMANDS },
    {
      argv: ['nvme', 'id-ctrl', ...target],
      status: 1,
      loads: [/^build\/src\/nvme-tcp\/host\/controller\.js$/, /^build\/src\/cli\/nvme\/admin-cmds/],
      // node:tls loads with a TLS connection only (nvme-tcp/host/queue.ts); the CRC addon with
      // its first use (util/crc.ts requires it then, which this hook does not see: the pattern
      // catches an import of it at load).
      never: [
        ...EMULATOR,
        /^build\/src\/cli\/run\.js$/,
        /^build\/src\/cli\/nvme\/zns/,
        /^node:tls$/,
        /^node_modules\/@node-rs\/crc32\//,
      ],
    },
    {
      argv: ['nvme', 'zns', 'report-zones', ...target],
      status: 1,
      loads: [/^build\/src\/cli\/nvme\/zns\.js$/],
      never: [
        ...EMULATOR,
        /^build\/src\/cli\/nvme\/(admin-cmds|io-cmds|fdp|keys)\.js$/,
        /^node:tls$/,
      ],
    },
    {
      argv: ['ndctl', 'list', '-R', '--backing', nvdimm, '--label-size', '128K'],
      status: 0,
      loads: [/^build\/src\/cli\/ndctl\/list\.js$/],
      never: [...EMULATOR, /^build\/src\/nvme-tcp\//],
    },
    {
      argv: ['memmap', 'check', '--e820', e820, 'memmap=1G!4G'],
      status: 0,
      loads: [/^build\/src\/pmem\/memmap\/plan\.js$/],
      never: [...EMULATOR, /^build\/src\/nvme-tcp\//],
    },
    {
      // The run path as far as it goes without building a machine: it lists the device types.
      argv: ['run', '-device', 'help'],
      status: 0,
      loads: [/^build\/src\/cli\/run\.js$/, /^build\/src\/devices\.js$/],
      never: [...HOST_SIDE, ...TREE],
    },
    {
      // The words after `run` reach the leaf as the command tree hands them: less a leading `--`.
      argv: ['run', '--', '-device', 'help'],
      status: 0,
      loads: [/^build\/src\/devices\.js$/],
      never: TREE,
    },
  ];
  for (const c of cases) {
    it(`nvmemu ${c.argv.join(' ')}`, () => {
      const r = loaded(c.argv, dir);
      assert.equal(r.status, c.status);
      for (const p of c.loads)
        assert.ok(
          r.modules.some((m) => p.test(m)),
          `loads ${p.source}`,
        );
      none(r.modules, c.never);
    });
  }
  it('nvmemu run (the default machine) to its readiness line', async () => {
    const log = join(dir, 'run-modules.log');
    writeFileSync(log, '');
    const child = spawn(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(REGISTER)}`,
        CLI,
        'run',
        '--data',
        join(dir, 'machine'),
        '--listen',
        '127.0.0.1:0',
        '--discovery',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NVMEMU_MODULE_LOG: log } },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const ready = await new Promise<boolean>((ok) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Running;')) ok(true);
      });
      child.once('exit', () => ok(false));
    });
    // What loaded until the readiness line, before stopping can load anything more.
    const modules = modulesIn(log);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    assert.ok(ready, `the machine started: ${out}${err}`);
    for (const p of [
      /^build\/src\/machine\/machine\.js$/,
      /^build\/src\/nvme-tcp\/target\/port\.js$/,
      /^build\/src\/monitor\/serve\.js$/,
    ])
      assert.ok(
        modules.some((m) => p.test(m)),
        `loads ${p.source}`,
      );
    none(modules, [...LAZY_AT_START, ...HOST_SIDE]);
  });

  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
