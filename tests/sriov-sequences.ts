// The SR-IOV procedure of QEMU's docs/system/devices/nvme.rst at register level, written once
// against the userspace driver so it runs on nvmemu and on QEMU 7.2 (traces compared), with
// every Virtualization Management rule (reference qemu-nvme.md §10) along the way.
//
// Device: nvme-subsys + nvme,serial=deadbeef,subsys=...,sriov_max_vfs=2,sriov_vq_flexible=8,
// sriov_vi_flexible=4 (the documentation's example), PF in slot 1.

import { readU16le, readU32le } from '../src/util/bytes.js';
import { NvmeDriver, type PlatformBus } from '../src/nvme/driver/index.js';
import { AdminOpc } from '../src/nvme/spec/opcodes.js';
import type { Trace } from './qtest-sequences.js';

export const SRIOV_DEVICES = [
  'nvme-subsys,id=subsys0',
  'nvme,serial=deadbeef,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=8,sriov_vi_flexible=4',
];

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
const SRIOV = 0x120;
const VF_BAR0 = 0xd800_0000n;

function caps(d: Uint8Array): string {
  const f = (o: number, n: 2 | 4): number => (n === 2 ? readU16le(d, o) : readU32le(d, o));
  return [
    `cntlid ${f(0, 2)} crt ${d[4]!}`,
    `vq frt ${f(32, 4)} rfa ${f(36, 4)} rfap ${f(40, 2)} prt ${f(42, 2)} frsm ${f(44, 2)} gran ${f(46, 2)}`,
    `vi frt ${f(64, 4)} rfa ${f(68, 4)} rfap ${f(72, 2)} prt ${f(74, 2)} frsm ${f(76, 2)} gran ${f(78, 2)}`,
  ].join('; ');
}

function secondaries(d: Uint8Array): string {
  const n = d[0]!;
  const out = [`numid ${n}`];
  for (let i = 0; i < n; i++) {
    const o = 32 + 32 * i;
    out.push(
      `scid ${readU16le(d, o)} pcid ${readU16le(d, o + 2)} scs ${d[o + 4]!} vfn ${readU16le(d, o + 8)} nvq ${readU16le(d, o + 10)} nvi ${readU16le(d, o + 12)}`,
    );
  }
  return out.join('; ');
}

