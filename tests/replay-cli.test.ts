// `nvmemu run --record` and the monitor's record commands, then `nvmemu replay` of what an
// NVMe/TCP host did (fabrics commands skipped, I/O queues made by the replay), a power cut and a
// fault included; `replay --diff`; precise errors for a missing or damaged file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRun, stopRun, type Running } from './support/run.js';
import { tempDir } from './faults-harness.js';
import { QmpClient } from '../src/monitor/client.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/controller.js';
import { main } from '../src/cli/app.js';
import { bufferIo } from '../src/cli/io.js';
import { parseRecording } from '../src/replay/parse.js';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('nvmemu run --record, nvmemu replay', () => {
  const t = tempDir('replay-cli');
  const rec = join(t.dir, 'run.nvrec');
  let run: Running;
  before(async () => {
    writeFileSync(join(t.dir, 'd.img'), '');
    truncateSync(join(t.dir, 'd.img'), 1 << 20);
    run = await startRun([
      '--data',
      t.dir,
      '--listen',
      '127.0.0.1:0',
      '--discovery',
      'none',
      '--record',
      rec,
      '-drive',
      `file=${join(t.dir, 'd.img')},if=none,id=d0,format=raw`,
      '-device',
      'nvme,id=nvme0,serial=cli0',
      '-device',
      'nvme-ns,id=ns1,drive=d0,nsid=1',
    ]);
  });
  after(async () => {
    await stopRun(run.child);
    t.cleanup();
  });

  it('records an NVMe/TCP host, a fault and a power cut; the replay reproduces them', async () => {
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
    const qmp = await QmpClient.connect({ path: join(t.dir, 'qmp.sock') });
    await qmp.negotiate();
    const host = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port,
      subnqn: 'nqn.2019-08.org.qemu:cli0',
      ioQueues: 1,
    });
    const block = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
    assert.equal(
      (await host.ioCommand({ opcode: 1, nsid: 1, cdw10: 0, cdw12: 7 }, { write: block })).status,
      0,
    );
    await qmp.execute('x-nvmemu-inject-fault', {
      kind: 'media-error',
      id: 'ns1',
      lba: 0,
      count: 8,
    });
    assert.notEqual(
      (await host.ioCommand({ opcode: 2, nsid: 1, cdw10: 0, cdw12: 7 }, { readLength: 4096 }))
        .status,
      0,
    );
    await qmp.execute('x-nvmemu-clear-fault', {});
    const read = await host.ioCommand(
      { opcode: 2, nsid: 1, cdw10: 0, cdw12: 7 },
      { readLength: 4096 },
    );
    assert.deepEqual(read.data, block);
    await qmp.execute('x-nvmemu-track-writes', {});
    assert.equal(
      (await host.ioCommand({ opcode: 1, nsid: 1, cdw10: 8, cdw12: 7 }, { write: block })).status,
      0,
    );
    await qmp.execute('x-nvmemu-power-cut', { seed: 3 });
    await host.disconnect().catch(() => undefined);
    const q = (await qmp.execute('x-nvmemu-query-record', {})) as { active: boolean; file: string };
    assert.equal(q.active, true);
    assert.equal(q.file, rec);
    const stats = (await qmp.execute('x-nvmemu-record-stop', {})) as { commands: number };
    assert.ok(stats.commands >= 4);
    await assert.rejects(qmp.execute('x-nvmemu-record-stop', {}), /not recording/);
    qmp.close();

    const r = parseRecording(readFileSync(rec));
    assert.deepEqual(
      r.events.map((e) => e.kind),
      ['controller', 'fault-inject', 'fault-clear', 'track-writes', 'power-cut'],
    );
    const out = await cli('replay', rec, '--time-tolerance', 'off');
    assert.equal(out.err, '');
    assert.match(
      out.out,
      /commands replayed \(\d+ transport commands skipped\), 5 events, 0 divergences/,
    );
    assert.equal(out.code, 0);
    assert.equal((await cli('replay', '--diff', rec, rec)).code, 0);
  });

  it('usage and file errors are precise (exit 2)', async () => {
    const missing = await cli('replay', join(t.dir, 'nope.nvrec'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.nvrec: no such file/);
    const junk = join(t.dir, 'junk.nvrec');
    writeFileSync(junk, 'NVMEMURC\x01\x00\x10\x00\x00\x00\x00\x00');
    const bad = await cli('replay', junk);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /junk\.nvrec: recording header: CRC mismatch/);
    const usage = await cli('replay', '--diff', junk);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--diff needs two recordings A and B/);
    const tol = await cli('replay', junk, '--time-tolerance', 'soon');
    assert.match(tol.err, /--time-tolerance expects a number of milliseconds or 'off', not 'soon'/);
  });
});
