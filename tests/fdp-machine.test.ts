// Flexible Data Placement on a machine built from QEMU options (reference qemu-nvme.md §1.2,
// §1.3, §8): every validation message of nvme-subsys fdp.* and nvme-ns fdp.ruhs, then a
// workload through the controller: placement by DTYPE/DSPEC, reclaim unit rollover, RUH
// status/update, statistics, events, the FDP logs and features.

import { describe, it, before, after } from 'node:test';
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
import { readU16le, readU32le, readU64le, writeU16le } from '../src/util/bytes.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { statusName } from '../src/nvme/spec/status.js';

let dir = '';

before(() => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-fdp-'));
  for (const n of ['a', 'b', 'c']) writeFileSync(join(dir, `${n}.img`), new Uint8Array(1 << 20));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const DRIVES = ['a', 'b', 'c']
  .map((n) => `-drive file=${n}.img,if=none,id=${n},format=raw`)
  .join(' ');

async function build(line: string): Promise<Machine> {
  const a = parseArgs(
    line.replace(/file=(\w)\.img/g, (_, n: string) => `file=${join(dir, `${n}.img`)}`).split(' '),
  );
  return Machine.create(a.items, { settings: machineSettings(a), dataDir: dir, warn: () => {} });
}

async function errorOf(line: string): Promise<string> {
  try {
    const m = await build(line);
    await m.shutdown();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
}

const SUB = (p: string): string =>
  `${DRIVES} -device nvme-subsys,id=s0${p} -device nvme,serial=f,subsys=s0,id=c`;

describe('nvme-subsys fdp.* validation (reference §1.3)', () => {
  const cases = [
    { p: ',fdp=on,fdp.nruh=8', err: '' },
    { p: ',fdp=on,fdp.runs=0,fdp.nruh=8', err: 'fdp.runs must be non-zero' },
    { p: ',fdp=on,fdp.nrg=0,fdp.nruh=8', err: 'fdp.nrg must be non-zero' },
    { p: ',fdp=on', err: 'fdp.nruh must be non-zero and less than 128' },
    { p: ',fdp=on,fdp.nruh=129', err: 'fdp.nruh must be non-zero and less than 128' },
    {
      p: ',fdp=on,fdp.nruh=128,fdp.nrg=1024',
      err: 'cannot derive a valid rgif (nruh 128 nrg 1024)',
    },
    { p: ',fdp=off,fdp.nruh=0', err: '' },
  ];
  for (const c of cases) {
    it(`nvme-subsys${c.p}: ${c.err === '' ? 'starts' : c.err}`, async () => {
      assert.equal(await errorOf(SUB(c.p)), c.err);
    });
  }
});

describe('nvme-ns fdp.ruhs validation (reference §1.2)', () => {
  const F = ',fdp=on,fdp.nruh=4';
  const cases = [
    { ns: ['drive=a,fdp.ruhs=0;2-3'], err: '' },
    { ns: ['drive=a,fdp.ruhs=x'], err: 'cannot parse reclaim unit handle identifier' },
    { ns: ['drive=a,fdp.ruhs=1-y'], err: 'cannot parse reclaim unit handle identifier' },
    { ns: ['drive=a,fdp.ruhs=3-1'], err: 'invalid reclaim unit handle identifier range' },
    { ns: ['drive=a,fdp.ruhs=0-4'], err: 'too many placement handles' },
    { ns: ['drive=a,fdp.ruhs=1;1'], err: 'duplicate reclaim unit handle identifier: 1' },
    { ns: ['drive=a,fdp.ruhs=4'], err: 'invalid reclaim unit handle identifier' },
    { ns: ['drive=a', 'drive=b,fdp.ruhs=0'], err: 'reclaim unit handle is controller assigned' },
    { ns: ['drive=a,fdp.ruhs=0-3', 'drive=b'], err: 'no unused reclaim unit handles left' },
    {
      ns: ['drive=a,fdp.ruhs=1', 'drive=b,fdp.ruhs=1,ms=8'],
      err: 'lba format index of host assignedreclaim unit handle does not match namespace lba format index',
    },
    {
      ns: ['drive=a', 'drive=b,ms=8'],
      err: 'lba format index of controller assigned reclaim unit handle does not match namespace lba format index',
    },
    { ns: ['drive=a', 'drive=b', 'drive=c,fdp.ruhs=1;2'], err: '' },
    {
      ns: ['drive=a,zoned=on,zoned.zone_size=65536'],
      err: 'cannot be a zoned- in an FDP configuration',
    },
  ];
  for (const c of cases) {
    it(`${c.ns.join(' + ')}: ${c.err === '' ? 'starts' : c.err}`, async () => {
      const line = SUB(F) + c.ns.map((n) => ` -device nvme-ns,${n}`).join('');
      assert.equal(await errorOf(line), c.err);
    });
  }
});

/** A running FDP machine: 2 reclaim groups, 4 handles, 64 KiB reclaim units (128 blocks). */
async function fdpRig(): Promise<{ m: Machine; host: Host }> {
  const m = await build(
    SUB(',fdp=on,fdp.nrg=2,fdp.nruh=4,fdp.runs=65536') +
      ' -device nvme-ns,drive=a,nsid=1,fdp.ruhs=1;2 -device nvme-ns,drive=b,nsid=2',
  );
  const dev = m.component('c');
  assert.ok(dev instanceof NvmeDevice);
  const host = new Host(dev.controller);
  assert.equal(host.enable(), 1);
  await host.createIoQueues(1);
  return { m, host };
}

const DTYPE_DP = 2 << 20;

async function log(host: Host, lid: number, len: number, lsp = 0): Promise<Uint8Array> {
  const buf = new Uint8Array(len);
  const cqe = await host.admin(
    {
      opcode: 0x02,
      nsid: 0xffffffff,
      cdw10: lid | (lsp << 8) | ((len / 4 - 1) << 16),
      cdw11: 1 << 16,
    },
    buf,
  );
  assert.equal(statusName(cqe.status), 'SUCCESS', `log ${lid.toString(16)}`);
  return buf;
}

async function write(
  host: Host,
  nsid: number,
  slba: number,
  nlb: number,
  pid?: number,
): Promise<string> {
  const cqe = await host.command(
    1,
    {
      opcode: IoOpc.WRITE,
      nsid,
      cdw10: slba,
      cdw12: (nlb - 1) | (pid === undefined ? 0 : DTYPE_DP),
      cdw13: pid === undefined ? 0 : pid << 16,
    },
    new Uint8Array(nlb * 512),
  );
  return statusName(cqe.status);
}

async function ruhStatus(
  host: Host,
  nsid: number,
): Promise<{ pid: number; ruhid: number; ruamw: bigint }[]> {
  const buf = new Uint8Array(16 + 32 * 8);
  const cqe = await host.command(
    1,
    { opcode: IoOpc.IO_MGMT_RECV, nsid, cdw10: 1, cdw11: buf.length / 4 - 1 },
    buf,
  );
  assert.equal(statusName(cqe.status), 'SUCCESS');
  const n = readU16le(buf, 14);
  return Array.from({ length: n }, (_, i) => ({
    pid: readU16le(buf, 16 + 32 * i),
    ruhid: readU16le(buf, 16 + 32 * i + 2),
    ruamw: readU64le(buf, 16 + 32 * i + 8),
  }));
}

describe('FDP through the controller (reference §8)', () => {
  it('advertises FDP: CTRATT bit 19, ENDGIDMAX 1, ENDGID 1, FDP Mode enabled, configuration log', async () => {
    const { m, host } = await fdpRig();
    try {
      const id = new Uint8Array(4096);
      await host.admin({ opcode: 0x06, cdw10: 1 }, id);
      assert.equal((readU32le(id, 96) >>> 19) & 1, 1);
      assert.equal(readU16le(id, 340), 1);
      const ns = new Uint8Array(4096);
      await host.admin({ opcode: 0x06, nsid: 1, cdw10: 0 }, ns);
      assert.equal(readU16le(ns, 102), 1);
      const feat = await host.admin({ opcode: 0x0a, cdw10: 0x1d, cdw11: 1 });
      assert.deepEqual([statusName(feat.status), feat.dw0], ['SUCCESS', 1]);
      assert.equal(
        statusName((await host.admin({ opcode: 0x09, cdw10: 0x1d, cdw11: 1 })).status),
        'COMMAND_SEQUENCE_ERROR+DNR',
      );
      const cfg = await log(host, 0x20, 96);
      // Header: NUMFDPC 0, size 16 + 80; descriptor: DS 80, FDPA valid|RGIF 2, NRG 2, NRUH 4,
      // MAXPIDS 127, NNSS 256, RUNS 65536, RUH types 1.
      assert.deepEqual(
        [
          readU16le(cfg, 0),
          readU32le(cfg, 4),
          readU16le(cfg, 16),
          cfg[18],
          readU32le(cfg, 20),
          readU16le(cfg, 24),
          readU16le(cfg, 26),
          readU32le(cfg, 28),
          readU64le(cfg, 32),
        ],
        [0, 96, 80, 0x82, 2, 4, 127, 256, 65536n],
      );
      assert.deepEqual([...cfg.subarray(80, 96)], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
      const usage = await log(host, 0x21, 40);
      assert.deepEqual(
        [readU16le(usage, 0), usage[8], usage[16], usage[24], usage[32]],
        [4, 2, 1, 1, 0],
        'RUH 0 ctrl (ns 2), 1-2 host (ns 1), 3 unused',
      );
      const bad = await host.admin(
        { opcode: 0x02, nsid: 0xffffffff, cdw10: 0x20 | (3 << 16), cdw11: 2 << 16 },
        new Uint8Array(16),
      );
      assert.equal(statusName(bad.status), 'INVALID_FIELD+DNR');
    } finally {
      await m.shutdown();
    }
  });

  it('places writes by DSPEC, rolls reclaim units over, counts statistics and logs enabled events', async () => {
    const { m, host } = await fdpRig();
    try {
      // A host timestamp: events carry the Timestamp feature's value (QEMU 10.0), byte 6 its
      // attributes (origin 1: set by the host).
      const ts = new Uint8Array(8);
      writeU16le(ts, 4, 0x0123);
      assert.equal(
        statusName((await host.admin({ opcode: 0x09, cdw10: 0x0e }, ts)).status),
        'SUCCESS',
      );
      // Enable every supported event on ns 1 placement handle 1 (RUH 2).
      const types = Uint8Array.of(0x00, 0x03, 0x81);
      const set = await host.admin(
        { opcode: 0x09, nsid: 1, cdw10: 0x1e, cdw11: 1 | (3 << 16), cdw12: 1 },
        types,
      );
      assert.equal(statusName(set.status), 'SUCCESS');
      const get = new Uint8Array(6);
      const g = await host.admin({ opcode: 0x0a, nsid: 1, cdw10: 0x1e, cdw11: 1 | (3 << 16) }, get);
      assert.deepEqual([g.dw0, [...get]], [3, [0x00, 1, 0x03, 1, 0x81, 1]]);

      // RGIF 2: PID = RG << 14 | PH. PID 0x4001 = reclaim group 1, placement handle 1 (RUH 2).
      assert.equal(await write(host, 1, 0, 100, 0x4001), 'SUCCESS');
      let st = await ruhStatus(host, 1);
      assert.deepEqual(
        st.map((s) => [s.pid, s.ruhid, Number(s.ruamw)]),
        [
          [0x0000, 1, 128],
          [0x0001, 2, 128],
          [0x4000, 1, 128],
          [0x4001, 2, 28],
        ],
      );
      // 40 more blocks fill the RU (28) and continue in a fresh one: 128 - 12 = 116.
      assert.equal(await write(host, 1, 100, 40, 0x4001), 'SUCCESS');
      st = await ruhStatus(host, 1);
      assert.equal(st[3]!.ruamw, 116n);
      // No DTYPE: placement handle 0 of group 0 (RUH 1); an invalid PID falls back there too.
      assert.equal(await write(host, 1, 200, 8), 'SUCCESS');
      assert.equal(await write(host, 1, 208, 8, 0x0007), 'SUCCESS');
      st = await ruhStatus(host, 1);
      assert.equal(st[0]!.ruamw, 112n);
      // Namespace 2 uses the controller-specified RUH 0.
      assert.equal(await write(host, 2, 0, 4, 0x0000), 'SUCCESS');
      assert.deepEqual(
        (await ruhStatus(host, 2)).map((s) => [s.pid, s.ruhid, Number(s.ruamw)]),
        [
          [0, 0, 124],
          [0x4000, 0, 128],
        ],
      );
      // RUH Update on PID 0x4001: the RU had 12 blocks written -> "RU not fully written".
      const pids = new Uint8Array(2);
      writeU16le(pids, 0, 0x4001);
      const upd = await host.command(1, { opcode: IoOpc.IO_MGMT_SEND, nsid: 1, cdw10: 1 }, pids);
      assert.equal(statusName(upd.status), 'SUCCESS');
      assert.equal((await ruhStatus(host, 1))[3]!.ruamw, 128n);
      writeU16le(pids, 0, 0x0002);
      const badPid = await host.command(1, { opcode: IoOpc.IO_MGMT_SEND, nsid: 1, cdw10: 1 }, pids);
      assert.equal(statusName(badPid.status), 'INVALID_FIELD+DNR');

      // Statistics: host bytes = 160 blocks; media bytes add the 116 abandoned blocks.
      const stats = await log(host, 0x22, 64);
      assert.deepEqual(
        [readU64le(stats, 0), readU64le(stats, 16), readU64le(stats, 32)],
        [160n * 512n, 276n * 512n, 0n],
      );

      // Controller events: one implicit RUH modification (the rollover) on RUH 2, group 1;
      // flags PIV | NSIDV | LV.
      const ctrlEv = await log(host, 0x23, 128, 0);
      assert.deepEqual(
        [
          readU32le(ctrlEv, 0),
          ctrlEv[64],
          ctrlEv[65],
          readU16le(ctrlEv, 66),
          readU32le(ctrlEv, 76),
          readU16le(ctrlEv, 96),
          ctrlEv[98],
        ],
        [1, 0x81, 0x7, 0x4001, 1, 1, 2],
      );
      // Host events: the invalid PID write happened on RUH 1 (not enabled), so only the update.
      const hostEv = await log(host, 0x23, 128, 1);
      assert.deepEqual(
        [readU32le(hostEv, 0), hostEv[64], hostEv[65], readU16le(hostEv, 66), hostEv[98]],
        [1, 0x00, 0x7, 0x4001, 2],
      );
      // The timestamps: the host's value (plus the few ms elapsed), attribute byte 0x02.
      for (const ev of [ctrlEv, hostEv]) {
        const stamp = readU64le(ev, 68);
        assert.equal(stamp >> 48n, 0x02n);
        const ms = stamp & 0xffff_ffff_ffffn;
        assert.ok(ms >= 0x0123_0000_0000n && ms < 0x0123_0000_0000n + 60_000n, `${ms}`);
      }
    } finally {
      await m.shutdown();
    }
  });

  it('reports FDP Mode enabled in an fdp=on subsystem before any namespace exists', async () => {
    const m = await build(SUB(',fdp=on,fdp.nruh=4'));
    try {
      const dev = m.component('c');
      assert.ok(dev instanceof NvmeDevice);
      const host = new Host(dev.controller);
      assert.equal(host.enable(), 1);
      const feat = await host.admin({ opcode: 0x0a, cdw10: 0x1d, cdw11: 1 });
      assert.deepEqual([statusName(feat.status), feat.dw0], ['SUCCESS', 1]);
    } finally {
      await m.shutdown();
    }
  });

  it('answers FDP Disabled outside an FDP subsystem and Invalid Field for bad FDP Events requests', async () => {
    const m = await build(`${DRIVES} -device nvme,serial=n,id=c -device nvme-ns,drive=a`);
    try {
      const dev = m.component('c');
      assert.ok(dev instanceof NvmeDevice);
      const host = new Host(dev.controller);
      host.enable();
      await host.createIoQueues(1);
      const r = await host.command(
        1,
        { opcode: IoOpc.IO_MGMT_RECV, nsid: 1, cdw10: 1, cdw11: 3 },
        new Uint8Array(16),
      );
      assert.equal(statusName(r.status), 'FDP_DISABLED+DNR');
      const u = await host.admin(
        { opcode: 0x02, nsid: 0xffffffff, cdw10: 0x21 | (1 << 16), cdw11: 1 << 16 },
        new Uint8Array(8),
      );
      assert.equal(statusName(u.status), 'FDP_DISABLED+DNR');
      const cfg = new Uint8Array(96);
      assert.equal(
        (
          await host.admin(
            { opcode: 0x02, nsid: 0xffffffff, cdw10: 0x20 | (23 << 16), cdw11: 1 << 16 },
            cfg,
          )
        ).status,
        0,
      );
      assert.deepEqual(
        [cfg[18], readU32le(cfg, 20), readU16le(cfg, 24), readU32le(cfg, 28)],
        [0, 1, 1, 1],
      );
    } finally {
      await m.shutdown();
    }
    const { m: m2, host } = await fdpRig();
    try {
      const noet0 = await host.admin(
        { opcode: 0x0a, nsid: 1, cdw10: 0x1e, cdw11: 1 },
        new Uint8Array(4),
      );
      assert.equal(statusName(noet0.status), 'INVALID_FIELD+DNR');
      const badPh = await host.admin(
        { opcode: 0x0a, nsid: 1, cdw10: 0x1e, cdw11: 5 | (1 << 16) },
        new Uint8Array(4),
      );
      assert.equal(statusName(badPh.status), 'INVALID_FIELD+DNR');
      const nsid0 = await host.command(
        1,
        { opcode: IoOpc.IO_MGMT_RECV, nsid: 0xffffffff, cdw10: 1 },
        new Uint8Array(16),
      );
      assert.notEqual(nsid0.status, 0);
    } finally {
      await m2.shutdown();
    }
  });
});
