// The command-line table shared by tests/cmdline.test.ts (our outcome) and
// tests/qemu-differential.test.ts (QEMU 7.2's outcome for the same line). Files named here
// (nvm.img 64 MiB, nvm2.img 64 MiB, pm.img 1 GiB, small.img 1 MiB) exist in the test's folder.
//
// `expect` is 'ok' or the exact message after the program-name prefix. `qemu: false` marks
// lines where nvmemu deliberately differs from (or goes beyond) QEMU; the differential test
// skips those.

import { type CmdlineCase, d, o, DRIVE, NVME, PM } from './cmdline-common.js';
import { NVME_CASES } from './cmdline-cases-nvme.js';
import { PMEM_CASES } from './cmdline-cases-pmem.js';

export type { CmdlineCase };

const GENERAL_CASES: readonly CmdlineCase[] = [
  // --- valid lines from QEMU's documentation (docs/system/devices/nvme.rst, nvdimm.txt, virtio-pmem.rst)
  {
    name: 'nvme with a legacy drive namespace',
    argv: [...DRIVE, ...d('nvme,serial=deadbeef,drive=nvm')],
    expect: 'ok',
  },
  {
    name: 'nvme with an nvme-ns namespace',
    argv: [...NVME, ...d('nvme-ns,drive=nvm,nsid=1')],
    expect: 'ok',
  },
  {
    name: 'nvme-subsys with two controllers sharing a namespace',
    argv: [
      ...DRIVE,
      ...d('nvme-subsys,id=nvme-subsys-0,nqn=subsys0'),
      ...d('nvme,serial=a,subsys=nvme-subsys-0'),
      ...d('nvme,serial=a,subsys=nvme-subsys-0'),
      ...d('nvme-ns,drive=nvm,nsid=1'),
    ],
    expect: 'ok',
  },
  {
    name: 'nvme-ns on a named controller bus',
    argv: [...DRIVE, ...d('nvme,serial=x,id=c1'), ...d('nvme-ns,drive=nvm,bus=c1')],
    expect: 'ok',
  },
  {
    name: 'nvdimm with a label area, slots and maxmem',
    argv: [
      '-machine',
      'pc,nvdimm=on',
      '-m',
      '4G,slots=4,maxmem=32G',
      ...PM,
      ...d('nvdimm,id=nvdimm1,memdev=mem1,label-size=128K'),
    ],
    expect: 'ok',
  },
  {
    name: 'nvdimm with nvdimm-persistence=cpu on q35',
    argv: [
      '-machine',
      'q35,nvdimm=on,nvdimm-persistence=cpu',
      '-m',
      '2G,slots=2,maxmem=8G',
      ...PM,
      ...d('nvdimm,id=nv1,memdev=mem1,unarmed=on'),
    ],
    expect: 'ok',
  },
  {
    name: 'virtio-pmem with the short-form share flag warns as QEMU does',
    argv: [
      '-machine',
      'pc',
      '-m',
      '2G,slots=2,maxmem=8G',
      ...o('memory-backend-file,id=mem1,share,mem-path=pm.img,size=1G'),
      ...d('virtio-pmem-pci,memdev=mem1,id=nv1'),
    ],
    expect: 'ok',
    warning:
      "nvmemu: -object memory-backend-file,id=mem1,share,mem-path=pm.img,size=1G: warning: short-form boolean option 'share' deprecated\nPlease use share=on instead\n",
  },
  {
    name: 'the deprecated num_queues warns with the option prefix',
    argv: d('nvme,serial=x,num_queues=4'),
    expect: 'ok',
    warning:
      'nvmemu: -device nvme,serial=x,num_queues=4: warning: num_queues is deprecated; please use max_ioqpairs instead\n',
  },
  { name: 'memory-backend-ram alone', argv: o('memory-backend-ram,id=m,size=64M'), expect: 'ok' },
  {
    name: 'repeated -machine options merge',
    argv: [
      '-machine',
      'pc',
      '-machine',
      'nvdimm=on',
      '-m',
      '2G,slots=2,maxmem=8G',
      ...PM,
      ...d('nvdimm,memdev=mem1'),
    ],
    expect: 'ok',
  },
  {
    name: 'a -device given as JSON',
    argv: [...DRIVE, ...d('{"driver":"nvme","serial":"x","drive":"nvm"}')],
    expect: 'ok',
  },

  // --- argv and machine
  { name: 'an unknown option', argv: ['-foo'], expect: '-foo: invalid option' },
  {
    name: 'an option without its argument',
    argv: ['-device'],
    expect: '-device: requires an argument',
  },
  {
    name: 'an unknown machine type',
    argv: ['-machine', 'nosuch'],
    expect: 'unsupported machine type\nUse -machine help to list supported machines',
  },
  {
    name: 'an unknown machine property',
    argv: ['-machine', 'foo=1'],
    expect: "Property 'pc-i440fx-7.2-machine.foo' not found",
  },
  {
    name: 'an unknown q35 machine property',
    argv: ['-machine', 'q35,foo=1'],
    expect: "Property 'pc-q35-7.2-machine.foo' not found",
  },
  {
    name: 'a bad nvdimm boolean',
    argv: ['-machine', 'pc,nvdimm=maybe'],
    expect: "Parameter 'nvdimm' expects 'on' or 'off'",
  },
  {
    name: 'the short-form nvdimm flag on -machine',
    argv: ['-machine', 'pc,nvdimm'],
    expect: "-machine pc,nvdimm: Expected '=' after parameter 'nvdimm'",
  },
  {
    name: 'a bad nvdimm-persistence',
    argv: ['-machine', 'nvdimm-persistence=foo'],
    expect: '-machine nvdimm-persistence=foo: unsupported option',
  },
  {
    name: 'slots without maxmem',
    argv: ['-m', '4G,slots=4'],
    expect: 'slots specified but no max-size',
  },
  {
    name: 'maxmem equal to RAM with slots',
    argv: ['-m', '4G,maxmem=4G,slots=4'],
    expect:
      'invalid value of maxmem: memory slots were specified but maximum memory size (0x100000000) is equal to the initial memory size (0x100000000)',
  },
  {
    name: 'maxmem below RAM',
    argv: ['-m', '4G,maxmem=2G'],
    expect:
      'invalid value of maxmem: maximum memory size (0x80000000) must be at least the initial memory size (0x100000000)',
  },
  {
    name: 'too many slots',
    argv: ['-m', '2G,slots=300,maxmem=8G'],
    expect: 'unsupported amount of memory slots: 300',
  },
  {
    name: 'a bad -m size',
    argv: ['-m', 'abc'],
    expect:
      "-m abc: Parameter 'size' expects a non-negative number below 2^64\nOptional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.",
  },
  {
    name: 'an unknown -m parameter',
    argv: ['-m', '4G,foo=1'],
    expect: "-m 4G,foo=1: Invalid parameter 'foo'",
  },

  // --- -object memory-backend-*
  {
    name: 'an unknown object type',
    argv: o('foo,id=x'),
    expect: "-object foo,id=x: Parameter 'qom-type' does not accept value 'foo'",
  },
  {
    name: 'an unknown backend property',
    argv: o('memory-backend-ram,id=m,size=1G,foo=1'),
    expect: "-object memory-backend-ram,id=m,size=1G,foo=1: Invalid parameter 'foo'",
  },
  {
    name: 'a backend without id',
    argv: o('memory-backend-ram,size=1G'),
    expect: "-object memory-backend-ram,size=1G: Parameter 'id' is missing",
  },
  {
    name: 'a bad backend size',
    argv: o('memory-backend-ram,id=m,size=abc'),
    expect: "-object memory-backend-ram,id=m,size=abc: Parameter 'size' expects a size value",
  },
  {
    name: 'a zero backend size',
    argv: o('memory-backend-ram,id=m,size=0'),
    expect: "property 'size' of memory-backend-ram doesn't take value '0'",
  },
  {
    name: 'a duplicate object id',
    argv: [...o('memory-backend-ram,id=m,size=1G'), ...o('memory-backend-ram,id=m,size=1G')],
    expect: "-object memory-backend-ram,id=m,size=1G: Duplicate ID 'm' for object",
  },
  {
    name: 'a bad share boolean',
    argv: o('memory-backend-ram,id=m,size=1G,share=maybe'),
    expect:
      "-object memory-backend-ram,id=m,size=1G,share=maybe: Parameter 'share' expects 'on' or 'off'",
  },
  {
    name: 'a bad prealloc-threads',
    argv: o('memory-backend-ram,id=m,size=1G,prealloc-threads=abc'),
    expect:
      "-object memory-backend-ram,id=m,size=1G,prealloc-threads=abc: Parameter 'prealloc-threads' expects a uint64 value",
  },
  {
    name: 'a file backend without mem-path',
    argv: o('memory-backend-file,id=m,size=1G'),
    expect: "-object memory-backend-file,id=m,size=1G: Parameter 'mem-path' is missing",
  },
  {
    name: 'an align that is not a page multiple',
    argv: o('memory-backend-file,id=mem1,mem-path=pm.img,size=1G,align=3K'),
    expect: 'alignment 0xc00 must be multiples of page size 0x1000',
  },
  {
    name: 'an align that is not a power of two',
    argv: o('memory-backend-file,id=mem1,mem-path=pm.img,size=1G,align=12K'),
    expect: 'alignment 0x3000 must be a power of two',
  },
  {
    name: 'prealloc with reserve=off',
    argv: o('memory-backend-file,id=mem1,mem-path=pm.img,size=1G,prealloc=on,reserve=off'),
    expect: "'prealloc=on' and 'reserve=off' are incompatible",
  },
  {
    name: 'a backing file in a missing folder',
    argv: o('memory-backend-file,id=mem1,mem-path=/nonexist/dir/f.img,size=1G'),
    expect: "can't open backing store /nonexist/dir/f.img for guest RAM: No such file or directory",
  },
  {
    name: 'a backing file smaller than size',
    argv: o('memory-backend-file,id=mem1,mem-path=small.img,size=2M'),
    expect: "backing store size 0x100000 does not match 'size' option 0x200000",
  },
  {
    name: 'a policy that needs host-nodes',
    argv: o('memory-backend-ram,id=m,size=1G,policy=bind'),
    expect: 'host-nodes must be set for policy bind',
  },

  // --- -drive
  {
    name: 'a duplicate drive id',
    argv: [
      '-drive',
      'file=nvm.img,if=none,id=d,format=raw',
      '-drive',
      'file=nvm.img,if=none,id=d,format=raw',
    ],
    expect: "-drive file=nvm.img,if=none,id=d,format=raw: Duplicate ID 'd' for drive",
  },
  {
    name: 'a missing image',
    argv: ['-drive', 'file=nope.img,if=none,id=d,format=raw'],
    expect:
      "-drive file=nope.img,if=none,id=d,format=raw: Could not open 'nope.img': No such file or directory",
  },
  {
    name: 'an unknown image format',
    argv: ['-drive', 'file=nvm.img,if=none,id=d,format=qcow9'],
    expect: "-drive file=nvm.img,if=none,id=d,format=qcow9: Unknown driver 'qcow9'",
  },
  {
    name: 'a drive without file',
    argv: ['-drive', 'if=none,id=d,format=raw'],
    expect: '-drive if=none,id=d,format=raw: A block device must be specified for "file"',
  },
  {
    name: 'an unknown drive option',
    argv: ['-drive', 'file=nvm.img,id=d,format=raw,if=none,foo=1'],
    expect:
      "-drive file=nvm.img,id=d,format=raw,if=none,foo=1: Block format 'raw' does not support the option 'foo'",
  },

  {
    name: "a drive on QEMU's thread-pool data path",
    argv: ['-drive', 'file=nvm.img,if=none,id=d,format=raw,aio=threads'],
    expect: 'ok',
  },
  {
    name: 'a drive with Linux native AIO, which nvmemu does not emulate',
    argv: ['-drive', 'file=nvm.img,if=none,id=d,format=raw,aio=native,cache=none'],
    expect:
      '-drive file=nvm.img,if=none,id=d,format=raw,aio=native,cache=none: aio=native is not supported by nvmemu (use aio=threads or aio=sync)',
    qemu: false,
  },
];

export const CMDLINE_CASES: readonly CmdlineCase[] = [
  ...GENERAL_CASES,
  ...NVME_CASES,
  ...PMEM_CASES,
];
