// The QEMU 10.0 compatibility level beyond the recorded answers (tests/fidelity/levels.test.ts
// covers those): QEMU 10.0's device properties (accepted at 10.0 with their effects, refused
// at 7.2 with QEMU 7.2's unknown-property message), Directive Receive/Send, Identify CNS 08h
// and 19h and log 09h where an endurance group exists (both levels), the endurance group's
// wear seam, the OCP log and the PCI knobs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { ConfigError } from '../src/config/errors.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { readU16le, readU32le, readU64le } from '../src/util/bytes.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { statusName } from '../src/nvme/spec/status.js';
import { enduranceGroupOf } from '../src/nvme/subsys/endurance.js';
import { EnduranceLogLayout, OcpSmartLayout } from '../src/nvme/ctrl/endurance-log.js';
import { NVME_LEVELS } from '../src/nvme/spec/levels.js';

let dir = '';
before(() => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qemu10-'));
  for (const n of ['a', 'b']) writeFileSync(join(dir, `${n}.img`), new Uint8Array(1 << 20));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const DRIVES = `-drive file=a.img,if=none,id=a,format=raw -drive file=b.img,if=none,id=b,format=raw`;

async function build(machine: string, devices: string): Promise<Machine> {
  const line = `-machine ${machine} ${DRIVES} ${devices}`.replace(
    /file=(\w)\.img/g,
    (_, n: string) => `file=${join(dir, `${n}.img`)}`,
  );
  const a = parseArgs(line.split(' '));
  return Machine.create(a.items, { settings: machineSettings(a), dataDir: dir, warn: () => {} });
}

async function errorOf(machine: string, devices: string): Promise<string> {
  try {
    const m = await build(machine, devices);
    await m.shutdown();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

/** A running machine's controller `c`, enabled with one I/O queue pair. */
async function rig(
  machine: string,
  devices: string,
): Promise<{ m: Machine; host: Host; dev: NvmeDevice }> {
  const m = await build(machine, devices);
  const dev = m.component('c');
  assert.ok(dev instanceof NvmeDevice);
  const host = new Host(dev.controller);
  assert.equal(host.enable(), 1);
  await host.createIoQueues(1);
  return { m, host, dev };
}

async function identify(
  host: Host,
  cns: number,
  nsid = 0,
  cdw11 = 0,
): Promise<[string, Uint8Array]> {
  const buf = new Uint8Array(4096);
  const cqe = await host.admin({ opcode: 0x06, nsid, cdw10: cns, cdw11 }, buf);
  return [statusName(cqe.status), buf];
}

async function getLog(
  host: Host,
  lid: number,
  len: number,
  lsi = 0,
): Promise<[string, Uint8Array]> {
  const buf = new Uint8Array(len);
  const cqe = await host.admin(
    { opcode: 0x02, nsid: 0xffffffff, cdw10: lid | ((len / 4 - 1) << 16), cdw11: lsi << 16 },
    buf,
  );
  return [statusName(cqe.status), buf];
}

const NS = '-device nvme-ns,drive=a,nsid=1';

describe("QEMU 10.0's nvme properties", () => {
  const props = [
    'mqes=100',
    'dbcs=off',
    'ctratt.mem=on',
    'atomic.dn=on',
    'atomic.awun=7',
    'atomic.awupf=3',
    'ocp=on',
    'spdm_port=0',
    'x-pcie-ext-tag=off',
    'x-pcie-ari-nextfn-1=on',
    'x-pcie-err-unc-mask=off',
    'x-max-bounce-buffer-size=8192',
  ];
  for (const p of props) {
    const name = p.split('=')[0]!;
    it(`${p}: refused at 7.2 with QEMU 7.2's message, accepted at 10.0`, async () => {
      const dev = `-device nvme,id=c,serial=x,${p} ${NS}`;
      assert.equal(
        await errorOf('q35', dev),
        `Property 'nvme.${name}' not found\n${name} is a property of QEMU 10.0: use -machine pc-q35-10.0 or pc-i440fx-10.0`,
      );
      assert.equal(await errorOf('pc-q35-10.0', dev), '');
    });
  }
  it("checks mqes and refuses spdm_port with QEMU 10.0's and nvmemu's messages", async () => {
    assert.equal(
      await errorOf('pc-q35-10.0', '-device nvme,id=c,serial=x,mqes=0'),
      'mqes property cannot be less than 1',
    );
    assert.equal(
      await errorOf('pc-i440fx-10.0', '-device nvme,id=c,serial=x,spdm_port=2323'),
      'spdm_port: nvmemu does not implement SPDM (no responder connection); leave it 0',
    );
  });

  it('mqes sets CAP.MQES and bounds the I/O queue size', async () => {
    const { m, host, dev } = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x,mqes=100 ${NS}`);
    try {
      assert.equal(dev.controller.cap & 0xffffn, 100n);
      const big = await host.admin({ opcode: 0x05, cdw10: 2 | (101 << 16), cdw11: 1, prp1: 0n });
      assert.equal(statusName(big.status), 'MAX_QSIZE_EXCEEDED+DNR');
    } finally {
      await m.shutdown();
    }
  });

  it('dbcs=off removes Doorbell Buffer Config: OACS bit 8, the effects log, dispatch', async () => {
    const { m, host } = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x,dbcs=off ${NS}`);
    try {
      const [, id] = await identify(host, 1);
      assert.equal(readU16le(id, 256), 0x2a); // Format, NS Management, Directives
      const [, effects] = await getLog(host, 0x05, 4096);
      assert.equal(readU32le(effects, 4 * 0x7c), 0);
      const dbbuf = await host.admin({ opcode: 0x7c });
      assert.equal(statusName(dbbuf.status), 'INVALID_OPCODE+DNR');
    } finally {
      await m.shutdown();
    }
  });

  it('ctratt.mem, atomic.* and the Write Atomicity Normal feature', async () => {
    const { m, host } = await rig(
      'pc-q35-10.0',
      `-device nvme,id=c,serial=x,ctratt.mem=on,atomic.dn=on,atomic.awun=7,atomic.awupf=3 ${NS}`,
    );
    try {
      const [, id] = await identify(host, 1);
      assert.equal(readU32le(id, 96), 0x1_8000); // ELBAS | MEM
      assert.deepEqual([readU16le(id, 526), readU16le(id, 528)], [7, 3]);
      assert.equal((await host.admin({ opcode: 0x0a, cdw10: 0x0a })).dw0, 1);
      const set = await host.admin({ opcode: 0x09, cdw10: 0x0a, cdw11: 0 });
      assert.equal(statusName(set.status), 'SUCCESS');
      assert.equal((await host.admin({ opcode: 0x0a, cdw10: 0x0a })).dw0, 0);
    } finally {
      await m.shutdown();
    }
    // QEMU 10.0 drops an AWUPF above AWUN to 0.
    const r = await rig(
      'pc-q35-10.0',
      `-device nvme,id=c,serial=x,atomic.awun=3,atomic.awupf=9 ${NS}`,
    );
    try {
      const [, id] = await identify(r.host, 1);
      assert.deepEqual([readU16le(id, 526), readU16le(id, 528)], [3, 0]);
    } finally {
      await r.m.shutdown();
    }
  });

  it('ocp=on answers the OCP SMART / Health Information Extended log (C0h)', async () => {
    const { m, host } = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x,ocp=on ${NS}`);
    try {
      const w = await host.command(
        1,
        { opcode: IoOpc.WRITE, nsid: 1, cdw12: 7 },
        new Uint8Array(4096),
      );
      assert.equal(statusName(w.status), 'SUCCESS');
      const [st, log] = await getLog(host, 0xc0, 512);
      assert.equal(st, 'SUCCESS');
      assert.equal(OcpSmartLayout.size, 512);
      assert.equal(readU64le(log, 0), 4096n); // physical media units written (bytes)
      assert.equal(readU16le(log, 494), 5); // log page version
      assert.equal(
        Buffer.from(log.subarray(496)).toString('hex'),
        'c5af1028eabff2a49c4f6f7cc914d5af',
      );
    } finally {
      await m.shutdown();
    }
    const plain = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x ${NS}`);
    try {
      assert.equal((await getLog(plain.host, 0xc0, 512))[0], 'INVALID_FIELD+DNR');
    } finally {
      await plain.m.shutdown();
    }
  });

  it('x-pcie-ext-tag and x-pcie-ari-nextfn-1 set the PCI Express capabilities', async () => {
    const sub = '-device nvme-subsys,id=s,nqn=s';
    const sriov =
      'subsys=s,sriov_max_vfs=1,sriov_vq_flexible=2,sriov_vi_flexible=1,max_ioqpairs=4,msix_qsize=2';
    const devcap = async (machine: string, extra: string): Promise<[number, number]> => {
      const m = await build(
        machine,
        `${sub} -device nvme,id=c,serial=x,${sriov}${extra} -device nvme-ns,drive=a`,
      );
      try {
        const dev = m.component('c') as NvmeDevice;
        const h = dev.pciHost!;
        const slot = dev.pci!.slot;
        return [h.cfgRead(slot, 0, 0x84, 4), h.cfgRead(slot, 0, 0x104, 4)];
      } finally {
        await m.shutdown();
      }
    };
    assert.deepEqual(await devcap('q35', ''), [0x1000_8000, 0x100]);
    assert.deepEqual(await devcap('pc-q35-10.0', ''), [0x1000_8020, 0]);
    assert.deepEqual(
      await devcap('pc-q35-10.0', ',x-pcie-ext-tag=off,x-pcie-ari-nextfn-1=on'),
      [0x1000_8000, 0x100],
    );
  });
});

describe('Directive Send/Receive (QEMU 10.0)', () => {
  const cases: {
    name: string;
    nsid: number;
    cdw10: number;
    cdw11: number;
    want: string;
    len?: number;
  }[] = [
    {
      name: 'Identify Return Parameters',
      nsid: 1,
      cdw10: 1023,
      cdw11: 0x01,
      want: 'SUCCESS',
      len: 4096,
    },
    {
      name: 'NUMD 3: the first 16 bytes',
      nsid: 1,
      cdw10: 3,
      cdw11: 0x01,
      want: 'SUCCESS',
      len: 16,
    },
    {
      name: 'broadcast NSID',
      nsid: 0xffffffff,
      cdw10: 1023,
      cdw11: 0x01,
      want: 'INVALID_FIELD+DNR',
    },
    { name: 'an inactive NSID', nsid: 2, cdw10: 1023, cdw11: 0x01, want: 'INVALID_FIELD+DNR' },
    {
      name: 'the Streams directive',
      nsid: 1,
      cdw10: 1023,
      cdw11: 0x0101,
      want: 'INVALID_FIELD+DNR',
    },
    { name: 'DOPER 0', nsid: 1, cdw10: 1023, cdw11: 0x00, want: 'INVALID_FIELD+DNR' },
  ];
  for (const c of cases) {
    it(`Receive, ${c.name}: ${c.want}`, async () => {
      const { m, host } = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x ${NS}`);
      try {
        const buf = new Uint8Array(4096).fill(0xee);
        const cqe = await host.admin(
          { opcode: 0x1a, nsid: c.nsid, cdw10: c.cdw10, cdw11: c.cdw11 },
          buf,
        );
        assert.equal(statusName(cqe.status), c.want);
        if (c.len === 4096) {
          // Identify supported and enabled; nothing persistent without FDP.
          assert.deepEqual([buf[0], buf[32], buf[64]], [1, 1, 0]);
        } else if (c.len !== undefined) {
          // Only NUMD + 1 dwords move: the supported map's first bytes, nothing after.
          assert.deepEqual([buf[0], buf[c.len - 1], buf[c.len]], [1, 0, 0xee]);
        }
      } finally {
        await m.shutdown();
      }
    });
  }
  it('Send is Invalid Field; at 7.2 both are Invalid Opcode', async () => {
    const r10 = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x ${NS}`);
    try {
      const send = await r10.host.admin({ opcode: 0x19, nsid: 1, cdw11: 0x0201, cdw12: 1 });
      assert.equal(statusName(send.status), 'INVALID_FIELD+DNR');
    } finally {
      await r10.m.shutdown();
    }
    const r72 = await rig('q35', `-device nvme,id=c,serial=x ${NS}`);
    try {
      for (const opcode of [0x19, 0x1a]) {
        assert.equal(
          statusName((await r72.host.admin({ opcode, nsid: 1 })).status),
          'INVALID_OPCODE+DNR',
        );
      }
    } finally {
      await r72.m.shutdown();
    }
  });
});

describe('endurance group 1 (subsys/endurance.ts)', () => {
  const FDP =
    '-device nvme-subsys,id=s,nqn=s,fdp=on,fdp.nruh=4 -device nvme,id=c,serial=x,subsys=s -device nvme-ns,drive=a,nsid=1';
  for (const [machine, devices, has] of [
    ['q35', `-device nvme,id=c,serial=x ${NS}`, false],
    ['q35', FDP, true],
    ['pc-q35-10.0', `-device nvme,id=c,serial=x ${NS}`, true],
    ['pc-q35-10.0', FDP, true],
  ] as const) {
    const what = `${machine}${devices === FDP ? ' with FDP' : ''}`;
    it(`${what}: CNS 08h, 19h and log 09h ${has ? 'answer' : 'are refused as by QEMU 7.2'}`, async () => {
      const { m, host } = await rig(machine, devices);
      try {
        const [s08, ind] = await identify(host, 0x08, 1);
        const [s19, list] = await identify(host, 0x19);
        const [s09] = await getLog(host, 0x09, 512, 1);
        if (!has) {
          assert.deepEqual(
            [s08, s19, s09],
            ['INVALID_FIELD+DNR', 'INVALID_FIELD+DNR', 'INVALID_FIELD+DNR'],
          );
          return;
        }
        assert.deepEqual([s08, s19, s09], ['SUCCESS', 'SUCCESS', 'SUCCESS']);
        assert.deepEqual([readU16le(ind, 12), ind[14]], [1, 1]); // ENDGID 1, NSTAT ready
        assert.deepEqual([readU16le(list, 0), readU16le(list, 2)], [1, 1]);
        // From endurance group 2 on the list is empty; LSI 2 names no group.
        const [, after1] = await identify(host, 0x19, 0, 2);
        assert.equal(readU16le(after1, 0), 0);
        assert.equal((await getLog(host, 0x09, 512, 2))[0], 'INVALID_FIELD+DNR');
        // CTRATT.EGS and ENDGIDMAX with an nvme-subsys only (QEMU 10.0).
        const [, id] = await identify(host, 1);
        const egs = devices === FDP;
        assert.deepEqual(
          [(readU32le(id, 96) >>> 4) & 1, readU16le(id, 340)],
          egs ? [1, 1] : [0, 0],
        );
      } finally {
        await m.shutdown();
      }
    });
  }

  it('the log reads its figures from one place, where a wear model plugs in', async () => {
    const { m, host, dev } = await rig('pc-q35-10.0', `-device nvme,id=c,serial=x ${NS}`);
    try {
      assert.equal(EnduranceLogLayout.size, 512);
      for (let i = 0; i < 3; i++) {
        const w = await host.command(
          1,
          { opcode: IoOpc.WRITE, nsid: 1, cdw10: i },
          new Uint8Array(512),
        );
        assert.equal(statusName(w.status), 'SUCCESS');
      }
      let [, log] = await getLog(host, 0x09, 512, 1);
      // Host write commands 3 (offset 112); data units in billions of bytes: 0.
      assert.deepEqual([readU64le(log, 112), readU64le(log, 64), log[5]], [3n, 0n, 0]);
      const g = enduranceGroupOf(dev.controller.subsys, NVME_LEVELS['10.0'])!;
      g.wear = (t, base) => ({
        ...base,
        percentageUsed: 42,
        availableSpare: 90,
        availableSpareThreshold: 10,
        mediaUnitsWritten: t.bytesWritten * 3n,
      });
      [, log] = await getLog(host, 0x09, 512, 1);
      assert.deepEqual(
        [log[3], log[4], log[5], readU64le(log, 80), readU64le(log, 112)],
        [90, 10, 42, 3n * 1536n, 3n],
      );
    } finally {
      await m.shutdown();
    }
  });
});
