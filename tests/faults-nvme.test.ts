// Every NVMe fault kind of the catalogue (docs/faults.md) seen from an in-process host: the
// status the host gets, the SMART and AER side effects, the trace, and the recovery.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Machine } from '../src/machine/machine.js';
import { machineFaults } from '../src/faults/injector.js';
import { FaultSpecError, parseFaultSpec } from '../src/faults/catalogue.js';
import { AdminOpc, IoOpc } from '../src/nvme/spec/opcodes.js';
import { readU16le } from '../src/util/bytes.js';
import type { Host } from '../src/nvme/pci/local-host.js';
import {
  controllerOf,
  hostOf,
  nvmeMachine,
  pattern,
  read,
  tempDir,
  write,
} from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

async function setup(): Promise<{ m: Machine; h: Host }> {
  const t = tempDir('nvme-faults');
  dirs.push(t.cleanup);
  const m = await nvmeMachine(t.dir);
  return { m, h: await hostOf(m) };
}

async function smartLog(h: Host): Promise<Uint8Array> {
  const log = new Uint8Array(512);
  const cqe = await h.admin(
    { opcode: AdminOpc.GET_LOG_PAGE, nsid: 0xffffffff, cdw10: 0x02 | (127 << 16) },
    log,
  );
  assert.equal(cqe.status, 0);
  return log;
}

/** Enables every SMART event in AEC and leaves one AER outstanding; resolves with its dw0. */
async function armAer(h: Host): Promise<{ dw0: Promise<number> }> {
  const f = await h.admin({ opcode: AdminOpc.SET_FEATURES, cdw10: 0x0b, cdw11: 0xff });
  assert.equal(f.status, 0);
  return { dw0: h.admin({ opcode: AdminOpc.ASYNC_EVENT_REQ }).then((c) => c.dw0) };
}

describe('media errors', () => {
  it('a defect range fails reads with Unrecovered Read Error 0x281 and counts in SMART', async () => {
    const { m, h } = await setup();
    const faults = machineFaults(m);
    const id = faults.inject({ kind: 'media-error', id: 'ns1', lba: 8, count: 4 });
    assert.equal((await read(h, 0, 8)).status, 0);
    assert.equal((await read(h, 6, 4)).status, 0x281);
    assert.equal((await read(h, 11)).status, 0x281);
    assert.equal(await write(h, 8, pattern(8, 1)), 0, 'writes are not affected by a read defect');
    assert.equal((await smartLog(h))[160], 2, 'media and data integrity errors');
    const hits = faults.history().filter((r) => r.event === 'hit');
    assert.deepEqual(
      hits.map((r) => [r.fault, r.lba, r.status]),
      [
        [id, 6, 0x281],
        [id, 11, 0x281],
      ],
    );
    faults.clear(id);
    assert.equal((await read(h, 6, 4)).status, 0);
    await m.shutdown();
  });

  it('write media errors with probability p follow the seed: same seed, same statuses', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const { m, h } = await setup();
      machineFaults(m).inject({
        kind: 'media-error',
        type: 'write',
        id: 'ns1',
        probability: 0.5,
        seed,
      });
      const out: number[] = [];
      for (let i = 0; i < 24; i++) out.push(await write(h, i, pattern(i, 1)));
      await m.shutdown();
      return out;
    };
    const a = await run(42);
    assert.deepEqual(await run(42), a);
    assert.notDeepEqual(await run(43), a);
    const failed = a.filter((s) => s === 0x280).length;
    assert.ok(failed > 3 && failed < 21, `${failed} of 24 failed`);
    assert.ok(a.every((s) => s === 0 || s === 0x280));
  });

  it('an uncorrectable range fails reads until it is rewritten', async () => {
    const { m, h } = await setup();
    machineFaults(m).inject({ kind: 'uncorrectable', id: 'ns1', lba: 3, count: 2 });
    assert.equal((await read(h, 3)).status, 0x281);
    assert.equal((await read(h, 4)).status, 0x281);
    assert.equal(await write(h, 3, pattern(3, 1)), 0);
    assert.equal((await read(h, 3)).status, 0);
    assert.equal((await read(h, 4)).status, 0x281);
    machineFaults(m).clear();
    assert.equal((await read(h, 4)).status, 0);
    await m.shutdown();
  });
});

