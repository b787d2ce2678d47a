// The command sequence whose answers make a fixture. It is the same for every configuration and
// QEMU version (so answers compare key by key), except the FDP workload, which only the FDP
// configuration runs. Order matters (reads of log 04h clear it, writes move zone pointers and
// FDP counters), so it is fixed here and documented in tests/fixtures/qemu/README.md.

import type { NvmeDriver } from '../../src/nvme/driver/index.js';
import { AdminOpc } from '../../src/nvme/spec/opcodes.js';
import { hex } from './answers.js';
import type { FidelityConfig } from './configs.js';
import { fdpWorkload } from './probe-fdp.js';
import { Recorder } from './recorder.js';

/** CNS values whose NSID field is a starting point or unused: asked with NSID 0. */
const CNS_NSID0 = new Set([0x01, 0x02, 0x04, 0x06, 0x07, 0x10, 0x13, 0x14, 0x15, 0x19, 0x1a, 0x1c]);
/** CNS values defined per command set: asked again with CSI 2 (Zoned). */
const CNS_PER_CSI = [0x05, 0x06, 0x07, 0x1a, 0x1b];
/** Feature identifiers asked with every SEL (the rest only with SEL 0). */
const FIDS_DETAILED = [
  ...Array.from({ length: 0x21 }, (_, i) => i),
  ...Array.from({ length: 9 }, (_, i) => 0x7c + i),
  0xc0,
  0xc1,
];
/** Admin opcodes left out of the sweep: an AER stays outstanding, DBBUF changes doorbells. */
const ADMIN_SKIP = new Set([AdminOpc.ASYNC_EVENT_REQ, AdminOpc.DBBUF_CONFIG]);

function identifyKey(cns: number, csi: number, nsid: number, cntid = 0): string {
  return `identify cns=${hex(cns, 2)} csi=${hex(csi, 2)} nsid=${hex(nsid, 0)}${cntid !== 0 ? ` cntid=${cntid}` : ''}`;
}

async function identify(r: Recorder, cns: number, csi: number, nsid: number): Promise<void> {
  await r.send(
    identifyKey(cns, csi, nsid),
    0,
    { opcode: AdminOpc.IDENTIFY, nsid, cdw10: cns, cdw11: csi << 24 },
    4096,
  );
}

async function identifySweep(r: Recorder): Promise<void> {
  for (let cns = 0; cns < 0x20; cns++) await identify(r, cns, 0, CNS_NSID0.has(cns) ? 0 : 1);
  for (const cns of CNS_PER_CSI) await identify(r, cns, 2, CNS_NSID0.has(cns) ? 0 : 1);
  await identify(r, 0x00, 0, 0xffff_ffff);
  await identify(r, 0x08, 0, 0xffff_ffff);
  await identify(r, 0x08, 0, 2);
  await identify(r, 0x08, 0, 3);
}

async function logSweep(r: Recorder): Promise<void> {
  for (let lid = 0; lid < 0x100; lid++) await r.log(`log lid=${hex(lid, 2)}`, { lid });
  await r.log('log lid=0x02 nsid=1', { lid: 0x02, nsid: 1 });
  await r.log('log lid=0x05 csi=0x02', { lid: 0x05, csi: 2 });
  await r.log('log lid=0x09 lsi=1', { lid: 0x09, lsi: 1 });
  await r.log('log lid=0x09 lsi=2', { lid: 0x09, lsi: 2 });
  for (const lid of [0x20, 0x21, 0x22])
    await r.log(`log lid=${hex(lid, 2)} lsi=1`, { lid, lsi: 1 });
  await r.log('log lid=0x23 lsp=1 lsi=1', { lid: 0x23, lsp: 1, lsi: 1 });
  await r.log('log lid=0x23 lsp=0 lsi=1', { lid: 0x23, lsp: 0, lsi: 1 });
}

function getFeaturesInit(fid: number, sel: number, nsid: number, cdw11 = 0) {
  return { opcode: AdminOpc.GET_FEATURES, nsid, cdw10: (sel << 8) | fid, cdw11 };
}

async function featureSweep(r: Recorder): Promise<void> {
  const current = new Map<number, number>();
  for (let fid = 0; fid < 0x100; fid++) {
    const got = await r.send(
      `get-features fid=${hex(fid, 2)} sel=0`,
      0,
      getFeaturesInit(fid, 0, 0),
      4096,
    );
    if (got?.status === 0) current.set(fid, got.dw0);
  }
  for (const fid of FIDS_DETAILED) {
    for (const sel of [1, 2, 3]) {
      await r.send(
        `get-features fid=${hex(fid, 2)} sel=${sel}`,
        0,
        getFeaturesInit(fid, sel, 0),
        4096,
      );
    }
    await r.send(
      `get-features fid=${hex(fid, 2)} sel=0 nsid=1`,
      0,
      getFeaturesInit(fid, 0, 1),
      4096,
    );
  }
  // The two FDP features take their operand in CDW11 (endurance group; handle and count).
  await r.send('get-features fid=0x1d sel=0 cdw11=1', 0, getFeaturesInit(0x1d, 0, 0, 1), 4096);
  await r.send('get-features fid=0x1d sel=3 cdw11=1', 0, getFeaturesInit(0x1d, 3, 0, 1), 4096);
  await r.send(
    'get-features fid=0x1e sel=0 nsid=1 noet=255',
    0,
    getFeaturesInit(0x1e, 0, 1, 0xff << 16),
    4096,
  );
  // Set Features with the value Get returned (or 0): which features are changeable.
  for (let fid = 0; fid <= 0x20; fid++) {
    await r.send(
      `set-features fid=${hex(fid, 2)} current`,
      0,
      { opcode: AdminOpc.SET_FEATURES, nsid: 0, cdw10: fid, cdw11: current.get(fid) ?? 0 },
      4096,
    );
  }
}

