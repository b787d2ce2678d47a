// One command path (issue 16): every command of a table gives the same status, DW0, data and
// image bytes whether it arrives through the PCI function (a driver writing SQEs into guest RAM
// and ringing doorbells), over NVMe/TCP (the host library on 127.0.0.1) or in-process (the
// in-process host), with the drive's I/O on the event loop (aio=sync) and in the thread pool
// (aio=threads). Each front end drives its own controller over its own copy of the image.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeU32le, writeU64le } from '../src/util/bytes.js';
import type { CmdInit } from '../src/nvme/spec/command.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { bufferData } from '../src/nvme/spec/transfer.js';
import { Controller } from '../src/nvme/ctrl/controller.js';
import { defaultParams } from '../src/nvme/ctrl/params.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { createNvmePci, PciHost } from '../src/nvme/pci/index.js';
import { InProcessBus, NvmeDriver } from '../src/nvme/driver/index.js';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import type { DriveAio } from '../src/block/drive.js';
import { MIB, pattern, tempNamespace, type TempNs } from '../src/nvme/ns/fixtures.js';

const FUA = 1 << 30;
const DEAC = 1 << 25;

interface Data {
  readonly write?: Uint8Array;
  readonly readLength?: number;
}

interface Outcome {
  readonly status: number;
  readonly dw0: number;
  readonly data: Uint8Array;
}

/** A front end: commands in, completions and host data out. */
interface Driver {
  admin(init: CmdInit, data?: Data): Promise<Outcome>;
  io(init: CmdInit, data?: Data): Promise<Outcome>;
  close(): Promise<void>;
}

function controller(t: TempNs, nqn: string): { ctrl: Controller; subsys: Subsystem } {
  const subsys = new Subsystem(true, nqn);
  const ctrl = new Controller(defaultParams('fe'), subsys);
  subsys.addController(ctrl);
  subsys.addNamespace(t.ns, ctrl);
  return { ctrl, subsys };
}

async function inProcess(t: TempNs): Promise<Driver> {
  const { ctrl } = controller(t, 'nqn.2019-08.org.qemu:local');
  const host = new Host(ctrl);
  assert.equal(host.enable(), 1);
  await host.createIoQueues(1);
  const run = async (sqid: number, init: CmdInit, d: Data = {}): Promise<Outcome> => {
    const buf = d.write ?? new Uint8Array(d.readLength ?? 0);
    const c = await host.command(sqid, init, buf.length === 0 ? undefined : bufferData(buf));
    return { status: c.status, dw0: c.dw0, data: d.write === undefined ? buf : new Uint8Array(0) };
  };
  return {
    admin: (init, d) => run(0, init, d),
    io: (init, d) => run(1, init, d),
    close: () => Promise.resolve(host.disable()),
  };
}

async function pci(t: TempNs): Promise<Driver> {
  const { ctrl } = controller(t, 'nqn.2019-08.org.qemu:pci');
  const host = new PciHost(64n << 20n);
  const fn = createNvmePci(ctrl, host);
  const d = await NvmeDriver.attach(new InProcessBus(host), { slot: fn.slot });
  assert.equal(await d.enable(), 1);
  const q = await d.createIoQueuePair(1, 32);
  assert.deepEqual([q.cq.status, q.sq.status], [0, 0]);
  const run = async (qid: number, init: CmdInit, data: Data = {}): Promise<Outcome> => {
    const len = data.write?.length ?? data.readLength ?? 0;
    const buf = len === 0 ? undefined : await d.buffer(len, data.write);
    const cqe = await d.command(qid, {
      ...init,
      ...(buf === undefined ? {} : { prp1: buf.prp1, prp2: buf.prp2 }),
    });
    const out =
      buf === undefined || data.write !== undefined
        ? new Uint8Array(0)
        : await d.bus.memRead(buf.addr, buf.len);
    return { status: cqe.status, dw0: cqe.dw0, data: out };
  };
  return {
    admin: (init, data) => run(0, init, data),
    io: (init, data) => run(1, init, data),
    close: async () => void (await d.disable()),
  };
}

async function tcp(t: TempNs): Promise<Driver> {
  const nqn = 'nqn.2019-08.org.qemu:tcp';
  const { ctrl } = controller(t, nqn);
  const target = await TcpTarget.start(() => [{ nqn, kind: 'nvm', controllers: () => [ctrl] }], {
    port: 0,
    discoveryPort: null,
  });
  const h = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port: target.ioPort.port,
    subnqn: nqn,
    ioQueues: 1,
  });
  const out = (r: { status: number; dw0: number; data: Uint8Array }): Outcome => ({
    status: r.status,
    dw0: r.dw0,
    data: r.data,
  });
  return {
    admin: async (init, d) => out(await h.adminCommand(init, d)),
    io: async (init, d) => out(await h.ioCommand(init, d)),
    close: async () => {
      await h.disconnect();
      await target.close();
    },
  };
}

const rw = (opcode: number, slba: number, nlb: number, flags = 0): CmdInit => ({
  opcode,
  nsid: 1,
  cdw10: slba,
  cdw11: 0,
  cdw12: (nlb - 1) | flags,
});

