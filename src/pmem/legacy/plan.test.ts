import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../config/errors.js';
import { kernelParams, planLegacyPmem, userLines } from './plan.js';

const G = 1n << 30n;
const M = 1n << 20n;
type Machine = { type: 'pc' | 'q35'; ramSize: bigint };
const pc = (ramSize: bigint): Machine => ({ type: 'pc', ramSize });
const q35 = (ramSize: bigint): Machine => ({ type: 'q35', ramSize });

/** [start, size] per region, in hex, or the refusal as `nvmemu run` prints it. */
function verdict(m: Machine, append: string): string[] | string {
  try {
    const p = planLegacyPmem(m, append);
    return (p?.regions ?? []).map((r) => `0x${r.start.toString(16)}+0x${r.size.toString(16)}`);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'EMU_ERR_CONFIG');
    return `${e.location}: ${e.message}`;
  }
}

describe('memmap= arguments of -append against the machine RAM size', () => {
  const cases: { name: string; m: Machine; append: string; want: string[] | string }[] = [
    {
      name: 'the recipe memmap=4G!12G on pc -m 16G gives one region at 12 GiB',
      m: pc(16n * G),
      append: 'memmap=4G!12G',
      want: ['0x300000000+0x100000000'],
    },
    {
      name: 'a range that ends past the RAM of -m 16G (17 GiB top) is refused: no RAM there',
      m: pc(16n * G),
      append: 'memmap=4G!14G',
      want: '-append: memmap=4G!14G: [mem 0x440000000-0x47fffffff] is not in the e820 table (no RAM there)',
    },
    {
      name: 'a range over the SeaBIOS tables below the PCI hole is refused as an overlap',
      m: pc(16n * G),
      append: 'memmap=1G!2G',
      want: '-append: memmap=1G!2G overlaps reserved range [mem 0xbffe0000-0xbfffffff]: refusing (type 12 would take it over)',
    },
    {
      name: 'a range far above RAM is refused, although Linux would make an unbacked region of it',
      m: pc(2n * G),
      append: 'memmap=256M!100G',
      want: '-append: memmap=256M!100G: [mem 0x1900000000-0x190fffffff] is not in the e820 table (no RAM there)',
    },
    {
      name: 'on q35 -m 4G the hole starts at 2 GiB, so 2 GiB..3 GiB is no RAM',
      m: q35(4n * G),
      append: 'memmap=1G!2G',
      want: '-append: memmap=1G!2G: [mem 0x80000000-0xafffffff] is not in the e820 table (no RAM there)',
    },
    {
      name: 'on the default -m 128M the top 64 MiB includes the SeaBIOS tables',
      m: pc(128n * M),
      append: 'memmap=64M!64M',
      want: '-append: memmap=64M!64M overlaps reserved range [mem 0x7fe0000-0x7ffffff]: refusing (type 12 would take it over)',
    },
    {
      name: 'several memmap= parameters give several regions, in address order',
      m: q35(4n * G),
      append: 'console=ttyS0 memmap=1G!4G root=/dev/vda memmap=256M!1G',
      want: ['0x40000000+0x10000000', '0x100000000+0x40000000'],
    },
    {
      name: 'comma-separated ranges in one parameter give one region each',
      m: pc(6n * G),
      append: 'memmap=1G!4G,1G!6G',
      want: ['0x100000000+0x40000000', '0x180000000+0x40000000'],
    },
    {
      name: 'adjacent ranges stay separate regions (Linux does not merge type 12)',
      m: pc(2n * G),
      append: 'memmap=256M!1G memmap=256M!1536M memmap=64M!1280M',
      want: ['0x40000000+0x10000000', '0x50000000+0x4000000', '0x60000000+0x10000000'],
    },
    {
      name: 'overlapping ranges are refused',
      m: pc(8n * G),
      append: 'memmap=1G!4G memmap=1G!0x120000000',
      want: '-append: ranges at 0x100000000 and 0x120000000 overlap',
    },
    {
      name: 'a malformed parameter is refused with the kernel message, naming it',
      m: pc(16n * G),
      append: 'memmap=1G!4G memmap=4G^12G',
      want: "-append: memmap=4G^12G: Malformed early option 'memmap'",
    },
    {
      name: 'a %-retype of RAM to type 12 gives a region too',
      m: pc(8n * G),
      append: 'memmap=1G%4G-1+12',
      want: ['0x100000000+0x40000000'],
    },
    {
      name: 'a %-retype that reaches reserved memory is refused under its own name',
      m: pc(8n * G),
      append: 'memmap=16M%0xbf000000+12',
      want: '-append: memmap=16M%0xbf000000+12 overlaps reserved range [mem 0xbffe0000-0xbfffffff]: refusing (type 12 would take it over)',
    },
    {
      name: 'a quoted parameter is unquoted as the kernel does; after -- nothing is a kernel parameter',
      m: pc(8n * G),
      append: '"memmap=1G!4G" quiet -- memmap=1G!6G',
      want: ['0x100000000+0x40000000'],
    },
    {
      name: 'memmap=exactmap alone makes no region',
      m: pc(16n * G),
      append: 'memmap=exactmap',
      want: [],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(verdict(c.m, c.append), c.want));

  it('a command line without memmap= plans nothing', () => {
    assert.equal(planLegacyPmem(pc(16n * G), 'console=ttyS0 root=/dev/vda'), undefined);
    assert.equal(planLegacyPmem(pc(16n * G), undefined), undefined);
  });
});

describe('what the kernel would print and the warnings that matter to the region', () => {
  it('prints the user-defined map with adjacent type-12 ranges apart (measured on Linux 6.1)', () => {
    const p = planLegacyPmem(pc(2n * G), 'memmap=256M!1G memmap=256M!1536M memmap=64M!1280M');
    assert.ok(p !== undefined);
    assert.deepEqual(userLines(p), [
      'user: [mem 0x0000000000000000-0x000000000009fbff] usable',
      'user: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
      'user: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
      'user: [mem 0x0000000000100000-0x000000003fffffff] usable',
      'user: [mem 0x0000000040000000-0x000000004fffffff] persistent (type 12)',
      'user: [mem 0x0000000050000000-0x0000000053ffffff] persistent (type 12)',
      'user: [mem 0x0000000054000000-0x000000005fffffff] usable',
      'user: [mem 0x0000000060000000-0x000000006fffffff] persistent (type 12)',
      'user: [mem 0x0000000070000000-0x000000007ffdffff] usable',
      'user: [mem 0x000000007ffe0000-0x000000007fffffff] reserved',
      'user: [mem 0x00000000feffc000-0x00000000feffffff] reserved',
      'user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
    ]);
    // The alignment and RAM warnings stay; KASLR, the region count and the (wrong) merge claim
    // of the planner are left out.
    assert.deepEqual(p.warnings, [
      'memmap=64M!1280M: not 128 MiB aligned: kernels before 5.3 disable DAX on it',
      'only 1542978560 bytes of usable RAM remains for the OS',
    ]);
  });

  it('keeps the 2 MiB alignment warning and drops KASLR on a 16 GiB machine', () => {
    const p = planLegacyPmem(pc(16n * G), 'memmap=4G!0x300100000');
    assert.deepEqual(p?.warnings, [
      'memmap=4G!0x300100000: start or size is not 2 MiB aligned: fsdax/devdax will fail ("start ... misaligned to 0x200000"); raw and sector still work',
    ]);
  });

  it('splits kernel parameters like next_arg()', () => {
    assert.deepEqual(kernelParams('  a=1   b="x y"  "c=d e" f -- g'), [
      'a=1',
      'b=x y',
      'c=d e',
      'f',
    ]);
  });
});