/** Every admin opcode with all fields zero (NSID 0), except those in ADMIN_SKIP. */
async function adminSweep(r: Recorder): Promise<void> {
  for (let opc = 0; opc < 0x100; opc++) {
    if (ADMIN_SKIP.has(opc as 0x0c | 0x7c)) continue;
    await r.send(`admin opc=${hex(opc, 2)} zero`, 0, { opcode: opc }, 4096);
  }
  // Commands QEMU 10.0 answers and 7.2 does not, with meaningful operands.
  await r.send(
    'directive-receive identify nsid=1',
    0,
    { opcode: AdminOpc.DIRECTIVE_RECV, nsid: 1, cdw10: 1023, cdw11: 0x01 },
    4096,
  );
  await r.send(
    'directive-send identify enable nsid=1',
    0,
    { opcode: AdminOpc.DIRECTIVE_SEND, nsid: 1, cdw10: 0, cdw11: 0x0201, cdw12: 1 },
    4096,
  );
  await r.send(
    'security-receive secp=0',
    0,
    { opcode: AdminOpc.SECURITY_RECV, cdw10: 0, cdw11: 4096 },
    4096,
  );
  await r.send(
    'security-send secp=0',
    0,
    { opcode: AdminOpc.SECURITY_SEND, cdw10: 0, cdw11: 4096 },
    4096,
  );
}

/** Every I/O opcode on NSID 1 with all fields zero but a 4 KiB data buffer. */
async function ioSweep(r: Recorder): Promise<void> {
  for (let opc = 0; opc < 0x100; opc++) {
    await r.send(`io opc=${hex(opc, 2)} nsid=1 zero`, 1, { opcode: opc, nsid: 1 }, 4096);
  }
  await r.send(
    'io-mgmt-receive mo=1 nsid=1',
    1,
    { opcode: 0x12, nsid: 1, cdw10: 1, cdw11: 1023 },
    4096,
  );
  await r.send(
    'io-mgmt-receive mo=0 nsid=1',
    1,
    { opcode: 0x12, nsid: 1, cdw10: 0, cdw11: 1023 },
    4096,
  );
  await r.send('io-mgmt-send mo=0 nsid=1', 1, { opcode: 0x1d, nsid: 1, cdw10: 0 }, 4096);
}

/** CC.CSS variants at the end: 7 (admin only, dropped from CAP.CSS in 10.0) and 0 (NVM). */
async function cssVariants(r: Recorder, d: NvmeDriver): Promise<void> {
  for (const css of [7, 0]) {
    await d.disable();
    const csts = await d.enable({ css });
    r.put(`enable css=${css} csts`, { value: hex(csts, 8) });
    if ((csts & 1) === 1) {
      await r.log(`log lid=0x05 css=${css}`, { lid: 0x05 });
      await r.send(
        `identify cns=0x1c css=${css}`,
        0,
        { opcode: AdminOpc.IDENTIFY, cdw10: 0x1c },
        4096,
      );
    }
  }
}

/**
 * Records everything for one controller: configuration space, registers, the Identify, log
 * and feature sweeps, queue creation, (FDP) the placement workload, the opcode sweeps and the
 * CC.CSS variants.
 */
export async function probe(d: NvmeDriver, c: FidelityConfig): Promise<Recorder> {
  const r = new Recorder(d);
  await r.config('pci config', 0, 0x100);
  await r.config('pci extended config', 0x100, 0x200);
  await r.regs('regs', 0, 0x70);
  await r.regs('regs pmr', 0xe00, 0xe20);
  const cap = await d.reg64(0);
  const css = (cap >> 37n) & 0x40n ? 6 : 0;
  const csts = await d.enable({ css });
  r.put(`enable css=${css} csts`, { value: hex(csts, 8) });
  if ((csts & 1) !== 1) return r;
  await r.regs('regs enabled', 0, 0x70);
  await identifySweep(r);
  await logSweep(r);
  await featureSweep(r);
  const q = await d.createIoQueuePair(1, 64);
  r.put('create io queue pair 1', { value: `cq ${hex(q.cq.status, 4)} sq ${hex(q.sq.status, 4)}` });
  if (q.cq.status !== 0 || q.sq.status !== 0) {
    r.notes.push('the I/O queue pair could not be created: no I/O answers');
  } else {
    if (c.name === 'fdp') await fdpWorkload(r);
    await ioSweep(r);
  }
  await adminSweep(r);
  await r.log('log lid=0x02 after', { lid: 0x02 });
  await r.log('log lid=0x09 lsi=1 after', { lid: 0x09, lsi: 1 });
  await cssVariants(r, d);
  return r;
}
