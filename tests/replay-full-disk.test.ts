// A recording whose file cannot be written (a full disk: /dev/full answers every write with
// ENOSPC) ends with a precise error and the device keeps working: the recorder stops watching
// the controller, drops what it had not written (bounded memory), and stop() and the stats
// report the error (docs/record-replay.md "Cost").

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Recorder } from '../src/replay/index.js';
import { tempDir } from './faults-harness.js';

const FULL = '/dev/full';

describe('recording to a full disk', () => {
  it('stops recording with a precise error; the device keeps completing commands', async (t) => {
    if (!existsSync(FULL)) {
      t.skip(`${FULL} is missing: no device to stand for a full disk`);
      return;
    }
    const tmp = tempDir('replay-full');
    try {
      registerAllTypes();
      const img = join(tmp.dir, 'd.img');
      writeFileSync(img, '');
      truncateSync(img, 8 << 20);
      const argv = ['-drive', `file=${img},if=none,id=d0,format=raw`];
      argv.push('-device', 'nvme,id=n0,serial=full0', '-device', 'nvme-ns,drive=d0,nsid=1');
      const args = parseArgs(argv);
      const m = await Machine.create(args.items, {
        settings: machineSettings(args),
        dataDir: tmp.dir,
        warn: () => undefined,
      });
      const ctrl = m.components().find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller;
      const h = new Host(ctrl);
      h.enable();
      await h.createIoQueues(1, 64);
      const rec = new Recorder(m, undefined, { argv, file: FULL });
      assert.ok(ctrl.observers.includes(rec));
      const block = new Uint8Array(4096).fill(0x5a);
      // `hash` keeps what the host wrote: 300 writes fill more than one 1 MiB chunk, whose
      // write to the file fails.
      for (let i = 0; i < 300; i++) {
        const c = await h.command(
          1,
          { opcode: IoOpc.WRITE, nsid: 1, cdw10: i * 8, cdw12: 7 },
          block,
        );
        assert.equal(c.status, 0);
      }
      for (let i = 0; i < 50 && rec.stats.error === undefined; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setImmediate(r));
      assert.match(
        rec.stats.error ?? '',
        /^recording stopped: writing \/dev\/full at byte 0 failed: ENOSPC/,
      );
      assert.equal(ctrl.observers.includes(rec), false, 'the recorder stopped watching');
      const read = new Uint8Array(4096);
      const c = await h.command(1, { opcode: IoOpc.READ, nsid: 1, cdw10: 8, cdw12: 7 }, read);
      assert.equal(c.status, 0);
      assert.deepEqual(read, block);
      assert.match(rec.stop().error ?? '', /ENOSPC/);
      await m.shutdown();
    } finally {
      tmp.cleanup();
    }
  });
});
