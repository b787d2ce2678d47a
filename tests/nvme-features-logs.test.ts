// Get/Set Features (§3.3), Get Log Page (§3.4), Namespace Attachment (§3.7), Format (§3.8),
// Virtualization Management without SR-IOV.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CmdInit } from '../src/nvme/spec/command.js';
import { statusName } from '../src/nvme/spec/status.js';
import { asciiField, readU16le, readU32le, readU64le, writeU16le } from '../src/util/bytes.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import { openController } from '../src/nvme/index.js';
import { FakeNamespace, page, rig } from './nvme-fakes.js';

type Row = [name: string, cmd: CmdInit, status: string, dw0?: number];

function rows(title: string, list: readonly Row[]): void {
  describe(title, () => {
    for (const [name, cmd, status, dw0] of list) {
      it(`${name} -> ${status}${dw0 === undefined ? '' : ` 0x${dw0.toString(16)}`}`, async () => {
        const { host } = rig({ ns: [new FakeNamespace(1), new FakeNamespace(2)] });
        const cqe = await host.admin(cmd, page());
        assert.equal(statusName(cqe.status), status);
        if (dw0 !== undefined) assert.equal(cqe.dw0, dw0);
      });
    }
  });
}

const GF = 0x0a;
const SF = 0x09;
rows('Get Features (§3.3)', [
  ['Arbitration current', { opcode: GF, cdw10: 0x01 }, 'SUCCESS', 7],
  ['Power Management', { opcode: GF, cdw10: 0x02 }, 'SUCCESS', 0],
  ['Temperature over threshold', { opcode: GF, cdw10: 0x04 }, 'SUCCESS', 0x157],
  ['Temperature under threshold', { opcode: GF, cdw10: 0x04, cdw11: 1 << 20 }, 'SUCCESS', 0],
  ['Temperature THSEL 2', { opcode: GF, cdw10: 0x04, cdw11: 2 << 20 }, 'INVALID_FIELD+DNR'],
  ['Temperature other sensor', { opcode: GF, cdw10: 0x04, cdw11: 1 << 16 }, 'SUCCESS', 0],
  ['Error Recovery NSID 0', { opcode: GF, cdw10: 0x05 }, 'INVALID_NSID+DNR'],
  [
    'Error Recovery NSID FFFFFFFF',
    { opcode: GF, cdw10: 0x05, nsid: 0xffffffff },
    'INVALID_NSID+DNR',
  ],
  ['Error Recovery unattached NSID', { opcode: GF, cdw10: 0x05, nsid: 7 }, 'INVALID_FIELD+DNR'],
  ['Error Recovery NSID 1', { opcode: GF, cdw10: 0x05, nsid: 1 }, 'SUCCESS', 0],
  ['Volatile Write Cache current', { opcode: GF, cdw10: 0x06 }, 'SUCCESS', 1],
  ['Volatile Write Cache default', { opcode: GF, cdw10: 0x106 }, 'SUCCESS', 0],
  ['Number of Queues', { opcode: GF, cdw10: 0x07 }, 'SUCCESS', 0x3f003f],
  ['Interrupt Coalescing', { opcode: GF, cdw10: 0x08 }, 'SUCCESS', 0],
  ['Interrupt Vector Config IV 0 (CD)', { opcode: GF, cdw10: 0x09 }, 'SUCCESS', 0x10000],
  ['Interrupt Vector Config IV 64', { opcode: GF, cdw10: 0x09, cdw11: 64 }, 'SUCCESS', 64],
  ['Interrupt Vector Config IV 65', { opcode: GF, cdw10: 0x09, cdw11: 65 }, 'INVALID_FIELD+DNR'],
  ['Write Atomicity', { opcode: GF, cdw10: 0x0a }, 'SUCCESS', 0],
  ['Async Event Config', { opcode: GF, cdw10: 0x0b }, 'SUCCESS', 0],
  ['Command Set Profile', { opcode: GF, cdw10: 0x19 }, 'SUCCESS', 0],
  ['unsupported FID 0x03', { opcode: GF, cdw10: 0x03 }, 'INVALID_FIELD+DNR'],
  ['unsupported FID 0x0F (KAS)', { opcode: GF, cdw10: 0x0f }, 'INVALID_FIELD+DNR'],
  ['SEL 3 Error Recovery caps', { opcode: GF, cdw10: 0x305, nsid: 1 }, 'SUCCESS', 6],
  ['SEL 3 Temperature caps', { opcode: GF, cdw10: 0x304 }, 'SUCCESS', 4],
  ['SEL 3 Arbitration caps', { opcode: GF, cdw10: 0x301 }, 'SUCCESS', 0],
  ['SEL 2 (saved) Temperature', { opcode: GF, cdw10: 0x204 }, 'SUCCESS', 0x157],
]);

