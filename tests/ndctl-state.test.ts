// `nvmemu ndctl` on a running machine: regions come from its state folder (--data), list shows
// the published persistence domain, dirty-shutdown count and bad blocks, and inject-error /
// clear-errors drive the machine's poison list through its monitor.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../src/cli/io.js';
import { ndctlCommand } from '../src/cli/ndctl/index.js';
import { startRun } from './support/run.js';

let dir = '';
let data = '';
let machine: ChildProcess | undefined;
const start = async (args: string[]) =>
  (await startRun(['--listen', 'none', ...args], { cwd: dir })).child;

/** `nvmemu ndctl ARGS --data DATA`, in process (the machine runs in its own process). */
async function ndctl(...args: string[]): Promise<{ rc: number; out: string; err: string }> {
  const io = bufferIo();
  const rc = await ndctlCommand([...args, '--data', data], io);
  return { rc, out: io.stdout, err: io.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-ndctl-state-'));
  data = join(dir, 'data');
  for (const [f, size] of [
    ['nv.img', 64 << 20],
    ['vp.img', 16 << 20],
  ] as const) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), size);
  }
  machine = await start([
    '--data',
    data,
    '-machine',
    'pc,nvdimm=on,nvdimm-persistence=mem-ctrl',
    '-m',
    '1G,slots=4,maxmem=8G',
    '-object',
    `memory-backend-file,id=m1,share=on,mem-path=${join(dir, 'nv.img')},size=64M`,
    '-device',
    'nvdimm,id=nv1,memdev=m1,label-size=128K',
    '-object',
    `memory-backend-file,id=m2,share=on,mem-path=${join(dir, 'vp.img')},size=16M`,
    '-device',
    'virtio-pmem-pci,id=vp1,memdev=m2',
  ]);
});

