import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bufferIo } from '../src/cli/io.js';
import { memmapCommand } from '../src/cli/memmap.js';
import {
  applyMemmap,
  formatEntry,
  memparse,
  parseE820,
  parseMemmap,
  sanitize,
} from '../src/pmem/memmap/e820.js';
import { checkMemmap, planMemmap } from '../src/pmem/memmap/plan.js';

// The QEMU guest with 20 GiB of RAM from the reference (§6.2).
const QEMU_20G = `[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
[    0.000000] BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000053fffffff] usable
`;

// A small bare-metal laptop-like table: 8 GiB, ACPI ranges, newer kernel type names.
const LAPTOP_8G = `BIOS-e820: [mem 0x0000000000000000-0x000000000009efff] System RAM
BIOS-e820: [mem 0x000000000009f000-0x00000000000fffff] device reserved
BIOS-e820: [mem 0x0000000000100000-0x000000007a8a6fff] System RAM
BIOS-e820: [mem 0x000000007a8a7000-0x000000007b0a6fff] device reserved
BIOS-e820: [mem 0x000000007b0a7000-0x000000007b2a6fff] ACPI NVS
BIOS-e820: [mem 0x000000007b2a7000-0x000000007b326fff] ACPI data
BIOS-e820: [mem 0x000000007b327000-0x000000007fffffff] System RAM
BIOS-e820: [mem 0x00000000e0000000-0x00000000efffffff] device reserved
BIOS-e820: [mem 0x0000000100000000-0x000000027fffffff] System RAM
`;

describe('e820 parsing and the kernel sanitize step (§6.1, §6.2)', () => {
  it('reads BIOS-e820 lines with timestamps and both generations of type names', () => {
    const t = parseE820(LAPTOP_8G);
    assert.equal(t.length, 9);
    assert.deepEqual(t[5], { start: 0x7b2a7000n, end: 0x7b327000n, type: 3 });
    assert.equal(
      formatEntry(t[4]!, 'BIOS-e820'),
      'BIOS-e820: [mem 0x000000007b0a7000-0x000000007b2a6fff] ACPI NVS',
    );
  });
  it('memparse follows C base-0 rules: 0x hex, leading 0 octal, K/M/G suffixes', () => {
    assert.deepEqual(
      ['16G', '0x100000000', '010', '512m', '4k'].map((s) => memparse(s).value),
      [16n << 30n, 0x100000000n, 8n, 512n << 20n, 4096n],
    );
  });
  it('parses every memmap= form', () => {
    assert.deepEqual(parseMemmap('memmap=4G!12G,1G$0x10000000,exactmap,2G'), [
      { kind: 'add', size: 4n << 30n, start: 12n << 30n, type: 12, sep: '!' },
      { kind: 'add', size: 1n << 30n, start: 0x10000000n, type: 2, sep: '$' },
      { kind: 'exactmap' },
      { kind: 'limit', size: 2n << 30n },
    ]);
    assert.deepEqual(parseMemmap('1G%4G-1+12'), [
      { kind: 'retype', size: 1n << 30n, start: 4n << 30n, from: 1, to: 12 },
    ]);
    assert.throws(() => parseMemmap('memmap=4G^12G'), {
      message: "Malformed early option 'memmap'",
    });
  });
  it('higher types win overlaps and equal neighbours merge, except persistent memory', () => {
    assert.deepEqual(
      sanitize([
        { start: 0n, end: 100n, type: 1 },
        { start: 100n, end: 200n, type: 1 },
        { start: 50n, end: 150n, type: 12 },
      ]),
      [
        { start: 0n, end: 50n, type: 1 },
        { start: 50n, end: 150n, type: 12 },
        { start: 150n, end: 200n, type: 1 },
      ],
    );
  });
  it('a %-retype turns usable RAM into pmem and mem-limit drops RAM above it', () => {
    const t = parseE820(QEMU_20G);
    const out = applyMemmap(t, parseMemmap('memmap=1G%4G-1+12,6G'));
    assert.deepEqual(
      out.slice(-2).map((e) => formatEntry(e, 'user')),
      [
        'user: [mem 0x0000000100000000-0x000000013fffffff] persistent (type 12)',
        'user: [mem 0x0000000140000000-0x000000017fffffff] usable',
      ],
    );
  });
});

