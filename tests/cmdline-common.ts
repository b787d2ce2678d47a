// Shared pieces of the command-line table (tests/cmdline-cases*.ts): the case shape and the
// option builders. Files named in the cases (nvm.img 64 MiB, nvm2.img 64 MiB, pm.img 1 GiB,
// small.img 1 MiB) exist in the test's folder.

export interface CmdlineCase {
  readonly name: string;
  readonly argv: readonly string[];
  readonly expect: string;
  /** For 'ok' lines: the exact warnings printed (stderr). */
  readonly warning?: string;
  readonly qemu?: false;
}

export const d = (s: string) => ['-device', s];
export const o = (s: string) => ['-object', s];
export const DRIVE = ['-drive', 'file=nvm.img,if=none,id=nvm,format=raw'];
export const NVME = [...DRIVE, ...d('nvme,serial=x')];
export const NS = (props: string) => [...NVME, ...d(`nvme-ns,drive=nvm${props}`)];
export const PMEM_MACHINE = ['-machine', 'pc,nvdimm=on', '-m', '2G,slots=2,maxmem=8G'];
export const PM = o('memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G');
export const SUBSYS = d('nvme-subsys,id=s');
export const SRIOV = (props: string) => [
  ...SUBSYS,
  ...d(`nvme,serial=x,subsys=s,sriov_max_vfs=2${props}`),
];
