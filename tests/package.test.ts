// The published package as a user gets it: `npm pack` (of the current build) holds only the
// runtime files; publint and arethetypeswrong find nothing wrong with it; and a fresh project
// that installs the tarball type-checks and runs code importing only the public entry points.
// Dependencies come from the npm cache (or the registry); without either the consumer test
// skips with the reason.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');

let work = '';
let tarball = '';
let files: { path: string; size: number }[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'nvmemu-pack-'));
  // --ignore-scripts: the build is already there (prepare would rebuild everything).
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
    { cwd: ROOT, maxBuffer: 64 << 20 },
  );
  const info = (
    JSON.parse(stdout) as {
      filename: string;
      entryCount: number;
      size: number;
      files: { path: string; size: number }[];
    }[]
  )[0]!;
  tarball = join(work, info.filename);
  files = info.files;
  console.log(
    `# tarball ${info.filename}: ${info.entryCount} files, ${info.size} bytes packed, ` +
      `${files.reduce((n, f) => n + f.size, 0)} bytes unpacked`,
  );
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships the runtime files only: no tests, fixtures, build info or source maps', () => {
    const bad = files.filter((f) =>
      /(^|\/)tests?\/|\.test\.|\.tsbuildinfo$|\.map$|^build\/(tests|bench)\/|^src\//.test(f.path),
    );
    assert.deepEqual(bad, []);
    const paths = new Set(files.map((f) => f.path));
    for (const p of [
      'package.json',
      'README.md',
      'build/src/index.js',
      'build/src/index.d.ts',
      'build/src/cli/main.js',
      'build/src/entries/nvme-tcp.d.ts',
    ]) {
      assert.ok(paths.has(p), `${p} is in the tarball`);
    }
  });

  it('publint --strict finds nothing', async () => {
    const { stdout } = await run(join(BIN, 'publint'), ['run', tarball, '--strict']);
    assert.match(stdout, /All good!/);
  });

  it('arethetypeswrong finds nothing for ESM consumers (node16-esm, bundler)', async () => {
    // An ESM-only package: CommonJS `require` and node10 (no `exports`) are out of scope, so
    // the esm-only profile ignores them; attw exits non-zero on any other problem.
    const { stdout } = await run(
      join(BIN, 'attw'),
      [tarball, '--profile', 'esm-only', '--format', 'json'],
      { maxBuffer: 16 << 20 },
    );
    const report = JSON.parse(stdout) as {
      analysis: { problems: { kind: string; entrypoint: string; resolutionKind: string }[] };
    };
    const real = report.analysis.problems.filter(
      (p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs',
    );
    assert.deepEqual(real, []);
  });
});

/** Code a user writes: public entry points only, type-checked under strict NodeNext. */
const CONSUMER = `
import { Machine, NvmeCommandError, Status, type NamespaceInfo } from 'nvmemu';
import { NvmeTcpController, HostErrorCode } from 'nvmemu/nvme-tcp';
import { Pmem2Config, PMEM2_GRANULARITY_PAGE } from 'nvmemu/pmem2';
import { FAULT_KINDS, parseFaultSpec } from 'nvmemu/faults';
import { parseScenario } from 'nvmemu/scenario';
import { QmpClient } from 'nvmemu/monitor';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'consumer-'));
const img = join(dir, 'a.img');
{
  await using m = await Machine.start(
    ['-drive', \`file=\${img},if=none,id=d\`, '-device', 'nvme,id=c0,serial=s,drive=d'],
    { dataDir: join(dir, 'data'), images: { [img]: '1M' } },
  );
  const ns = m.nvme('c0').namespace(1);
  await ns.write(0, new Uint8Array(512).fill(42));
  await ns.flush();
  const back = await ns.read(0, 1);
  const info: NamespaceInfo = await ns.info();
  let status = 0;
  try {
    await ns.read(1n << 40n, 1);
  } catch (e) {
    if (e instanceof NvmeCommandError) status = e.status & 0x7ff;
  }
  console.log(JSON.stringify({ byte: back[0], blockSize: info.blockSize, lbaRange: status === Status.LBA_RANGE }));
}
console.log(
  typeof NvmeTcpController.connect,
  HostErrorCode.CONNECT,
  new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE) instanceof Pmem2Config,
  FAULT_KINDS.includes('timeout'),
  parseFaultSpec({ kind: 'timeout' }).kind,
  parseScenario(JSON.stringify({ machine: [], steps: [] })).steps.length,
  typeof QmpClient.connect,
);
`;

describe('a fresh project using the tarball', () => {
  it('installs it, type-checks and runs code that imports the public entry points', async (t) => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    try {
      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball],
        { cwd: app, maxBuffer: 16 << 20 },
      );
    } catch (e) {
      const msg = (e as { stderr?: string }).stderr ?? String(e);
      if (/ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENOTCACHED/.test(msg)) {
        t.skip(`npm cannot reach the dependencies (no cache, no registry): ${msg.split('\n')[0]}`);
        return;
      }
      throw e;
    }
    writeFileSync(join(app, 'index.ts'), CONSUMER);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          lib: ['ES2023'],
          strict: true,
          skipLibCheck: false,
          outDir: 'out',
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['index.ts'],
      }),
    );
    await run(join(BIN, 'tsc'), ['-p', join(app, 'tsconfig.json')], { cwd: app }).catch(
      (e: { stdout?: string }) => assert.fail(`consumer type check failed:\n${e.stdout ?? ''}`),
    );
    const { stdout } = await run(process.execPath, [join(app, 'out', 'index.js')], { cwd: app });
    const [first, second] = stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(first!), { byte: 42, blockSize: 512, lbaRange: true });
    assert.equal(second, 'function NVME_TCP_CONNECT true true timeout 0 function');
  });
});
