// Differential run: the register-level sequences of qtest-sequences.ts on nvmemu's PCI function
// and on QEMU 7.2's own `nvme` device through its qtest socket (TCG, vCPU stopped, q35), traces
// compared line by line. Skips, saying why, when qemu-system-x86_64 7.2 is not installed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NvmeDriver, type PlatformBus } from '../src/nvme/driver/index.js';
import { tempNamespace, type TempNs } from '../src/nvme/ns/fixtures.js';
import { qemu, qemuSkip, rig } from './pci-harness.js';
import {
  cmbSequence,
  configSpace,
  aerQueuedWhileMasked,
  enableSequences,
  ioEdges,
  prpEdges,
  queuesAndDoorbells,
  registers,
  type Trace,
} from './qtest-sequences.js';

if (qemuSkip !== false) console.log(`# skipping QEMU qtest differential: ${qemuSkip}`);

/**
 * Where nvmemu deliberately differs from QEMU 7.2 (docs/nvme.md): ONCS/OCFS follow nvmemu's
 * I/O command table (Write Uncorrectable on, Copy formats 0-3), and ELPE (byte 262, in the
 * dword at 0x104) is 63 because nvmemu keeps Error Information log entries (QEMU keeps none).
 */
function normalize(t: Trace): Trace {
  return t.map((l) =>
    l.startsWith('identify ')
      ? l
          .split(' ')
          .filter((w) => !w.startsWith('0x208:') && !w.startsWith('0x214:'))
          .map((w) => (w.startsWith('0x104:') ? withoutElpe(w) : w))
          .join(' ')
      : l,
  );
}

/** `0x104:<dword>` with ELPE (bits 23:16) cleared; a dword that is then 0 is not listed. */
function withoutElpe(w: string): string {
  const v = Number(w.slice(6)) & ~0xff0000;
  return `0x104:0x${v.toString(16)}`;
}

let dir = '';
let img = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-qtest-diff-'));
  img = join(dir, 'nvm.img');
  writeFileSync(img, '');
  truncateSync(img, 16 << 20);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function both(
  devices: readonly string[],
  seq: (d: NvmeDriver) => Promise<Trace>,
  o: { cmbSizeMb?: number; withNs?: boolean; bar2?: bigint; args?: string[] } = {},
): Promise<{ ours: Trace; theirs: Trace }> {
  let ns: TempNs | undefined;
  if (o.withNs === true) ns = await tempNamespace(16 << 20);
  const r = rig({
    params: { cmbSizeMb: o.cmbSizeMb ?? 0 },
    ...(ns !== undefined ? { namespaces: [ns.ns] } : {}),
  });
  let bus: PlatformBus | undefined;
  try {
    const attach = (b: PlatformBus, slot: number) =>
      NvmeDriver.attach(b, { slot, ...(o.bar2 !== undefined ? { bar2: o.bar2 } : {}) });
    const ours = await seq(await attach(r.bus, r.pci.slot));
    bus = await qemu(devices, o.args ?? []);
    const theirs = await seq(await attach(bus, 1));
    return { ours: normalize(ours), theirs: normalize(theirs) };
  } finally {
    await bus?.close();
    await ns?.cleanup();
  }
}

describe('nvmemu and QEMU 7.2 answer the same register sequences', { skip: qemuSkip }, () => {
  const plain = ['nvme,serial=deadbeef'];
  const cases: [string, (d: NvmeDriver) => Promise<Trace>][] = [
    ['configuration space: identity, capabilities, BAR sizes, writable bits', configSpace],
    ['registers: reads, writes, sub-dword accesses, reserved space, doorbells', registers],
    ['enable/disable/shutdown sequences with every enable failure', enableSequences],
    ['queue creation/deletion statuses and doorbell misuse events', queuesAndDoorbells],
    ['Identify Controller bytes and PRP edge cases on admin commands', prpEdges],
  ];
  for (const [name, seq] of cases) {
    it(name, async () => {
      const { ours, theirs } = await both(plain, seq);
      assert.deepEqual(ours, theirs);
    });
  }
  // QEMU 7.2 reports an event queued while its type was masked once the log is read
  // (measured), although reference §3.6 says it is discarded; nvmemu follows QEMU.
  it('an Error event queued while masked is reported after the log read', async () => {
    const { ours, theirs } = await both(plain, aerQueuedWhileMasked);
    assert.deepEqual(ours, theirs);
  });
  it('I/O with PRPs and SGLs: data, descriptor types, segment and length errors', async () => {
    const { ours, theirs } = await both(['nvme,serial=deadbeef,drive=nvm'], ioEdges, {
      withNs: true,
      args: ['-drive', `file=${img},if=none,id=nvm,format=raw`],
    });
    assert.deepEqual(ours, theirs);
  });
  it('CMB (cmb_size_mb=2): CMBMSC enable, BAR2 edges, SQ and data in the CMB, mixing', async () => {
    const bar2 = 0xd000_0000n;
    const { ours, theirs } = await both(
      ['nvme,serial=deadbeef,cmb_size_mb=2'],
      (d) => cmbSequence(d, bar2),
      { cmbSizeMb: 2, bar2 },
    );
    assert.deepEqual(ours, theirs);
  });
});
