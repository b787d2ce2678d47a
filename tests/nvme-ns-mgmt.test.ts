// Namespace Management (admin 0Dh; NVMe Base Spec 2.0 §5.22) on an nvme-subsys with
// `nvm-capacity`: create (statuses per field), Identify CNS 10h-13h and TNVMCAP/UNVMCAP,
// attach with the Namespace Attribute Changed notice, I/O, the record across a restart, and
// delete (the image goes); configured namespaces cannot be deleted.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { parseArgs } from '../src/config/options.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { startNvmeTcp, type NvmeTcpService } from '../src/nvme-tcp/target/index.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr } from '../src/nvme/spec/status.js';
import {
  readU16le,
  readU32le,
  readU64le,
  writeU16le,
  writeU64le,
  writeU32le,
} from '../src/util/bytes.js';
import { queryNvme } from '../src/monitor/commands/nvme-paths.js';
import { tcpMachine } from './support/tcp-machine.js';

const NQN = 'nqn.2019-08.org.qemu:mgmt';
const MIB = 1 << 20;
const args = (dir: string): string[] => [
  '-drive',
  `file=${dir}/ns.img,if=none,id=d1,format=raw`,
  '-device',
  'nvme-subsys,id=s0,nqn=mgmt,nvm-capacity=16M',
  '-device',
  'nvme,id=c0,serial=mgmt0,subsys=s0',
  '-device',
  'nvme-ns,drive=d1,nsid=1',
];

/** Identify Namespace host-specified fields for Namespace Management create. */
function createData(
  nsze: bigint,
  o: { ncap?: bigint; flbas?: number; nmic?: number; grp?: number } = {},
) {
  const d = new Uint8Array(4096);
  writeU64le(d, 0, nsze);
  writeU64le(d, 8, o.ncap ?? nsze);
  d[26] = o.flbas ?? 0;
  d[30] = o.nmic ?? 1;
  writeU32le(d, 92, o.grp ?? 0);
  return d;
}

const create = (c: NvmeTcpController, data: Uint8Array) =>
  c.adminCommand({ opcode: AdminOpc.NS_MANAGEMENT, cdw10: 0 }, { write: data });
const attach = (c: NvmeTcpController, nsid: number, sel = 0) => {
  const list = new Uint8Array(4096);
  writeU16le(list, 0, 1);
  writeU16le(list, 2, c.cntlid);
  return c.adminCommand({ opcode: AdminOpc.NS_ATTACHMENT, nsid, cdw10: sel }, { write: list });
};
const identify = async (c: NvmeTcpController, cns: number, nsid = 0) =>
  (
    await c.adminOk(
      `Identify CNS ${cns}`,
      { opcode: AdminOpc.IDENTIFY, nsid, cdw10: cns },
      { readLength: 4096 },
    )
  ).data;
const nsids = (list: Uint8Array): number[] => {
  const out: number[] = [];
  for (let i = 0; i < 1024 && readU32le(list, 4 * i) !== 0; i++) out.push(readU32le(list, 4 * i));
  return out;
};