function dsmRange(slba: number, nlb: number): Uint8Array {
  const r = new Uint8Array(16);
  writeU32le(r, 4, nlb);
  writeU64le(r, 8, BigInt(slba));
  return r;
}

const A = pattern(8 * 512, 1);
const B = pattern(512, 2);

/** The table: [what, admin?, command, data]. */
const STEPS: readonly [string, 'admin' | 'io', CmdInit, Data | undefined][] = [
  ['Write 8 blocks', 'io', rw(IoOpc.WRITE, 0, 8), { write: A }],
  ['Read them back', 'io', rw(IoOpc.READ, 0, 8), { readLength: A.length }],
  ['FUA Write', 'io', rw(IoOpc.WRITE, 100, 1, FUA), { write: B }],
  ['Compare equal', 'io', rw(IoOpc.COMPARE, 0, 8), { write: A }],
  ['Compare different', 'io', rw(IoOpc.COMPARE, 100, 1), { write: A.subarray(0, 512) }],
  ['Write Zeroes', 'io', rw(IoOpc.WRITE_ZEROES, 4, 2), undefined],
  ['Write Zeroes DEAC', 'io', rw(IoOpc.WRITE_ZEROES, 10, 2, DEAC), undefined],
  ['Deallocate', 'io', { opcode: IoOpc.DSM, nsid: 1, cdw11: 1 << 2 }, { write: dsmRange(0, 2) }],
  ['Read deallocated and zeroed blocks', 'io', rw(IoOpc.READ, 0, 12), { readLength: 12 * 512 }],
  ['Verify', 'io', rw(IoOpc.VERIFY, 0, 8), undefined],
  ['Write Uncorrectable', 'io', rw(IoOpc.WRITE_UNCOR, 50, 1), undefined],
  ['Read an uncorrectable block', 'io', rw(IoOpc.READ, 50, 1), { readLength: 512 }],
  ['Read past the namespace', 'io', rw(IoOpc.READ, 2048, 1), { readLength: 512 }],
  ['Read an unattached NSID', 'io', { ...rw(IoOpc.READ, 0, 1), nsid: 2 }, { readLength: 512 }],
  ['Read NSID 0', 'io', { ...rw(IoOpc.READ, 0, 1), nsid: 0 }, { readLength: 512 }],
  ['Unknown I/O opcode', 'io', { opcode: 0x7e, nsid: 1 }, undefined],
  ['Flush', 'io', { opcode: IoOpc.FLUSH, nsid: 1 }, undefined],
  ['Identify Namespace', 'admin', { opcode: AdminOpc.IDENTIFY, nsid: 1 }, { readLength: 4096 }],
  [
    'Get Features Error Recovery',
    'admin',
    { opcode: AdminOpc.GET_FEATURES, nsid: 1, cdw10: 0x05 },
    undefined,
  ],
  ['Unknown admin opcode', 'admin', { opcode: 0x3e }, undefined],
];

async function script(d: Driver): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const [, kind, init, data] of STEPS) {
    out.push(await (kind === 'admin' ? d.admin(init, data) : d.io(init, data)));
  }
  return out;
}

const FRONT_ENDS: readonly [string, (t: TempNs) => Promise<Driver>][] = [
  ['in-process', inProcess],
  ['PCI function', pci],
  ['NVMe/TCP', tcp],
];

describe('the same commands through every front end', () => {
  for (const aio of ['sync', 'threads'] as DriveAio[]) {
    it(`give the same statuses, data and image bytes (aio=${aio})`, async () => {
      const results: { name: string; outcomes: Outcome[]; image: Buffer }[] = [];
      for (const [name, make] of FRONT_ENDS) {
        const t = await tempNamespace(MIB, {}, {}, aio);
        try {
          const d = await make(t);
          let outcomes: Outcome[];
          try {
            outcomes = await script(d);
          } finally {
            await d.close();
          }
          results.push({ name, outcomes, image: readFileSync(t.drive.path) });
        } finally {
          await t.cleanup();
        }
      }
      const [first, ...rest] = results;
      // The reference outcomes are what the commands mean, not just what the first front end said.
      const status = first!.outcomes.map((o) => o.status);
      assert.deepEqual(
        status,
        [
          0, 0, 0, 0, 0x285, 0, 0, 0, 0, 0, 0, 0x281, 0x4080, 0x4002, 0x400b, 0x4001, 0, 0, 0,
          0x4001,
        ],
      );
      assert.deepEqual(first!.outcomes[1]!.data, A);
      assert.ok(first!.outcomes[8]!.data.subarray(0, 2 * 512).every((b) => b === 0));
      for (const r of rest) {
        STEPS.forEach(([what], i) => {
          const mine = r.outcomes[i]!;
          const ref = first!.outcomes[i]!;
          assert.equal(mine.status, ref.status, `${r.name}: ${what}: status`);
          assert.equal(mine.dw0, ref.dw0, `${r.name}: ${what}: dw0`);
          // After a failure the host buffer holds nothing defined (NVMe/TCP sends no data).
          if (ref.status === 0) assert.deepEqual(mine.data, ref.data, `${r.name}: ${what}: data`);
        });
        assert.ok(r.image.equals(first!.image), `${r.name}: image bytes`);
      }
    });
  }
});
