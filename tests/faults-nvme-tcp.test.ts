// Faults seen by a host over NVMe/TCP (127.0.0.1): a path loss that drops or stalls the
// connections, and the host's reconnect once the path is back; a media error's exact status;
// an injected Controller Fatal Status read through Property Get CSTS.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Machine } from '../src/machine/machine.js';
import { machineFaults, type FaultInjector } from '../src/faults/injector.js';
import { startNvmeTcp, type NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { nvmeMachine, tempDir } from './faults-harness.js';

const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000f417';

let machine: Machine;
let tcp: NvmeTcpService;
let faults: FaultInjector;
let cleanup: () => void;

before(async () => {
  const t = tempDir('tcp-faults');
  cleanup = t.cleanup;
  machine = await nvmeMachine(t.dir);
  tcp = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  faults = machineFaults(machine);
  faults.attachNvmeTcp(tcp.target);
});

after(async () => {
  faults.clear();
  await tcp.close();
  await machine.shutdown();
  cleanup();
});

function connect(): Promise<NvmeTcpController> {
  return NvmeTcpController.connect({
    address: '127.0.0.1',
    port: tcp.target.ioPort.port,
    subnqn: 'nqn.2019-08.org.qemu:subsys0',
    hostnqn: HOSTNQN,
    ioQueues: 1,
  });
}

const readLba = (h: NvmeTcpController, lba: number) =>
  h.ioCommand({ opcode: IoOpc.READ, nsid: 1, cdw10: lba, cdw12: 0 }, { readLength: 512 });

describe('path loss', () => {
  it('drop: the connections close, new ones are refused, and a reconnect works once cleared', async () => {
    const h = await connect();
    assert.equal((await readLba(h, 0)).status, 0);
    const id = faults.inject({ kind: 'path-loss', mode: 'drop' });
    await assert.rejects(readLba(h, 0));
    await assert.rejects(connect());
    faults.clear(id);
    const h2 = await connect();
    assert.equal((await readLba(h2, 0)).status, 0);
    await h2.disconnect();
    const applied = faults.history().find((r) => r.fault === id && r.event === 'applied');
    assert.equal(applied?.detail, 'drop: 2 connections');
  });

  it('stall: commands get no answer while stalled and complete once the path is back', async () => {
    const h = await connect();
    const id = faults.inject({
      kind: 'path-loss',
      mode: 'stall',
      subnqn: 'nqn.2019-08.org.qemu:subsys0',
    });
    let status: number | undefined;
    const pending = readLba(h, 1).then((r) => (status = r.status));
    await sleep(100);
    assert.equal(status, undefined, 'no answer on a stalled path');
    faults.clear(id);
    await pending;
    assert.equal(status, 0);
    await h.disconnect();
  });
});

describe('NVMe faults over the fabric', () => {
  it('a media error reaches the host as Unrecovered Read Error on the failing LBA', async () => {
    const h = await connect();
    const id = faults.inject({ kind: 'media-error', id: 'ns1', lba: 42, count: 1 });
    assert.equal((await readLba(h, 41)).status, 0);
    assert.equal((await readLba(h, 42)).status, 0x281);
    faults.clear(id);
    await h.disconnect();
  });

  it('controller-fatal shows as CSTS.CFS in Property Get', async () => {
    const h = await connect();
    faults.inject({ kind: 'controller-fatal', id: 'nvme0' });
    const csts = await h.propertyGet(0x1c);
    assert.equal(csts & 0x2n, 0x2n);
    faults.clear();
    await h.disconnect().catch(() => undefined);
  });
});
