// Registers and the CC/CSTS state machine (reference §2.2-§2.4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Reg, encodeCc } from '../src/nvme/ctrl/regs.js';
import { statusName } from '../src/nvme/spec/status.js';
import { rig, page, pcieOf } from './nvme-fakes.js';

describe('nvme registers', () => {
  it('reads CAP 0x004018200f0107ff and VS 1.4, as two 32-bit halves too', () => {
    const { ctrl } = rig({ enable: false });
    assert.equal(pcieOf(ctrl).readReg64(Reg.CAP), 0x004018200f0107ffn);
    assert.equal(pcieOf(ctrl).readReg32(0), 0x0f0107ff);
    assert.equal(pcieOf(ctrl).readReg32(4), 0x00401820);
    assert.equal(pcieOf(ctrl).readReg32(Reg.VS), 0x00010400);
    assert.equal(pcieOf(ctrl).readReg32(0x1000), 0, 'doorbells read 0');
    assert.equal(pcieOf(ctrl).readReg32(0xf00), 0);
  });

  it('sets CAP.PMRS and CAP.CMBS with pmrdev / cmb_size_mb', () => {
    const { ctrl } = rig({ enable: false, params: { pmr: true, cmbSizeMb: 2 } });
    assert.equal(pcieOf(ctrl).readReg64(Reg.CAP), 0x034018200f0107ffn);
  });

  it('keeps one interrupt mask: INTMS sets, INTMC clears, both read it', () => {
    const { ctrl } = rig({ enable: false });
    pcieOf(ctrl).writeReg32(Reg.INTMS, 0x5);
    pcieOf(ctrl).writeReg32(Reg.INTMC, 0x1);
    assert.deepEqual(
      [pcieOf(ctrl).readReg32(Reg.INTMS), pcieOf(ctrl).readReg32(Reg.INTMC)],
      [0x4, 0x4],
    );
  });

  it('ignores host writes to CAP, VS and CSTS', () => {
    const { ctrl } = rig({ enable: false });
    pcieOf(ctrl).writeReg32(Reg.CAP, 0);
    pcieOf(ctrl).writeReg32(Reg.VS, 0);
    pcieOf(ctrl).writeReg32(Reg.CSTS, 0xff);
    assert.equal(pcieOf(ctrl).readReg32(Reg.CAP), 0x0f0107ff);
    assert.equal(pcieOf(ctrl).readReg32(Reg.VS), 0x10400);
    assert.equal(ctrl.csts, 0);
  });
});

describe('nvme enable (CC.EN 0->1)', () => {
  const ok = { aqa: 0x001f001f, asq: 0x10000n, acq: 0x20000n, cc: encodeCc({ en: true, css: 6 }) };
  const cases: [string, Partial<typeof ok>, number][] = [
    ['succeeds with CSTS exactly 0x1 for a valid setup', {}, 0x1],
    ['succeeds with CC.CSS 0 (NVM only)', { cc: encodeCc({ en: true, css: 0 }) }, 0x1],
    ['accepts CC.CSS 7 (admin only) in 7.2', { cc: encodeCc({ en: true, css: 7 }) }, 0x1],
    ['fails (CSTS 0x2) for CC.CSS 1', { cc: encodeCc({ en: true, css: 1 }) }, 0x2],
    ['fails for an unaligned ASQ', { asq: 0x10010n }, 0x2],
    ['fails for an unaligned ACQ', { acq: 0x20800n }, 0x2],
    ['fails for MPS above MPSMAX', { cc: encodeCc({ en: true, mps: 5 }) }, 0x2],
    [
      'checks alignment against the CC.MPS page',
      { asq: 0x11000n, cc: encodeCc({ en: true, mps: 1 }) },
      0x2,
    ],
    ['fails for ASQS 0', { aqa: 0x001f0000 }, 0x2],
    ['fails for ACQS 0', { aqa: 0x0000001f }, 0x2],
    ['fails for IOSQES 7 [7.2]', { cc: encodeCc({ en: true, iosqes: 7 }) }, 0x2],
    ['fails for IOCQES 5 [7.2]', { cc: encodeCc({ en: true, iocqes: 5 }) }, 0x2],
  ];
  for (const [name, over, csts] of cases) {
    it(name, () => {
      const { ctrl } = rig({ enable: false });
      const v = { ...ok, ...over };
      pcieOf(ctrl).writeReg32(Reg.AQA, v.aqa);
      pcieOf(ctrl).writeReg64(Reg.ASQ, v.asq);
      pcieOf(ctrl).writeReg64(Reg.ACQ, v.acq);
      pcieOf(ctrl).writeReg32(Reg.CC, v.cc);
      assert.equal(ctrl.csts, csts);
      assert.equal(pcieOf(ctrl).sqs[0] !== undefined, csts === 1);
    });
  }
});

describe('nvme reset and shutdown', () => {
  it('reset clears queues, CC and CSTS but keeps AQA/ASQ/ACQ and feature values', async () => {
    const { ctrl, host } = rig();
    await host.createIoQueues(2);
    const set = await host.admin({ opcode: 0x09, cdw10: 0x0b, cdw11: 0x1ff });
    assert.equal(set.status, 0);
    host.disable();
    assert.equal(ctrl.csts, 0);
    assert.equal(ctrl.cc, 0);
    assert.deepEqual(
      [pcieOf(ctrl).sqs[0], pcieOf(ctrl).sqs[1], pcieOf(ctrl).cqs[2]],
      [undefined, undefined, undefined],
    );
    assert.equal(pcieOf(ctrl).readReg32(Reg.AQA), 0x001f001f);
    assert.equal(pcieOf(ctrl).readReg64(Reg.ASQ), 0x10000n);
    pcieOf(ctrl).writeReg32(Reg.CC, encodeCc({ en: true, css: 6 }));
    assert.equal(ctrl.csts, 1);
    const get = await host.admin({ opcode: 0x0a, cdw10: 0x0b });
    assert.equal(get.dw0, 0x1ff);
    // Number of Queues may be set again after reset (queues-created flag cleared).
    assert.equal(statusName((await host.admin({ opcode: 0x09, cdw10: 0x07 })).status), 'SUCCESS');
  });

  it('shutdown sets SHST complete immediately (CSTS 0x9) and shuts every namespace down', () => {
    const { ctrl, ns } = rig();
    pcieOf(ctrl).writeReg32(Reg.CC, ctrl.cc | (1 << 14));
    assert.equal(ctrl.csts, 0x9);
    assert.equal(ns[0]!.shutdowns, 1);
    pcieOf(ctrl).writeReg32(Reg.CC, ctrl.cc & ~(3 << 14));
    assert.equal(ctrl.csts, 0x1);
  });

  it('refuses to enable while admin queues exist (EN written 0->1 twice without reset is a no-op)', () => {
    const { ctrl } = rig();
    const cc = ctrl.cc;
    pcieOf(ctrl).writeReg32(Reg.CC, cc | (1 << 4));
    assert.equal(ctrl.cc, cc, 'CC is not rewritten while enabled');
    assert.equal(ctrl.csts, 1);
  });

  it('resets the Timestamp feature to 0 at enable', async () => {
    let now = 1000;
    const { host } = rig({ params: { clock: { nowMs: () => now } } });
    const buf = page();
    now = 1500;
    assert.equal((await host.admin({ opcode: 0x0a, cdw10: 0x0e }, buf)).status, 0);
    assert.deepEqual([...buf.subarray(0, 8)], [0xf4, 0x01, 0, 0, 0, 0, 0, 0]);
  });
});
