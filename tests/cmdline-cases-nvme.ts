// -device nvme, nvme-subsys and nvme-ns lines of the command-line table (see cmdline-cases.ts).

import { type CmdlineCase, d, DRIVE, NS, SUBSYS, SRIOV } from './cmdline-common.js';

export const NVME_CASES: readonly CmdlineCase[] = [
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
];
