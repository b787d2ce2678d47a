// The NVMe/TCP target in front of a real machine (nvme-subsys + two nvme controllers + a shared
// nvme-ns on a raw image): what a Linux host does at connect (reference nvme-tcp.md §3.1–§3.2),
// I/O through the real namespace, one association per controller, and shutdown.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { startNvmeTcp, parseListen } from '../src/nvme-tcp/target/index.js';
import type { NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { NvmeStatusError, NvmeTcpController, discover } from '../src/nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le, readU32le, readU64le, readU8 } from '../src/util/bytes.js';

const NQN = 'nqn.2019-08.org.qemu:subsys0';

describe('NVMe/TCP target serving a machine', () => {
  let dir = '';
  let machine: Machine;
  let svc: NvmeTcpService;
  const opts = () => ({ address: '127.0.0.1', port: svc.target.ioPort.port, subnqn: NQN });

  before(async () => {
    registerAllTypes();
    dir = mkdtempSync(join(tmpdir(), 'nvmemu-tcp-'));
    writeFileSync(join(dir, 'nvm.img'), new Uint8Array(4 << 20));
    const a = parseArgs([
      '-drive',
      `file=${join(dir, 'nvm.img')},if=none,id=nvm,format=raw`,
      '-device',
      'nvme-subsys,id=subsys0,nqn=subsys0',
      '-device',
      'nvme,id=c0,serial=s0,subsys=subsys0',
      '-device',
      'nvme,id=c1,serial=s0,subsys=subsys0',
      '-device',
      'nvme-ns,drive=nvm,nsid=1,shared=on',
    ]);
    machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
    svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: 0 });
  });
  after(async () => {
    await svc.close();
    await machine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses --listen forms', () => {
    assert.deepEqual(parseListen('127.0.0.1:4420'), { host: '127.0.0.1', port: 4420 });
    assert.deepEqual(parseListen('[::1]:9'), { host: '::1', port: 9 });
    assert.deepEqual(parseListen(':0'), { host: '127.0.0.1', port: 0 });
    assert.throws(() => parseListen('a:99999'), { code: 'EMU_ERR_CONFIG' });
  });

  it('describes the port and the subsystem with both controllers', () => {
    const lines = svc.describe();
    assert.match(lines[0]!, /^nvme-tcp: listening on 127\.0\.0\.1:\d+$/);
    assert.equal(lines[1], `  subsystem ${NQN} (cntlid 0,1)`);
  });

  it('connects like Linux, sees the shared namespace, and reads back what it wrote', async () => {
    const c = await NvmeTcpController.connect({ ...opts(), ioQueues: 2 });
    try {
      assert.equal(c.cntlid, 0);
      assert.equal(readU16le(c.identify, 78), 0);
      assert.notEqual(readU16le(c.identify, 320), 0, 'KAS');
      assert.equal(readU8(c.identify, 76) & 2, 2, 'CMIC.MCTRS');
      const list = await c.adminOk(
        'Identify CNS 02h',
        { opcode: AdminOpc.IDENTIFY, cdw10: 2 },
        {
          readLength: 4096,
        },
      );
      assert.equal(readU32le(list.data, 0), 1);
      const ns = await c.adminOk(
        'Identify NS',
        { opcode: AdminOpc.IDENTIFY, nsid: 1, cdw10: 0 },
        {
          readLength: 4096,
        },
      );
      assert.equal(readU64le(ns.data, 0), 8192n, 'NSZE of a 4 MiB image at 512 B');
      assert.equal(readU8(ns.data, 30) & 1, 1, 'NMIC shared');
      const data = randomBytes(64 * 1024);
      const w = await c.ioCommand(
        { opcode: IoOpc.WRITE, nsid: 1, cdw10: 8, cdw12: 127 },
        { write: data },
      );
      assert.equal(w.status, 0);
      const r = await c.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, cdw10: 8, cdw12: 127 },
        { readLength: 64 * 1024 },
      );
      assert.equal(r.status, 0);
      assert.deepEqual(Buffer.from(r.data), data);
      const bad = await c.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, cdw10: 8191, cdw12: 1 },
        { readLength: 1024 },
      );
      assert.equal(bad.status & 0x7ff, 0x080, 'LBA out of range');
      assert.equal((await c.ioCommand({ opcode: IoOpc.FLUSH, nsid: 1 })).status, 0);
    } finally {
      await c.disconnect();
    }
    const img = readFileSync(join(dir, 'nvm.img'));
    assert.equal(img.length, 4 << 20);
  });

  it('never lets a read buffer reused from an earlier read leak its bytes', async () => {
    const c = await NvmeTcpController.connect({ ...opts(), ioQueues: 1 });
    try {
      const write = async (lba: number, data: Uint8Array): Promise<void> => {
        const cmd = { opcode: IoOpc.WRITE, nsid: 1, cdw10: lba, cdw12: data.length / 512 - 1 };
        assert.equal((await c.ioCommand(cmd, { write: data })).status, 0);
      };
      const full = randomBytes(4096);
      const one = randomBytes(512);
      await write(2000, full);
      await write(3000, one);
      // 8 blocks into a 4 KiB buffer (filled whole; it is then reused) …
      const r8 = { opcode: IoOpc.READ, nsid: 1, cdw10: 2000, cdw12: 7 };
      for (let i = 0; i < 4; i++) {
        const r = await c.ioCommand(r8, { readLength: 4096 });
        assert.deepEqual(Buffer.from(r.data), full);
      }
      // … a Read whose SGL is longer than its transfer is refused as nvmet refuses it (Data SGL
      // Length Invalid + DNR) and sends no data …
      const r1 = { opcode: IoOpc.READ, nsid: 1, cdw10: 3000, cdw12: 0 };
      const long = await c.ioCommand(r1, { readLength: 4096 });
      assert.equal(long.status, 0x400f);
      assert.equal(long.data.length, 0);
      assert.deepEqual(Buffer.from((await c.ioCommand(r1, { readLength: 512 })).data), one);
      // … and a command that writes less than its buffer (the 512-byte SMART log into 4 KiB)
      // gets a reused buffer whose unwritten bytes are zeros.
      for (let i = 0; i < 4; i++) {
        const smart = { opcode: 0x02, nsid: 0xffffffff, cdw10: 0x02 | (1023 << 16) };
        const r = await c.adminCommand(smart, { readLength: 4096 });
        assert.equal(r.status, 0);
        assert.ok(
          r.data.subarray(512).every((b) => b === 0),
          'unwritten bytes read as zeros',
        );
      }
    } finally {
      await c.disconnect();
    }
  });

  it('serves concurrent 128 KiB reads from recycled buffers without mixing them up', async () => {
    const c = await NvmeTcpController.connect({ ...opts(), ioQueues: 1 });
    try {
      const blocks = [4096, 4352, 4608, 4864];
      const data = blocks.map(() => randomBytes(128 * 1024));
      for (const [i, lba] of blocks.entries()) {
        const w = { opcode: IoOpc.WRITE, nsid: 1, cdw10: lba, cdw12: 255 };
        assert.equal((await c.ioCommand(w, { write: data[i]! })).status, 0);
      }
      for (let round = 0; round < 8; round++) {
        const reads = blocks.flatMap((lba, i) =>
          [0, 1, 2].map(async () => {
            const r = { opcode: IoOpc.READ, nsid: 1, cdw10: lba, cdw12: 255 };
            const got = await c.ioCommand(r, { readLength: 128 * 1024 });
            assert.equal(got.status, 0);
            assert.ok(Buffer.from(got.data).equals(data[i]!), `round ${round}, LBA ${lba}`);
          }),
        );
        await Promise.all(reads);
      }
    } finally {
      await c.disconnect();
    }
  });

  it('gives a second host the other controller of the subsystem (multipath), then Controller Busy', async () => {
    const a = await NvmeTcpController.connect(opts());
    const b = await NvmeTcpController.connect(opts());
    try {
      assert.deepEqual([a.cntlid, b.cntlid], [0, 1]);
      const err = await NvmeTcpController.connect(opts()).catch((e: unknown) => e);
      assert.ok(err instanceof NvmeStatusError);
      assert.equal(err.status, 0x181);
    } finally {
      await a.disconnect();
      await b.disconnect();
    }
  });

  it('lists the subsystem in the discovery log', async () => {
    const log = await discover({ address: '127.0.0.1', port: svc.target.discoveryPort!.port });
    assert.deepEqual(
      log.entries.map((e) => [e.subtype, e.subnqn]),
      [
        [2, NQN],
        [3, 'nqn.2014-08.org.nvmexpress.discovery'],
      ],
    );
  });
});
