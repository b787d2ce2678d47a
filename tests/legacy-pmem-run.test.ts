// The DRAM-emulation recipe on a spawned machine: `nvmemu run -m 2G -append "... memmap=nn!ss"`
// makes legacy (e820) pmem regions that `nvmemu ndctl list -R -N` shows as ndctl 76 shows them
// on a Linux 6.1 guest booted with the same arguments, that libpmem2 maps and writes from this
// process, and whose contents are gone once the machine stops (a new run sees zeros).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bufferIo } from '../src/cli/io.js';
import { ndctlCommand } from '../src/cli/ndctl/index.js';
import { filePrefix } from '../src/pmem/legacy/index.js';
import {
  PMEM2_GRANULARITY_CACHE_LINE,
  PMEM2_GRANULARITY_PAGE,
  Pmem2Config,
  Pmem2Map,
  Pmem2Source,
} from '../src/pmem2/index.js';
import { errorCode as code, stopRun as stop } from './support/run.js';

const CLI = resolve(fileURLToPath(import.meta.url), '../../src/cli/main.js');
const MiB = 1 << 20;
let dir = '';
let shm = '';
const data = (): string => join(dir, 'data');
const APPEND = 'console=ttyS0 memmap=128M!1G memmap=64M!0x50000000';

function machineArgs(append = APPEND): string[] {
  return ['--listen', 'none', '--data', data(), '-m', '2G', '-append', append];
}

/** Runs `nvmemu run`; resolves with its output once it serves (or when it exits). */
function start(args: string[]): Promise<{ child: ChildProcess; out: string; err: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NVMEMU_SHM_DIR: shm },
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`not ready: ${out}${err}`)), 15_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Running;')) {
        clearTimeout(timer);
        ok({ child, out, err });
      }
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', () => {
      clearTimeout(timer);
      ok({ child, out, err });
    });
  });
}

async function ndctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await ndctlCommand([...argv, '--data', data()], io);
  return { code, out: io.stdout, err: io.stderr };
}

/** Maps namespace1.0 (the 64 MiB region) with libpmem2. */
function mapNamespace(): { src: Pmem2Source; map: Pmem2Map } {
  const src = Pmem2Source.fromNvmemu({ dataDir: data(), namespace: 'namespace1.0' });
  const map = Pmem2Map.create(
    new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE),
    src,
  );
  return { src, map };
}

const file = (start: string): string => join(shm, `${filePrefix(data())}${start}`);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-legacy-'));
  // A folder of our own on the host's tmpfs, so that the test sees exactly its files.
  shm = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'nvmemu-legacy-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(shm, { recursive: true, force: true });
});

