// Host library ↔ target on 127.0.0.1 over every PDU flow (reference nvme-tcp.md §1.7–§1.9):
// in-capsule writes, R2T with several H2CData and several R2Ts, multi-PDU C2HData, C2HData
// SUCCESS, digests off and on — against a RAM-backed fake controller so the transport is
// tested on its own.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le, readU32le, readU8 } from '../src/util/bytes.js';
import { FAKE_LBA, fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

const NQN = 'nqn.2019-08.org.qemu:e2e';

const rw = (opcode: number, slba: number, nlb: number) => ({
  opcode,
  nsid: 1,
  cdw10: slba,
  cdw11: 0,
  cdw12: nlb - 1,
});

describe('NVMe/TCP host library against the target', () => {
  const { subsys, media } = fakeSubsystem(NQN, 1, 4096);
  let target: TcpTarget;
  before(async () => {
    // Small MAXH2CDATA, R2T bursts and C2HData chunks so every multi-PDU path is exercised.
    target = await TcpTarget.start(() => [subsys], {
      port: 0,
      discoveryPort: null,
      maxH2CData: 4096,
      r2tChunk: 8192,
      c2hChunk: 4096,
      inCapsuleSize: 4096,
    });
  });
  after(() => target.close());

  for (const digests of [false, true]) {
    const d = digests ? 'with header and data digests' : 'without digests';
    it(`moves data in-capsule, by R2T/H2CData and by multi-PDU C2HData ${d}`, async () => {
      const c = await NvmeTcpController.connect({
        address: '127.0.0.1',
        port: target.ioPort.port,
        subnqn: NQN,
        hdgst: digests,
        ddgst: digests,
        ioQueues: 2,
        // SQ flow control on (Linux's default): every read ends with a CapsuleResp.
        disableSqFlow: false,
      });
      try {
        assert.equal(c.io.length, 2);
        // In-capsule: 4096 bytes fit the I/O in-capsule size (IOCCSZ = (64+4096)/16 = 260).
        assert.equal(readU32le(c.identify, 1792), 260);
        const small = randomBytes(8 * FAKE_LBA);
        const w1 = await c.ioCommand(rw(IoOpc.WRITE, 10, 8), { write: small });
        assert.equal(w1.status, 0);
        // 20 KiB: R2T path, 3 R2Ts of ≤ 8 KiB, each answered by ≤ 4 KiB H2CData PDUs.
        const big = randomBytes(40 * FAKE_LBA);
        const w2 = await c.ioCommand(rw(IoOpc.WRITE, 100, 40), { write: big });
        assert.equal(w2.status, 0);
        assert.deepEqual(media.subarray(100 * FAKE_LBA, 140 * FAKE_LBA), new Uint8Array(big));
        assert.deepEqual(media.subarray(10 * FAKE_LBA, 18 * FAKE_LBA), new Uint8Array(small));
        // Read back 20 KiB as 5 C2HData PDUs.
        const r = await c.ioCommand(rw(IoOpc.READ, 100, 40), { readLength: 40 * FAKE_LBA });
        assert.equal(r.status, 0);
        assert.equal(r.viaSuccessFlag, false);
        assert.deepEqual(r.data, new Uint8Array(big));
        // The same into the caller's buffer (CommandOptions.into): the data is a view of it.
        const into = new Uint8Array(48 * FAKE_LBA).fill(0xee);
        const r2 = await c.ioCommand(rw(IoOpc.READ, 100, 40), { readLength: 40 * FAKE_LBA, into });
        assert.equal(r2.status, 0);
        assert.equal(r2.data.buffer, into.buffer);
        assert.deepEqual(r2.data, new Uint8Array(big));
        assert.deepEqual(into.subarray(40 * FAKE_LBA), new Uint8Array(8 * FAKE_LBA).fill(0xee));
        await assert.rejects(
          c.ioCommand(rw(IoOpc.READ, 100, 40), { readLength: 40 * FAKE_LBA, into: small }),
          { code: 'NVME_TCP_USAGE' },
        );
      } finally {
        await c.disconnect();
      }
    });
  }

  it('gathers a 128 KiB C2HData that spans socket reads straight into the caller buffer', async () => {
    const t = await TcpTarget.start(() => [subsys], { port: 0, discoveryPort: null });
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: t.ioPort.port,
      subnqn: NQN,
    });
    try {
      const len = 256 * FAKE_LBA;
      const data = randomBytes(len);
      assert.equal((await c.ioCommand(rw(IoOpc.WRITE, 1000, 256), { write: data })).status, 0);
      const into = new Uint8Array(len);
      for (let i = 0; i < 4; i++) {
        into.fill(i);
        const r = await c.ioCommand(rw(IoOpc.READ, 1000, 256), { readLength: len, into });
        assert.equal(r.status, 0);
        assert.equal(r.data, into);
        assert.deepEqual(into, new Uint8Array(data));
        // Without a caller buffer: a buffer of its own per read.
        const own = await c.ioCommand(rw(IoOpc.READ, 1000, 256), { readLength: len });
        assert.notEqual(own.data.buffer, into.buffer);
        assert.deepEqual(own.data, new Uint8Array(data));
      }
    } finally {
      await c.disconnect();
      await t.close();
    }
  });

  it('completes reads with C2HData SUCCESS (no CapsuleResp) when SQ flow control is disabled', async () => {
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: target.ioPort.port,
      subnqn: NQN,
      disableSqFlow: true,
    });
    try {
      const data = randomBytes(16 * FAKE_LBA);
      assert.equal((await c.ioCommand(rw(IoOpc.WRITE, 0, 16), { write: data })).status, 0);
      const r = await c.ioCommand(rw(IoOpc.READ, 0, 16), { readLength: 16 * FAKE_LBA });
      assert.deepEqual([r.status, r.viaSuccessFlag], [0, true]);
      assert.deepEqual(r.data, new Uint8Array(data));
      // A failed read still gets a CapsuleResp with its status (LBA out of range, DNR).
      const bad = await c.ioCommand(rw(IoOpc.READ, 4095, 2), { readLength: 2 * FAKE_LBA });
      assert.deepEqual([bad.status, bad.viaSuccessFlag], [0x4080, false]);
    } finally {
      await c.disconnect();
    }
  });

  it('reports the fabrics Identify fields of the controller (§2.8)', async () => {
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: target.ioPort.port,
      subnqn: NQN,
      ioQueues: 0,
    });
    try {
      const id = c.identify;
      assert.equal(readU16le(id, 78), c.cntlid);
      assert.equal(readU8(id, 76) & 2, 2, 'CMIC.MCTRS');
      assert.equal(readU8(id, 111), 1, 'CNTRLTYPE');
      assert.equal(readU16le(id, 320), 10, 'KAS');
      assert.equal(readU16le(id, 514), 2048, 'MAXCMD = CAP.MQES + 1');
      assert.equal(readU32le(id, 536), 0x100001, 'SGLS');
      assert.equal(readU32le(id, 1796), 1, 'IORCSZ');
      assert.equal(readU16le(id, 1800), 0, 'ICDOFF');
      assert.equal(readU8(id, 1803), 1, 'MSDBD');
      assert.equal(Buffer.from(id.subarray(768, 768 + NQN.length)).toString(), NQN);
      assert.equal(readU8(id, 77), 8, 'MDTS stays the controller’s');
    } finally {
      await c.disconnect();
    }
  });

  it('echoes arbitrary CIDs and answers a busy CID with Command ID Conflict', async () => {
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: target.ioPort.port,
      subnqn: NQN,
    });
    try {
      const r = await c.ioCommand({ ...rw(IoOpc.READ, 0, 1), cid: 0x3005 }, { readLength: 512 });
      assert.deepEqual([r.status, r.cid], [0, 0x3005]);
      const flush = await c.ioCommand({ opcode: IoOpc.FLUSH, nsid: 1 });
      assert.equal(flush.status, 0);
    } finally {
      await c.disconnect();
    }
  });
});

