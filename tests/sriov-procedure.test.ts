// The SR-IOV procedure of QEMU's documentation (docs/system/devices/nvme.rst) at register level:
// unbind the primary's flexible resources, FLR, enable VFs, assign, online, use, offline, PF
// reset, disable — with every Virtualization Management rule. The trace nvmemu produces must
// equal QEMU 7.2's, recorded below from qemu-system-x86_64 7.2.22 through qtest and re-checked
// live when QEMU is installed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { qemu, qemuSkip, rig } from './pci-harness.js';
import { sriovProcedure, SRIOV_DEVICES } from './sriov-sequences.js';

/** QEMU 7.2.22's trace of sriovProcedure (recorded through its qtest socket). */
const QEMU_7_2_TRACE = [
  'pf enable csts 0x1',
  'oacs 0x10a cntlid 0',
  'primary caps: cntlid 0 crt 3; vq frt 8 rfa 0 rfap 0 prt 57 frsm 4 gran 1; vi frt 4 rfa 0 rfap 0 prt 61 frsm 2 gran 1',
  'secondary list: numid 2; scid 1 pcid 0 scs 0 vfn 1 nvq 0 nvi 0; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'secondary list from 2: numid 1; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'pf nq 0x370037',
  'msix table size 0x3c',
  'rt 2: status 0x4122 dw0 0x0',
  'act 5: status 0x4002 dw0 0x0',
  'primary alloc other cntlid: status 0x411f dw0 0x0',
  'primary alloc vq 9 > total 8: status 0x4121 dw0 0x0',
  'primary alloc vi 5 > total 4: status 0x4121 dw0 0x0',
  'assign to unknown secondary 9: status 0x411f dw0 0x0',
  'assign to the primary: status 0x411f dw0 0x0',
  'assign vq 5 > per-VF max 4: status 0x4121 dw0 0x0',
  'assign vi 3 > per-VF max 2: status 0x4121 dw0 0x0',
  'online without resources: status 0x4120 dw0 0x0',
  'assign vq 2 to secondary 1: status 0x0 dw0 0x2',
  'assign vi 1 to secondary 1: status 0x0 dw0 0x1',
  'online with VFs not enabled: status 0x4120 dw0 0x0',
  'primary alloc vq 7 > total - assigned 6: status 0x4122 dw0 0x0',
  'offline secondary 1 (returns resources): status 0x0 dw0 0x0',
  'secondary list: numid 2; scid 1 pcid 0 scs 0 vfn 1 nvq 0 nvi 0; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'primary alloc vi 0: status 0x0 dw0 0x0',
  'primary alloc vq 0: status 0x0 dw0 0x0',
  'primary caps: cntlid 0 crt 3; vq frt 8 rfa 0 rfap 0 prt 57 frsm 4 gran 1; vi frt 4 rfa 0 rfap 0 prt 61 frsm 2 gran 1',
  'after flr: command 0x0 bar0 0x4',
  'pf csts after flr 0x0',
  'pf enable csts 0x1',
  'primary caps: cntlid 0 crt 3; vq frt 8 rfa 0 rfap 0 prt 57 frsm 4 gran 1; vi frt 4 rfa 0 rfap 0 prt 61 frsm 2 gran 1',
  'pf after flr nq 0x370037',
  'msix table size 0x3c',
  'numvfs 2 ctrl 0x9',
  'vf1 id 0xffffffff class 0x1080202',
  'vf1 msix 0x8011 ari 0x1000e',
  'vf3 id 0xffffffff',
  'vf1 csts while offline 0x0 cap 0x0',
  'secondary list: numid 2; scid 1 pcid 0 scs 0 vfn 1 nvq 0 nvi 0; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'assign vi 1: status 0x0 dw0 0x1',
  'assign vq 2: status 0x0 dw0 0x2',
  'online: status 0x0 dw0 0x0',
  'online again: status 0x0 dw0 0x0',
  'assign while online: status 0x4120 dw0 0x0',
  'secondary list: numid 2; scid 1 pcid 0 scs 1 vfn 1 nvq 2 nvi 1; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'primary caps: cntlid 0 crt 3; vq frt 8 rfa 2 rfap 0 prt 57 frsm 4 gran 1; vi frt 4 rfa 1 rfap 0 prt 61 frsm 2 gran 1',
  'vf cap 0x4018200f0107ff csts 0x0',
  'vf msix table size 0x0',
  'vf enable csts 0x1',
  'vf identify cntlid 1 oacs 0x10a',
  'vf primary caps: cntlid 1 crt 3; vq frt 0 rfa 0 rfap 0 prt 2 frsm 0 gran 0; vi frt 0 rfa 0 rfap 0 prt 1 frsm 0 gran 0',
  'vf secondary list: numid 0',
  'vf nq 0x0',
  'vf io queue 1: cq 0x0 sq 0x0',
  'vf io queue 2: cq 0x4101 sq 0x4100',
  'vf flush 0x0',
  'virt-mgmt on the vf 0x411f',
  'offline: status 0x0 dw0 0x0',
  'vf after offline csts 0x2 cc 0x0 cap 0x0',
  'secondary list: numid 2; scid 1 pcid 0 scs 0 vfn 1 nvq 0 nvi 0; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'assign vi 1 to secondary 2: status 0x0 dw0 0x1',
  'assign vq 2 to secondary 2: status 0x0 dw0 0x2',
  'online secondary 2: status 0x0 dw0 0x0',
  'pf disable csts 0x0',
  'pf enable csts 0x1',
  'secondary list: numid 2; scid 1 pcid 0 scs 0 vfn 1 nvq 0 nvi 0; scid 2 pcid 0 scs 0 vfn 2 nvq 0 nvi 0',
  'vf1 id after disable 0xffffffff',
];

const SRIOV = { maxVfs: 2, vqFlexible: 8, viFlexible: 4, maxVqPerVf: 0, maxViPerVf: 0 };

describe('SR-IOV procedure at register level', () => {
  it('nvmemu answers every step exactly as QEMU 7.2 recorded it', async () => {
    const r = rig({ sriov: SRIOV });
    assert.deepEqual(await sriovProcedure(r.bus, r.pci.slot), QEMU_7_2_TRACE);
  });

  it('QEMU 7.2 itself still produces the recorded trace', { skip: qemuSkip }, async () => {
    const bus = await qemu(SRIOV_DEVICES);
    try {
      assert.deepEqual(await sriovProcedure(bus, 1), QEMU_7_2_TRACE);
    } finally {
      await bus.close();
    }
  });
});