rows('Set Features (§3.3)', [
  ['SV bit', { opcode: SF, cdw10: 0x8000000b }, 'FID_NOT_SAVEABLE+DNR'],
  ['unsupported FID', { opcode: SF, cdw10: 0x03 }, 'INVALID_FIELD+DNR'],
  ['Arbitration not changeable', { opcode: SF, cdw10: 0x01 }, 'FEAT_NOT_CHANGEABLE+DNR'],
  ['Interrupt Coalescing not changeable', { opcode: SF, cdw10: 0x08 }, 'FEAT_NOT_CHANGEABLE+DNR'],
  ['non-NS feature with NSID 1', { opcode: SF, cdw10: 0x0b, nsid: 1 }, 'FEAT_NOT_NS_SPEC+DNR'],
  ['non-NS feature with NSID 300', { opcode: SF, cdw10: 0x0b, nsid: 300 }, 'INVALID_NSID+DNR'],
  ['non-NS feature with NSID FFFFFFFF', { opcode: SF, cdw10: 0x0b, nsid: 0xffffffff }, 'SUCCESS'],
  ['Error Recovery NSID 0', { opcode: SF, cdw10: 0x05, nsid: 0 }, 'INVALID_NSID+DNR'],
  ['Error Recovery unattached', { opcode: SF, cdw10: 0x05, nsid: 9 }, 'INVALID_FIELD+DNR'],
  ['Temperature THSEL 3', { opcode: SF, cdw10: 0x04, cdw11: 3 << 20 }, 'INVALID_FIELD+DNR'],
  ['Number of Queues NSQR FFFF', { opcode: SF, cdw10: 0x07, cdw11: 0xffff }, 'INVALID_FIELD+DNR'],
  [
    'Number of Queues request ignored',
    { opcode: SF, cdw10: 0x07, cdw11: 0x00010001 },
    'SUCCESS',
    0x3f003f,
  ],
  [
    'Command Set Profile IOCSCI set',
    { opcode: SF, cdw10: 0x19, cdw11: 1 },
    'IOCS_COMBINATION_REJECTED+DNR',
  ],
]);

describe('feature values', () => {
  it('stores AEC verbatim, thresholds, DULBE per namespace (broadcast), VWC on every namespace', async () => {
    const ns = [new FakeNamespace(1), new FakeNamespace(2)];
    const { host } = rig({ ns });
    const set = async (cmd: CmdInit): Promise<number> => (await host.admin(cmd)).status;
    const get = async (cmd: CmdInit): Promise<number> => (await host.admin(cmd, page())).dw0;
    assert.equal(await set({ opcode: SF, cdw10: 0x0b, cdw11: 0x1ff }), 0);
    assert.equal(await get({ opcode: GF, cdw10: 0x0b }), 0x1ff);
    assert.equal(await set({ opcode: SF, cdw10: 0x04, cdw11: (1 << 20) | 100 }), 0);
    assert.equal(await get({ opcode: GF, cdw10: 0x04, cdw11: 1 << 20 }), 100);
    assert.equal(await get({ opcode: GF, cdw10: 0x104, cdw11: 1 << 20 }), 0, 'default stays 0');
    assert.equal(await set({ opcode: SF, cdw10: 0x05, nsid: 0xffffffff, cdw11: 1 << 16 }), 0);
    assert.deepEqual([ns[0]!.errorRecovery, ns[1]!.errorRecovery], [0x10000, 0x10000]);
    assert.equal(await get({ opcode: GF, cdw10: 0x05, nsid: 2 }), 0x10000);
    assert.equal(await set({ opcode: SF, cdw10: 0x06, cdw11: 0 }), 0);
    assert.deepEqual([ns[0]!.writeCache, ns[1]!.writeCache], [false, false]);
    assert.equal(await get({ opcode: GF, cdw10: 0x06 }), 0);
  });

  it('keeps the timestamp running from the host value and sets the origin bit', async () => {
    let now = 0;
    const { host } = rig({ params: { clock: { nowMs: () => now } } });
    const ts = page();
    ts.set([0x00, 0x10, 0, 0, 0, 0, 0, 0]); // 4096 ms
    assert.equal((await host.admin({ opcode: SF, cdw10: 0x0e }, ts)).status, 0);
    now += 250;
    const out = page();
    await host.admin({ opcode: GF, cdw10: 0x0e }, out);
    assert.equal(readU64le(out, 0), (1n << 49n) | 4346n);
  });

  it('round-trips the 512-byte Host Behavior Support structure (LBAFEE reaches the view)', async () => {
    const { host, ctrl } = rig();
    const hbs = page();
    hbs[2] = 1;
    assert.equal((await host.admin({ opcode: SF, cdw10: 0x16 }, hbs)).status, 0);
    assert.equal(ctrl.lbafee, true);
    const out = page();
    await host.admin({ opcode: GF, cdw10: 0x16 }, out);
    assert.equal(out[2], 1);
  });
});

