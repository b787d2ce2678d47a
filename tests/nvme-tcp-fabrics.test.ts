// Fabrics behaviour of the target (reference nvme-tcp.md §2.2–§2.6): Connect statuses with
// IPO/IATTR, dynamic/static cntlid, allow-list, Property Get/Set, KATO expiry and association
// teardown, discovery log, and the TermReq exit for protocol errors.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import {
  HostErrorCode,
  NvmeStatusError,
  NvmeTcpController,
  discover,
} from '../src/nvme-tcp/host/index.js';
import { encodePdu } from '../src/nvme-tcp/pdu/codec.js';
import { PduType } from '../src/nvme-tcp/pdu/types.js';
import { DISCOVERY_NQN, SubType } from '../src/nvme-tcp/discovery.js';
import { readU16le } from '../src/util/bytes.js';
import { fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

const NQN1 = 'nqn.2019-08.org.qemu:one';
const NQN2 = 'nqn.2019-08.org.qemu:two';
const LOCKED = 'nqn.2019-08.org.qemu:locked';
const HOST_OK = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001';

async function statusOf(p: Promise<unknown>): Promise<[number, number]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NvmeStatusError) return [e.status, e.dw0];
    throw e;
  }
  assert.fail('expected an NVMe status error');
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('NVMe/TCP fabrics commands', () => {
  const one = fakeSubsystem(NQN1, 1);
  const two = fakeSubsystem(NQN2, 2);
  const locked = fakeSubsystem(LOCKED, 1, 64, [HOST_OK]);
  let t: TcpTarget;
  const base = () => ({ address: '127.0.0.1', port: t.ioPort.port, ioQueues: 0 });
  before(async () => {
    t = await TcpTarget.start(() => [one.subsys, two.subsys, locked.subsys], {
      port: 0,
      discoveryPort: 0,
      katoGraceMs: 0,
    });
  });
  after(() => t.close());

  it('refuses an unknown SUBNQN with Invalid Parameters, IPO 256 in the Connect data', async () => {
    const [st, dw0] = await statusOf(
      NvmeTcpController.connect({ ...base(), subnqn: 'nqn.x:nope' }),
    );
    assert.deepEqual([st, dw0], [0x4182, 256 | (1 << 16)]);
  });

  it('refuses a host missing from the allow-list with Invalid Host and admits a listed one', async () => {
    const [st] = await statusOf(NvmeTcpController.connect({ ...base(), subnqn: LOCKED }));
    assert.equal(st, 0x4184);
    const c = await NvmeTcpController.connect({ ...base(), subnqn: LOCKED, hostnqn: HOST_OK });
    await c.disconnect();
  });

  it('gives dynamic connects the first free controller, then Controller Busy when none is free', async () => {
    const a = await NvmeTcpController.connect({ ...base(), subnqn: NQN2 });
    const b = await NvmeTcpController.connect({ ...base(), subnqn: NQN2 });
    assert.deepEqual([a.cntlid, b.cntlid], [0, 1]);
    const [st] = await statusOf(NvmeTcpController.connect({ ...base(), subnqn: NQN2 }));
    assert.equal(st, 0x181);
    await a.disconnect();
    // The freed controller is taken again once its reset finished.
    await waitFor(() => t.fabrics.associations.length === 1);
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN2, cntlid: 0 });
    assert.equal(c.cntlid, 0);
    const [busy] = await statusOf(
      NvmeTcpController.connect({ ...base(), subnqn: NQN2, cntlid: 1 }),
    );
    assert.equal(busy, 0x181);
    const [bad, ipo] = await statusOf(
      NvmeTcpController.connect({ ...base(), subnqn: NQN2, cntlid: 7 }),
    );
    assert.deepEqual([bad, ipo], [0x4182, 16 | (1 << 16)]);
    await b.disconnect();
    await c.disconnect();
  });

  it('answers Property Get/Set per §2.3 and shuts down through CC.SHN', async () => {
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1 });
    try {
      assert.equal(await c.propertyGet(0x08), 0x10400n);
      assert.equal((await c.propertyGet(0x1c)) & 1n, 1n, 'CSTS.RDY follows CC.EN');
      const [st] = await statusOf(c.propertyGet(0x24));
      // Plain Invalid Field, no DNR: nvme-cli 2.3 show-regs skips only 0002h (linux-interop test).
      assert.equal(st, 0x0002, 'AQA does not exist over fabrics');
      const [st2] = await statusOf(c.propertySet(0x00, 0n));
      assert.equal(st2, 0x4002);
    } finally {
      await c.disconnect();
    }
    assert.equal(one.ns.shutdowns, 1);
  });

  it('rejects I/O Connect for a QID beyond the granted queues with IPO 42 in the SQE', async () => {
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1, ioQueues: 5 });
    // The fake controller grants 4 queues; the host library honours the grant.
    assert.equal(c.io.length, 4);
    await c.disconnect();
  });

  it('keeps an association alive while the host sends Keep Alive every KATO/2', async () => {
    // KATO 500 ms without grace: generous enough for a loaded machine's timer latency, short
    // enough that a target which ignored Keep Alive would expire the association here.
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1, ioQueues: 1, kato: 500 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual([c.admin.closed, c.io[0]!.closed], [false, false]);
    const r = await c.ioCommand({ opcode: 0x02, nsid: 1, cdw12: 0 }, { readLength: 512 });
    assert.equal(r.status, 0);
    await c.disconnect();
  });

  it('expires an association whose host never sends Keep Alive', async () => {
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1, ioQueues: 1, kato: 0 });
    // Re-arm the target side with a short KATO through Set Features 0Fh, then stay silent.
    const r = await c.adminCommand({ opcode: 0x09, cdw10: 0x0f, cdw11: 100 });
    assert.equal(r.status, 0);
    await waitFor(() => c.admin.closed && c.io[0]!.closed, 3000);
    const err = await c.adminCommand({ opcode: 0x18 }).catch((e: unknown) => e);
    assert.equal((err as { code: string }).code, HostErrorCode.CLOSED);
    await waitFor(() => t.fabrics.associations.every((a) => a.subsys !== one.subsys));
  });

  it('closes the I/O queues when the admin socket drops', async () => {
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1, ioQueues: 2 });
    c.admin.socket.destroy();
    await waitFor(() => c.io.every((q) => q.closed));
    await waitFor(() => t.connections.length === 0);
  });

  it('lists one entry per subsystem plus the current discovery subsystem in log page 70h', async () => {
    // The allow-listed subsystem is listed only to the host it allows (issue 19).
    const log = await discover({
      address: '127.0.0.1',
      port: t.discoveryPort!.port,
      hostnqn: HOST_OK,
    });
    assert.equal(log.numrec, 4n);
    const nvm = log.entries.filter((e) => e.subtype === SubType.NVME);
    assert.deepEqual(
      nvm.map((e) => [e.subnqn, e.trsvcid, e.traddr, e.trtype, e.adrfam, e.cntlid, e.asqsz]),
      [NQN1, NQN2, LOCKED].map((n) => [n, String(t.ioPort.port), '127.0.0.1', 3, 1, 0xffff, 32]),
    );
    const other = await discover({ address: '127.0.0.1', port: t.discoveryPort!.port });
    assert.deepEqual(
      other.entries.filter((e) => e.subtype === SubType.NVME).map((e) => e.subnqn),
      [NQN1, NQN2],
    );
    const self = log.entries.find((e) => e.subtype === SubType.CURRENT_DISCOVERY);
    assert.equal(self?.subnqn, DISCOVERY_NQN);
    assert.equal(self?.trsvcid, String(t.discoveryPort!.port));
  });

  it('answers a PDU before ICReq with C2HTermReq FES 02h and closes only that connection', async () => {
    const c = await NvmeTcpController.connect({ ...base(), subnqn: NQN1, ioQueues: 1 });
    const s = connect({ host: '127.0.0.1', port: t.ioPort.port });
    await once(s, 'connect');
    const sqe = new Uint8Array(64);
    for (const p of encodePdu(
      { type: PduType.CapsuleCmd, sqe, data: new Uint8Array(0) },
      { hdgst: false, ddgst: false },
    )) {
      s.write(p);
    }
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    await once(s, 'close');
    const got = Buffer.concat(chunks);
    assert.deepEqual([got[0], readU16le(got, 8), got.length], [PduType.C2HTermReq, 0x02, 24 + 8]);
    // The other association is unaffected.
    const r = await c.ioCommand({ opcode: 0x02, nsid: 1, cdw12: 0 }, { readLength: 512 });
    assert.equal(r.status, 0);
    await c.disconnect();
  });
});
