import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferIo } from '../src/cli/io.js';
import { ndctlCommand } from '../src/cli/ndctl/index.js';

let dir = '';
let img = '';

async function ndctl(...args: string[]): Promise<{ rc: number; out: string; err: string }> {
  const io = bufferIo();
  const rc = await ndctlCommand(
    [...args, '--backing', img, '--label-size', '128K', '--data', dir],
    io,
  );
  return { rc, out: io.stdout, err: io.stderr };
}

describe('nvmemu ndctl on an nvdimm backing file', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nvmemu-ndctl-'));
    img = join(dir, 'pmem.img');
    writeFileSync(img, '');
    truncateSync(img, 256 * 1024 * 1024 + 128 * 1024); // 256 MiB PMEM + 128 KiB labels
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the blank (label-less) region as one raw namespace', async () => {
    const r = await ndctl('list');
    assert.equal(r.rc, 0);
    assert.equal(
      r.out,
      '[\n  {\n    "dev":"namespace0.0",\n    "mode":"raw",\n    "size":268435456,\n    "sector_size":512,\n    "blockdev":"pmem0"\n  }\n]\n',
    );
  });
  it('refuses label writes while the region is active, with ndctl text', async () => {
    const r = await ndctl('init-labels', 'nmem0');
    assert.deepEqual(
      [r.rc, r.err],
      [1, '  Error: nmem0: regions active, abort label write\ninitialized 0 nmems\n'],
    );
  });
  it('initialises v1.2 labels on a disabled region and refuses to do it twice', async () => {
    assert.equal((await ndctl('disable-region', 'region0')).err, 'disabled 1 region\n');
    assert.equal((await ndctl('init-labels', 'nmem0', '-V', '1.2')).err, 'initialized 1 nmem\n');
    const again = await ndctl('init-labels', 'nmem0');
    assert.equal(
      again.err,
      '  Error: nmem0: error: labels already initialized\ninitialized 0 nmems\n',
    );
    const j = await ndctl('read-labels', 'nmem0', '-j');
    assert.equal(j.err, 'read 1 nmem\n');
    const parsed = JSON.parse(j.out) as {
      dev: string;
      index: { seq: number; nslot: number; minor: number }[];
    }[];
    assert.deepEqual(
      parsed[0]!.index.map((i) => [i.seq, i.nslot, i.minor]),
      [
        [3, 510, 2],
        [2, 510, 2],
      ],
    );
    assert.equal((await ndctl('enable-region', 'all')).err, 'enabled 1 region\n');
  });
  it('creates an fsdax namespace and prints its JSON in ndctl key order', async () => {
    const r = await ndctl(
      'create-namespace',
      '-m',
      'fsdax',
      '-s',
      '64M',
      '-n',
      'db',
      '-u',
      '01234567-89ab-4def-8123-456789abcdef',
    );
    assert.equal(r.rc, 0, r.err);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(j), [
      'dev',
      'mode',
      'map',
      'size',
      'uuid',
      'sector_size',
      'align',
      'blockdev',
      'name',
    ]);
    // 64 MiB at a 2 MiB-aligned start: dataoff = ALIGN(8 KiB + 64·16382, 2 MiB) = 2 MiB.
    assert.deepEqual(
      [j.dev, j.mode, j.map, j.size, j.align, j.blockdev, j.name],
      ['namespace0.0', 'fsdax', 'dev', 62 * 1024 * 1024, 2097152, 'pmem0', 'db'],
    );
    const v = await ndctl('list', '-v');
    assert.match(v.out, /"raw_uuid":"01234567-89ab-4def-8123-456789abcdef"/);
  });
  it('creates a sector namespace after it and lists regions with their namespaces', async () => {
    const r = await ndctl('create-namespace', '-m', 'sector', '-s', '32M', '-l', '512');
    assert.equal(r.rc, 0, r.err);
    assert.match(r.out, /"blockdev":"pmem0.1s"/);
    // -R -N prints a "regions" object, not an array, as ndctl 76 does
    // (tests/fixtures/ndctl/76/list-RN.json).
    const l = await ndctl('list', '-R', '-N', '-r', 'region0');
    const { regions } = JSON.parse(l.out) as {
      regions: { available_size: number; iset_id: number; namespaces: { mode: string }[] }[];
    };
    assert.equal(regions[0]!.available_size, 160 * 1024 * 1024);
    assert.deepEqual(Object.keys(regions[0]!), [
      'dev',
      'size',
      'align',
      'available_size',
      'max_available_extent',
      'type',
      'iset_id',
      'persistence_domain',
      'namespaces',
    ]);
    assert.match(l.out, /"persistence_domain":"unknown"/);
    assert.deepEqual(
      regions[0]!.namespaces.map((n) => n.mode),
      ['fsdax', 'sector'],
    );
    assert.match(l.out, /"iset_id":52512752653219036/);
  });
  it('prints a devdax namespace with chardev before align, as the guest ndctl does', async () => {
    const r = await ndctl('create-namespace', '-m', 'devdax', '-s', '32M');
    assert.equal(r.rc, 0, r.err);
    assert.deepEqual(Object.keys(JSON.parse(r.out) as object), [
      'dev',
      'mode',
      'map',
      'size',
      'uuid',
      'chardev',
      'align',
    ]);
    assert.match(r.out, /"chardev":"dax0.2"/);
  });
  it('refuses a misaligned size with both ndctl lines', async () => {
    const r = await ndctl('create-namespace', '-s', '20M');
    assert.deepEqual(
      [r.rc, r.err],
      [
        1,
        "  Error: '--size=' must align to interleave-width: 1 and alignment: 16777216\n  Error: did you intend --size=32M?\n",
      ],
    );
  });
  it('check-namespace needs the namespace offline, then reports it checked', async () => {
    const online = await ndctl('check-namespace', 'namespace0.1');
    assert.equal(
      online.err,
      '  Error: namespace0.1: check aborted, namespace online\nchecked 0 namespaces\n',
    );
    assert.equal((await ndctl('disable-namespace', 'namespace0.1')).err, 'disabled 1 namespace\n');
    const ok = await ndctl('check-namespace', 'namespace0.1');
    assert.deepEqual([ok.rc, ok.err], [0, 'checked 1 namespace\n']);
    const listed = await ndctl('list', '-i');
    assert.match(listed.out, /"state":"disabled"/);
  });
  it('destroy refuses an active namespace without -f and destroys with it', async () => {
    const no = await ndctl('destroy-namespace', 'namespace0.0');
    assert.equal(
      no.err,
      '  Error: namespace0.0 is active, specify --force for re-configuration\ndestroyed 0 namespaces\n',
    );
    const yes = await ndctl('destroy-namespace', 'all', '-f');
    assert.deepEqual([yes.rc, yes.err], [0, 'destroyed 3 namespaces\n']);
    const none = await ndctl('list');
    // ndctl prints nothing at all when nothing matched (tests/fixtures/ndctl/76/list-n3.json).
    assert.deepEqual([none.out, none.err], ['', '']);
  });
});