const GL = 0x02;
const numd = (bytes: number): number => ((bytes / 4 - 1) << 16) >>> 0;
rows('Get Log Page (§3.4)', [
  ['unknown LID 0x00', { opcode: GL, cdw10: numd(64) | 0x00 }, 'INVALID_FIELD+DNR'],
  ['unknown LID 0x06', { opcode: GL, cdw10: numd(64) | 0x06 }, 'INVALID_FIELD+DNR'],
  ['vendor LID 0xC0', { opcode: GL, cdw10: numd(64) | 0xc0 }, 'INVALID_FIELD+DNR'],
  [
    'offset not dword aligned',
    { opcode: GL, cdw10: numd(64) | 0x02, cdw12: 2, nsid: 0xffffffff },
    'INVALID_FIELD+DNR',
  ],
  [
    'offset beyond the SMART log',
    { opcode: GL, cdw10: numd(4) | 0x02, cdw12: 512, nsid: 0xffffffff },
    'INVALID_FIELD+DNR',
  ],
  [
    'length over MDTS',
    { opcode: GL, cdw10: 0xffff0002, cdw11: 0x0002, nsid: 0xffffffff },
    'INVALID_FIELD+DNR',
  ],
  [
    'NUMD FFFFFFFF wraps to 0 bytes',
    { opcode: GL, cdw10: 0xffff0002, cdw11: 0xffff, nsid: 0xffffffff },
    'SUCCESS',
  ],
  ['SMART NSID 0', { opcode: GL, cdw10: numd(512) | 0x02, nsid: 0 }, 'INVALID_NSID+DNR'],
  ['SMART unattached NSID', { opcode: GL, cdw10: numd(512) | 0x02, nsid: 9 }, 'INVALID_NSID+DNR'],
  ['SMART NSID 1', { opcode: GL, cdw10: numd(512) | 0x02, nsid: 1 }, 'SUCCESS'],
  ['Error log offset 64', { opcode: GL, cdw10: numd(64) | 0x01, cdw12: 64 }, 'SUCCESS'],
  [
    'Error log offset 4096',
    { opcode: GL, cdw10: numd(64) | 0x01, cdw12: 4096 },
    'INVALID_FIELD+DNR',
  ],
  ['Firmware Slot', { opcode: GL, cdw10: numd(512) | 0x03 }, 'SUCCESS'],
  [
    'Changed NS list offset 4096',
    { opcode: GL, cdw10: numd(4) | 0x04, cdw12: 4096 },
    'INVALID_FIELD+DNR',
  ],
  ['Effects', { opcode: GL, cdw10: numd(4096) | 0x05 }, 'SUCCESS'],
]);