after(async () => {
  if (machine !== undefined && machine.exitCode === null) {
    const exited = new Promise((r) => machine!.once('exit', r));
    machine.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('nvmemu ndctl on a running machine', () => {
  it('provisions an fsdax namespace in the running nvdimm through its published region', async () => {
    assert.equal((await ndctl('disable-region', 'region0')).err, 'disabled 1 region\n');
    assert.equal((await ndctl('init-labels', 'nmem0', '-V', '1.2')).err, 'initialized 1 nmem\n');
    assert.equal((await ndctl('enable-region', 'region0')).err, 'enabled 1 region\n');
    const r = await ndctl('create-namespace', '-m', 'fsdax', '-s', '32M', '-a', '4K', '-n', 'log');
    assert.equal(r.rc, 0, r.err);
    assert.match(r.out, /"mode":"fsdax",\n {2}"map":"dev",\n {2}"size":31457280,/);
  });

  it('injects an error into the namespace data area and prints the namespace with it', async () => {
    const r = await ndctl('inject-error', 'namespace0.0', '--block=0', '--count=8');
    assert.equal(r.rc, 0, r.err);
    const ns = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(
      { count: ns.badblock_count, list: ns.badblocks },
      { count: 8, list: [{ offset: 0, length: 8, dimms: ['nmem0'] }] },
    );
    // Region relative: the data area starts 2 MiB into the namespace (info block + memmap).
    assert.equal(readFileSync(join(data, 'state', 'region0', 'badblocks'), 'utf8'), '4096 8\n');
  });

  it('lists regions and dimms with -R -D -u --media-errors exactly as ndctl prints them', async () => {
    const r = await ndctl('list', '-R', '-D', '-u', '--media-errors');
    assert.equal(r.rc, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      dimms: [
        // -u: hex as printf %#llx ("0", not "0x0"); sizes of 5000 KiB and more as ndctl's
        // "MiB (MB)" strings, smaller ones as numbers (tests/fixtures/ndctl/76/list-R-u.json).
        { dev: 'nmem0', id: '8680-56341200', handle: '0x1', phys_id: '0', dirty_shutdown: 0 },
      ],
      regions: [
        {
          dev: 'region0',
          size: '63.88 MiB (66.98 MB)',
          align: '16.00 MiB (16.78 MB)',
          available_size: '16.00 MiB (16.78 MB)',
          max_available_extent: '16.00 MiB (16.78 MB)',
          type: 'pmem',
          iset_id: '0xba90120012b4dc',
          mappings: [{ dimm: 'nmem0', offset: '0', length: '0x3fe0000', position: 0 }],
          badblock_count: 8,
          badblocks: [{ offset: 4096, length: 8, dimms: ['nmem0'] }],
          persistence_domain: 'memory_controller',
        },
        {
          dev: 'region1',
          size: '16.00 MiB (16.78 MB)',
          align: '16.00 MiB (16.78 MB)',
          available_size: 0,
          max_available_extent: 0,
          type: 'pmem',
          persistence_domain: 'unknown',
        },
      ],
    });
  });

  it('reports injection status in namespace blocks, and nothing for a clean namespace', async () => {
    assert.deepEqual(JSON.parse((await ndctl('inject-error', 'namespace0.0', '--status')).out), {
      badblocks: [{ block: 0, count: 8 }],
    });
    const clean = await ndctl('inject-error', 'namespace1.0', '-t');
    assert.deepEqual(
      [clean.rc, clean.out, clean.err],
      [1, '', 'namespace1.0: error injection not supported\n'],
    );
  });

  it('refuses what ndctl refuses, with its texts', async () => {
    const cases: [string[], string][] = [
      [['namespace0.0', '-t', '-B', '1'], '  Error: status is invalid with inject or uninject\n'],
      [['namespace0.0', '-d', '-t'], '  Error: status is invalid with inject or uninject\n'],
      [['namespace0.0', '-B', '1'], '  Error: block and count required for inject/uninject\n'],
      [['namespace9.0', '-B', '1', '-n', '1'], '  Error: namespace9.0: no such namespace\n'],
      [
        ['namespace0.0', '-B', '61440', '-n', '1'],
        'Unable to inject error: Invalid argument (-22)\n',
      ],
    ];
    for (const [args, err] of cases) {
      const r = await ndctl('inject-error', ...args);
      assert.deepEqual([r.rc, r.err], [1, err], args.join(' '));
    }
  });

  it('un-injects part of the range with ndctl warning and then clears the rest', async () => {
    const r = await ndctl('inject-error', 'namespace0.0', '-B', '0', '-n', '4', '--uninject');
    assert.equal(r.rc, 0, r.err);
    assert.ok(
      r.out.startsWith(
        "Warning: Un-injecting previously injected errors here will\nnot cause the kernel to 'forget' its badblock entries. Those\nhave to be cleared through the normal process of writing\nthe affected blocks\n\n",
      ),
    );
    assert.equal(readFileSync(join(data, 'state', 'region0', 'badblocks'), 'utf8'), '4100 4\n');
    const c = await ndctl('clear-errors', 'all');
    assert.deepEqual([c.rc, c.err], [0, 'cleared 1 namespace\n']);
    assert.equal(readFileSync(join(data, 'state', 'region0', 'badblocks'), 'utf8'), '');
    const l = JSON.parse((await ndctl('list', '-N', '-M')).out) as Record<string, unknown>[];
    assert.deepEqual(
      l.map((n) => [n.dev, n.badblock_count]),
      [
        ['namespace0.0', undefined],
        ['namespace1.0', undefined],
      ],
    );
  });

  it('names the data folder when no machine runs there', async () => {
    const io = bufferIo();
    assert.equal(await ndctlCommand(['list', '--data', join(dir, 'none')], io), 129);
    assert.equal(
      io.stderr,
      `  Error: no regions: no running nvmemu machine publishes ${join(dir, 'none', 'state')}; start one (nvmemu run --data DIR) or give --backing FILE --label-size SIZE\n`,
    );
  });
});