describe('memmap planning on real-looking tables', () => {
  it('plans memmap=16G!4G on the 20 GiB QEMU guest, as the reference shows', () => {
    const r = planMemmap(parseE820(QEMU_20G), { size: 16n << 30n });
    assert.deepEqual(r.args, ['memmap=16G!4G']);
    assert.deepEqual(
      r.userMap.slice(-2).map((e) => formatEntry(e, 'user')),
      [
        'user: [mem 0x0000000100000000-0x00000004ffffffff] persistent (type 12)',
        'user: [mem 0x0000000500000000-0x000000053fffffff] usable',
      ],
    );
    assert.deepEqual([r.errors, r.warnings], [[], []]);
  });
  it('plans two 2 GiB ranges back to back and warns about KASLR and namespaces', () => {
    // Type-12 entries are never merged (e820_nomerge), so no gap is needed between them.
    const r = planMemmap(parseE820(LAPTOP_8G), { size: 2n << 30n, count: 2 });
    assert.deepEqual(r.args, ['memmap=2G!4G', 'memmap=2G!6G']);
    assert.deepEqual(r.warnings, [
      'KASLR: kernels before 4.13 ignore memmap= when choosing where to decompress, so on a machine with <= 16 GiB the kernel can land inside the pmem range; add nokaslr on such kernels',
      '2 ranges give 2 regions, each with one label-less raw namespace (namespaceN.0) that cannot be sub-divided',
    ]);
  });
  it('refuses a range that needs more RAM than any usable entry has', () => {
    const r = planMemmap(parseE820(LAPTOP_8G), { size: 8n << 30n });
    assert.deepEqual(r.errors, ['no usable RAM range holds 1 x 8G (largest usable range: 6 GiB)']);
  });
  it('warns when too little RAM is left for the OS', () => {
    const r = planMemmap(parseE820(LAPTOP_8G), { size: 6n << 30n });
    assert.deepEqual(r.args, ['memmap=6G!4G']);
    // 651264 + 2054844416 + 80580608 bytes below 4 GiB stay usable.
    assert.equal(r.warnings.at(-1), 'only 2136076288 bytes of usable RAM remains for the OS');
  });
});

describe('memmap check', () => {
  const t = parseE820(QEMU_20G);
  const rows: [string, string[], string[]][] = [
    ['memmap=16G!4G', [], []],
    [
      'memmap=1G!0xbff00000',
      [
        'memmap=1G!0xbff00000 overlaps reserved range [mem 0xbffe0000-0xbfffffff]: refusing (type 12 would take it over)',
        'memmap=1G!0xbff00000: [mem 0xc0000000-0xfeffbfff] is not in the e820 table (no RAM there)',
        'memmap=1G!0xbff00000 overlaps reserved range [mem 0xfeffc000-0xfeffffff]: refusing (type 12 would take it over)',
        'memmap=1G!0xbff00000: [mem 0xff000000-0xffefffff] is not in the e820 table (no RAM there)',
      ],
      [
        'memmap=1G!0xbff00000: start or size is not 2 MiB aligned: fsdax/devdax will fail ("start ... misaligned to 0x200000"); raw and sector still work',
      ],
    ],
    [
      'memmap=1000M!0x100100000',
      [],
      [
        'memmap=1000M!0x100100000: start or size is not 2 MiB aligned: fsdax/devdax will fail ("start ... misaligned to 0x200000"); raw and sector still work',
      ],
    ],
    [
      'memmap=64M!0x108000000',
      [],
      ['memmap=64M!0x108000000: not 128 MiB aligned: kernels before 5.3 disable DAX on it'],
    ],
    [
      'memmap=1G!4G,1G!5G',
      [],
      // Adjacent ranges stay two regions (measured on a Linux 6.1 guest).
      [
        '2 ranges give 2 regions, each with one label-less raw namespace (namespaceN.0) that cannot be sub-divided',
      ],
    ],
  ];
  for (const [arg, errors, warnings] of rows) {
    it(`${arg} gives ${errors.length} error(s) and ${warnings.length} warning(s)`, () => {
      const r = checkMemmap(t, [arg]);
      assert.deepEqual(r.errors, errors);
      assert.deepEqual(r.warnings, warnings);
    });
  }
});

