// The command-line table shared by tests/cmdline.test.ts (our outcome) and
// tests/qemu-differential.test.ts (QEMU 7.2's outcome for the same line). Files named here
// (nvm.img 64 MiB, nvm2.img 64 MiB, pm.img 1 GiB, small.img 1 MiB) exist in the test's folder.
//
// `expect` is 'ok' or the exact message after the program-name prefix. `qemu: false` marks
// lines where nvmemu deliberately differs from (or goes beyond) QEMU; the differential test
// skips those.

export interface CmdlineCase {
  readonly name: string;
  readonly argv: readonly string[];
  readonly expect: string;
  /** For 'ok' lines: the exact warnings printed (stderr). */
  readonly warning?: string;
  readonly qemu?: false;
}

const d = (s: string) => ['-device', s];
const o = (s: string) => ['-object', s];
const DRIVE = ['-drive', 'file=nvm.img,if=none,id=nvm,format=raw'];
const NVME = [...DRIVE, ...d('nvme,serial=x')];
const NS = (props: string) => [...NVME, ...d(`nvme-ns,drive=nvm${props}`)];
const PMEM_MACHINE = ['-machine', 'pc,nvdimm=on', '-m', '2G,slots=2,maxmem=8G'];
const PM = o('memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G');
const SUBSYS = d('nvme-subsys,id=s');
const SRIOV = (props: string) => [
  ...SUBSYS,
  ...d(`nvme,serial=x,subsys=s,sriov_max_vfs=2${props}`),
];

