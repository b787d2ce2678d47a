// -device nvdimm and virtio-pmem-pci lines of the command-line table (see cmdline-cases.ts).

import { type CmdlineCase, d, o, PMEM_MACHINE, PM } from './cmdline-common.js';

export const PMEM_CASES: readonly CmdlineCase[] = [
  // --- -device nvdimm / virtio-pmem-pci
  {
    name: 'nvdimm without -machine nvdimm=on',
    argv: ['-m', '2G,slots=2,maxmem=8G', ...PM, ...d('nvdimm,id=nv1,memdev=mem1')],
    expect: "-device nvdimm,id=nv1,memdev=mem1: nvdimm is not enabled: missing 'nvdimm' in '-M'",
  },
  {
    name: 'nvdimm without slots',
    argv: ['-machine', 'pc,nvdimm=on', ...PM, ...d('nvdimm,id=nv1,memdev=mem1')],
    expect:
      "-device nvdimm,id=nv1,memdev=mem1: no slots where allocated, please specify the 'slots' option",
  },
  {
    name: 'a label area below 128 KiB',
    argv: [...PMEM_MACHINE, ...PM, ...d('nvdimm,id=nv1,memdev=mem1,label-size=64K')],
    expect:
      "-device nvdimm,id=nv1,memdev=mem1,label-size=64K: Property 'nvdimm.label-size' (0x10000) is required at least 0x20000",
  },
  {
    name: 'one backend for two nvdimms',
    argv: [
      ...PMEM_MACHINE,
      ...PM,
      ...d('nvdimm,id=nv1,memdev=mem1'),
      ...d('nvdimm,id=nv2,memdev=mem1'),
    ],
    expect: "-device nvdimm,id=nv2,memdev=mem1: can't use already busy memdev: mem1",
  },
  {
    name: 'nvdimm without memdev',
    argv: [...PMEM_MACHINE, ...PM, ...d('nvdimm,id=nv1')],
    expect: "-device nvdimm,id=nv1: 'memdev' property must be set",
  },
  {
    name: 'a dangling memdev',
    argv: [...PMEM_MACHINE, ...d('nvdimm,id=nv1,memdev=mem1')],
    expect: "-device nvdimm,id=nv1,memdev=mem1: Device 'mem1' not found",
  },
  {
    name: 'device memory exhausted',
    argv: [
      '-machine',
      'pc,nvdimm=on',
      '-m',
      '2G,slots=2,maxmem=3G',
      ...PM,
      ...o('memory-backend-file,id=mem2,share=on,mem-path=pm.img,size=1G'),
      ...d('nvdimm,id=nv1,memdev=mem1'),
      ...d('nvdimm,id=nv2,memdev=mem2'),
    ],
    expect:
      '-device nvdimm,id=nv2,memdev=mem2: not enough space, currently 0x40000000 in use of total space for memory devices 0x40000000',
  },
  {
    name: 'slots exhausted',
    argv: [
      '-machine',
      'pc,nvdimm=on',
      '-m',
      '2G,slots=1,maxmem=8G',
      ...PM,
      ...o('memory-backend-file,id=mem2,share=on,mem-path=pm.img,size=1G'),
      ...d('nvdimm,id=nv1,memdev=mem1'),
      ...d('nvdimm,id=nv2,memdev=mem2'),
    ],
    expect: '-device nvdimm,id=nv2,memdev=mem2: no free slots available',
  },
  {
    name: 'a slot out of range',
    argv: [...PMEM_MACHINE, ...PM, ...d('nvdimm,id=nv1,memdev=mem1,slot=5')],
    expect: '-device nvdimm,id=nv1,memdev=mem1,slot=5: invalid slot number 5, valid range is [0-1]',
  },
  {
    name: 'an address outside device memory',
    argv: [...PMEM_MACHINE, ...PM, ...d('nvdimm,id=nv1,memdev=mem1,addr=0x1000')],
    expect:
      "-device nvdimm,id=nv1,memdev=mem1,addr=0x1000: can't add memory device [0x1000:0x40000000], usable range for memory devices [0x100000000:0x200000000]",
  },
  {
    name: 'a label area that leaves no PMEM',
    argv: [
      ...PMEM_MACHINE,
      ...o('memory-backend-file,id=mem1,share=on,mem-path=small.img,size=1M'),
      ...d('nvdimm,id=nv1,memdev=mem1,label-size=1M'),
    ],
    expect:
      '-device nvdimm,id=nv1,memdev=mem1,label-size=1M: the size of memdev mem1 (0x100000) is too small to contain nvdimm label (0x100000) and aligned PMEM (0x1000)',
  },
  {
    name: 'a read-only backend without unarmed',
    argv: [
      ...PMEM_MACHINE,
      ...o('memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G,readonly=on'),
      ...d('nvdimm,id=nv1,memdev=mem1'),
    ],
    expect:
      "-device nvdimm,id=nv1,memdev=mem1: 'unarmed' property must be 'on' since memdev mem1 is read-only",
  },
  {
    name: 'virtio-pmem without memdev',
    argv: ['-m', '2G,slots=2,maxmem=8G', ...PM, ...d('virtio-pmem-pci,id=vp')],
    expect: "-device virtio-pmem-pci,id=vp: 'memdev' property must be set",
  },
  {
    name: 'virtio-pmem without maxmem',
    argv: [...PM, ...d('virtio-pmem-pci,id=vp,memdev=mem1')],
    expect:
      '-device virtio-pmem-pci,id=vp,memdev=mem1: memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option',
  },
  {
    name: 'one backend for two virtio-pmem devices',
    argv: [
      '-m',
      '2G,slots=2,maxmem=8G',
      ...PM,
      ...d('virtio-pmem-pci,id=vp,memdev=mem1'),
      ...d('virtio-pmem-pci,id=vp2,memdev=mem1'),
    ],
    expect: "-device virtio-pmem-pci,id=vp2,memdev=mem1: can't use already busy memdev: mem1",
  },
];
