import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveProps, type RawValue } from '../config/schema.js';
import type { PlanContext } from '../config/component.js';
import { defaultHost } from '../machine/machine.js';
import { FILE_SCHEMA, RAM_SCHEMA, checkBackend, type BackendPlan } from './config.js';
import { MemoryBackend, type BackendHooks } from './backend.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-backend-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const ctx: PlanContext = {
  settings: {
    type: 'pc',
    compat: '7.2',
    nvdimm: false,
    nvdimmPersistence: undefined,
    ramSize: 2n << 30n,
    slots: 0,
    maxMem: 2n << 30n,
  },
  host: defaultHost,
  dataDir: '',
  lookup: () => undefined,
  planned: () => [],
  claim: () => true,
  warn: () => undefined,
};

function plan(typeName: BackendPlan['typeName'], props: Record<string, string>): BackendPlan {
  const raw = new Map<string, RawValue>(Object.entries(props));
  const schema = typeName === 'memory-backend-file' ? FILE_SCHEMA : RAM_SCHEMA;
  return checkBackend(typeName, resolveProps(schema, raw, 'object'), 'm', ctx);
}

async function open(
  props: Record<string, string>,
  hooks: BackendHooks = {},
): Promise<MemoryBackend> {
  return MemoryBackend.open(
    plan('mem-path' in props ? 'memory-backend-file' : 'memory-backend-ram', props),
    hooks,
  );
}

function fileWith(name: string, bytes: number, fill = 0): string {
  const p = join(dir, name);
  writeFileSync(p, Buffer.alloc(bytes, fill));
  return p;
}

const backendJs = fileURLToPath(new URL('./backend.js', import.meta.url));
const configJs = fileURLToPath(new URL('./config.js', import.meta.url));
const schemaJs = fileURLToPath(new URL('../config/schema.js', import.meta.url));
const machineJs = fileURLToPath(new URL('../machine/machine.js', import.meta.url));