describe('nvmemu memmap (CLI)', () => {
  it('prints the plan with GRUB steps and the expected user: map, exit 0', async () => {
    const io = bufferIo();
    const rc = await memmapCommand(['plan', '--size', '16G'], io, () => QEMU_20G);
    assert.equal(rc, 0);
    assert.equal(
      io.stdout,
      `Kernel command line: memmap=16G!4G

GRUB (then reboot):
  Debian/Ubuntu: add memmap=16G!4G to GRUB_CMDLINE_LINUX in /etc/default/grub, then: sudo update-grub
  RHEL/Fedora:   sudo grubby --update-kernel=ALL --args="memmap=16G!4G"
  SUSE:          add memmap=16G!4G to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: sudo grub2-mkconfig -o /boot/grub2/grub.cfg
  Arch:          add memmap=16G!4G to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, then: sudo grub-mkconfig -o /boot/grub/grub.cfg

Expected after reboot (dmesg: user-defined physical RAM map):
  user: [mem 0x0000000000000000-0x000000000009fbff] usable
  user: [mem 0x000000000009fc00-0x000000000009ffff] reserved
  user: [mem 0x00000000000f0000-0x00000000000fffff] reserved
  user: [mem 0x0000000000100000-0x00000000bffdffff] usable
  user: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
  user: [mem 0x00000000feffc000-0x00000000feffffff] reserved
  user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
  user: [mem 0x0000000100000000-0x00000004ffffffff] persistent (type 12)
  user: [mem 0x0000000500000000-0x000000053fffffff] usable

region0: 0x100000000+16G -> namespace0.0, /dev/pmem0 (ndctl provider e820, mode raw)
`,
    );
  });
  it('check exits 1 and prints the refusal for a range over reserved memory', async () => {
    const io = bufferIo();
    const rc = await memmapCommand(['check', 'memmap=2M!0xbffe0000'], io, () => QEMU_20G);
    assert.equal(rc, 1);
    assert.equal(
      io.stdout,
      'Warning: memmap=2M!0xbffe0000: start or size is not 2 MiB aligned: fsdax/devdax will fail ("start ... misaligned to 0x200000"); raw and sector still work\n' +
        'Error: memmap=2M!0xbffe0000 overlaps reserved range [mem 0xbffe0000-0xbfffffff]: refusing (type 12 would take it over)\n' +
        'Error: memmap=2M!0xbffe0000: [mem 0xc0000000-0xc01dffff] is not in the e820 table (no RAM there)\n',
    );
  });
  it('says what is missing when the input has no e820 lines', async () => {
    const io = bufferIo();
    assert.equal(await memmapCommand(['plan', '--size', '1G'], io, () => 'nothing here\n'), 1);
    assert.equal(io.stderr, 'nvmemu memmap: no "BIOS-e820: [mem ...]" lines in the input\n');
  });
  it('names an e820 file it cannot read instead of crashing', async () => {
    const io = bufferIo();
    const rc = await memmapCommand(['plan', '--size', '1G', '--e820', '/nonexistent/e820'], io);
    assert.equal(rc, 1);
    assert.equal(
      io.stderr,
      "nvmemu memmap: cannot read the e820 table: ENOENT: no such file or directory, open '/nonexistent/e820'\n",
    );
  });
});