export async function sriovProcedure(bus: PlatformBus, slot: number): Promise<Trace> {
  const t: Trace = [];
  let pf = await NvmeDriver.attach(bus, { slot });
  t.push(`pf enable csts ${hex(await pf.enable({ depth: 16 }))}`);
  const virt = async (label: string, act: number, rt: number, cntlid: number, nr: number) => {
    const c = await pf.command(0, {
      opcode: AdminOpc.VIRT_MNGMT,
      cdw10: (cntlid << 16) | (rt << 8) | act,
      cdw11: nr,
    });
    t.push(`${label}: status ${hex(c.status)} dw0 ${hex(c.dw0)}`);
  };
  const idc = await pf.identify(1);
  t.push(`oacs ${hex(readU16le(idc.data, 256))} cntlid ${readU16le(idc.data, 78)}`);
  t.push(`primary caps: ${caps((await pf.identify(0x14)).data)}`);
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);
  t.push(`secondary list from 2: ${secondaries((await pf.identify(0x15, 0, 2)).data)}`);
  const nq = async (d: NvmeDriver, label: string) =>
    t.push(
      `${label} nq ${hex((await d.command(0, { opcode: AdminOpc.GET_FEATURES, cdw10: 7 })).dw0)}`,
    );
  await nq(pf, 'pf');
  t.push(`msix table size ${hex(await pf.cfgRead(0x42, 2))}`);

  // Every rule of Virtualization Management before anything is enabled.
  await virt('rt 2', 1, 2, 0, 0);
  await virt('act 5', 5, 0, 0, 0);
  await virt('primary alloc other cntlid', 1, 0, 1, 0);
  await virt('primary alloc vq 9 > total 8', 1, 0, 0, 9);
  await virt('primary alloc vi 5 > total 4', 1, 1, 0, 5);
  await virt('assign to unknown secondary 9', 8, 0, 9, 1);
  await virt('assign to the primary', 8, 0, 0, 1);
  await virt('assign vq 5 > per-VF max 4', 8, 0, 1, 5);
  await virt('assign vi 3 > per-VF max 2', 8, 1, 1, 3);
  await virt('online without resources', 9, 0, 1, 0);
  await virt('assign vq 2 to secondary 1', 8, 0, 1, 2);
  await virt('assign vi 1 to secondary 1', 8, 1, 1, 1);
  await virt('online with VFs not enabled', 9, 0, 1, 0);
  await virt('primary alloc vq 7 > total - assigned 6', 1, 0, 0, 7);
  await virt('offline secondary 1 (returns resources)', 7, 0, 1, 0);
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);

  // 1. Unbind flexible resources from the primary (nr 0 of each type).
  await virt('primary alloc vi 0', 1, 1, 0, 0);
  await virt('primary alloc vq 0', 1, 0, 0, 0);
  t.push(`primary caps: ${caps((await pf.identify(0x14)).data)}`);
  // 2. Function Level Reset of the PF (PCIe Device Control bit 15), then re-probe.
  await pf.cfgWrite(0x88, 2, 0x8000);
  t.push(
    `after flr: command ${hex(await pf.cfgRead(0x04, 2))} bar0 ${hex(await pf.cfgRead(0x10, 4))}`,
  );
  pf = await NvmeDriver.attach(bus, { slot });
  t.push(`pf csts after flr ${hex(await pf.reg32(0x1c))}`);
  t.push(`pf enable csts ${hex(await pf.enable({ depth: 16 }))}`);
  t.push(`primary caps: ${caps((await pf.identify(0x14)).data)}`);
  await nq(pf, 'pf after flr');
  t.push(`msix table size ${hex(await pf.cfgRead(0x42, 2))}`);
  // 3. Enable 2 VFs (sriov_numvfs): NumVFs, VF BAR0, VF Enable + VF MSE.
  await pf.cfgWrite(SRIOV + 0x10, 2, 2);
  await pf.cfgWrite(SRIOV + 0x24, 4, Number(VF_BAR0 & 0xffff_ffffn));
  await pf.cfgWrite(SRIOV + 0x28, 4, 0);
  await pf.cfgWrite(SRIOV + 0x08, 2, 0x9);
  t.push(`numvfs ${await pf.cfgRead(SRIOV + 0x10, 2)} ctrl ${hex(await pf.cfgRead(SRIOV + 8, 2))}`);
  t.push(
    `vf1 id ${hex(await bus.cfgRead(slot, 1, 0, 4))} class ${hex(await bus.cfgRead(slot, 1, 8, 4))}`,
  );
  t.push(
    `vf1 msix ${hex(await bus.cfgRead(slot, 1, 0x40, 4))} ari ${hex(await bus.cfgRead(slot, 1, 0x100, 4))}`,
  );
  t.push(`vf3 id ${hex(await bus.cfgRead(slot, 3, 0, 4))}`);
  const vfBar = (await bus.read(VF_BAR0 + 0x1cn, 4)).toString(16);
  t.push(`vf1 csts while offline 0x${vfBar} cap ${hex(await bus.read(VF_BAR0, 8))}`);
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);
  // 4. Assign resources to VF 1 (cntlid 1) and bring it online.
  await virt('assign vi 1', 8, 1, 1, 1);
  await virt('assign vq 2', 8, 0, 1, 2);
  await virt('online', 9, 0, 1, 0);
  await virt('online again', 9, 0, 1, 0);
  await virt('assign while online', 8, 0, 1, 1);
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);
  t.push(`primary caps: ${caps((await pf.identify(0x14)).data)}`);
  // 5. Use the VF.
  const vf = await NvmeDriver.attach(bus, { slot, fn: 1, vfBar0: VF_BAR0 });
  t.push(`vf cap ${hex(await vf.reg64(0))} csts ${hex(await vf.reg32(0x1c))}`);
  t.push(`vf msix table size ${hex(await vf.cfgRead(0x42, 2))}`);
  t.push(`vf enable csts ${hex(await vf.enable({ depth: 8 }))}`);
  const vid = await vf.identify(1);
  t.push(`vf identify cntlid ${readU16le(vid.data, 78)} oacs ${hex(readU16le(vid.data, 256))}`);
  t.push(`vf primary caps: ${caps((await vf.identify(0x14)).data)}`);
  t.push(`vf secondary list: ${secondaries((await vf.identify(0x15)).data)}`);
  await nq(vf, 'vf');
  const q = await vf.createIoQueuePair(1, 8);
  t.push(`vf io queue 1: cq ${hex(q.cq.status)} sq ${hex(q.sq.status)}`);
  const q2 = await vf.createIoQueuePair(2, 8);
  t.push(`vf io queue 2: cq ${hex(q2.cq.status)} sq ${hex(q2.sq.status)}`);
  const fl = await vf.command(1, { opcode: 0x00, nsid: 0xffff_ffff });
  t.push(`vf flush ${hex(fl.status)}`);
  const vfVirt = await vf.command(0, {
    opcode: AdminOpc.VIRT_MNGMT,
    cdw10: (2 << 16) | 8,
    cdw11: 1,
  });
  t.push(`virt-mgmt on the vf ${hex(vfVirt.status)}`);
  // 6. Offline the VF: CSTS reads CFS, other registers 0.
  await virt('offline', 7, 0, 1, 0);
  t.push(
    `vf after offline csts ${hex(await vf.reg32(0x1c))} cc ${hex(await vf.reg32(0x14))} cap ${hex(await vf.reg64(0))}`,
  );
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);
  // 7. A PF controller reset offlines every secondary.
  await virt('assign vi 1 to secondary 2', 8, 1, 2, 1);
  await virt('assign vq 2 to secondary 2', 8, 0, 2, 2);
  await virt('online secondary 2', 9, 0, 2, 0);
  t.push(`pf disable csts ${hex(await pf.disable())}`);
  t.push(`pf enable csts ${hex(await pf.enable({ depth: 16 }))}`);
  t.push(`secondary list: ${secondaries((await pf.identify(0x15)).data)}`);
  // 8. Disabling VFs removes them.
  await pf.cfgWrite(SRIOV + 0x08, 2, 0);
  t.push(`vf1 id after disable ${hex(await bus.cfgRead(slot, 1, 0, 4))}`);
  return t;
}