describe('memory-backend-file share=on', () => {
  it('lets another process mapping the same file see our stores, and us see its stores', async () => {
    const path = fileWith('shared.img', 1 << 20);
    const b = await open({ 'mem-path': path, size: '1M', share: 'on' });
    b.write(0, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    const child = `
      import { MemoryBackend } from ${JSON.stringify(backendJs)};
      import { FILE_SCHEMA, checkBackend } from ${JSON.stringify(configJs)};
      import { resolveProps } from ${JSON.stringify(schemaJs)};
      import { defaultHost } from ${JSON.stringify(machineJs)};
      const props = resolveProps(FILE_SCHEMA, new Map([['mem-path', ${JSON.stringify(path)}], ['size', '1M'], ['share', 'on']]), 'object');
      const ctx = { settings: {}, host: defaultHost, lookup: () => undefined, planned: () => [], claim: () => true, warn() {} };
      const b = await MemoryBackend.open(checkBackend('memory-backend-file', props, 'c', ctx));
      process.stdout.write(Buffer.from(b.read(0, 4)).toString('hex'));
      b.write(4096, new Uint8Array([1, 2, 3]));
      await b.close();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], {
      encoding: 'utf8',
    });
    assert.equal(out, 'deadbeef');
    // Our mapping sees the child's store without re-mapping: the same page-cache pages.
    assert.deepEqual([...b.read(4096, 3)], [1, 2, 3]);
    await b.close();
  });

  it('views alias the mapping: a store through view() is in the file', async () => {
    const path = fileWith('alias.img', 8192);
    const b = await open({ 'mem-path': path, size: '8K', share: 'on' });
    b.view(100, 2).set([7, 9]);
    b.msync();
    assert.deepEqual([...readFileSync(path).subarray(100, 102)], [7, 9]);
    await b.close();
  });
});

describe('memory-backend-file share=off', () => {
  it('never changes the file, even after stores, msync and a clean close', async () => {
    const path = fileWith('private.img', 8192, 0x55);
    const b = await open({ 'mem-path': path, size: '8K' });
    b.fill(0, 8192, 0xaa);
    assert.equal(b.read(10, 1)[0], 0xaa);
    b.msync();
    await b.close();
    assert.ok(readFileSync(path).every((x) => x === 0x55));
  });
});

describe('backing files', () => {
  it('creates a missing file of offset+size bytes and deletes it on rollback', async () => {
    const path = join(dir, 'fresh.img');
    const undo: (() => void)[] = [];
    const b = await open(
      { 'mem-path': path, size: '64K', offset: '8K', share: 'on' },
      { onRollback: (u) => undo.push(u) },
    );
    assert.equal(statSync(path).size, 72 * 1024);
    await b.close();
    for (const u of undo.reverse()) u();
    assert.equal(existsSync(path), false);
  });

  it('extends an existing empty file and truncates it back on rollback', async () => {
    const path = fileWith('empty.img', 0);
    const undo: (() => void)[] = [];
    const b = await open(
      { 'mem-path': path, size: '10000', share: 'on' },
      { onRollback: (u) => undo.push(u) },
    );
    // size is rounded up to the host page for the file (QEMU's HOST_PAGE_ALIGN).
    assert.equal(statSync(path).size, 12288);
    assert.equal(b.size, 10000);
    await b.close();
    for (const u of undo.reverse()) u();
    assert.equal(statSync(path).size, 0);
  });

  it('never truncates an existing larger file', async () => {
    const path = fileWith('big.img', 1 << 20);
    const b = await open({ 'mem-path': path, size: '64K', share: 'on' });
    await b.close();
    assert.equal(statSync(path).size, 1 << 20);
  });

  it('maps from `offset` into the file', async () => {
    const path = fileWith('off.img', 16384);
    writeFileSync(path, Buffer.from([1, 2, 3]), { flag: 'r+' });
    const data = readFileSync(path);
    data[8192] = 0x42;
    writeFileSync(path, data);
    const b = await open({ 'mem-path': path, size: '8K', offset: '8K', share: 'on' });
    assert.equal(b.read(0, 1)[0], 0x42);
    await b.close();
  });

  it('uses an unlinked temporary file when mem-path is a directory', async () => {
    const d = join(dir, 'hugedir');
    mkdirSync(d);
    const b = await open({ 'mem-path': d, size: '64K', share: 'on' });
    assert.deepEqual(readdirSync(d), []);
    assert.match(b.hostPath ?? '', /\/hugedir\/qemu_back_mem\._objects_m\.\w{6} \(deleted\)$/);
    b.write(0, new Uint8Array([5]));
    assert.equal(b.read(0, 1)[0], 5);
    await b.close();
  });

  it('readonly=on maps read-only: tracked stores are refused with EMU_ERR_STATE', async () => {
    const path = fileWith('ro.img', 4096, 0x11);
    const b = await open({ 'mem-path': path, size: '4K', readonly: 'on', share: 'on' });
    assert.equal(b.read(0, 1)[0], 0x11);
    assert.throws(() => b.write(0, new Uint8Array([1])), { code: 'EMU_ERR_STATE' });
    await b.close();
  });

  it('pmem=on with share=on on a non-DAX file warns with QEMU text and maps without MAP_SYNC', async () => {
    const path = fileWith('nodax.img', 4096);
    const lines: string[] = [];
    const b = await open(
      { 'mem-path': path, size: '4K', share: 'on', pmem: 'on' },
      { stderr: (l) => lines.push(l), warn: (m) => lines.push(`warning: ${m}`) },
    );
    assert.equal(b.mapSync, false);
    assert.deepEqual(lines, [
      `Warning: requesting persistence across crashes for backend file ${path} failed. Proceeding without persistence, data might become corrupted in case of host crash.`,
      "warning: Using non DAX backing file with 'pmem=on' option is deprecated",
    ]);
    await b.close();
  });

  it('discard-data=on punches the mapped range out of the file on close', async () => {
    const path = fileWith('discard.img', 8192, 0x77);
    const b = await open({ 'mem-path': path, size: '8K', share: 'on', 'discard-data': 'on' });
    await b.close();
    assert.equal(statSync(path).size, 8192);
    assert.ok(readFileSync(path).every((x) => x === 0));
  });

  it('reports a file that shrank since the check with QEMU text', async () => {
    const path = fileWith('shrink.img', 8192);
    const p = plan('memory-backend-file', { 'mem-path': path, size: '8K' });
    truncateSync(path, 4096);
    await assert.rejects(MemoryBackend.open(p), {
      code: 'EMU_ERR_BACKEND_IO',
      message: "backing store size 0x1000 does not match 'size' option 0x2000",
    });
  });
});

describe('memory-backend-ram', () => {
  it('is anonymous zeroed memory of `size` bytes with 2 MiB region alignment', async () => {
    const b = await open({ size: '4M' });
    assert.equal(b.size, 4 << 20);
    assert.equal(b.align, 2n << 20n);
    assert.equal(b.fd, undefined);
    assert.ok(b.read(0, 4096).every((x) => x === 0));
    b.write(1 << 20, new Uint8Array([9]));
    assert.equal(b.bytes[1 << 20], 9);
    await b.close();
  });

  it('prealloc=on touches every page, reporting progress up to the mapped size', async () => {
    const seen: bigint[] = [];
    const ends: number[] = [];
    const b = await open(
      { size: '40M', prealloc: 'on' },
      { progress: { update: (d) => seen.push(d), end: () => ends.push(1) } },
    );
    assert.deepEqual(seen, [32n << 20n, 40n << 20n]);
    assert.deepEqual(ends, [1]);
    await b.close();
  });

  it('refuses access after close with EMU_ERR_STATE', async () => {
    const b = await open({ size: '4K' });
    await b.close();
    assert.throws(() => b.read(0, 1), { code: 'EMU_ERR_STATE' });
  });
});