describe('command faults', () => {
  it('internal-error after 2 reads fires once (times 1) with 0x006', async () => {
    const { m, h } = await setup();
    const f = machineFaults(m);
    f.inject({ kind: 'internal-error', id: 'nvme0', opcode: 'read', after: 2, times: 1 });
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push((await read(h, i)).status);
    assert.deepEqual(got, [0, 0, 0x006, 0]);
    assert.equal(await write(h, 0, pattern(0, 1)), 0, 'writes do not match opcode read');
    await m.shutdown();
  });

  it('ns-not-ready answers 0x082 until cleared; status answers the given status', async () => {
    const { m, h } = await setup();
    const f = machineFaults(m);
    const a = f.inject({ kind: 'ns-not-ready', id: 'ns1' });
    assert.equal((await read(h, 0)).status, 0x082);
    f.clear(a);
    f.inject({ kind: 'status', id: 'ns1', opcode: 'write', status: 0x4286 });
    assert.equal(await write(h, 0, pattern(0, 1)), 0x4286);
    assert.equal((await read(h, 0)).status, 0);
    await m.shutdown();
  });

  it('a timeout holds the command until Abort, which completes it with 0x007', async () => {
    const { m, h } = await setup();
    const f = machineFaults(m);
    f.inject({ kind: 'timeout', id: 'ns1', opcode: 'read', times: 1 });
    let done: number | undefined;
    const cid = 77;
    const pending = h
      .command(1, { opcode: IoOpc.READ, nsid: 1, cid, cdw10: 0 }, new Uint8Array(512))
      .then((c) => (done = c.status));
    await sleep(20);
    assert.equal(done, undefined, 'no completion while held');
    assert.deepEqual(f.nvme.heldCommands(), [{ cntlid: 0, sqid: 1, cid, fault: 1 }]);
    const abort = await h.admin({ opcode: AdminOpc.ABORT, cdw10: 1 | (cid << 16) });
    assert.deepEqual([abort.status, abort.dw0 & 1], [0, 0]);
    await pending;
    assert.equal(done, 0x007);
    assert.equal((await read(h, 0)).status, 0, 'times 1: the next read completes');
    await m.shutdown();
  });

  it('a held command is released by a controller reset', async () => {
    const { m, h } = await setup();
    const f = machineFaults(m);
    f.inject({ kind: 'timeout', id: 'nvme0' });
    const pending = h.command(1, { opcode: IoOpc.READ, nsid: 1, cdw10: 0 }, new Uint8Array(512));
    await sleep(10);
    h.disable();
    await assert.rejects(pending, { code: 'EMU_ERR_STATE' });
    assert.equal(f.nvme.heldCount, 0);
    assert.ok(f.history().some((r) => r.event === 'released' && r.detail === 'controller reset'));
    await m.shutdown();
  });

  it('latency delays the completion by about ms', async () => {
    const { m, h } = await setup();
    machineFaults(m).inject({ kind: 'latency', id: 'ns1', opcode: 'write', ms: 60 });
    const t0 = Date.now();
    assert.equal(await write(h, 0, pattern(0, 1)), 0);
    assert.ok(Date.now() - t0 >= 55, `${Date.now() - t0} ms`);
    await m.shutdown();
  });

  it('a duration ends the fault after it first fired', async () => {
    const { m, h } = await setup();
    const f = machineFaults(m);
    const id = f.inject({ kind: 'internal-error', id: 'ns1', duration: 40 });
    assert.equal((await read(h, 0)).status, 0x006);
    await sleep(80);
    assert.equal((await read(h, 0)).status, 0);
    assert.ok(f.history().some((r) => r.fault === id && r.event === 'expired'));
    assert.deepEqual(f.faults(), []);
    await m.shutdown();
  });
});