export const CMDLINE_CASES: readonly CmdlineCase[] = [
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

  // --- -device nvme / nvme-subsys
  {
    name: 'an unknown device type',
    argv: d('foo'),
    expect: "-device foo: 'foo' is not a valid device model name",
  },
  {
    name: 'an unknown nvme property',
    argv: d('nvme,foo=1'),
    expect: "-device nvme,foo=1: Property 'nvme.foo' not found",
  },
  {
    name: 'a non-numeric max_ioqpairs',
    argv: d('nvme,serial=x,max_ioqpairs=abc'),
    expect: "-device nvme,serial=x,max_ioqpairs=abc: Parameter 'max_ioqpairs' expects integer",
  },
  {
    name: 'an aerl beyond uint8',
    argv: d('nvme,serial=x,aerl=300'),
    expect: "-device nvme,serial=x,aerl=300: Parameter 'aerl' expects uint8_t",
  },
  {
    name: 'a negative uint16 wraps and fails the range check',
    argv: d('nvme,serial=x,sriov_vi_flexible=-1'),
    expect:
      "-device nvme,serial=x,sriov_vi_flexible=-1: Parameter 'sriov_vi_flexible' expects uint16_t",
  },
  { name: 'nvme without serial', argv: d('nvme'), expect: '-device nvme: serial property not set' },
  {
    name: 'zero max_ioqpairs',
    argv: d('nvme,serial=x,max_ioqpairs=0'),
    expect: '-device nvme,serial=x,max_ioqpairs=0: max_ioqpairs must be between 1 and 65535',
  },
  {
    name: 'zero msix_qsize',
    argv: d('nvme,serial=x,msix_qsize=0'),
    expect: '-device nvme,serial=x,msix_qsize=0: msix_qsize must be between 1 and 2048',
  },
  {
    name: 'zero vsl',
    argv: d('nvme,serial=x,vsl=0'),
    expect: '-device nvme,serial=x,vsl=0: vsl must be non-zero',
  },
  {
    name: 'zasl above mdts',
    argv: d('nvme,serial=x,zoned.zasl=9'),
    expect:
      '-device nvme,serial=x,zoned.zasl=9: zoned.zasl (Zone Append Size Limit) must be less than or equal to mdts (Maximum Data Transfer Size)',
  },
  {
    name: 'a dangling drive',
    argv: d('nvme,serial=x,drive=nope'),
    expect: "-device nvme,serial=x,drive=nope: Property 'nvme.drive' can't find value 'nope'",
  },
  {
    name: 'a dangling subsys',
    argv: d('nvme,serial=x,subsys=nope'),
    expect: "-device nvme,serial=x,subsys=nope: Device 'nope' not found",
  },
  {
    name: 'a drive used twice',
    argv: [...DRIVE, ...d('nvme,serial=x,drive=nvm'), ...d('nvme,serial=y,drive=nvm')],
    expect: "-device nvme,serial=y,drive=nvm: Drive 'nvm' is already in use by another device",
  },
  {
    name: 'a duplicate device id',
    argv: [...d('nvme,serial=x,id=a'), ...d('nvme,serial=y,id=a')],
    expect: "-device nvme,serial=y,id=a: Duplicate ID 'a' for device",
  },
  {
    name: 'a legacy drive inside a subsystem',
    argv: [...DRIVE, ...SUBSYS, ...d('nvme,serial=x,subsys=s,drive=nvm')],
    expect:
      "-device nvme,serial=x,subsys=s,drive=nvm: subsystem support is unavailable with legacy namespace ('drive' property)",
  },
  {
    name: 'controllers of one subsystem with different serials',
    argv: [...SUBSYS, ...d('nvme,serial=x,subsys=s'), ...d('nvme,serial=y,subsys=s')],
    expect: '-device nvme,serial=y,subsys=s: invalid controller serial',
  },
  {
    name: 'an unknown nvme-subsys property',
    argv: d('nvme-subsys,id=s,foo=1'),
    expect: "-device nvme-subsys,id=s,foo=1: Property 'nvme-subsys.foo' not found",
  },
  {
    name: 'SR-IOV without a subsystem',
    argv: d('nvme,serial=x,sriov_max_vfs=2'),
    expect: '-device nvme,serial=x,sriov_max_vfs=2: subsystem is required for the use of SR-IOV',
  },
  {
    name: 'too many VFs',
    argv: [...SUBSYS, ...d('nvme,serial=x,subsys=s,sriov_max_vfs=200')],
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=200: sriov_max_vfs must be between 0 and 127',
  },
  {
    name: 'CMB with SR-IOV',
    argv: SRIOV(',cmb_size_mb=2'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,cmb_size_mb=2: CMB is not supported with SR-IOV',
  },
  {
    name: 'SR-IOV without flexible resources',
    argv: SRIOV(''),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2: both sriov_vq_flexible and sriov_vi_flexible must be set for the use of SR-IOV',
  },
  {
    name: 'too few flexible queues',
    argv: SRIOV(',sriov_vq_flexible=2,sriov_vi_flexible=2'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,sriov_vq_flexible=2,sriov_vi_flexible=2: sriov_vq_flexible must be greater than or equal to 4 (sriov_max_vfs * 2)',
  },
  {
    name: 'too few flexible interrupts',
    argv: SRIOV(',sriov_vq_flexible=4,sriov_vi_flexible=1'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=1: sriov_vi_flexible must be greater than or equal to 2 (sriov_max_vfs)',
  },
  {
    name: 'flexible queues leaving fewer than two to the PF',
    argv: SRIOV(',sriov_vq_flexible=64,sriov_vi_flexible=2'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,sriov_vq_flexible=64,sriov_vi_flexible=2: (max_ioqpairs - sriov_vq_flexible) must be greater than or equal to 2',
  },
  {
    name: 'flexible interrupts leaving none to the PF',
    argv: SRIOV(',sriov_vq_flexible=4,sriov_vi_flexible=65'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=65: (msix_qsize - sriov_vi_flexible) must be greater than or equal to 1',
  },
  {
    name: 'one queue per VF',
    argv: SRIOV(',sriov_vq_flexible=4,sriov_vi_flexible=2,sriov_max_vq_per_vf=1'),
    expect:
      '-device nvme,serial=x,subsys=s,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,sriov_max_vq_per_vf=1: sriov_max_vq_per_vf must meet: (sriov_max_vq_per_vf - 1) % 1 == 0 and sriov_max_vq_per_vf >= 2',
  },

  // --- -device nvme-ns
  {
    name: 'nvme-ns without a drive',
    argv: [...d('nvme,serial=x'), ...d('nvme-ns')],
    expect: '-device nvme-ns: block backend not configured',
  },
  {
    name: 'nvme-ns without a controller',
    argv: [...DRIVE, ...d('nvme-ns,drive=nvm')],
    expect: "-device nvme-ns,drive=nvm: No 'nvme-bus' bus found for device 'nvme-ns'",
  },
  {
    name: 'nvme-ns on a missing bus',
    argv: [...DRIVE, ...d('nvme,serial=x,id=c1'), ...d('nvme-ns,drive=nvm,bus=nope')],
    expect: "-device nvme-ns,drive=nvm,bus=nope: Bus 'nope' not found",
  },
  {
    name: 'an invalid pi',
    argv: NS(',pi=4'),
    expect: "-device nvme-ns,drive=nvm,pi=4: invalid 'pi' value",
  },
  {
    name: 'a 32-bit guard pif',
    argv: NS(',pi=1,pif=1'),
    expect: "-device nvme-ns,drive=nvm,pi=1,pif=1: invalid 'pif'",
  },
  {
    name: 'pi without metadata',
    argv: NS(',pi=1'),
    expect:
      '-device nvme-ns,drive=nvm,pi=1: at least 8 bytes of metadata required to enable protection information',
  },
  {
    name: 'a 64-bit guard with 8 bytes of metadata',
    argv: NS(',pi=1,ms=8,pif=2'),
    expect:
      '-device nvme-ns,drive=nvm,pi=1,ms=8,pif=2: at least 16 bytes of metadata required to enable protection information',
  },
  {
    name: 'an nsid beyond 256',
    argv: NS(',nsid=300'),
    expect: '-device nvme-ns,drive=nvm,nsid=300: invalid namespace id (must be between 0 and 256)',
  },
  {
    name: 'a logical block size that is not a power of two',
    argv: NS(',logical_block_size=1000'),
    expect:
      "-device nvme-ns,drive=nvm,logical_block_size=1000: Property .logical_block_size doesn't take value '1000', it's not a power of 2",
  },
  {
    name: 'a logical block larger than the physical block',
    argv: NS(',logical_block_size=4096,physical_block_size=512'),
    expect:
      '-device nvme-ns,drive=nvm,logical_block_size=4096,physical_block_size=512: logical_block_size > physical_block_size not supported',
  },
  {
    name: 'a bad uuid',
    argv: NS(',uuid=zz'),
    expect: "-device nvme-ns,drive=nvm,uuid=zz: Property 'nvme-ns.uuid' doesn't take value 'zz'",
  },
  {
    name: 'detached without a subsystem',
    argv: NS(',detached=on'),
    expect:
      '-device nvme-ns,drive=nvm,detached=on: detached requires that the nvme device is linked to an nvme-subsys device',
  },
  {
    name: 'two namespaces with the same nsid in a subsystem',
    argv: [
      ...DRIVE,
      ...SUBSYS,
      ...d('nvme,serial=x,subsys=s'),
      ...d('nvme-ns,drive=nvm,nsid=1'),
      '-drive',
      'file=nvm2.img,if=none,id=n2,format=raw',
      ...d('nvme-ns,drive=n2,nsid=1'),
    ],
    expect: "-device nvme-ns,drive=n2,nsid=1: namespace id '1' already allocated",
  },
  {
    name: 'max_open above max_active',
    argv: NS(',zoned=on,zoned.max_open=4,zoned.max_active=2'),
    expect:
      '-device nvme-ns,drive=nvm,zoned=on,zoned.max_open=4,zoned.max_active=2: max_open_zones (4) exceeds max_active_zones (2)',
  },
  {
    name: 'a descriptor extension that is not a multiple of 64',
    argv: NS(',zoned=on,zoned.descr_ext_size=65'),
    expect:
      '-device nvme-ns,drive=nvm,zoned=on,zoned.descr_ext_size=65: zone descriptor extension size must be a multiple of 64B',
  },
  {
    name: 'a zone capacity above the zone size',
    argv: NS(',zoned=on,zoned.zone_capacity=256M'),
    expect:
      '-device nvme-ns,drive=nvm,zoned=on,zoned.zone_capacity=256M: zone capacity 268435456B exceeds zone size 134217728B',
  },
  {
    name: 'a drive smaller than one zone',
    argv: NS(',zoned=on'),
    expect:
      '-device nvme-ns,drive=nvm,zoned=on: insufficient drive capacity, must be at least the size of one zone (134217728B)',
  },
  {
    name: 'a bad zone size',
    argv: NS(',zoned.zone_size=abc'),
    expect:
      "-device nvme-ns,drive=nvm,zoned.zone_size=abc: Parameter 'zoned.zone_size' expects size",
  },

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
