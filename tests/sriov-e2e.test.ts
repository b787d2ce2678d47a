// The documented SR-IOV procedure (QEMU docs/system/devices/nvme.rst) end to end on a machine
// served over NVMe/TCP: NVMe steps through `nvmemu nvme virt-mgmt/list-secondary/
// primary-ctrl-caps`, PCI steps (FLR, sriov_numvfs) through the monitor commands of
// src/monitor/commands/pci.ts; then the online VF is used as a controller of the subsystem.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ALL_COMMANDS, Monitor } from '../src/monitor/index.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le } from '../src/util/bytes.js';
import { nvmeCli, tcpMachine, type TcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:subsys0';

describe('SR-IOV procedure through nvmemu nvme and the monitor', () => {
  let m: TcpMachine;
  let mon: Monitor;
  const target = (): string[] => ['--trsvcid', String(m.port), '-n', NQN];

  const cli = (...argv: string[]) => nvmeCli(argv, target());

  before(async () => {
    m = await tcpMachine(
      'sriov',
      { 'nvm.img': 4 << 20 },
      (d) => [
        '-drive',
        `file=${join(d, 'nvm.img')},if=none,id=nvm,format=raw`,
        '-device',
        'nvme-subsys,id=subsys0',
        '-device',
        'nvme,id=nvme0,serial=deadbeef,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=8,sriov_vi_flexible=4',
        '-device',
        'nvme-ns,drive=nvm,nsid=1',
      ],
      0,
    );
    mon = new Monitor(m.machine, { quit: () => undefined, version: '0.0.0' }, ALL_COMMANDS);
  });
  after(() => m.close());

  it('runs the documented steps and the online VF serves I/O over NVMe/TCP', async () => {
    // 1. Unbind the flexible resources from the primary controller.
    const nrm0 = 'success, Number of Controller Resources Modified (NRM):0x0\n';
    assert.deepEqual(await cli('virt-mgmt', '-c', '0', '-r', '1', '--act', '1', '--nr', '0'), {
      code: 0,
      out: nrm0,
      err: '',
    });
    assert.equal(
      (await cli('virt-mgmt', '-c', '0', '-r', '0', '--act', '1', '--nr', '0')).out,
      nrm0,
    );
    // 2. Function Level Reset of the primary.
    assert.deepEqual(await mon.execute('x-nvmemu-pci-reset', { id: 'nvme0' }), {});
    // 3. Enable the VFs (sriov_numvfs).
    await mon.execute('x-nvmemu-sriov-numvfs', { id: 'nvme0', numvfs: 2 });
    assert.deepEqual(await mon.execute('x-nvmemu-query-sriov', { id: 'nvme0' }), {
      totalvfs: 2,
      numvfs: 2,
      vfs: [
        { vfn: 1, cntlid: 1, online: false, nvq: 0, nvi: 0 },
        { vfn: 2, cntlid: 2, online: false, nvq: 0, nvi: 0 },
      ],
    });
    // 4. Assign flexible resources to the secondary controller 1 and bring it online.
    assert.equal(
      (await cli('virt-mgmt', '-c', '1', '-r', '1', '--act', '8', '--nr', '1')).out,
      'success, Number of Controller Resources Modified (NRM):0x1\n',
    );
    assert.equal(
      (await cli('virt-mgmt', '-c', '1', '-r', '0', '--act', '8', '--nr', '2')).out,
      'success, Number of Controller Resources Modified (NRM):0x2\n',
    );
    assert.equal((await cli('virt-mgmt', '-c', '1', '-r', '0', '--act', '9', '--nr', '0')).code, 0);
    const list = await cli('list-secondary');
    assert.equal(
      list.out,
      [
        'Identify Secondary Controller List:',
        '   NUMID       : Number of Identifiers           : 2',
        '   SCEntry[0  ]:',
        '................',
        '     SCID      : Secondary Controller Identifier : 0x0001',
        '     PCID      : Primary Controller Identifier   : 0x0000',
        '     SCS       : Secondary Controller State      : 0x0001 (Online)',
        '     VFN       : Virtual Function Number         : 0x0001',
        '     NVQ       : Num VQ Flex Resources Assigned  : 0x0002',
        '     NVI       : Num VI Flex Resources Assigned  : 0x0001',
        '   SCEntry[1  ]:',
        '................',
        '     SCID      : Secondary Controller Identifier : 0x0002',
        '     PCID      : Primary Controller Identifier   : 0x0000',
        '     SCS       : Secondary Controller State      : 0x0000 (Offline)',
        '     VFN       : Virtual Function Number         : 0x0002',
        '     NVQ       : Num VQ Flex Resources Assigned  : 0x0000',
        '     NVI       : Num VI Flex Resources Assigned  : 0x0000',
        '',
      ].join('\n'),
    );
    const caps = await cli('primary-ctrl-caps', '-o', 'json');
    assert.deepEqual(JSON.parse(caps.out), {
      cntlid: 0,
      portid: 0,
      crt: 3,
      vqfrt: 8,
      vqrfa: 2,
      vqrfap: 0,
      vqprt: 57,
      vqfrsm: 4,
      vqgran: 1,
      vifrt: 4,
      virfa: 1,
      virfap: 0,
      viprt: 61,
      vifrsm: 2,
      vigran: 1,
    });
    // 5. Use the secondary controller: a host that asks for cntlid 1 gets the VF, and a dynamic
    //    connect reaches it while the PF is taken.
    const port = m.svc.target.ioPort.port;
    const pf = await NvmeTcpController.connect({ address: '127.0.0.1', port, subnqn: NQN });
    const vf = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port,
      subnqn: NQN,
      ioQueues: 1,
    });
    try {
      assert.equal(pf.cntlid, 0);
      assert.equal(vf.cntlid, 1);
      assert.equal(readU16le(vf.identify, 78), 1);
      const nq = await vf.adminOk('nq', { opcode: AdminOpc.GET_FEATURES, cdw10: 7 });
      assert.equal(nq.dw0, 0, 'one I/O queue pair (NVQ 2 = admin + 1)');
      const data = new Uint8Array(4096).map((_, i) => i & 0xff);
      const w = await vf.ioCommand(
        { opcode: IoOpc.WRITE, nsid: 1, cdw10: 8, cdw12: 7 },
        { write: data },
      );
      assert.equal(w.status, 0);
      const r = await pf.adminOk(
        'id-ns',
        { opcode: AdminOpc.IDENTIFY, nsid: 1, cdw10: 0 },
        {
          readLength: 4096,
        },
      );
      assert.equal(r.status, 0);
      const back = await vf.ioCommand(
        { opcode: IoOpc.READ, nsid: 1, cdw10: 8, cdw12: 7 },
        { readLength: 4096 },
      );
      assert.deepEqual(Uint8Array.from(back.data), data);
    } finally {
      await vf.disconnect();
      await pf.disconnect();
    }
  });

  it('reports each rule as nvme-cli does, and the sysfs errors of sriov_numvfs', async () => {
    const r = await cli('virt-mgmt', '-c', '2', '-r', '0', '--act', '9', '--nr', '0');
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      'nvmemu nvme virt-mgmt: Virtualization Management failed: INVALID_SEC_CTRL_STATE+DNR (0x4120) [NVME_STATUS]\n',
    );
    const bad = await cli('virt-mgmt', '-c', '0', '-r', '2', '--act', '1', '--nr', '0');
    assert.equal(
      bad.err,
      'nvmemu nvme virt-mgmt: Virtualization Management failed: INVALID_RESOURCE_ID+DNR (0x4122) [NVME_STATUS]\n',
    );
    await assert.rejects(mon.execute('x-nvmemu-sriov-numvfs', { id: 'nvme0', numvfs: 3 }), {
      message: 'Numerical result out of range',
    });
    await assert.rejects(mon.execute('x-nvmemu-sriov-numvfs', { id: 'nvme0', numvfs: 1 }), {
      message: '2 VFs already enabled. Disable before enabling 1 VFs',
    });
    await mon.execute('x-nvmemu-sriov-numvfs', { id: 'nvme0', numvfs: 0 });
    assert.deepEqual(await mon.execute('x-nvmemu-query-sriov', { id: 'nvme0' }), {
      totalvfs: 2,
      numvfs: 0,
      vfs: [],
    });
    const l = await cli('list-secondary', '-o', 'json');
    const j = JSON.parse(l.out) as { 'secondary-controllers': { 'num-virtual-queues': number }[] };
    assert.deepEqual(
      j['secondary-controllers'].map((e) => e['num-virtual-queues']),
      [0, 0],
      'disabling VFs offlines them and returns their resources',
    );
  });
});
