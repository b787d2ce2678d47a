// The machine `npm start` runs when no options are given: one NVMe controller in a subsystem
// with a namespace and a zoned namespace (64 MiB zones), one NVDIMM with a label area (ready for `ndctl`), and one virtio-pmem
// device. Images are created sparse in the data folder the first time and reused afterwards.

import { existsSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParsedArgs } from '../config/options.js';

const NVME_IMAGE_SIZE = 1n << 30n;

/** The default machine's command line, with image paths inside `dataDir`. */
export function defaultMachineArgv(dataDir: string): string[] {
  const f = (name: string) => join(dataDir, name).replaceAll(',', ',,');
  return [
    '-machine',
    'pc,nvdimm=on,nvdimm-persistence=mem-ctrl',
    '-m',
    '512M,slots=4,maxmem=16G',
    '-drive',
    `file=${f('nvme0n1.img')},if=none,id=nvm0,format=raw`,
    '-drive',
    `file=${f('zns0n1.img')},if=none,id=zns0,format=raw`,
    '-device',
    'nvme-subsys,id=subsys0,nqn=subsys0',
    '-device',
    'nvme,id=nvme0,serial=nvmemu0001,subsys=subsys0',
    '-device',
    'nvme-ns,drive=nvm0,nsid=1',
    '-device',
    'nvme-ns,drive=zns0,nsid=2,zoned=on,zoned.zone_size=64M',
    // 1 GiB of PMEM plus a 2 MiB label area at the end of the backend (QEMU's layout).
    '-object',
    `memory-backend-file,id=pmem0,share=on,mem-path=${f('nvdimm0.img')},size=1026M`,
    '-device',
    'nvdimm,id=nvdimm0,memdev=pmem0,label-size=2M',
    '-object',
    `memory-backend-file,id=vpmem0mem,share=on,mem-path=${f('virtio-pmem0.img')},size=256M`,
    '-device',
    'virtio-pmem-pci,id=vpmem0,memdev=vpmem0mem',
  ];
}

/**
 * Creates missing drive images (sparse) and returns the parsed default command line.
 * Paths of files it created are appended to `created` so a failed start can remove them.
 */
export async function defaultMachineArgs(dataDir: string, created: string[]): Promise<ParsedArgs> {
  for (const name of ['nvme0n1.img', 'zns0n1.img']) {
    const image = join(dataDir, name);
    if (existsSync(image)) continue;
    const fd = openSync(image, 'wx');
    created.push(image);
    try {
      ftruncateSync(fd, Number(NVME_IMAGE_SIZE));
    } finally {
      closeSync(fd);
    }
  }
  return Promise.resolve(parseArgs(defaultMachineArgv(dataDir)));
}