describe('log contents', () => {
  it('SMART: temperature 323 K, data units rounded up, command counts, power-on hours', async () => {
    let now = 0;
    const ns = [new FakeNamespace(1), new FakeNamespace(2)];
    const { host } = rig({ ns, params: { clock: { nowMs: () => now } } });
    ns[0]!.setCounters({
      bytesRead: 512n * 1001n,
      bytesWritten: 512n,
      readCommands: 3n,
      writeCommands: 1n,
    });
    ns[1]!.setCounters({ bytesRead: 511n, readCommands: 1n });
    now = 3 * 3_600_000 + 5;
    const log = page();
    assert.equal(
      (await host.admin({ opcode: GL, cdw10: numd(512) | 0x02, nsid: 0xffffffff }, log)).status,
      0,
    );
    assert.deepEqual(
      [
        log[0],
        readU16le(log, 1),
        log[3],
        readU64le(log, 32),
        readU64le(log, 48),
        readU64le(log, 64),
        readU64le(log, 80),
        readU64le(log, 128),
      ],
      [0, 323, 0, 2n, 1n, 4n, 1n, 3n],
    );
    const one = page();
    await host.admin({ opcode: GL, cdw10: numd(512) | 0x02, nsid: 2 }, one);
    assert.deepEqual([readU64le(one, 32), readU64le(one, 64)], [0n, 1n]);
  });

  it('SMART: a lowered over-threshold sets the temperature warning bit', async () => {
    const { host } = rig();
    await host.admin({ opcode: SF, cdw10: 0x04, cdw11: 300 });
    const log = page();
    await host.admin({ opcode: GL, cdw10: numd(512) | 0x02, nsid: 0xffffffff }, log);
    assert.equal(log[0], 0x02);
  });

  it('transfers min(size - offset, length) from the offset', async () => {
    const { host } = rig();
    const buf = page();
    buf.fill(0xee);
    await host.admin({ opcode: GL, cdw10: numd(16) | 0x02, cdw12: 508, nsid: 0xffffffff }, buf);
    assert.deepEqual([...buf.subarray(0, 6)], [0, 0, 0, 0, 0xee, 0xee]);
  });

  it('Firmware Slot: AFI 1 and FRS1 "1.0"', async () => {
    const { host } = rig();
    const buf = page();
    await host.admin({ opcode: GL, cdw10: numd(512) | 0x03 }, buf);
    assert.equal(buf[0], 1);
    assert.equal(asciiField(buf, 8, 8), '1.0');
    assert.equal(buf[11], 0x20);
  });

  it('Effects: admin table, NVM I/O set for CSS 0/6-CSI 0, zoned set for CSI 2, none for CSS 7', async () => {
    const at = async (css: number, csi: number): Promise<Uint8Array> => {
      const { host } = rig({ enable: false });
      host.enable({ css });
      const buf = page();
      await host.admin({ opcode: GL, cdw10: numd(4096) | 0x05, cdw14: csi << 24 }, buf);
      return buf;
    };
    const e = await at(6, 0);
    const acs = (opc: number): number => readU32le(e, 4 * opc);
    const iocs = (b: Uint8Array, opc: number): number => readU32le(b, 1024 + 4 * opc);
    assert.deepEqual(
      [
        0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x15, 0x18, 0x1c, 0x7c, 0x80,
        0x0d,
      ].map(acs),
      // Namespace Management (0x0D): CSUPP | NCC | NIC, beyond QEMU 7.2.
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 0, 1, 1, 3, 0xd],
    );
    assert.deepEqual(
      [0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0c, 0x19, 0x7d].map((o) => iocs(e, o)),
      // Write Uncorrectable (0x04) is supported beyond QEMU 7.2; Copy (0x19) as in 7.2.
      [3, 3, 1, 3, 1, 3, 3, 1, 3, 0],
    );
    const z = await at(6, 2);
    assert.deepEqual(
      [0x79, 0x7a, 0x7d].map((o) => iocs(z, o)),
      [3, 1, 3],
    );
    assert.equal(iocs(await at(6, 1), 0x01), 0);
    assert.equal(iocs(await at(0, 2), 0x01), 3, 'CSS 0 always reports the NVM set');
    assert.equal(iocs(await at(7, 0), 0x01), 0);
  });
});

describe('Namespace Attachment (§3.7)', () => {
  function two() {
    const subsys = new Subsystem(true, 'nqn.2019-08.org.qemu:s');
    const a = openController({ serial: 's', subsystem: subsys, params: { cntlid: 0 } });
    const b = openController({ serial: 's', subsystem: subsys, params: { cntlid: 1 } });
    subsys.addNamespace(new FakeNamespace(1, { detached: true }), a.controller);
    subsys.addNamespace(new FakeNamespace(2, { shared: false, detached: true }), a.controller);
    subsys.addNamespace(new FakeNamespace(3), a.controller);
    return { a, b, subsys };
  }
  const ctrlList = (...ids: number[]): Uint8Array => {
    const b = page();
    writeU16le(b, 0, ids.length);
    ids.forEach((id, i) => writeU16le(b, 2 + 2 * i, id));
    return b;
  };
  const cases: [string, number, number, number[], string][] = [
    ['NSID 0', 0, 0, [0], 'INVALID_NSID+DNR'],
    ['NSID 257', 257, 0, [0], 'INVALID_NSID+DNR'],
    ['NSID FFFFFFFF', 0xffffffff, 0, [0], 'INVALID_FIELD+DNR'],
    ['NSID not in the subsystem', 9, 0, [0], 'INVALID_FIELD+DNR'],
    ['empty controller list', 1, 0, [], 'NS_CTRL_LIST_INVALID+DNR'],
    ['unknown cntlid', 1, 0, [5], 'NS_CTRL_LIST_INVALID+DNR'],
    ['SEL 2', 1, 2, [0], 'INVALID_FIELD+DNR'],
    ['attach an attached namespace', 3, 0, [0], 'NS_ALREADY_ATTACHED+DNR'],
    ['detach a detached namespace', 1, 1, [0], 'NS_NOT_ATTACHED+DNR'],
    ['private namespace to two controllers', 2, 0, [0, 1], 'NS_PRIVATE+DNR'],
    ['attach to both', 1, 0, [0, 1], 'SUCCESS'],
  ];
  for (const [name, nsid, sel, ids, status] of cases) {
    it(`${name} -> ${status}`, async () => {
      const { a } = two();
      const cqe = await a.host.admin({ opcode: 0x15, nsid, cdw10: sel }, ctrlList(...ids));
      assert.equal(statusName(cqe.status), status);
    });
  }

  it('answers 0x002+DNR without an explicit subsystem', async () => {
    const { host } = rig();
    const cqe = await host.admin({ opcode: 0x15, nsid: 1, cdw10: 1 }, ctrlList(0));
    assert.equal(statusName(cqe.status), 'INVALID_FIELD+DNR');
  });

  it("attaching records the NSID in both controllers' Changed NS lists, once, cleared on read", async () => {
    const { a, b } = two();
    await a.host.admin({ opcode: 0x15, nsid: 1, cdw10: 0 }, ctrlList(0, 1));
    assert.ok(a.controller.isAttached(1) && b.controller.isAttached(1));
    await a.host.admin({ opcode: 0x15, nsid: 1, cdw10: 1 }, ctrlList(1));
    assert.equal(b.controller.isAttached(1), false);
    for (const c of [a, b]) {
      const log = page();
      await c.host.admin({ opcode: GL, cdw10: numd(4096) | 0x04 }, log);
      assert.deepEqual([readU32le(log, 0), readU32le(log, 4)], [1, 0]);
      const again = page();
      await c.host.admin({ opcode: GL, cdw10: numd(4096) | 0x04 }, again);
      assert.equal(readU32le(again, 0), 0);
    }
  });
});