describe('NVMe/TCP target reusing gathered write bodies', () => {
  // Default transport options: a 128 KiB write is one H2CData whose body spans socket chunks,
  // so the target gathers it into a buffer it reuses once the write has completed
  // (connection.ts Inflight.pooled); in-capsule 8 KiB writes take the same way.
  const { subsys, media } = fakeSubsystem('nqn.2019-08.org.qemu:e2e-pool', 1, 8192);
  let target: TcpTarget;
  before(async () => {
    target = await TcpTarget.start(() => [subsys], { port: 0, discoveryPort: null });
  });
  after(() => target.close());

  for (const digests of [false, true]) {
    it(`keeps every write's data through waves of concurrent writes ${digests ? 'with' : 'without'} digests`, async () => {
      const c = await NvmeTcpController.connect({
        address: '127.0.0.1',
        port: target.ioPort.port,
        subnqn: 'nqn.2019-08.org.qemu:e2e-pool',
        hdgst: digests,
        ddgst: digests,
      });
      try {
        const big = 256; // blocks: 128 KiB
        const small = 16; // blocks: 8 KiB, in-capsule
        const want = new Map<number, Buffer>();
        // Three waves of 8 concurrent writes each (later waves run on reused bodies), a
        // 128 KiB and an 8 KiB write per slot, every one with its own bytes.
        for (let wave = 0; wave < 3; wave++) {
          const writes: Promise<number>[] = [];
          for (let i = 0; i < 8; i++) {
            const slot = (wave * 8 + i) % 24;
            for (const [slba, nlb] of [
              [slot * 320, big],
              [slot * 320 + big, small],
            ] as const) {
              const data = randomBytes(nlb * FAKE_LBA);
              want.set(slba, data);
              writes.push(
                c.ioCommand(rw(IoOpc.WRITE, slba, nlb), { write: data }).then((r) => r.status),
              );
            }
          }
          assert.deepEqual(await Promise.all(writes), new Array<number>(16).fill(0));
        }
        for (const [slba, data] of want) {
          const r = await c.ioCommand(rw(IoOpc.READ, slba, data.length / FAKE_LBA), {
            readLength: data.length,
          });
          assert.equal(r.status, 0);
          assert.deepEqual(Buffer.from(r.data), data, `LBA ${slba} read back`);
          const onMedia = media.subarray(slba * FAKE_LBA, slba * FAKE_LBA + data.length);
          assert.deepEqual(Buffer.from(onMedia), data, `LBA ${slba} on the media`);
        }
      } finally {
        await c.disconnect();
      }
    });
  }
});