describe('controller and media state faults', () => {
  it('controller-fatal sets CSTS.CFS, holds commands, and a reset recovers', async () => {
    const { m, h } = await setup();
    const ctrl = controllerOf(m);
    machineFaults(m).inject({ kind: 'controller-fatal', id: 'nvme0', after: 1 });
    assert.equal((await read(h, 0)).status, 0);
    const held = h.command(1, { opcode: IoOpc.READ, nsid: 1, cdw10: 0 }, new Uint8Array(512));
    await sleep(10);
    assert.equal(ctrl.csts & 0x2, 0x2, 'CSTS.CFS');
    h.disable();
    await assert.rejects(held);
    assert.equal(ctrl.csts & 0x2, 0, 'a reset clears CFS');
    machineFaults(m).clear();
    const h2 = await hostOf(m);
    assert.equal((await read(h2, 0)).status, 0);
    await m.shutdown();
  });

  it('critical-warning bits show in SMART and raise the SMART AER; clearing removes them', async () => {
    const { m, h } = await setup();
    const aer = await armAer(h);
    const id = machineFaults(m).inject({ kind: 'critical-warning', id: 'nvme0', bits: 0x04 });
    assert.equal(await aer.dw0, 0x01 | (0 << 8) | (0x02 << 16));
    assert.equal((await smartLog(h))[0], 0x04);
    machineFaults(m).clear(id);
    assert.equal((await smartLog(h))[0], 0);
    await m.shutdown();
  });

  it('read-only media: writes fail 0x182 with DNR, reads work, SMART bit 3 is set', async () => {
    const { m, h } = await setup();
    const aer = await armAer(h);
    const id = machineFaults(m).inject({ kind: 'read-only', id: 'nvme0' });
    assert.equal(await aer.dw0, 0x01 | (0x02 << 16));
    assert.equal(await write(h, 0, pattern(0, 1)), 0x4182);
    assert.equal((await read(h, 0)).status, 0);
    assert.equal((await smartLog(h))[0], 0x08);
    machineFaults(m).clear(id);
    assert.equal(await write(h, 0, pattern(0, 1)), 0);
    assert.equal((await smartLog(h))[0], 0);
    await m.shutdown();
  });

  it('a temperature excursion over WCTEMP raises the temperature AER and SMART bit 1', async () => {
    const { m, h } = await setup();
    const aer = await armAer(h);
    const id = machineFaults(m).inject({ kind: 'temperature', id: 'nvme0', kelvin: 360 });
    assert.equal(await aer.dw0, 0x01 | (0x01 << 8) | (0x02 << 16));
    const log = await smartLog(h);
    assert.deepEqual([log[0], readU16le(log, 1)], [0x02, 360]);
    machineFaults(m).clear(id);
    const after = await smartLog(h);
    assert.deepEqual([after[0], readU16le(after, 1)], [0, 323]);
    await m.shutdown();
  });
});

describe('fault descriptions', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['no kind', {}, "fault needs 'kind'"],
    ['an unknown kind', { kind: 'gremlins' }, "unknown fault kind 'gremlins'"],
    ['an unknown parameter', { kind: 'timeout', colour: 1 }, "fault has no parameter 'colour'"],
    [
      'a bad probability',
      { kind: 'timeout', probability: 2 },
      "fault 'probability' expects a number in (0, 1]",
    ],
    ['status without a value', { kind: 'status' }, "fault kind 'status' needs 'status'"],
    [
      'a media error without a device',
      { kind: 'media-error' },
      "fault kind 'media-error' needs 'id'",
    ],
    ['count without lba', { kind: 'timeout', count: 3 }, "fault 'count' needs 'lba'"],
    [
      'an unknown opcode name',
      { kind: 'timeout', opcode: 'dance' },
      "fault 'opcode' expects an opcode number or one of",
    ],
  ];
  for (const [what, desc, msg] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => parseFaultSpec(desc),
        (e: unknown) => {
          assert.ok(e instanceof FaultSpecError);
          assert.equal(e.code, 'EMU_ERR_CONFIG');
          assert.ok(e.message.startsWith(msg), e.message);
          return true;
        },
      );
    });
  }

  it('rejects targets the machine does not have, before changing anything', async () => {
    const { m } = await setup();
    const f = machineFaults(m);
    assert.throws(() => f.inject({ kind: 'timeout', id: 'nope' }), /Device 'nope' not found/);
    assert.throws(
      () => f.inject({ kind: 'media-error', id: 'ns1', lba: 511, count: 2 }),
      /LBA range 511\+2 exceeds namespace 1 of 'ns1' \(512 blocks\)/,
    );
    assert.throws(
      () => f.inject({ kind: 'critical-warning', id: 'nvme0', bits: 0x40 }),
      /unsupported smart critical warning bits: 0x40/,
    );
    assert.deepEqual(f.faults(), []);
    assert.equal(controllerOf(m).interceptor, undefined);
    await m.shutdown();
  });
});
