// Interoperability bugs found by running the Linux 6.1 NVMe/TCP host, nvme-cli 2.3 and fio
// against `nvmemu run` in the guest of ../shared/tools/guest (docs/nvme-tcp.md, "What the Linux
// 6.1 guest showed"). Each test replays, on 127.0.0.1 with our host library, the exact exchange
// the guest performed, and pins the answer that made the guest work.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import { NvmeStatusError, NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { DISCOVERY_NQN } from '../src/nvme-tcp/discovery.js';
import { AdminOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le } from '../src/util/bytes.js';
import { fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

const NQN = 'nqn.2019-08.org.qemu:linux';

/** Resolves to the NVMe status of a failed command, or 0 when it succeeded. */
async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof NvmeStatusError) return e.status;
    throw e;
  }
}

describe('NVMe/TCP target against what the Linux 6.1 guest did', () => {
  const sub = fakeSubsystem(NQN, 1);
  let t: TcpTarget;
  before(async () => {
    t = await TcpTarget.start(() => [sub.subsys], { port: 0, discoveryPort: 0, katoGraceMs: 0 });
  });
  after(() => t.close());

  // `nvme show-regs /dev/nvme0` over fabrics (nvme-cli 2.3): Property Get for every register
  // from CAP to CMBSZ, 8 bytes for CAP/ASQ/ACQ. It skips a register only when the status is
  // exactly 0002h; our former 4002h (Invalid Field + DNR) made it stop at INTMS with
  // "get-property: No such file or directory" and exit 1.
  const walk: [name: string, ofst: number, size8: boolean, status: number][] = [
    ['CAP', 0x00, true, 0],
    ['VS', 0x08, false, 0],
    ['INTMS', 0x0c, false, 0x0002],
    ['INTMC', 0x10, false, 0x0002],
    ['CC', 0x14, false, 0],
    ['reserved 18h', 0x18, false, 0x0002],
    ['CSTS', 0x1c, false, 0],
    ['NSSR', 0x20, false, 0],
    ['AQA', 0x24, false, 0x0002],
    ['ASQ', 0x28, true, 0x0002],
    ['ACQ', 0x30, true, 0x0002],
    ['CMBLOC', 0x38, false, 0x0002],
    ['CMBSZ', 0x3c, false, 0x0002],
  ];
  for (const [name, ofst, size8, status] of walk) {
    it(`answers show-regs' Property Get of ${name} (${size8 ? 8 : 4} bytes) with status ${status.toString(16).padStart(4, '0')}h`, async () => {
      const c = await NvmeTcpController.connect({
        address: '127.0.0.1',
        port: t.ioPort.port,
        subnqn: NQN,
        ioQueues: 0,
      });
      try {
        assert.equal(await statusOf(c.propertyGet(ofst, size8)), status);
      } finally {
        await c.disconnect();
      }
    });
  }

  it('reports the values show-regs prints for CAP, VS, CC and CSTS of a live association', async () => {
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: t.ioPort.port,
      subnqn: NQN,
      ioQueues: 0,
    });
    try {
      assert.equal(await c.propertyGet(0x00, true), sub.ctrls[0]!.cap);
      assert.equal(await c.propertyGet(0x08), 0x0001_0400n);
      // IOCQES 4, IOSQES 6, CSS 110b (CAP.CSS has I/O command sets), EN.
      assert.equal(await c.propertyGet(0x14), 0x0046_0061n);
      assert.equal(await c.propertyGet(0x1c), 1n);
    } finally {
      await c.disconnect();
    }
  });

  it('still refuses a Property Set of anything but CC with Invalid Field + DNR', async () => {
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: t.ioPort.port,
      subnqn: NQN,
      ioQueues: 0,
    });
    try {
      assert.equal(await statusOf(c.propertySet(0x24, 0n)), 0x4002);
    } finally {
      await c.disconnect();
    }
  });

  // `nvme discover`: Linux clamps its queue_size (128) to CAP.MQES+1 and MAXCMD of every
  // controller, discovery included, and logged "queue_size 128 > ctrl sqsize 32, clamping down"
  // on each discovery while ours reported MQES 31 / MAXCMD 32.
  it('gives the discovery controller CAP.MQES 127 and MAXCMD 128 so queue_size 128 fits', async () => {
    const port = t.discoveryPort?.port;
    assert.ok(port !== undefined);
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port,
      subnqn: DISCOVERY_NQN,
      discovery: true,
      kato: 0,
    });
    try {
      const cap = await c.propertyGet(0x00, true);
      assert.equal(cap & 0xffffn, 127n, 'MQES');
      const id = await c.adminOk(
        'identify',
        { opcode: AdminOpc.IDENTIFY, cdw10: 1 },
        {
          readLength: 4096,
        },
      );
      assert.equal(readU16le(id.data, 514), 128, 'MAXCMD');
      assert.equal(id.data[111], 2, 'CNTRLTYPE discovery');
    } finally {
      await c.disconnect();
    }
  });
});
