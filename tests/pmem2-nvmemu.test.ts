// libpmem2 on nvmemu's emulated devices, end to end: a spawned `nvmemu run` publishes its
// regions; this process maps them through the state folder, gets the granularity of each
// region's persistence domain, sees bad blocks injected with `nvmemu ndctl inject-error`, reads
// the unsafe-shutdown count after an unclean stop, and loses its unpersisted stores when the
// machine power-fails.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferIo } from '../src/cli/io.js';
import { ndctlCommand } from '../src/cli/ndctl/index.js';
import { QmpClient } from '../src/monitor/client.js';
import {
  PMEM2_GRANULARITY_BYTE,
  PMEM2_GRANULARITY_CACHE_LINE,
  PMEM2_GRANULARITY_PAGE,
  Pmem2BadBlockContext,
  Pmem2Config,
  Pmem2Map,
  Pmem2Source,
  clearNvmemuBadBlock,
  watchMachinePowerFail,
} from '../src/pmem2/index.js';
import { errorCode as code, startRun, stopRun as stop } from './support/run.js';
import { pmemMachineFolder, type PmemMachineFolder } from './support/pmem-machine.js';

const MiB = 1 << 20;
const LABEL = 128 << 10;
let dir = '';
const start = async (args: string[]) => (await startRun(args)).child;

let folder: PmemMachineFolder | undefined;
before(() => {
  folder = pmemMachineFolder();
  dir = folder.dir;
});
after(() => folder?.remove());
const machineArgs = (data: string, persistence: 'cpu' | 'mem-ctrl'): string[] =>
  folder!.args(data, persistence);

describe('libpmem2 on a running nvmemu machine', () => {
  const data = (): string => join(dir, 'data-mc');
  let machine: ChildProcess | undefined;
  before(async () => {
    machine = await start(machineArgs(data(), 'mem-ctrl'));
  });
  after(async () => {
    if (machine !== undefined) await stop(machine, 'SIGTERM');
  });

  it('maps the nvdimm region window of its backing file at CACHE_LINE (memory_controller)', () => {
    const src = Pmem2Source.fromNvmemu({ dataDir: data(), device: 'nv1' });
    assert.equal(src.size(), 16 * MiB - LABEL);
    const map = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE),
      src,
    );
    assert.equal(map.storeGranularity, PMEM2_GRANULARITY_CACHE_LINE);
    map.memcpy(4096, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    assert.deepEqual(
      [...readFileSync(join(dir, 'nv-mem-ctrl.img')).subarray(4096, 4100)],
      [0xde, 0xad, 0xbe, 0xef],
    );
    assert.equal(
      code(() =>
        Pmem2Map.create(new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_BYTE), src),
      ),
      "PMEM2_E_GRANULARITY_NOT_SUPPORTED: requested granularity not available because the platform doesn't support eADR",
    );
    assert.equal(src.deviceUsc(), 0n);
    assert.equal(src.deviceId(), '8680-56341200');
    map.delete();
    src.delete();
  });

  it('finds the same region from its backing file path and from its namespace name', () => {
    for (const opts of [{ path: join(dir, 'nv-mem-ctrl.img') }, { namespace: 'namespace0.0' }]) {
      const src = Pmem2Source.fromNvmemu({ dataDir: data(), ...opts });
      assert.deepEqual(
        [src.size(), src.fileOffset, src.emu?.region.devid],
        [16 * MiB - LABEL, 0, 'nv1'],
      );
      src.delete();
    }
  });

  it('maps virtio-pmem at PAGE granularity, without unsafe-shutdown count or device id', () => {
    const src = Pmem2Source.fromNvmemu({ dataDir: data(), device: 'vp1' });
    assert.equal(
      code(() =>
        Pmem2Map.create(
          new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_CACHE_LINE),
          src,
        ),
      ),
      "PMEM2_E_GRANULARITY_NOT_SUPPORTED: requested granularity not available because fd doesn't point to DAX-enabled file or kernel doesn't support MAP_SYNC flag (Linux >= 4.15)",
    );
    const map = Pmem2Map.create(
      new Pmem2Config().setRequiredStoreGranularity(PMEM2_GRANULARITY_PAGE),
      src,
    );
    assert.equal(map.storeGranularity, PMEM2_GRANULARITY_PAGE);
    assert.equal(
      code(() => src.deviceUsc()),
      'PMEM2_E_NOSUPP: Unsafe shutdown count is not supported for this source',
    );
    assert.equal(code(() => src.deviceId()).split(':')[0], 'PMEM2_E_NOSUPP');
    map.delete();
    src.delete();
  });

  it('sees bad blocks injected with nvmemu ndctl inject-error at once, and clears them', async () => {
    const src = Pmem2Source.fromNvmemu({ dataDir: data(), namespace: 'namespace0.0' });
    const io = bufferIo();
    assert.equal(
      await ndctlCommand(
        ['inject-error', 'namespace0.0', '--block=16', '--count=4', '--data', data()],
        io,
      ),
      0,
      io.stderr,
    );
    const ctx = Pmem2BadBlockContext.create(src);
    assert.deepEqual(ctx.next(), { offset: 16 * 512, length: 4 * 512 });
    assert.equal(
      code(() => ctx.next()),
      'PMEM2_E_NO_BAD_BLOCK_FOUND: no bad blocks found',
    );
    assert.equal(
      code(() => src.preadMcsafe(new Uint8Array(512), 8192 + 1024)),
      'PMEM2_E_IO_FAIL: pread: Input/output error',
    );
    assert.equal(
      code(() => ctx.clear({ offset: 8192, length: 2048 })).split(':')[0],
      'PMEM2_E_NOSUPP',
    );
    await clearNvmemuBadBlock(src, { offset: 8192, length: 2048 });
    assert.equal(
      code(() => Pmem2BadBlockContext.create(src).next()),
      'PMEM2_E_NO_BAD_BLOCK_FOUND: no bad blocks found',
    );
    const back = new Uint8Array(2048);
    src.preadMcsafe(back, 8192);
    assert.ok(back.every((b) => b === 0));
    src.delete();
  });

  it('loses the unpersisted stores of a simulated map when the machine power-fails', async () => {
    const src = Pmem2Source.fromNvmemu({ dataDir: data(), device: 'nv1' });
    const map = Pmem2Map.create(
      new Pmem2Config()
        .setRequiredStoreGranularity(PMEM2_GRANULARITY_CACHE_LINE)
        .setPowerFailSimulation(true),
      src,
    );
    map.memcpy(0, new Uint8Array([1, 2, 3, 4])); // persisted
    map.memcpy(128, new Uint8Array([5, 6, 7, 8]), 0x20 /* PMEM2_F_MEM_NOFLUSH */); // not
    const watch = await watchMachinePowerFail(map, src);
    const c = await QmpClient.connect({ path: join(data(), 'qmp.sock') });
    await c.negotiate();
    await c.execute('x-nvmemu-power-fail');
    c.close();
    assert.equal(await watch.done, true);
    const img = readFileSync(join(dir, 'nv-mem-ctrl.img'));
    assert.deepEqual([...img.subarray(0, 4)], [1, 2, 3, 4]);
    assert.deepEqual([...img.subarray(128, 132)], [0, 0, 0, 0]);
    map.delete();
    src.delete();
    await new Promise((r) => machine!.once('exit', r));
    // The power failure counted an unsafe shutdown: the next run reports it.
    machine = await start(machineArgs(data(), 'mem-ctrl'));
    const again = Pmem2Source.fromNvmemu({ dataDir: data(), device: 'nv1' });
    assert.equal(again.deviceUsc(), 1n);
    again.delete();
  });
});
