// nvmemu's PCI function at register level, with exact values (QEMU 7.2's, measured): the cases
// of QEMU's tests/qtest/nvme-test.c (reg-read, oob-cmb-access) and what the qtest cannot see
// without a guest: MSI-X messages, masking and pending bits, INTx with INTMS, shadow
// doorbells, CQE phase tags, DMA failures (CFS), bus mastering, FLR, legacy CMB.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pcieOf } from './nvme-fakes.js';
import { readU32le } from '../src/util/bytes.js';
import type { MsiMessage } from '../src/nvme/pci/index.js';
import { AdminOpc } from '../src/nvme/spec/opcodes.js';
import { attach, rig } from './pci-harness.js';

describe('registers as QEMU qtest nvme-test.c reads them', () => {
  it('reg-read: CAP.MQES 0x7ff and CAP.MPSMAX 4 through 32- and 64-bit reads', async () => {
    const d = await attach(rig());
    const cap = await d.reg64(0);
    assert.equal(cap, 0x0040_1820_0f01_07ffn);
    assert.equal((await d.reg32(0)) & 0xffff, 0x7ff);
    assert.equal(((await d.reg32(4)) >>> 20) & 0xf, 4);
  });

  it('oob-cmb-access: BAR2 byte/word reads after a dword write, partial access at the end', async () => {
    const r = rig({ params: { cmbSizeMb: 2 } });
    const bar2 = 0xd000_0000n;
    const d = await attach(r, bar2);
    await d.bus.write(bar2, 4, 0x1122_3344n);
    assert.equal(await d.bus.read(bar2, 1), 0x44n);
    assert.equal(await d.bus.read(bar2, 2), 0x3344n);
    const end = bar2 + (2n << 20n) - 1n;
    await d.bus.write(end, 4, 0x1122_3344n);
    assert.equal(await d.bus.read(end, 1), 0x44n);
    assert.equal(await d.bus.read(end, 2), 0x44n);
    assert.equal(await d.bus.read(end, 4), 0x44n);
  });

  it('legacy-cmb: CMBLOC 0x62 and CMBSZ 0x221d from reset, the BAR address is the CMB', async () => {
    const r = rig({ params: { cmbSizeMb: 2 }, legacyCmb: true });
    const d = await attach(r, 0xd000_0000n);
    assert.equal(await d.reg32(0x38), 0x62);
    assert.equal(await d.reg32(0x3c), 0x221d);
    assert.equal(r.pci.pf.cmb?.contains(0xd000_1000n), true);
  });

  it('CMBMSC with a CBA whose range wraps sets CMBSTS.CBAI and leaves CMSE off', async () => {
    const r = rig({ params: { cmbSizeMb: 2 } });
    const d = await attach(r, 0xd000_0000n);
    await d.setReg64(0x50, 0xffff_ffff_fff0_0003n);
    assert.equal(await d.reg32(0x58), 1);
    assert.equal(await d.reg32(0x3c), 0x221d, 'CRE still enabled the registers');
    assert.equal(r.pci.pf.cmb?.cmse, false);
  });
});

describe('interrupts', () => {
  it('delivers MSI-X per CQ vector into RAM and to the callback, pending while masked', async () => {
    const r = rig();
    const msgs: MsiMessage[] = [];
    r.pci.pf.onMsi = (m) => msgs.push(m);
    const d = await attach(r);
    await d.enableMsix(4);
    assert.equal(await d.enable(), 1);
    assert.equal((await d.createIoQueuePair(1, 8, { vector: 2 })).cq.status, 0);
    await d.interrupted(0);
    // Mask vector 2 (entry control bit 0), complete a command on queue 1.
    const table = d.bar0 + 0x2000n + 2n * 16n;
    await d.bus.write(table + 12n, 4, 1n);
    const before = msgs.length;
    const cid = await d.submit(1, { opcode: 0x00, nsid: 0xffff_ffff });
    await d.wait(1, cid);
    assert.equal(msgs.length, before, 'masked: no message');
    assert.equal(await d.interrupted(2), false);
    assert.equal(Number(await d.bus.read(d.bar0 + 0x3000n, 4)) & 0x4, 0x4, 'PBA bit 2 pending');
    await d.bus.write(table + 12n, 4, 0n);
    assert.equal(await d.interrupted(2), true, 'delivered on unmask');
    assert.equal(msgs.at(-1)?.vector, 2);
    assert.equal(Number(await d.bus.read(d.bar0 + 0x3000n, 4)) & 0x4, 0);
  });

  it('falls back to INTx without MSI-X: asserted on post, masked by INTMS, low when head = tail', async () => {
    const r = rig();
    const levels: boolean[] = [];
    r.pci.pf.onIntx = (l) => levels.push(l);
    const d = await attach(r);
    assert.equal(await d.enable(), 1);
    const cid = await d.submit(0, { opcode: AdminOpc.GET_FEATURES, cdw10: 7 });
    for (let i = 0; i < 5 && !r.pci.pf.intx; i++) await d.bus.idle();
    assert.equal(r.pci.pf.intx, true);
    assert.equal((await d.cfgRead(0x06, 2)) & 0x8, 0x8, 'Status.Interrupt Status');
    await d.setReg32(0x0c, 1);
    assert.equal(r.pci.pf.intx, false, 'INTMS masks vector 0');
    await d.setReg32(0x10, 1);
    assert.equal(r.pci.pf.intx, true, 'INTMC unmasks');
    await d.wait(0, cid);
    assert.equal(r.pci.pf.intx, false, 'CQ head doorbell reached the tail');
    assert.deepEqual(levels, [true, false, true, false]);
  });
});

