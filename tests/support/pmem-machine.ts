// A folder with the backing files of a small pmem machine (an nvdimm per persistence domain and
// a virtio-pmem device) and the `nvmemu run` arguments for it; used by the libpmem2 tests that
// drive a running machine.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MiB = 1 << 20;

export interface PmemMachineFolder {
  readonly dir: string;
  /** `nvmemu run` arguments: nvdimm nv1 (16 MiB, 128 KiB labels) and virtio-pmem vp1 (8 MiB). */
  args(data: string, persistence: 'cpu' | 'mem-ctrl'): string[];
  remove(): void;
}

export function pmemMachineFolder(): PmemMachineFolder {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-pmem2-'));
  for (const [f, size] of [
    ['nv-mem-ctrl.img', 16 * MiB],
    ['nv-cpu.img', 16 * MiB],
    ['vp.img', 8 * MiB],
  ] as const) {
    writeFileSync(join(dir, f), '');
    truncateSync(join(dir, f), size);
  }
  return {
    dir,
    args: (data, persistence) => [
      '--listen',
      'none',
      '--data',
      data,
      '-machine',
      `pc,nvdimm=on,nvdimm-persistence=${persistence}`,
      '-m',
      '1G,slots=4,maxmem=8G',
      '-object',
      `memory-backend-file,id=m1,share=on,mem-path=${join(dir, `nv-${persistence}.img`)},size=16M`,
      '-device',
      'nvdimm,id=nv1,memdev=m1,label-size=128K',
      '-object',
      `memory-backend-file,id=m2,share=on,mem-path=${join(dir, 'vp.img')},size=8M`,
      '-device',
      'virtio-pmem-pci,id=vp1,memdev=m2',
    ],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