describe('Namespace Management', () => {
  it('creates, attaches, serves, keeps across a restart, and deletes namespaces', async () => {
    const m = await tcpMachine('nsmgmt', { 'ns.img': MIB }, args);
    let machine: Machine = m.machine;
    let svc: NvmeTcpService = m.svc;
    const connect = (port: number) =>
      NvmeTcpController.connect({ address: '127.0.0.1', port, subnqn: NQN, ioQueues: 1, kato: 0 });
    let c = await connect(m.port);
    try {
      const cap = (id: Uint8Array) => [readU64le(id, 280), readU64le(id, 296)];
      assert.deepEqual(cap(c.identify), [16n * BigInt(MIB), 16n * BigInt(MIB)]);
      // Field checks, each with its status and nothing created.
      const bad: [Uint8Array, number][] = [
        [createData(0n), withDnr(Status.INVALID_FIELD)],
        [createData(8n, { ncap: 4n }), withDnr(Status.THIN_PROVISIONING_NOT_SUPPORTED)],
        [createData(8n, { flbas: 9 }), withDnr(Status.INVALID_FORMAT)],
        [createData(8n, { grp: 200 }), withDnr(Status.ANA_GROUP_ID_INVALID)],
        [createData(BigInt((64 * MIB) / 512)), withDnr(Status.NS_INSUFFICIENT_CAPACITY)],
      ];
      for (const [data, status] of bad) assert.equal((await create(c, data)).status, status);
      const csi = await c.adminCommand(
        { opcode: AdminOpc.NS_MANAGEMENT, cdw10: 0, cdw11: 2 << 24 },
        { write: createData(8n) },
      );
      assert.equal(csi.status, withDnr(Status.IOCS_NOT_SUPPORTED));

      // 4 MiB with 4 KiB blocks (FLBAS 4), shared.
      const made = await create(c, createData(1024n, { flbas: 4 }));
      assert.equal(made.status, 0);
      const nsid = made.dw0;
      assert.equal(nsid, 2);
      assert.deepEqual(nsids(await identify(c, 0x10)), [1, 2], 'allocated (CNS 10h)');
      assert.deepEqual(nsids(await identify(c, 0x02)), [1], 'not attached yet (CNS 02h)');
      const allocated = await identify(c, 0x11, nsid);
      assert.equal(readU64le(allocated, 0), 1024n);
      assert.equal(allocated[26], 4);
      assert.equal(allocated[30], 1, 'NMIC shared');
      assert.deepEqual(cap(await identify(c, 0x01))[1], 12n * BigInt(MIB));

      const aer = c.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
      assert.equal((await attach(c, nsid)).status, 0);
      assert.equal((await aer).dw0, 2 | (0 << 8) | (0x04 << 16), 'Namespace Attribute Changed');
      const ctrls = await identify(c, 0x12, nsid);
      assert.deepEqual([readU16le(ctrls, 0), readU16le(ctrls, 2)], [1, c.cntlid]);
      const data = new Uint8Array(4096).fill(0x5a);
      assert.equal(
        (await c.ioCommand({ opcode: IoOpc.WRITE, nsid, cdw10: 7 }, { write: data })).status,
        0,
      );

      const info = queryNvme(machine)[0]!;
      assert.deepEqual(
        (info.namespaces as { nsid: number; created: boolean }[]).map((n) => [n.nsid, n.created]),
        [
          [1, false],
          [2, true],
        ],
      );

      // The configured namespace is not the host's to delete.
      const keep = await c.adminCommand({ opcode: AdminOpc.NS_MANAGEMENT, nsid: 1, cdw10: 1 });
      assert.equal(keep.status, withDnr(Status.INVALID_FIELD));

      // Restart: the namespace, its attachment and its data are there again.
      await c.disconnect();
      await svc.close();
      await machine.shutdown();
      const p = parseArgs(args(m.dir));
      machine = await Machine.create(p.items, { settings: machineSettings(p), dataDir: m.dir });
      svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
      c = await connect(svc.target.ioPort.port);
      assert.deepEqual(nsids(await identify(c, 0x02)), [1, 2]);
      const back = await c.ioCommand({ opcode: IoOpc.READ, nsid, cdw10: 7 }, { readLength: 4096 });
      assert.deepEqual(back.data, data);

      const aer2 = c.adminCommand({ opcode: AdminOpc.ASYNC_EVENT_REQ });
      const del = await c.adminCommand({ opcode: AdminOpc.NS_MANAGEMENT, nsid, cdw10: 1 });
      assert.equal(del.status, 0);
      assert.equal((await aer2).dw0 >>> 16, 0x04);
      assert.deepEqual(nsids(await identify(c, 0x10)), [1]);
      assert.deepEqual(cap(await identify(c, 0x01))[1], 16n * BigInt(MIB));
      assert.equal(
        existsSync(join(m.dir, 'nvme', 'ns')) ? readdirSync(join(m.dir, 'nvme', 'ns')).length : 0,
        0,
      );
    } finally {
      await c.disconnect().catch(() => undefined);
      await svc.close();
      await machine.shutdown();
      await m.close().catch(() => undefined);
    }
  });

  it('without nvm-capacity creating answers Insufficient Capacity and TNVMCAP stays 0', async () => {
    const plain = (dir: string) => args(dir).map((a) => a.replace(',nvm-capacity=16M', ''));
    const m = await tcpMachine('nsmgmt0', { 'ns.img': MIB }, plain);
    const c = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: m.port,
      subnqn: NQN,
      ioQueues: 0,
      kato: 0,
    });
    try {
      assert.equal(readU64le(c.identify, 280), 0n);
      assert.equal(
        (await create(c, createData(8n))).status,
        withDnr(Status.NS_INSUFFICIENT_CAPACITY),
      );
    } finally {
      await c.disconnect();
      await m.close();
    }
  });
});
