// The public in-process API (entry `nvmemu`, src/api/): a machine from QEMU-style arguments,
// typed device handles, block I/O, zones, raw submit, power cuts, errors with stable codes,
// and `await using`.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  IoOpc,
  Machine,
  NvmeCommandError,
  NvmemuError,
  Status,
  isNvmemuError,
} from '../src/index.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-api-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const nvmeArgs = (img: string): string[] => [
  '-drive',
  `file=${img},if=none,id=d`,
  '-device',
  'nvme,id=c0,serial=s0,drive=d',
];

describe('Machine.start and namespaces', () => {
  it('writes, reads back and flushes in a few lines; stop removes the temporary data folder', async () => {
    const img = join(dir, 'a.img');
    const m = await Machine.start(nvmeArgs(img), { images: { [img]: '16M' } });
    const ns = m.nvme('c0').namespace(1);
    const data = new Uint8Array(8 * 512).map((_, i) => i & 0xff);
    await ns.write(10, data);
    assert.deepEqual(await ns.read(10, 8), data);
    await ns.flush();
    const info = await ns.info();
    assert.equal(info.blockSize, 512);
    assert.equal(info.blocks, (16n << 20n) / 512n);
    assert.equal(info.zoned, false);
    assert.ok(existsSync(m.dataDir));
    await m.stop();
    await m.stop();
    assert.equal(existsSync(m.dataDir), false);
    assert.throws(() => m.nvme('c0'), { code: 'EMU_ERR_STATE' });
  });

  it('splits transfers larger than MDTS', async () => {
    const img = join(dir, 'big.img');
    await using m = await Machine.start(nvmeArgs(img), { images: { [img]: '16M' } });
    const ns = m.nvme('c0').namespace();
    const data = new Uint8Array(2 << 20).map((_, i) => (i * 7) & 0xff);
    await ns.write(0, data);
    assert.deepEqual(await ns.read(0, data.length / 512), data);
  });

  it('`await using` stops the machine at the end of the scope', async () => {
    const img = join(dir, 'u.img');
    let kept: Machine | undefined;
    {
      await using m = await Machine.start(nvmeArgs(img), { images: { [img]: '1M' } });
      kept = m;
      assert.equal(m.stopped, false);
    }
    assert.equal(kept.stopped, true);
  });

  it('submit() returns the completion of any command, failed ones included', async () => {
    const img = join(dir, 'raw.img');
    await using m = await Machine.start(nvmeArgs(img), { images: { [img]: '1M' } });
    const ns = m.nvme('c0').namespace(1);
    const cqe = await ns.submit({ opcode: IoOpc.READ, cdw10: 4096, cdw12: 0 }, new Uint8Array(512));
    assert.equal(cqe.status & 0x7ff, Status.LBA_RANGE);
    await assert.rejects(ns.read(4096, 1), (e: unknown) => {
      assert.ok(e instanceof NvmeCommandError);
      assert.equal(e.code, 'EMU_ERR_NVME_STATUS');
      assert.equal(e.status & 0x7ff, Status.LBA_RANGE);
      return true;
    });
  });
});

describe('errors carry stable codes', () => {
  it('a bad option rejects with ConfigError naming the option, and leaves no image behind', async () => {
    const img = join(dir, 'never.img');
    await assert.rejects(
      Machine.start(['-drive', `file=${img},if=none,id=d`, '-device', 'nvme,drive=d'], {
        images: { [img]: '1M' },
      }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, 'EMU_ERR_CONFIG');
        assert.equal(e.message, 'serial property not set');
        assert.equal(e.location, '-device nvme,drive=d');
        return true;
      },
    );
    assert.equal(existsSync(img), false);
  });

  it('unknown ids, wrong types, bad buffers and run-only options', async () => {
    const img = join(dir, 'e.img');
    const pm = join(dir, 'e.pmem');
    await using m = await Machine.start(
      [
        ...nvmeArgs(img),
        '-machine',
        'pc,nvdimm=on',
        '-m',
        '512M,slots=2,maxmem=4G',
        '-object',
        `memory-backend-file,id=mem1,share=on,mem-path=${pm},size=16M`,
        '-device',
        'nvdimm,id=nv1,memdev=mem1',
      ],
      { images: { [img]: '1M' }, dataDir: join(dir, 'e-data') },
    );
    assert.throws(() => m.nvme('nope'), { code: 'EMU_ERR_NOT_FOUND' });
    assert.throws(() => m.nvme('nv1'), { code: 'EMU_ERR_WRONG_TYPE' });
    assert.throws(
      () => m.nvdimm('c0'),
      (e: unknown) => isNvmemuError(e, 'EMU_ERR_WRONG_TYPE'),
    );
    await assert.rejects(m.nvme('c0').namespace(1).write(0, new Uint8Array(100)), {
      code: 'EMU_ERR_ARGUMENT',
    });
    await assert.rejects(Machine.start(['--listen', '127.0.0.1:4420']), (e: unknown) => {
      assert.ok(e instanceof NvmemuError);
      assert.equal(e.code, 'EMU_ERR_UNSUPPORTED');
      return true;
    });
    const nv = m.nvdimm('nv1');
    nv.write(4096, new Uint8Array([1, 2, 3]));
    nv.persist(4096, 3);
    assert.deepEqual(nv.read(4096, 3), new Uint8Array([1, 2, 3]));
    assert.equal(nv.size, 16 << 20);
    assert.deepEqual(
      m.devices().map((d) => d.type),
      ['memory-backend-file', 'drive', 'nvme', 'nvdimm'],
    );
  });
});

describe('power cuts and zones', () => {
  it('a power cut loses unflushed writes and keeps flushed ones; handles stay valid', async () => {
    const img = join(dir, 'pc.img');
    await using m = await Machine.start(nvmeArgs(img), { images: { [img]: '1M' } });
    const ns = m.nvme('c0').namespace(1);
    const a = new Uint8Array(512).fill(0xaa);
    const b = new Uint8Array(512).fill(0xbb);
    await ns.write(0, a);
    await ns.flush();
    await ns.write(1, b);
    const report = await m.powerCut();
    assert.equal(report.unsafeShutdowns.s0, 1);
    assert.deepEqual(await ns.read(0, 1), a);
    assert.deepEqual(await ns.read(1, 1), new Uint8Array(512));
  });

  it('reports zones, appends at the write pointer and resets a zone', async () => {
    const img = join(dir, 'z.img');
    await using m = await Machine.start(
      [
        '-drive',
        `file=${img},if=none,id=z`,
        '-device',
        'nvme,id=c0,serial=z0',
        '-device',
        'nvme-ns,drive=z,nsid=1,zoned=on,zoned.zone_size=1M',
      ],
      { images: { [img]: '8M' } },
    );
    const ns = m.nvme('c0').namespace(1);
    const info = await ns.info();
    assert.equal(info.zoned, true);
    assert.equal(info.zoneSize, 2048n);
    const zones = await ns.zones();
    assert.equal(zones.length, 8);
    assert.deepEqual(zones[1], {
      state: 'empty',
      capacity: 2048n,
      start: 2048n,
      writePointer: 2048n,
    });
    assert.equal(await ns.zoneAppend(2048, new Uint8Array(1024)), 2048n);
    assert.equal(await ns.zoneAppend(2048, new Uint8Array(512)), 2050n);
    assert.equal((await ns.zones())[1]!.state, 'implicitly-open');
    await ns.zoneAction('reset', 2048);
    assert.equal((await ns.zones())[1]!.writePointer, 2048n);
  });
});
