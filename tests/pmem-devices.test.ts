// nvdimm and virtio-pmem-pci on real machines: layout, placement, `info memory-devices`, label
// area, bad blocks, dirty-shutdown counting across (crashed) runs, flush requests.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine } from '../src/machine/machine.js';
import {
  NVDIMM_TYPE,
  NvdimmDevice,
  VIRTIO_PMEM_TYPE,
  VirtioPmemDevice,
  formatMemoryDevices,
  powerFailComponents,
  queryMemoryDevices,
} from '../src/pmem/index.js';
import { regionGranularity, PmemMediaError } from '../src/pmem/nvdimm/device.js';
import type { MemoryBackend } from '../src/memory/backend.js';
import { build, scratch } from './pmem-harness.js';

let dir = '';
const data = () => join(dir, 'data');

before(() => {
  dir = scratch('nvmemu-pmem-dev-');
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function start(argv: string): Promise<Machine> {
  const r = await build(argv.replaceAll('DIR', dir).split(' '), data());
  assert.ok(r.machine !== undefined, r.stderr);
  return r.machine;
}

function image(name: string, size: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  truncateSync(p, size);
  return p;
}

const nvdimmOf = (m: Machine, id: string) => m.component(id) as NvdimmDevice;

describe('nvdimm layout and placement', () => {
  it('sizes PMEM as ALIGN_DOWN(B − L, A) (4267704320 B, 4 MiB labels, align 2M → 4263510016)', async () => {
    image('big.img', 4267704320);
    const m = await start(
      '-machine pc,nvdimm=on -m 2G,slots=2,maxmem=16G -object memory-backend-file,id=mem1,share=on,mem-path=DIR/big.img,size=4267704320,align=2M -device nvdimm,id=nv1,memdev=mem1,label-size=4M',
    );
    const nv = nvdimmOf(m, 'nv1');
    assert.equal(nv.pmemSize, 4263510016);
    assert.equal(nv.labelSize, 4 << 20);
    await m.shutdown();
  });

  it('packs devices first fit, each aligned only to its backend (4 KiB file → unaligned second SPA)', async () => {
    image('a.img', (16 << 20) + (128 << 10) + 4096);
    image('b.img', 16 << 20);
    const m = await start(
      '-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=a,share=on,mem-path=DIR/a.img,size=16912384 -object memory-backend-file,id=b,share=on,mem-path=DIR/b.img,size=16M -device nvdimm,id=nv1,memdev=a,label-size=128K -device nvdimm,id=nv2,memdev=b',
    );
    assert.equal(nvdimmOf(m, 'nv1').addr, 0x100000000n);
    assert.equal(nvdimmOf(m, 'nv1').pmemSize, (16 << 20) + 4096);
    assert.equal(nvdimmOf(m, 'nv2').addr, 0x100000000n + BigInt((16 << 20) + 4096));
    assert.deepEqual([nvdimmOf(m, 'nv1').slot, nvdimmOf(m, 'nv2').slot], [0, 1]);
    await m.shutdown();
  });

  it('prints `info memory-devices` as QEMU does (two 4 GiB backends from 0x100000000)', async () => {
    image('m1.img', 4 << 30);
    image('m2.img', 4 << 30);
    const m = await start(
      '-machine pc,nvdimm=on -m 2G,slots=2,maxmem=16G -object memory-backend-file,id=mem1,share=on,mem-path=DIR/m1.img,size=4G -object memory-backend-file,id=mem2,share=on,mem-path=DIR/m2.img,size=4G -device nvdimm,id=nv1,memdev=mem1 -device virtio-pmem-pci,id=vpmem1,memdev=mem2',
    );
    assert.equal(
      formatMemoryDevices(queryMemoryDevices(m.components())),
      [
        'Memory device [nvdimm]: "nv1"',
        '  addr: 0x100000000',
        '  slot: 0',
        '  node: 0',
        '  size: 4294967296',
        '  memdev: /objects/mem1',
        '  hotplugged: false',
        '  hotpluggable: true',
        'Memory device [virtio-pmem]: "vpmem1"',
        '  memaddr: 0x200000000',
        '  size: 4294967296',
        '  memdev: /objects/mem2',
        '',
      ].join('\n'),
    );
    await m.shutdown();
  });

  it('records nvdimm-persistence as the region persistence domain and derives its DIMM id', async () => {
    for (const [opt, domain] of [
      [',nvdimm-persistence=cpu', 'cpu_cache'],
      [',nvdimm-persistence=mem-ctrl', 'memory_controller'],
      ['', ''],
    ] as const) {
      const m = await start(
        `-machine pc,nvdimm=on${opt} -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G -device nvdimm,id=nv1,memdev=mem1,slot=1`,
      );
      assert.equal(nvdimmOf(m, 'nv1').persistenceDomain, domain);
      assert.equal(nvdimmOf(m, 'nv1').unitId, '8680-57341200');
      await m.shutdown();
    }
  });

  it('chooses the durability granularity from share, MAP_SYNC and the domain', () => {
    const fake = (share: boolean, file: boolean, mapSync: boolean) =>
      ({ plan: { share, file: file ? {} : undefined }, mapSync }) as unknown as MemoryBackend;
    assert.equal(regionGranularity(fake(false, true, false), 'cpu'), 'none');
    assert.equal(regionGranularity(fake(true, false, false), 'cpu'), 'none');
    assert.equal(regionGranularity(fake(true, true, false), 'cpu'), 'page');
    assert.equal(regionGranularity(fake(true, true, true), 'cpu'), 'byte');
    assert.equal(regionGranularity(fake(true, true, true), 'mem-ctrl'), 'cache-line');
    assert.equal(regionGranularity(fake(true, true, true), undefined), 'cache-line');
  });
});

describe('nvdimm label area, bad blocks, dirty shutdown', () => {
  const NV = (file: string) =>
    `-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,share=on,mem-path=DIR/${file},size=2M -device nvdimm,id=nv1,memdev=mem1,label-size=128K`;

  it('keeps labels in the last label-size bytes of the backend file', async () => {
    const p = image('labels.img', 2 << 20);
    const m = await start(NV('labels.img'));
    const nv = nvdimmOf(m, 'nv1');
    nv.writeLabel(0, new Uint8Array([0x4e, 0x41, 0x4d, 0x45]));
    nv.write(0, new Uint8Array([1]));
    assert.deepEqual([...nv.readLabel(0, 4)], [0x4e, 0x41, 0x4d, 0x45]);
    assert.throws(() => nv.readLabel(128 << 10, 1), RangeError);
    await m.shutdown();
    const f = readFileSync(p);
    assert.deepEqual(
      [...f.subarray((2 << 20) - (128 << 10), (2 << 20) - (128 << 10) + 4)],
      [0x4e, 0x41, 0x4d, 0x45],
    );
    assert.equal(f[0], 1);
  });

  it('fails reads that touch injected bad blocks, lists them merged, clears them, and keeps them across runs', async () => {
    image('bb.img', 2 << 20);
    let m = await start(NV('bb.img'));
    let nv = nvdimmOf(m, 'nv1');
    nv.injectBadBlocks(8, 2);
    nv.injectBadBlocks(10, 6);
    assert.deepEqual(nv.badBlocks(), [{ sector: 8, count: 8 }]);
    assert.throws(() => nv.read(4096 + 100, 10), PmemMediaError);
    assert.throws(() => nv.read(4000, 200), { code: 'EMU_ERR_BACKEND_IO' });
    assert.equal(nv.read(0, 4096).length, 4096);
    assert.equal(nv.read(8192, 512).length, 512);
    nv.clearBadBlocks(9, 2);
    assert.deepEqual(nv.badBlocks(), [
      { sector: 8, count: 1 },
      { sector: 11, count: 5 },
    ]);
    await m.shutdown();
    m = await start(NV('bb.img'));
    nv = nvdimmOf(m, 'nv1');
    assert.deepEqual(nv.badBlocks(), [
      { sector: 8, count: 1 },
      { sector: 11, count: 5 },
    ]);
    assert.throws(() => nv.injectBadBlocks(4096, 1), RangeError);
    await m.shutdown();
  });

  it('counts a crash of a writable run at the next start, not a clean shutdown, and every power failure', async () => {
    image('dsc.img', 2 << 20);
    let m = await start(NV('dsc.img'));
    assert.equal(nvdimmOf(m, 'nv1').dirtyShutdown, 0);
    await m.shutdown();
    // A run that dies without shutting down (another process, killed while mapped).
    const harness = fileURLToPath(new URL('./pmem-harness.js', import.meta.url));
    const child = `
      import { build } from ${JSON.stringify(harness)};
      const r = await build(${JSON.stringify(NV('dsc.img').replaceAll('DIR', dir).split(' '))}, ${JSON.stringify(data())});
      if (r.machine === undefined) { process.stderr.write(r.stderr); process.exit(2); }
      process.kill(process.pid, 'SIGKILL');`;
    assert.throws(
      () => execFileSync(process.execPath, ['--input-type=module', '-e', child], { stdio: 'pipe' }),
      {
        signal: 'SIGKILL',
      },
    );
    m = await start(NV('dsc.img'));
    assert.equal(nvdimmOf(m, 'nv1').dirtyShutdown, 1);
    await m.shutdown();
    m = await start(NV('dsc.img'));
    assert.equal(nvdimmOf(m, 'nv1').dirtyShutdown, 1, 'a clean shutdown is not counted');
    await powerFailComponents(m.components());
    m = await start(NV('dsc.img'));
    assert.equal(nvdimmOf(m, 'nv1').dirtyShutdown, 2, 'a power failure counts once');
    await m.shutdown();
  });

  it('does not count a read-only DIMM (never mapped writable)', async () => {
    image('ro.img', 2 << 20);
    const argv = `-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,mem-path=DIR/ro.img,size=2M,readonly=on -device nvdimm,id=nv1,memdev=mem1,unarmed=on`;
    let m = await start(argv);
    await powerFailComponents(m.components());
    m = await start(argv);
    assert.equal(nvdimmOf(m, 'nv1').dirtyShutdown, 0);
    await m.shutdown();
  });
});

describe('power failure on a regular file (page granularity)', () => {
  it('keeps exactly the msynced pages: the restarted machine sees them and the old content elsewhere', async () => {
    const p = image('pf.img', 2 << 20);
    const argv = `-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,share=on,mem-path=DIR/pf.img,size=2M -device nvdimm,id=nv1,memdev=mem1`;
    let m = await start(argv);
    let nv = nvdimmOf(m, 'nv1');
    assert.equal(nv.granularity, 'page');
    nv.write(0, new Uint8Array([0xa1]));
    nv.persist(0, 1);
    nv.write(8192, new Uint8Array([0xb2]));
    nv.write(100, new Uint8Array([0xc3])); // same page as the persisted byte, after msync
    const reports = await powerFailComponents(m.components());
    assert.deepEqual(reports, [
      {
        id: 'mem1',
        granularity: 'page',
        image: 'file',
        reverted: [
          { offset: 0, length: 4096 },
          { offset: 8192, length: 4096 },
        ],
      },
    ]);
    const f = readFileSync(p);
    assert.deepEqual([f[0], f[100], f[8192]], [0xa1, 0, 0]);
    m = await start(argv);
    nv = nvdimmOf(m, 'nv1');
    assert.deepEqual([...nv.read(0, 1), ...nv.read(100, 1), ...nv.read(8192, 1)], [0xa1, 0, 0]);
    await m.shutdown();
  });

  it('keeps nothing of a share=off backend (the file is as before the run)', async () => {
    const p = image('pfoff.img', 2 << 20);
    const m = await start(
      `-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,mem-path=DIR/pfoff.img,size=2M -device nvdimm,id=nv1,memdev=mem1`,
    );
    const nv = nvdimmOf(m, 'nv1');
    assert.equal(nv.granularity, 'none');
    nv.write(0, new Uint8Array([1]));
    nv.persist(0, 1);
    assert.equal(nv.backend.imageAfterPowerFail(0, 1)[0], 0);
    const [r] = await powerFailComponents(m.components());
    assert.equal(r?.image, 'none');
    assert.equal(readFileSync(p)[0], 0);
  });
});

describe('virtio-pmem-pci', () => {
  const VP = `-m 2G,slots=2,maxmem=8G -object memory-backend-file,id=mem1,share=on,mem-path=DIR/vp.img,size=2M -device virtio-pmem-pci,id=vp,memdev=mem1`;

  it('exposes config start/size as two LE 64-bit fields', async () => {
    image('vp.img', 2 << 20);
    const m = await start(VP);
    const vp = m.component('vp') as VirtioPmemDevice;
    assert.deepEqual([...vp.config()], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0]);
    assert.equal(vp.synchronous, false);
    await m.shutdown();
  });

  it('flush reaches the file: after a page-cache crash the flushed store survives, a later one does not', async () => {
    const p = image('vp.img', 2 << 20);
    const m = await start(VP);
    const vp = m.component('vp') as VirtioPmemDevice;
    vp.write(0, new Uint8Array([0x11]));
    const resp = await vp.request(new Uint8Array([0, 0, 0, 0]), 4);
    assert.deepEqual(resp, new Uint8Array([0, 0, 0, 0]));
    vp.write(4096, new Uint8Array([0x22]));
    await powerFailComponents(m.components());
    const f = readFileSync(p);
    assert.deepEqual([f[0], f[4096]], [0x11, 0]);
  });

  it('answers 1 when the host fsync fails', async () => {
    image('vp.img', 2 << 20);
    const m = await start(VP);
    const vp = m.component('vp') as VirtioPmemDevice;
    await vp.backend.close();
    assert.equal(await vp.flush(), 1);
    await m.shutdown();
  });

  it('puts malformed requests in QEMU error states', async () => {
    image('vp.img', 2 << 20);
    const m = await start(VP);
    const vp = m.component('vp') as VirtioPmemDevice;
    assert.deepEqual(await vp.request(undefined, 4), { fault: 'virtio-pmem missing request data' });
    assert.deepEqual(await vp.request(new Uint8Array(4), 0), {
      fault: 'virtio-pmem missing request data',
    });
    assert.deepEqual(await vp.request(new Uint8Array(8), 4), {
      fault: 'virtio-pmem request not proper',
    });
    await m.shutdown();
  });
});

describe('unplug', () => {
  it("refuses device_del with QEMU 7.2's texts", () => {
    assert.equal(NVDIMM_TYPE.unplugRefusal, 'nvdimm device hot unplug is not supported yet.');
    assert.equal(
      VIRTIO_PMEM_TYPE.unplugRefusal,
      'virtio based memory devices cannot be unplugged.',
    );
  });
});
