// Admin commands, every status they return (reference §3), table driven.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CmdInit } from '../src/nvme/spec/command.js';
import { statusName } from '../src/nvme/spec/status.js';
import { asciiField, readU16le, readU32le, readU64le } from '../src/util/bytes.js';
import { identifyController } from '../src/nvme/ctrl/id-ctrl.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import { openController } from '../src/nvme/index.js';
import { FakeNamespace, hex, page, rig } from './nvme-fakes.js';

interface Case {
  readonly name: string;
  readonly cmd: CmdInit;
  readonly status: string;
  readonly dw0?: number;
  /** Buffer size (default 4096). */
  readonly len?: number;
}

async function runCases(cases: readonly Case[], setup = () => rig()): Promise<void> {
  for (const c of cases) {
    const { host } = setup();
    const cqe = await host.admin(c.cmd, page().subarray(0, c.len ?? 4096));
    assert.equal(statusName(cqe.status), c.status, c.name);
    if (c.dw0 !== undefined) assert.equal(cqe.dw0, c.dw0, `${c.name}: dw0`);
  }
}

function table(title: string, cases: readonly Case[], setup?: () => ReturnType<typeof rig>): void {
  describe(title, () => {
    for (const c of cases) {
      it(`${c.name} -> ${c.status}${c.dw0 === undefined ? '' : ` dw0 0x${c.dw0.toString(16)}`}`, () =>
        runCases([c], setup));
    }
  });
}

