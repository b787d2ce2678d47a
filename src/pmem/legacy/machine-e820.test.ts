import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatEntry, parseE820 } from '../memmap/e820.js';
import { machineE820, ramSplit } from './machine-e820.js';

const G = 1n << 30n;
const M = 1n << 20n;
const lines = (type: 'pc' | 'q35', ramSize: bigint): string[] =>
  machineE820({ type, ramSize }).map((e) => formatEntry(e, 'BIOS-e820'));

// The 20 GiB QEMU guest of the reference (§6.2), as tests/memmap-plan.test.ts feeds the planner.
const QEMU_20G = `BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable
BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved
BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved
BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved
BIOS-e820: [mem 0x0000000100000000-0x000000053fffffff] usable`;

describe('the firmware e820 table of the machine (-machine, -m)', () => {
  it('is the reference QEMU guest table for pc with -m 20G', () => {
    assert.deepEqual(machineE820({ type: 'pc', ramSize: 20n * G }), parseE820(QEMU_20G));
  });

  const cases: { name: string; type: 'pc' | 'q35'; ram: bigint; low: string; tail: string[] }[] = [
    {
      name: 'pc, the default 128 MiB: all RAM below the hole',
      type: 'pc',
      ram: 128n * M,
      low: '0x0000000000100000-0x0000000007fdffff',
      tail: ['BIOS-e820: [mem 0x0000000007fe0000-0x0000000007ffffff] reserved'],
    },
    {
      name: 'pc, 3 GiB: still below the 3.5 GiB limit',
      type: 'pc',
      ram: 3n * G,
      low: '0x0000000000100000-0x00000000bffdffff',
      tail: ['BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved'],
    },
    {
      name: 'pc, 3.5 GiB: gigabyte-aligned split, 512 MiB above 4 GiB',
      type: 'pc',
      ram: 3584n * M,
      low: '0x0000000000100000-0x00000000bffdffff',
      tail: [
        'BIOS-e820: [mem 0x00000000bffe0000-0x00000000bfffffff] reserved',
        'BIOS-e820: [mem 0x0000000100000000-0x000000011fffffff] usable',
      ],
    },
    {
      name: 'q35, 2 GiB: below its 2.75 GiB limit, MMCONFIG and RCRB reserved',
      type: 'q35',
      ram: 2n * G,
      low: '0x0000000000100000-0x000000007ffdffff',
      tail: [
        'BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff] reserved',
        'BIOS-e820: [mem 0x00000000b0000000-0x00000000bfffffff] reserved',
        'BIOS-e820: [mem 0x00000000fed1c000-0x00000000fed1ffff] reserved',
      ],
    },
    {
      name: 'q35, 4 GiB: 2 GiB below the hole, 2 GiB above 4 GiB',
      type: 'q35',
      ram: 4n * G,
      low: '0x0000000000100000-0x000000007ffdffff',
      tail: [
        'BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff] reserved',
        'BIOS-e820: [mem 0x00000000b0000000-0x00000000bfffffff] reserved',
        'BIOS-e820: [mem 0x00000000fed1c000-0x00000000fed1ffff] reserved',
        'BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff] usable',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = lines(c.type, c.ram);
      const fixed = [
        'BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable',
        'BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved',
        'BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved',
        `BIOS-e820: [mem ${c.low}] usable`,
      ];
      const bios = [
        'BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved',
        'BIOS-e820: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved',
      ];
      const above = c.tail.filter((l) => l.includes('0x00000001'));
      const below = c.tail.filter((l) => !l.includes('0x00000001'));
      assert.deepEqual(got, [...fixed, ...below, ...bios, ...above]);
    });
  }

  it('splits RAM around the hole as QEMU 7.2 pc_piix/pc_q35 do', () => {
    assert.deepEqual(
      [
        ramSplit({ type: 'pc', ramSize: 3583n * M }),
        ramSplit({ type: 'pc', ramSize: 16n * G }),
        ramSplit({ type: 'q35', ramSize: 2815n * M }),
        ramSplit({ type: 'q35', ramSize: 2816n * M }),
      ],
      [
        { low: 3583n * M, high: 0n },
        { low: 3n * G, high: 13n * G },
        { low: 2815n * M, high: 0n },
        { low: 2n * G, high: 768n * M },
      ],
    );
  });
});