describe('legacy pmem from -append memmap= on a running machine', () => {
  let run: Awaited<ReturnType<typeof start>> | undefined;
  before(async () => {
    run = await start(machineArgs());
  });
  after(async () => {
    if (run !== undefined) await stop(run.child, 'SIGTERM');
  });

  it('prints the regions and the kernel user-defined map, and warns about the rest of -append', () => {
    assert.ok(run !== undefined);
    assert.equal(
      run.err,
      'nvmemu: -append console=ttyS0: warning: ignored (nvmemu emulates devices, not a guest)\n' +
        'nvmemu: -append: warning: memmap=64M!0x50000000: not 128 MiB aligned: kernels before 5.3 disable DAX on it\n' +
        // 2146958336 bytes of usable RAM in the firmware table, less 192 MiB.
        'nvmemu: -append: warning: only 1945631744 bytes of usable RAM remains for the OS\n',
    );
    const lines = run.out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('  e820 pmem'));
    assert.deepEqual(lines.slice(at, at + 16), [
      `  e820 pmem [mem 0x40000000-0x47ffffff] (128M, volatile) in ${file('0x40000000')}`,
      `  e820 pmem [mem 0x50000000-0x53ffffff] (64M, volatile) in ${file('0x50000000')}`,
      '  kernel command line: memmap=128M!1G memmap=64M!0x50000000 (user-defined physical RAM map):',
      '    user: [mem 0x0000000000000000-0x000000000009fbff] usable',
      '    user: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
      '    user: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
      '    user: [mem 0x0000000000100000-0x000000003fffffff] usable',
      '    user: [mem 0x0000000040000000-0x0000000047ffffff] persistent (type 12)',
      '    user: [mem 0x0000000048000000-0x000000004fffffff] usable',
      '    user: [mem 0x0000000050000000-0x0000000053ffffff] persistent (type 12)',
      '    user: [mem 0x0000000054000000-0x000000007ffdffff] usable',
      '    user: [mem 0x000000007ffe0000-0x000000007fffffff] reserved',
      '    user: [mem 0x00000000feffc000-0x00000000feffffff] reserved',
      '    user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
      `  QMP monitor: unix:${join(data(), 'qmp.sock')}`,
      'Running; stop with Ctrl-C (SIGINT) or SIGTERM.',
    ]);
  });

  it('ndctl list -R -N shows label-less e820 regions with fsdax/mem namespaces, as ndctl 76 does', async () => {
    const region = (n: number, size: number): string[] => [
      '  {',
      `    "dev":"region${n}",`,
      `    "size":${size},`,
      '    "align":16777216,',
      '    "available_size":0,',
      '    "max_available_extent":0,',
      '    "type":"pmem",',
      '    "persistence_domain":"unknown",',
      '    "namespaces":[',
      '      {',
      `        "dev":"namespace${n}.0",`,
      '        "mode":"fsdax",',
      '        "map":"mem",',
      `        "size":${size},`,
      '        "sector_size":512,',
      `        "blockdev":"pmem${n}"`,
      '      }',
      '    ]',
    ];
    // -R -N: a "regions" object whose regions hold their namespaces (ndctl list.c; measured on
    // nvdimm regions, tests/fixtures/ndctl/76/list-RN.json).
    const r = await ndctl('list', '-R', '-N');
    assert.deepEqual([r.code, r.err], [0, '']);
    const indent = (lines: string[]): string[] => lines.map((x) => `  ${x}`);
    assert.equal(
      r.out,
      [
        '{',
        '  "regions":[',
        ...indent(region(0, 128 * MiB)),
        '    },',
        ...indent(region(1, 64 * MiB)),
        '    }',
        '  ]',
        '}',
        '',
      ].join('\n'),
    );
    // No DIMMs on the e820 bus: nothing matched, and ndctl prints nothing.
    const d = await ndctl('list', '-D');
    assert.deepEqual([d.code, d.out, d.err], [0, '', '']);
  });

  it('libpmem2 maps a region at CACHE_LINE, without usc, and its stores reach the tmpfs file', () => {
    const { src, map } = mapNamespace();
    assert.deepEqual(
      [src.size(), src.emu?.region.devtype, src.emu?.region.backingFile, map.storeGranularity],
      [64 * MiB, 'e820', file('0x50000000'), PMEM2_GRANULARITY_CACHE_LINE],
    );
    assert.equal(
      code(() => src.deviceUsc()),
      'PMEM2_E_NOSUPP: Unsafe shutdown count is not supported for this source',
    );
    map.memcpy(4096, new Uint8Array([0x6e, 0x76, 0x6d, 0x65]));
    map.persist(4096, 4);
    map.delete();
    src.delete();
    // Another source on the same region (by its file) sees the stores.
    const again = Pmem2Source.fromNvmemu({ dataDir: data(), path: file('0x50000000') });
    const m2 = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE),
      again,
    );
    assert.deepEqual([...m2.bytes.subarray(4096, 4100)], [0x6e, 0x76, 0x6d, 0x65]);
    m2.delete();
    again.delete();
  });

  it('loses the contents when the machine stops: the file goes, and a new run reads zeros', async () => {
    assert.ok(run !== undefined);
    await stop(run.child, 'SIGTERM');
    assert.deepEqual(readdirSync(shm), []);
    run = await start(machineArgs());
    const { src, map } = mapNamespace();
    assert.deepEqual([...map.bytes.subarray(4096, 4100)], [0, 0, 0, 0]);
    map.memcpy(4096, new Uint8Array([1, 2, 3, 4]));
    map.delete();
    src.delete();
  });

  it('after SIGKILL the region is stale for consumers and the next run starts from zeros', async () => {
    assert.ok(run !== undefined);
    const pid = run.child.pid;
    await stop(run.child, 'SIGKILL');
    assert.equal(existsSync(file('0x50000000')), true);
    assert.equal(
      code(() => Pmem2Source.fromNvmemu({ dataDir: data(), namespace: 'namespace1.0' })),
      `PMEM2_E_DAX_REGION_NOT_FOUND: the nvmemu machine that published ${data()}/state (pid ${pid}) is no longer running`,
    );
    run = await start(machineArgs('memmap=64M!0x50000000'));
    assert.deepEqual(readdirSync(shm), [`${filePrefix(data())}0x50000000`]);
    const src = Pmem2Source.fromNvmemu({ dataDir: data(), namespace: 'namespace0.0' });
    const map = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE),
      src,
    );
    assert.deepEqual([...map.bytes.subarray(4096, 4100)], [0, 0, 0, 0]);
    map.delete();
    src.delete();
  });

  it('refuses a range over reserved memory before creating anything', async () => {
    const refused = await start([
      '--listen',
      'none',
      '--data',
      join(dir, 'refused'),
      '-m',
      '16G',
      '-append',
      'memmap=1G!2G',
    ]);
    assert.deepEqual(
      [refused.child.exitCode, refused.out, refused.err],
      [
        1,
        '',
        'nvmemu: -append: memmap=1G!2G overlaps reserved range [mem 0xbffe0000-0xbfffffff]: refusing (type 12 would take it over)\n',
      ],
    );
    assert.equal(existsSync(join(dir, 'refused')), false);
  });
});