table('admin dispatch (§3.1)', [
  { name: 'opcode 0x03 is not supported', cmd: { opcode: 0x03 }, status: 'INVALID_OPCODE+DNR' },
  {
    // Beyond QEMU 7.2 (Invalid Opcode there): supported, with nothing to allocate from unless
    // the subsystem has nvm-capacity (tests/nvme-ns-mgmt.test.ts).
    name: 'Namespace Management (0x0D) create without a capacity is Insufficient Capacity',
    cmd: { opcode: 0x0d },
    status: 'NS_INSUFFICIENT_CAPACITY+DNR',
  },
  { name: 'Firmware Commit is not supported', cmd: { opcode: 0x10 }, status: 'INVALID_OPCODE+DNR' },
  {
    name: 'Keep Alive is not a PCIe command in 7.2',
    cmd: { opcode: 0x18 },
    status: 'INVALID_OPCODE+DNR',
  },
  { name: 'Sanitize is not supported', cmd: { opcode: 0x84 }, status: 'INVALID_OPCODE+DNR' },
  { name: 'vendor 0xC0 is not supported', cmd: { opcode: 0xc0 }, status: 'INVALID_OPCODE+DNR' },
  {
    name: 'PSDT != 0 on admin',
    cmd: { opcode: 0x06, cdw10: 1, psdt: 1 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'FUSE set on admin (no DNR)',
    cmd: { opcode: 0x06, cdw10: 1, fuse: 1 },
    status: 'INVALID_FIELD',
  },
]);

table('queue management (§3.2)', [
  {
    name: 'Create CQ qid 0',
    cmd: { opcode: 0x05, cdw10: 0x003f0000, cdw11: 1 },
    status: 'INVALID_QID+DNR',
  },
  {
    name: 'Create CQ qid > max_ioqpairs',
    cmd: { opcode: 0x05, cdw10: 0x003f0041, cdw11: 1 },
    status: 'INVALID_QID+DNR',
  },
  {
    name: 'Create CQ qsize 0',
    cmd: { opcode: 0x05, cdw10: 0x00000001, cdw11: 1 },
    status: 'MAX_QSIZE_EXCEEDED+DNR',
  },
  {
    name: 'Create CQ qsize > MQES',
    cmd: { opcode: 0x05, cdw10: 0x08000001, cdw11: 1 },
    status: 'MAX_QSIZE_EXCEEDED+DNR',
  },
  {
    name: 'Create CQ PRP1 not page aligned',
    cmd: { opcode: 0x05, cdw10: 0x003f0001, cdw11: 1, prp1: 0x1004n },
    status: 'INVALID_PRP_OFFSET+DNR',
  },
  {
    name: 'Create CQ IV >= msix_qsize',
    cmd: { opcode: 0x05, cdw10: 0x003f0001, cdw11: 1 | (65 << 16) },
    status: 'INVALID_IRQ_VECTOR+DNR',
  },
  {
    name: 'Create CQ PC=0',
    cmd: { opcode: 0x05, cdw10: 0x003f0001, cdw11: 0 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'Create CQ valid',
    cmd: { opcode: 0x05, cdw10: 0x07ff0001, cdw11: 3 | (64 << 16) },
    status: 'SUCCESS',
  },
  {
    name: 'Create SQ CQID 0',
    cmd: { opcode: 0x01, cdw10: 0x003f0001, cdw11: 1 },
    status: 'CQ_INVALID+DNR',
  },
  {
    name: 'Create SQ nonexistent CQ',
    cmd: { opcode: 0x01, cdw10: 0x003f0001, cdw11: 1 | (3 << 16) },
    status: 'CQ_INVALID+DNR',
  },
  {
    name: 'Create SQ qid 0',
    cmd: { opcode: 0x01, cdw10: 0x003f0000, cdw11: 1 | (0 << 16) },
    status: 'CQ_INVALID+DNR',
  },
  { name: 'Delete SQ qid 0', cmd: { opcode: 0x00, cdw10: 0 }, status: 'INVALID_QID+DNR' },
  { name: 'Delete SQ nonexistent', cmd: { opcode: 0x00, cdw10: 5 }, status: 'INVALID_QID+DNR' },
  { name: 'Delete CQ qid 0', cmd: { opcode: 0x04, cdw10: 0 }, status: 'CQ_INVALID+DNR' },
  { name: 'Delete CQ nonexistent', cmd: { opcode: 0x04, cdw10: 7 }, status: 'CQ_INVALID+DNR' },
  {
    name: 'Abort on a nonexistent SQ',
    cmd: { opcode: 0x08, cdw10: 9 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'Abort of an unknown CID reports "not aborted"',
    cmd: { opcode: 0x08, cdw10: 0x00770000 },
    status: 'SUCCESS',
    dw0: 1,
  },
  {
    name: 'Doorbell Buffer Config unaligned PRP1',
    cmd: { opcode: 0x7c, prp1: 0x1008n, prp2: 0x2000n },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'Doorbell Buffer Config unaligned PRP2',
    cmd: { opcode: 0x7c, prp1: 0x1000n, prp2: 0x2010n },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'Doorbell Buffer Config aligned',
    cmd: { opcode: 0x7c, prp1: 0x1000n, prp2: 0x2000n },
    status: 'SUCCESS',
  },
]);

describe('queue management with existing queues (§3.2)', () => {
  it('rejects a second CQ/SQ with the same id and deleting a CQ with SQs bound (no DNR)', async () => {
    const { host } = rig();
    await host.createIoQueues(1);
    const st = async (c: CmdInit): Promise<string> => statusName((await host.admin(c)).status);
    assert.equal(await st({ opcode: 0x05, cdw10: 0x003f0001, cdw11: 1 }), 'INVALID_QID+DNR');
    assert.equal(
      await st({ opcode: 0x01, cdw10: 0x003f0001, cdw11: 1 | (1 << 16) }),
      'INVALID_QID+DNR',
    );
    assert.equal(await st({ opcode: 0x04, cdw10: 1 }), 'INVALID_QUEUE_DEL');
    assert.equal(await st({ opcode: 0x00, cdw10: 1 }), 'SUCCESS');
    assert.equal(await st({ opcode: 0x04, cdw10: 1 }), 'SUCCESS');
    // Set Features Number of Queues after an I/O CQ was created: command sequence error.
    assert.equal(
      await st({ opcode: 0x09, cdw10: 0x07, cdw11: 0x00030003 }),
      'COMMAND_SEQUENCE_ERROR+DNR',
    );
  });

  it('rejects a nonzero interrupt vector while MSI-X is disabled', async () => {
    const { host } = rig({ params: { msixEnabled: false } });
    const cqe = await host.admin({ opcode: 0x05, cdw10: 0x003f0001, cdw11: 1 | (1 << 16) });
    assert.equal(statusName(cqe.status), 'INVALID_IRQ_VECTOR+DNR');
  });
});

describe('Identify Controller (§2.6)', () => {
  it('matches QEMU 7.2 byte for byte for the default configuration', () => {
    const { ctrl } = rig();
    const id = identifyController(ctrl);
    const expected = new Uint8Array(4096);
    const put = (off: number, h: string): void => expected.set(Buffer.from(h, 'hex'), off);
    const ascii = (off: number, s: string, len: number, pad = 0x20): void => {
      expected.fill(pad, off, off + len);
      expected.set(Buffer.from(s, 'ascii'), off);
    };
    put(0, '361bf41a');
    ascii(4, 'deadbeef', 20);
    ascii(24, 'QEMU NVMe Ctrl', 40);
    ascii(64, '1.0', 8);
    put(72, '06005452' + '00' + '07' + '0000' + '00040100');
    put(92, '00010000' + '00800000');
    put(111, '01');
    // Documented difference: ELPE 63 (64 Error Information entries; QEMU 7.2 keeps none: 0).
    put(256, '0a01' + '03' + '03' + '03' + '07' + '3f');
    put(266, '5701' + '7501');
    put(512, '6644');
    // Documented difference from QEMU 7.2's ONCS 0x15d: Write Uncorrectable (bit 1) and
    // Reservations (bit 5) are advertised too; Copy (bit 8) with OCFS 0xf: formats 0-3 (QEMU
    // 7.2: 0x3, formats 0 and 1; 2 and 3 came with newer QEMU).
    put(516, '00010000' + '7f01');
    put(525, '07');
    put(534, '0f00' + '01000000');
    ascii(768, 'nqn.2019-08.org.qemu:deadbeef', 256, 0);
    put(2048, 'c409' + '0000' + '10000000' + '04000000');
    assert.equal(hex(id), hex(expected));
  });

  it('sets CMIC bit1 and the subsystem NQN with an explicit subsystem, and the cntlid', () => {
    const subsys = new Subsystem(true, 'nqn.2019-08.org.qemu:sub0');
    const { controller } = openController({
      serial: 's',
      subsystem: subsys,
      params: { cntlid: 3 },
    });
    const id = identifyController(controller);
    assert.equal(id[76], 0x02);
    assert.equal(readU16le(id, 78), 3);
    assert.equal(asciiField(id, 768, 256), 'nqn.2019-08.org.qemu:sub0');
  });

  it('uses the Intel identity with use-intel-id, truncates long serials, and follows mdts/aerl', () => {
    const { ctrl } = rig({
      params: { useIntelId: true, serial: 'x'.repeat(25), mdts: 0, aerl: 9 },
    });
    const id = identifyController(ctrl);
    assert.equal(readU16le(id, 0), 0x8086);
    assert.equal(hex(id.subarray(73, 76)), 'b30200');
    assert.equal(asciiField(id, 4, 20), 'x'.repeat(20));
    assert.deepEqual([id[77], id[259]], [0, 9]);
  });

  it('the fabrics personality drops Doorbell Buffer Config from OACS and reports its fields', () => {
    const { ctrl } = rig({ enable: false });
    const fabrics = {
      inCapsuleSize: 8192,
      katoGraceMs: 0,
      hasQueue: () => false,
      disconnect: () => undefined,
    };
    const fe = {
      transport: 'fabrics' as const,
      fabrics,
      start: () => true,
      reset: () => undefined,
      evicted: () => undefined,
    };
    assert.ok(ctrl.bind(fe));
    const id = identifyController(ctrl);
    assert.equal(readU16le(id, 256), 0x0a, 'OACS without bit 8');
    assert.equal(readU16le(id, 320), 10, 'KAS 1 s');
    assert.equal(id[76], 0x02, 'CMIC: a reconnect may overlap the old association');
    assert.equal(readU16le(id, 514), 2048, 'MAXCMD = MQES + 1');
    assert.equal(readU32le(id, 536), 0x0010_0001, 'SGLS');
    assert.equal(readU32le(id, 1792), (64 + 8192) / 16, 'IOCCSZ');
    assert.equal(readU32le(id, 1796), 1, 'IORCSZ');
    assert.deepEqual([id[1803], readU16le(id, 1804)], [1, 1], 'MSDBD, OFCS');
    ctrl.release(fe);
    assert.equal(readU16le(identifyController(ctrl), 256), 0x10a, 'back to PCIe');
  });
});

const idCases: Case[] = [
  { name: 'CNS 00 NSID 0', cmd: { opcode: 6, cdw10: 0, nsid: 0 }, status: 'INVALID_NSID+DNR' },
  {
    name: 'CNS 00 NSID FFFFFFFF',
    cmd: { opcode: 6, cdw10: 0, nsid: 0xffffffff },
    status: 'INVALID_NSID+DNR',
  },
  { name: 'CNS 00 NSID 257', cmd: { opcode: 6, cdw10: 0, nsid: 257 }, status: 'INVALID_NSID+DNR' },
  {
    name: 'CNS 00 inactive NSID 9 (zeros)',
    cmd: { opcode: 6, cdw10: 0, nsid: 9 },
    status: 'SUCCESS',
  },
  {
    name: 'CNS 02 NSID FFFFFFFE',
    cmd: { opcode: 6, cdw10: 2, nsid: 0xfffffffe },
    status: 'INVALID_NSID+DNR',
  },
  { name: 'CNS 03 NSID 0', cmd: { opcode: 6, cdw10: 3, nsid: 0 }, status: 'INVALID_NSID+DNR' },
  {
    name: 'CNS 03 unattached NSID',
    cmd: { opcode: 6, cdw10: 3, nsid: 2 },
    status: 'INVALID_FIELD+DNR',
  },
  { name: 'CNS 04', cmd: { opcode: 6, cdw10: 4 }, status: 'INVALID_FIELD+DNR' },
  {
    name: 'CNS 05 CSI 2 on an NVM namespace',
    cmd: { opcode: 6, cdw10: 5, nsid: 1, cdw11: 2 << 24 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'CNS 05 unattached NSID (zeros)',
    cmd: { opcode: 6, cdw10: 5, nsid: 3 },
    status: 'SUCCESS',
  },
  {
    name: 'CNS 06 CSI 1',
    cmd: { opcode: 6, cdw10: 6, cdw11: 1 << 24 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'CNS 07 CSI 1',
    cmd: { opcode: 6, cdw10: 7, cdw11: 1 << 24 },
    status: 'INVALID_FIELD+DNR',
  },
  { name: 'CNS 08 [7.2]', cmd: { opcode: 6, cdw10: 8 }, status: 'INVALID_FIELD+DNR' },
  {
    name: 'CNS 12 without subsystem',
    cmd: { opcode: 6, cdw10: 0x12, nsid: 1 },
    status: 'INVALID_FIELD+DNR',
  },
  {
    name: 'CNS 13 without subsystem',
    cmd: { opcode: 6, cdw10: 0x13 },
    status: 'INVALID_FIELD+DNR',
  },
  { name: 'CNS 14 always answered', cmd: { opcode: 6, cdw10: 0x14 }, status: 'SUCCESS' },
  { name: 'CNS 15 empty list', cmd: { opcode: 6, cdw10: 0x15 }, status: 'SUCCESS' },
  { name: 'CNS 16', cmd: { opcode: 6, cdw10: 0x16 }, status: 'INVALID_FIELD+DNR' },
  { name: 'CNS 1C', cmd: { opcode: 6, cdw10: 0x1c }, status: 'SUCCESS' },
  { name: 'CNS 1F [7.2]', cmd: { opcode: 6, cdw10: 0x1f }, status: 'INVALID_FIELD+DNR' },
  {
    name: 'short host buffer',
    cmd: { opcode: 6, cdw10: 1 },
    status: 'DATA_TRANSFER_ERROR',
    len: 512,
  },
];
table('Identify statuses (§3.5)', idCases);

describe('Identify data (§3.5)', () => {
  const subsysRig = () => {
    const subsys = new Subsystem(true, 'nqn.2019-08.org.qemu:s');
    const a = openController({ serial: 's', subsystem: subsys, params: { cntlid: 0 } });
    const b = openController({ serial: 's', subsystem: subsys, params: { cntlid: 1 } });
    const shared = new FakeNamespace(1);
    const priv = new FakeNamespace(2, { shared: false });
    const detached = new FakeNamespace(3, { detached: true });
    const zoned = new FakeNamespace(4, { csi: 2 });
    subsys.addNamespace(shared, a.controller);
    subsys.addNamespace(priv, b.controller);
    subsys.addNamespace(detached, a.controller);
    subsys.addNamespace(zoned, a.controller);
    return { a, b };
  };
  const ids = (buf: Uint8Array, n = 8): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n && readU32le(buf, 4 * i) !== 0; i++) out.push(readU32le(buf, 4 * i));
    return out;
  };

  it('lists active, allocated and per-CSI namespaces', async () => {
    const { a } = subsysRig();
    const ask = async (cdw10: number, nsid = 0, csi = 0): Promise<number[]> => {
      const buf = page();
      assert.equal(
        (await a.host.admin({ opcode: 6, cdw10, nsid, cdw11: csi << 24 }, buf)).status,
        0,
      );
      return ids(buf);
    };
    assert.deepEqual(await ask(0x02), [1, 4]);
    assert.deepEqual(await ask(0x02, 1), [4]);
    assert.deepEqual(await ask(0x10), [1, 2, 3, 4]);
    assert.deepEqual(await ask(0x07, 0, 2), [4]);
    assert.deepEqual(await ask(0x1a, 0, 0), [1, 2, 3]);
  });

  it('answers CNS 11h for a detached namespace and 0x02c for a zoned one', async () => {
    const { a } = subsysRig();
    const buf = page();
    assert.equal((await a.host.admin({ opcode: 6, cdw10: 0x11, nsid: 3 }, buf)).status, 0);
    assert.equal(readU64le(buf, 0), 64n);
    const z = await a.host.admin({ opcode: 6, cdw10: 0x11, nsid: 4 }, page());
    assert.equal(statusName(z.status), 'INVALID_CMD_SET+DNR');
    const inactive = page().fill(0xee);
    assert.equal((await a.host.admin({ opcode: 6, cdw10: 0x00, nsid: 3 }, inactive)).status, 0);
    assert.ok(
      inactive.every((b) => b === 0),
      'CNS 00 of a detached namespace is all zeros',
    );
  });

  it('lists attached controllers (CNS 12h) and all controllers from CNTID (CNS 13h)', async () => {
    const { a } = subsysRig();
    const list = async (cdw10: number, nsid = 0): Promise<number[]> => {
      const buf = page();
      const st = (await a.host.admin({ opcode: 6, cdw10, nsid }, buf)).status;
      assert.equal(st, 0);
      const n = readU16le(buf, 0);
      return [n, ...Array.from({ length: n }, (_, i) => readU16le(buf, 2 + 2 * i))];
    };
    assert.deepEqual(await list(0x12, 1), [2, 0, 1]);
    assert.deepEqual(await list(0x12, 2), [1, 1]);
    assert.deepEqual(await list(0x12, 3), [0]);
    assert.deepEqual(await list(0x13), [2, 0, 1]);
    assert.deepEqual(await list(0x13 | (1 << 16)), [1, 1]);
    const bad = await a.host.admin({ opcode: 6, cdw10: 0x12, nsid: 0xffffffff }, page());
    assert.equal(statusName(bad.status), 'INVALID_FIELD+DNR');
  });

  it('reports CNS 06h DMRSL from the smallest LBA and CNS 14h/1Ch vectors', async () => {
    const { host } = rig({ ns: [new FakeNamespace(1), new FakeNamespace(2, { lbaSize: 4096 })] });
    const buf = page();
    await host.admin({ opcode: 6, cdw10: 6 }, buf);
    assert.deepEqual([buf[0], readU32le(buf, 4)], [7, 0x7ffff]);
    await host.admin({ opcode: 6, cdw10: 0x14 }, buf);
    assert.deepEqual(
      [buf[4], readU16le(buf, 42), readU16le(buf, 46), readU16le(buf, 74)],
      [3, 65, 1, 65],
    );
    await host.admin({ opcode: 6, cdw10: 0x1c }, buf);
    assert.equal(readU64le(buf, 0), 5n);
  });

  it('returns the descriptor list and CNS 05h of an attached namespace from the namespace', async () => {
    const { host } = rig();
    const buf = page();
    await host.admin({ opcode: 6, cdw10: 3, nsid: 1 }, buf);
    assert.equal(hex(buf.subarray(0, 5)), '0401000000');
    await host.admin({ opcode: 6, cdw10: 5, nsid: 1 }, buf);
    assert.equal(buf[0], 0xc0);
  });
});
