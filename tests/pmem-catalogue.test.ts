// Every pmem command line of QEMU 7.2's measured catalogue (memory backends, nvdimm,
// virtio-pmem-pci), byte for byte including which messages carry the `-object ...:` /
// `-device ...:` prefix, plus the checks QEMU has that the catalogue does not exercise.
// Every failing line must leave the working folder exactly as it was.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, scratch } from './pmem-harness.js';

interface Case {
  readonly argv: string;
  /** 'ok' or the exact stderr after `nvmemu: `. */
  readonly expect: string;
  /** For 'ok' lines, the exact stderr (warnings). */
  readonly stderr?: string;
}

const NV = '-machine pc,nvdimm=on -m 2G,slots=2,maxmem=8G';
const PM = '-object memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G';
const PM2 = '-object memory-backend-file,id=mem2,share=on,mem-path=pm.img,size=1G';
const M = '-m 2G,slots=2,maxmem=8G';

/** Lines and outputs of QEMU 7.2 (qemu-system-x86_64 → nvmemu). */
const QEMU_CATALOGUE: readonly Case[] = [
  {
    argv: '-object memory-backend-ram,id=m,size=1G,foo=1',
    expect: "-object memory-backend-ram,id=m,size=1G,foo=1: Invalid parameter 'foo'",
  },
  {
    argv: '-object memory-backend-ram,size=1G',
    expect: "-object memory-backend-ram,size=1G: Parameter 'id' is missing",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=abc',
    expect: "-object memory-backend-ram,id=m,size=abc: Parameter 'size' expects a size value",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=0',
    expect: "property 'size' of memory-backend-ram doesn't take value '0'",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G -object memory-backend-ram,id=m,size=1G',
    expect: "-object memory-backend-ram,id=m,size=1G: Duplicate ID 'm' for object",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,share=maybe',
    expect:
      "-object memory-backend-ram,id=m,size=1G,share=maybe: Parameter 'share' expects 'on' or 'off'",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,prealloc-threads=abc',
    expect:
      "-object memory-backend-ram,id=m,size=1G,prealloc-threads=abc: Parameter 'prealloc-threads' expects a uint64 value",
  },
  {
    argv: '-object memory-backend-file,id=m,size=1G',
    expect: "-object memory-backend-file,id=m,size=1G: Parameter 'mem-path' is missing",
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,align=3K',
    expect: 'alignment 0xc00 must be multiples of page size 0x1000',
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,align=12K',
    expect: 'alignment 0x3000 must be a power of two',
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,prealloc=on,reserve=off',
    expect: "'prealloc=on' and 'reserve=off' are incompatible",
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=/nonexist/dir/f.img,size=1G',
    expect: "can't open backing store /nonexist/dir/f.img for guest RAM: No such file or directory",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,prealloc-threads=0',
    expect: "property 'prealloc-threads' of memory-backend-ram doesn't take value '0'",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,policy=bind',
    expect: 'host-nodes must be set for policy bind',
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,host-nodes=0',
    expect:
      'host-nodes must be empty for policy default, or you should explicitly specify a policy other than default',
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=small.img,size=2M',
    expect: "backing store size 0x100000 does not match 'size' option 0x200000",
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,readonly=on,share=on',
    expect: 'ok',
  },
  {
    argv: '-object memory-backend-ram,id=m',
    expect: "-object memory-backend-ram,id=m: Parameter 'size' is missing",
  },
  { argv: '-object memory-backend-file,id=m,mem-path=pm.img,size=1G,align=4M', expect: 'ok' },
  {
    argv: '-object memory-backend-file,id=m,mem-path=pm.img,size=1G,discard-data=on,pmem=on,dump=off,merge=off',
    expect: 'ok',
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,policy=foo',
    expect:
      "-object memory-backend-ram,id=m,size=1G,policy=foo: Parameter 'policy' does not accept value 'foo'",
  },
  {
    argv: `-machine pc,nvdimm=on ${PM} -device nvdimm,id=nv1,memdev=mem1`,
    expect:
      "-device nvdimm,id=nv1,memdev=mem1: no slots where allocated, please specify the 'slots' option",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,label-size=64K`,
    expect:
      "-device nvdimm,id=nv1,memdev=mem1,label-size=64K: Property 'nvdimm.label-size' (0x10000) is required at least 0x20000",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1 -device nvdimm,id=nv2,memdev=mem1`,
    expect: "-device nvdimm,id=nv2,memdev=mem1: can't use already busy memdev: mem1",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1`,
    expect: "-device nvdimm,id=nv1: 'memdev' property must be set",
  },
  {
    argv: `-machine pc,nvdimm=on -m 2G,slots=2,maxmem=3G ${PM} ${PM2} -device nvdimm,id=nv1,memdev=mem1 -device nvdimm,id=nv2,memdev=mem2`,
    expect:
      '-device nvdimm,id=nv2,memdev=mem2: not enough space, currently 0x40000000 in use of total space for memory devices 0x40000000',
  },
  {
    argv: `-machine pc,nvdimm=on -m 2G,slots=1,maxmem=8G ${PM} ${PM2} -device nvdimm,id=nv1,memdev=mem1 -device nvdimm,id=nv2,memdev=mem2`,
    expect: '-device nvdimm,id=nv2,memdev=mem2: no free slots available',
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,slot=5`,
    expect: '-device nvdimm,id=nv1,memdev=mem1,slot=5: invalid slot number 5, valid range is [0-1]',
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,addr=0x1000`,
    expect:
      "-device nvdimm,id=nv1,memdev=mem1,addr=0x1000: can't add memory device [0x1000:0x40000000], usable range for memory devices [0x100000000:0x200000000]",
  },
  { argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,addr=0x100001000`, expect: 'ok' },
  {
    argv: `${NV} ${PM} ${PM2} -device nvdimm,id=nv1,memdev=mem1,slot=0 -device nvdimm,id=nv2,memdev=mem2,slot=0`,
    expect: '-device nvdimm,id=nv2,memdev=mem2,slot=0: slot 0 is busy',
  },
  {
    argv: `${NV} ${PM} ${PM2} -device nvdimm,id=nv1,memdev=mem1,addr=0x100000000 -device nvdimm,id=nv2,memdev=mem2,addr=0x100000000`,
    expect:
      "-device nvdimm,id=nv2,memdev=mem2,addr=0x100000000: address range conflicts with memory device id='nv1'",
  },
  {
    argv: `${NV} -object memory-backend-file,id=mem1,share=on,mem-path=small.img,size=1M -device nvdimm,id=nv1,memdev=mem1,label-size=1M`,
    expect:
      '-device nvdimm,id=nv1,memdev=mem1,label-size=1M: the size of memdev mem1 (0x100000) is too small to contain nvdimm label (0x100000) and aligned PMEM (0x1000)',
  },
  {
    argv: `${NV} -object memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G,readonly=on -device nvdimm,id=nv1,memdev=mem1`,
    expect:
      "-device nvdimm,id=nv1,memdev=mem1: 'unarmed' property must be 'on' since memdev mem1 is read-only",
  },
  {
    argv: `${M} ${PM} -device nvdimm,id=nv1,memdev=mem1`,
    expect: "-device nvdimm,id=nv1,memdev=mem1: nvdimm is not enabled: missing 'nvdimm' in '-M'",
  },
  {
    argv: `${M} ${PM} -device virtio-pmem-pci,id=vp`,
    expect: "-device virtio-pmem-pci,id=vp: 'memdev' property must be set",
  },
  {
    argv: `${PM} -device virtio-pmem-pci,id=vp,memdev=mem1`,
    expect:
      '-device virtio-pmem-pci,id=vp,memdev=mem1: memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option',
  },
  {
    argv: `${M} ${PM} -device virtio-pmem-pci,id=vp,memdev=mem1 -device virtio-pmem-pci,id=vp2,memdev=mem1`,
    expect: "-device virtio-pmem-pci,id=vp2,memdev=mem1: can't use already busy memdev: mem1",
  },
  {
    argv: `${M} ${PM} -device virtio-pmem-pci,id=vp,memdev=mem1,memaddr=0x1000`,
    expect:
      "-device virtio-pmem-pci,id=vp,memdev=mem1,memaddr=0x1000: can't add memory device [0x1000:0x40000000], usable range for memory devices [0x100000000:0x200000000]",
  },
  {
    argv: `${M} -object memory-backend-ram,id=mem1,size=1G -device virtio-pmem-pci,id=vp,memdev=mem1`,
    expect: 'ok',
  },
];

