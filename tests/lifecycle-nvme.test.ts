// One owner of a controller's life (issue 16), end to end: a spawned `nvmemu run`, hosts over
// NVMe/TCP on 127.0.0.1 and the QMP socket.
//  - device_del of an nvme controller ends its association (the host sees the path go), it is no
//    longer in the discovery log or the monitor's list, and a Connect to it is refused;
//  - its namespaces go with it (QEMU unrealizes the devices on a bus first): DEVICE_DELETED for
//    each, their drives free for reuse;
//  - a power cut after hotplug brings back exactly the machine that ran at the cut.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../src/monitor/client.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { discover } from '../src/nvme-tcp/host/discovery.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { startRun, stopRun, type Running } from './support/run.js';

const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000aa';
const SUB = 'nqn.2019-08.org.qemu:sub';
const S1 = 'nqn.2019-08.org.qemu:s1';
const S2 = 'nqn.2019-08.org.qemu:s2';

let dir = '';
let run: Running;
let port = 0;
let discPort = 0;
let qmp: QmpClient;

function connect(subnqn: string): Promise<NvmeTcpController> {
  return NvmeTcpController.connect({
    address: '127.0.0.1',
    port,
    subnqn,
    hostnqn: HOSTNQN,
    ioQueues: 1,
  });
}

const rw = (opcode: number, slba: number, nlb: number, cdw12 = 0) => ({
  opcode,
  nsid: 1,
  cdw10: slba,
  cdw12: (nlb - 1) | cdw12,
});

async function exec(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
  const r = await qmp.request(cmd, args);
  assert.equal(r.error, undefined, `${cmd} failed: ${JSON.stringify(r.error)}`);
  return r.return;
}

/** The subsystems and cntlids the target serves, as the monitor lists them. */
async function served(): Promise<Record<string, number[]>> {
  const q = (await exec('x-nvmemu-query-nvme-tcp')) as {
    subsystems: { nqn: string; cntlids: number[] }[];
  };
  return Object.fromEntries(q.subsystems.map((s) => [s.nqn, s.cntlids]));
}

/** The ids of the devices the machine runs (qom-list /machine/peripheral). */
async function devices(): Promise<string[]> {
  const l = (await exec('qom-list', { path: '/machine/peripheral' })) as {
    name: string;
    type: string;
  }[];
  return l
    .filter((p) => p.type.startsWith('child<'))
    .map((p) => p.name)
    .sort();
}

async function discovered(): Promise<string[]> {
  const log = await discover({ address: '127.0.0.1', port: discPort, hostnqn: HOSTNQN });
  return log.entries.map((e) => e.subnqn).sort();
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-life-'));
  for (const f of ['a', 'b', 'c']) writeFileSync(join(dir, `${f}.img`), new Uint8Array(1 << 20));
  run = await startRun([
    '--data',
    join(dir, 'data'),
    '--listen',
    '127.0.0.1:0',
    '--discovery',
    '0',
    '-qmp',
    `unix:${dir}/q.sock,server=on,wait=off`,
    '-drive',
    `file=${dir}/a.img,if=none,id=da,format=raw`,
    '-drive',
    `file=${dir}/b.img,if=none,id=db,format=raw`,
    '-drive',
    `file=${dir}/c.img,if=none,id=dc,format=raw`,
    '-device',
    'nvme-subsys,id=sub,nqn=sub',
    '-device',
    'nvme,id=c0,serial=s0,subsys=sub',
    '-device',
    'nvme-ns,id=n0,drive=db,bus=c0',
    '-device',
    'nvme,id=c1,serial=s1',
    '-device',
    'nvme-ns,id=n1,drive=da,bus=c1',
  ]);
  port = Number(/nvme-tcp: listening on 127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
  discPort = Number(/nvme-tcp: discovery on 127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
  qmp = await QmpClient.connect({ path: `${dir}/q.sock` });
  await qmp.negotiate();
});

after(async () => {
  qmp.close();
  await stopRun(run.child);
  rmSync(dir, { recursive: true, force: true });
});

describe('a controller removed with device_del', () => {
  it('ends its association, takes its namespaces, and can no longer be reached', async () => {
    const h = await connect(S1);
    const data = new Uint8Array(512).fill(0x5a);
    assert.equal((await h.ioCommand(rw(IoOpc.WRITE, 0, 1), { write: data })).status, 0);
    assert.deepEqual(await served(), { [SUB]: [0], [S1]: [0] });
    assert.deepEqual(await discovered(), [SUB, S1, 'nqn.2014-08.org.nvmexpress.discovery'].sort());

    await exec('device_del', { id: 'c1' });
    // The host sees the path go: its queues fail, the association is gone.
    await assert.rejects(h.ioCommand(rw(IoOpc.READ, 0, 1), { readLength: 512 }), (e: Error) =>
      /closed/.test(e.message),
    );
    await h.disconnect();
    // The namespace on its bus went first, then the controller (QEMU's order).
    const deleted = qmp.events
      .filter((e) => e.event === 'DEVICE_DELETED')
      .map((e) => (e.data as { device?: string }).device);
    assert.deepEqual(deleted, ['n1', 'c1']);
    assert.deepEqual(await devices(), ['c0', 'n0', 'sub']);
    assert.deepEqual(await served(), { [SUB]: [0] });
    assert.deepEqual(await discovered(), [SUB, 'nqn.2014-08.org.nvmexpress.discovery'].sort());
    await assert.rejects(connect(S1), /0x4182|INVALID_PARAMETERS/);
  });

  it('frees the drives of its namespaces: a new controller serves the same image', async () => {
    await exec('device_add', { driver: 'nvme', id: 'c2', serial: 's2' });
    await exec('device_add', { driver: 'nvme-ns', id: 'n2', drive: 'da', bus: 'c2' });
    const h = await connect(S2);
    try {
      const r = await h.ioCommand(rw(IoOpc.READ, 0, 1), { readLength: 512 });
      assert.equal(r.status, 0);
      assert.ok(
        r.data.every((b) => b === 0x5a),
        'the data written through c1',
      );
      // Made durable with FUA: it must survive the power cut below.
      const w = await h.ioCommand(rw(IoOpc.WRITE, 1, 1, 1 << 30), {
        write: new Uint8Array(512).fill(0x77),
      });
      assert.equal(w.status, 0);
    } finally {
      await h.disconnect();
    }
  });
});

describe('a power cut after hotplug', () => {
  it('brings back exactly the machine that ran at the cut', async () => {
    const before = { devices: await devices(), served: await served() };
    assert.deepEqual(before.devices, ['c0', 'c2', 'n0', 'n2', 'sub']);
    const h = await connect(S2);
    await exec('x-nvmemu-power-cut', { seed: 1 });
    // The old controllers were removed with their machine: the host's association ended.
    await assert.rejects(h.ioCommand(rw(IoOpc.READ, 0, 1), { readLength: 512 }), (e: Error) =>
      /closed/.test(e.message),
    );
    await h.disconnect();
    assert.deepEqual(await devices(), before.devices);
    assert.deepEqual(await served(), before.served);
    const again = await connect(S2);
    try {
      const r = await again.ioCommand(rw(IoOpc.READ, 1, 1), { readLength: 512 });
      assert.equal(r.status, 0);
      assert.ok(
        r.data.every((b) => b === 0x77),
        'the FUA write survived',
      );
      const w = await again.ioCommand(rw(IoOpc.WRITE, 2, 1), { write: new Uint8Array(512) });
      assert.equal(w.status, 0, 'the rebuilt machine serves writes');
    } finally {
      await again.disconnect();
    }
  });
});
