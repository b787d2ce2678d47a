// What each `nvmemu` command loads (docs/architecture.md "Module loading"): host-side commands
// never load the emulator (src/machine/, the NVMe core, the NVMe/TCP target, koffi), the
// command tree loads no command's code, and `nvmemu run` loads none of the host-side commands.
// Measured as an outcome, not a time: a child process runs the CLI under a module loader hook
// that records the URL of every module it loads.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
  const root = new URL('../..', import.meta.url).href;
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(root))
    .map((u) => u.slice(root.length));
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
      never: [...EMULATOR, /^build\/src\/cli\/run\.js$/, /^build\/src\/cli\/nvme\/zns/],
    },
    {
      argv: ['nvme', 'zns', 'report-zones', ...target],
      status: 1,
      loads: [/^build\/src\/cli\/nvme\/zns\.js$/],
      never: [...EMULATOR, /^build\/src\/cli\/nvme\/(admin-cmds|io-cmds|fdp|keys)\.js$/],
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
      never: HOST_SIDE,
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
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