describe('Format NVM (§3.8)', () => {
  it('passes LBAF/MSET/PI/PIL/SES to the namespace; LBAFU only with LBAFEE', async () => {
    const ns = new FakeNamespace(1);
    const { host } = rig({ ns: [ns] });
    const cdw10 = 3 | (1 << 4) | (1 << 5) | (1 << 8) | (2 << 9) | (1 << 12);
    assert.equal((await host.admin({ opcode: 0x80, nsid: 1, cdw10 })).status, 0);
    assert.deepEqual(ns.formats, [[3, 2, 1, 1, 1]]);
    const hbs = page();
    hbs[2] = 1;
    await host.admin({ opcode: 0x09, cdw10: 0x16 }, hbs);
    await host.admin({ opcode: 0x80, nsid: 1, cdw10 });
    assert.deepEqual(ns.formats[1], [0x13, 2, 1, 1, 1]);
  });

  it('formats every attached namespace for NSID FFFFFFFF and stops at the first failure', async () => {
    const ns = [new FakeNamespace(1), new FakeNamespace(2, { csi: 2 }), new FakeNamespace(3)];
    const { host } = rig({ ns });
    const cqe = await host.admin({ opcode: 0x80, nsid: 0xffffffff, cdw10: 0 });
    assert.equal(statusName(cqe.status), 'INVALID_FORMAT+DNR');
    assert.deepEqual(
      ns.map((n) => n.formats.length),
      [1, 1, 0],
    );
  });

  const cases: [string, number, string][] = [
    ['NSID 0', 0, 'INVALID_NSID+DNR'],
    ['NSID 300', 300, 'INVALID_NSID+DNR'],
    ['unattached NSID', 5, 'INVALID_FIELD+DNR'],
  ];
  for (const [name, nsid, status] of cases) {
    it(`${name} -> ${status}`, async () => {
      const { host } = rig();
      assert.equal(statusName((await host.admin({ opcode: 0x80, nsid })).status), status);
    });
  }
});

rows('Virtualization Management without SR-IOV', [
  ['RT 2', { opcode: 0x1c, cdw10: 0x201 }, 'INVALID_RESOURCE_ID+DNR'],
  ['primary allocation, other cntlid', { opcode: 0x1c, cdw10: 0x10001 }, 'INVALID_CTRL_ID+DNR'],
  [
    'primary allocation of 1 resource',
    { opcode: 0x1c, cdw10: 0x1, cdw11: 1 },
    'INVALID_NUM_RESOURCES+DNR',
  ],
  ['primary allocation of 0 resources', { opcode: 0x1c, cdw10: 0x1 }, 'SUCCESS', 0],
  ['secondary online', { opcode: 0x1c, cdw10: 0x10009 }, 'INVALID_CTRL_ID+DNR'],
  ['action 2', { opcode: 0x1c, cdw10: 0x2 }, 'INVALID_FIELD+DNR'],
]);