describe('queues in guest memory', () => {
  it('writes CQEs with the phase tag, which flips when the CQ wraps', async () => {
    const d = await attach(rig());
    assert.equal(await d.enable({ depth: 2 }), 1);
    const phases: number[] = [];
    for (let i = 0; i < 5; i++) {
      const c = await d.command(0, { opcode: AdminOpc.GET_FEATURES, cdw10: 7 });
      phases.push(c.phase);
      assert.equal(c.dw0, 0x003f_003f);
    }
    assert.deepEqual(phases, [1, 1, 0, 0, 1]);
  });

  it('an SQE that cannot be fetched sets CSTS to exactly CFS', async () => {
    const d = await attach(rig());
    await d.setReg32(0x24, 0x000f_000f);
    await d.setReg64(0x28, 0x7fff_f000_0000n);
    await d.setReg64(0x30, 0x10_0000n);
    await d.setReg32(0x14, 1 | (6 << 16) | (4 << 20));
    assert.equal(await d.reg32(0x1c), 1);
    await d.setReg32(0x1000, 1);
    assert.equal(await d.reg32(0x1c), 2);
  });

  it('without Bus Master nothing is fetched from RAM', async () => {
    const d = await attach(rig());
    assert.equal(await d.enable(), 1);
    await d.cfgWrite(0x04, 2, 0x2);
    await d.submit(0, { opcode: AdminOpc.GET_FEATURES, cdw10: 7 });
    assert.equal(await d.reg32(0x1c), 2);
  });

  it('shadow doorbells: existing queues publish tail/head, EventIdx follows the SQ', async () => {
    const r = rig();
    const d = await attach(r);
    assert.equal(await d.enable({ depth: 8 }), 1);
    const dbs = 0x30_0000n;
    const eis = 0x30_1000n;
    const c = await d.command(0, { opcode: AdminOpc.DBBUF_CONFIG, prp1: dbs, prp2: eis });
    assert.equal(c.status, 0);
    const shadow = await d.bus.memRead(dbs, 8);
    assert.equal(readU32le(shadow, 0), 1, 'admin SQ tail');
    assert.equal(readU32le(shadow, 4), 0, 'admin CQ head before the completion was reaped');
    // Submit through the shadow tail only plus an MMIO doorbell write of the same value.
    const cid = await d.submit(0, { opcode: AdminOpc.GET_FEATURES, cdw10: 7 }, false);
    await d.bus.memWrite(dbs, Uint8Array.of(2, 0, 0, 0));
    await d.setReg32(0x1000, 2);
    assert.equal((await d.wait(0, cid)).dw0, 0x003f_003f);
    assert.equal(readU32le(await d.bus.memRead(eis, 4), 0), 2, 'SQ EventIdx');
  });
});

describe('Function Level Reset', () => {
  it('resets the controller, the command register, BARs and MSI-X', async () => {
    const r = rig();
    const d = await attach(r);
    await d.enableMsix(2);
    assert.equal(await d.enable(), 1);
    await d.cfgWrite(0x88, 2, 0x8000);
    assert.equal(await d.cfgRead(0x88, 2), 0, 'Initiate FLR reads 0');
    assert.equal(await d.cfgRead(0x04, 2), 0);
    assert.equal(await d.cfgRead(0x10, 4), 0x4);
    assert.equal((await d.cfgRead(0x42, 2)) & 0xc000, 0);
    assert.equal(r.ctrl.csts, 0);
    assert.equal(pcieOf(r.ctrl).sqs[0], undefined);
    const again = await attach(r);
    assert.equal(await again.reg32(0x24), 0x001f_001f, 'AQA survives, as in QEMU');
  });
});