/**
 * Checks QEMU 7.2 has on these paths that the catalogue does not exercise (wording from
 * the QEMU sources), and nvmemu's documented extensions.
 */
const BEYOND_CATALOGUE: readonly Case[] = [
  // QEMU 7.2 rejects `offset` ("Invalid parameter 'offset'"); nvmemu accepts it (QEMU 8.1).
  { argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=512M,offset=4K', expect: 'ok' },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=512M,offset=1K',
    expect: 'offset 0x400 must be multiples of page size 0x1000',
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=small.img,size=1M,offset=4K',
    expect:
      "backing store size 0x100000 is too small for 'size' option 0x100000 plus 'offset' option 0x1000",
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,rom=on',
    expect: "property 'rom' = 'on' is not supported with 'readonly' = 'off'",
  },
  {
    argv: '-object memory-backend-file,id=mem1,mem-path=pm.img,size=1G,rom=off,readonly=on,share=on',
    expect: "property 'rom' = 'off' is incompatible with 'readonly' = 'on' and 'share' = 'on'",
  },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,policy=bind,host-nodes=200',
    expect: 'Invalid host-nodes value: 200',
  },
  { argv: '-object memory-backend-ram,id=m,size=4M,policy=bind,host-nodes=0', expect: 'ok' },
  {
    argv: '-object memory-backend-ram,id=m,size=1G,prealloc-context=tc',
    expect: "Device 'tc' not found",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=nope`,
    expect: "-device nvdimm,id=nv1,memdev=nope: Device 'nope' not found",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1 -device nvdimm,id=nv2,memdev=nv1`,
    expect:
      "-device nvdimm,id=nv2,memdev=nv1: Invalid parameter type for 'memdev', expected: memory-backend",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,size=4096`,
    expect:
      '-device nvdimm,id=nv1,memdev=mem1,size=4096: Insufficient permission to perform this operation',
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,node=1`,
    expect:
      "-device nvdimm,id=nv1,memdev=mem1,node=1: 'DIMM property node has value 1' which exceeds the number of numa nodes: 1",
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,addr=0x100000800`,
    expect:
      '-device nvdimm,id=nv1,memdev=mem1,addr=0x100000800: address must be aligned to 0x1000 bytes',
  },
  {
    argv: `${M} -object memory-backend-ram,id=mem1,size=3M -device virtio-pmem-pci,id=vp,memdev=mem1`,
    expect:
      '-device virtio-pmem-pci,id=vp,memdev=mem1: backend memory size must be multiple of 0x200000',
  },
  {
    argv:
      '-machine pc,nvdimm=on -m 2G,slots=1,maxmem=3076M ' +
      '-object memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G,align=1G ' +
      '-object memory-backend-ram,id=r1,size=2M -object memory-backend-ram,id=r2,size=2M ' +
      '-device virtio-pmem-pci,id=vp1,memdev=r1,memaddr=0x100200000 ' +
      '-device virtio-pmem-pci,id=vp2,memdev=r2,memaddr=0x140200000 -device nvdimm,id=nv1,memdev=mem1',
    expect:
      '-device nvdimm,id=nv1,memdev=mem1: could not find position in guest address space for memory device - memory fragmented due to alignments',
  },
  {
    argv: `${NV} ${PM} -device nvdimm,id=nv1,memdev=mem1,slot=-2`,
    expect:
      '-device nvdimm,id=nv1,memdev=mem1,slot=-2: invalid slot number -2, valid range is [0-1]',
  },
  {
    argv: `${NV} -object memory-backend-file,id=mem1,share=on,mem-path=pm.img,size=1G,pmem=on -device nvdimm,id=nv1,memdev=mem1`,
    expect: 'ok',
    stderr:
      'Warning: requesting persistence across crashes for backend file DIR/pm.img failed. Proceeding without persistence, data might become corrupted in case of host crash.\n' +
      "nvmemu: warning: Using non DAX backing file with 'pmem=on' option is deprecated\n",
  },
];

let dir = '';
const home = process.cwd();

function snapshot(): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return `${f}:${st.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}`}`;
    })
    .join('\n');
}

before(() => {
  dir = scratch('nvmemu-pmem-cat-');
  process.chdir(dir);
});

after(() => {
  process.chdir(home === dir ? tmpdir() : home);
  rmSync(dir, { recursive: true, force: true });
});

function table(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(`${c.argv} → ${c.expect === 'ok' ? 'starts' : c.expect}`, async () => {
        const before = snapshot();
        const r = await build(c.argv.split(' '), join(dir, 'data'));
        if (c.expect === 'ok') {
          assert.ok(r.machine !== undefined, `start failed: ${r.stderr}`);
          await r.machine.shutdown();
          assert.equal(r.stderr, (c.stderr ?? '').replaceAll('DIR', dir));
        } else {
          assert.equal(r.machine, undefined);
          assert.equal(r.stderr, `nvmemu: ${c.expect}\n`);
          assert.equal(snapshot(), before, 'a failed start must not touch the disk');
        }
      });
    }
  });
}

table("QEMU 7.2's measured messages", QEMU_CATALOGUE);
table('checks beyond the catalogue (QEMU source wording, nvmemu extensions)', BEYOND_CATALOGUE);
