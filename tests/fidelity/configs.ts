// The device configurations whose answers are recorded from QEMU 7.2 and QEMU 10.0 (issue 21
// phase 1). One definition serves the qtest recorder (record-qemu.ts), the guest script
// (tests/guest/nvme-cli-2.13.sh reads the arguments through qemu-args.ts) and, in phase 2,
// nvmemu's own run of the same command lines. Images are raw files of IMAGE_MB MiB.

export const IMAGE_MB = 64;

export interface FidelityConfig {
  /** Fixture file stem and the name the scripts take. */
  readonly name: string;
  readonly title: string;
  /** Controller serial (distinct per configuration so one guest can hold them all). */
  readonly serial: string;
  /** Number of backing images, referred to as drives `<name>0`, `<name>1`, ... */
  readonly images: number;
  /** `-device` values for QEMU 10.0 (and nvmemu's 10.0 level). */
  readonly devices: readonly string[];
  /** `-device` values for QEMU 7.2 when they must differ (properties 7.2 lacks). */
  readonly devices72?: readonly string[];
  /** Why `devices72` differs, for the fixture README. */
  readonly note72?: string;
}

/** Drive id of image `i` of configuration `name` (letters, digits: QEMU ids). */
export function driveId(c: FidelityConfig, i: number): string {
  return `${c.name}${i}`;
}

export const CONFIGS: readonly FidelityConfig[] = [
  {
    name: 'default',
    title: '(a) default controller with one nvme-ns',
    serial: 'fidelity-default',
    images: 1,
    devices: ['nvme,id=default,serial=fidelity-default', 'nvme-ns,drive=default0,nsid=1'],
  },
  {
    name: 'legacy',
    title: "(a') default controller with the legacy drive= namespace",
    serial: 'fidelity-legacy',
    images: 1,
    devices: ['nvme,id=legacy,serial=fidelity-legacy,drive=legacy0'],
  },
  {
    name: 'zoned',
    title: '(b) zoned namespace (8 MiB zones, 4 open / 6 active)',
    serial: 'fidelity-zoned',
    images: 1,
    devices: [
      'nvme,id=zoned,serial=fidelity-zoned',
      'nvme-ns,drive=zoned0,nsid=1,zoned=on,zoned.zone_size=8M,zoned.max_open=4,zoned.max_active=6',
    ],
  },
  {
    name: 'fdp',
    title:
      '(c) FDP subsystem (8 handles, 1 MiB units): NS 1 with handles 0-3, NS 2 controller-assigned',
    serial: 'fidelity-fdp',
    images: 2,
    devices: [
      'nvme-subsys,id=fdpsub,nqn=fdpsub,fdp=on,fdp.nruh=8,fdp.runs=1M',
      'nvme,id=fdp,serial=fidelity-fdp,subsys=fdpsub',
      'nvme-ns,drive=fdp0,nsid=1,fdp.ruhs=0-3',
      'nvme-ns,drive=fdp1,nsid=2',
    ],
    devices72: [
      'nvme-subsys,id=fdpsub,nqn=fdpsub',
      'nvme,id=fdp,serial=fidelity-fdp,subsys=fdpsub',
      'nvme-ns,drive=fdp0,nsid=1',
      'nvme-ns,drive=fdp1,nsid=2',
    ],
    note72:
      'QEMU 7.2 has no fdp, fdp.* (nvme-subsys) or fdp.ruhs (nvme-ns) properties; it runs the same subsystem without them',
  },
  {
    name: 'pi',
    title: '(d) protection information type 1 (ms=8, pi=1, separate metadata)',
    serial: 'fidelity-pi',
    images: 1,
    devices: ['nvme,id=pi,serial=fidelity-pi', 'nvme-ns,drive=pi0,nsid=1,ms=8,pi=1'],
  },
  {
    name: 'sriov',
    title: '(e) SR-IOV primary controller (2 VFs, 4 flexible queues, 2 flexible vectors)',
    serial: 'fidelity-sriov',
    images: 1,
    devices: [
      'nvme-subsys,id=sriovsub,nqn=sriovsub',
      'nvme,id=sriov,serial=fidelity-sriov,subsys=sriovsub,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=6,msix_qsize=4',
      'nvme-ns,drive=sriov0,nsid=1',
    ],
  },
];

export type QemuVersion = '7.2' | '10.0';

export function devicesFor(c: FidelityConfig, v: QemuVersion): readonly string[] {
  return v === '7.2' && c.devices72 !== undefined ? c.devices72 : c.devices;
}

/** `-drive` arguments for the configuration's images (paths from `imagePath`). */
export function driveArgs(c: FidelityConfig, imagePath: (i: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.images; i++) {
    out.push('-drive', `file=${imagePath(i)},if=none,id=${driveId(c, i)},format=raw`);
  }
  return out;
}

export function configNamed(name: string): FidelityConfig {
  const c = CONFIGS.find((x) => x.name === name);
  if (c === undefined) {
    throw new Error(
      `unknown configuration '${name}' (one of ${CONFIGS.map((x) => x.name).join(', ')})`,
    );
  }
  return c;
}
