// The firmware e820 table a QEMU 7.2 guest of this machine would boot with (what
// `dmesg | grep BIOS-e820` prints), so that `-append "memmap=nn!ss"` is checked against the same
// table `nvmemu memmap check` would be given from that guest (reference qemu-pmem-ndctl.md §6.2).
//
// Layout (SeaBIOS on QEMU's pc/q35, KVM):
//   [0, 0x9fc00)            usable     conventional memory below the EBDA
//   [0x9fc00, 0xa0000)      reserved   EBDA (1 KiB)
//   [0xf0000, 0x100000)     reserved   BIOS F-segment
//   [1 MiB, low − 128 KiB)  usable     RAM below the PCI hole
//   [low − 128 KiB, low)    reserved   SeaBIOS high tables (ACPI, SMBIOS): 128 KiB in the
//                                      reference guest; the size varies with the SeaBIOS build
//                                      and the machine's tables (Debian 12's 1.16.2 with -smp 2
//                                      reserved 0x23000)
//   q35 only: [0xb0000000, 0xc0000000) reserved  PCIe MMCONFIG (PCIEXBAR default, 256 MiB)
//   q35 only: [0xfed1c000, 0xfed20000) reserved  ICH9 root complex register block
//   [0xfeffc000, 0xff000000) reserved  KVM's identity-map page and TSS (absent under TCG)
//   [0xfffc0000, 4 GiB)     reserved   BIOS ROM (256 KiB)
//   [4 GiB, 4 GiB + high)   usable     RAM above the PCI hole
//
// `low` and `high` split -m as QEMU 7.2 does (hw/i386/pc_piix.c, pc_q35.c; same rule as
// src/machine/device-memory.ts): pc keeps up to 3.5 GiB below 4 GiB, or 3 GiB once RAM reaches
// 3.5 GiB (gigabyte_align); q35 keeps up to 2.75 GiB, or 2 GiB once RAM reaches 2.75 GiB.
// For -m 20G on pc this is exactly the reference's example table (tests/memmap-plan.test.ts).

import type { MachineSettings } from '../../machine/registry.js';
import { E820_RAM, E820_RESERVED, type E820Entry } from '../memmap/e820.js';

const KiB = 1n << 10n;
const MiB = 1n << 20n;
const FOUR_GIB = 1n << 32n;

/** SeaBIOS's reservation at the top of low RAM, as in the reference guest. */
export const SEABIOS_HIGH_TABLES = 128n * KiB;

/** RAM below and above the 4 GiB PCI hole for `-m` on this machine type. */
export function ramSplit(s: Pick<MachineSettings, 'type' | 'ramSize'>): {
  low: bigint;
  high: bigint;
} {
  let lowmem: bigint;
  switch (s.type) {
    case 'pc':
      lowmem = s.ramSize >= 0xe000_0000n ? 0xc000_0000n : 0xe000_0000n;
      break;
    case 'q35':
      lowmem = s.ramSize >= 0xb000_0000n ? 0x8000_0000n : 0xb000_0000n;
      break;
  }
  return s.ramSize >= lowmem
    ? { low: lowmem, high: s.ramSize - lowmem }
    : { low: s.ramSize, high: 0n };
}

/** The BIOS-e820 table (sorted, end exclusive) of a guest of this machine. */
export function machineE820(s: Pick<MachineSettings, 'type' | 'ramSize'>): E820Entry[] {
  const { low, high } = ramSplit(s);
  const t: E820Entry[] = [];
  const add = (start: bigint, end: bigint, type: number): void => {
    if (end > start) t.push({ start, end, type });
  };
  add(0n, 0x9fc00n, E820_RAM);
  add(0x9fc00n, 0xa0000n, E820_RESERVED);
  add(0xf0000n, MiB, E820_RESERVED);
  // QEMU's minimum -m is far above 1 MiB + the SeaBIOS tables; guard the arithmetic anyway.
  const tables = low > MiB + SEABIOS_HIGH_TABLES ? low - SEABIOS_HIGH_TABLES : low;
  add(MiB, tables, E820_RAM);
  add(tables, low, E820_RESERVED);
  if (s.type === 'q35') {
    add(0xb000_0000n, 0xc000_0000n, E820_RESERVED);
    add(0xfed1_c000n, 0xfed2_0000n, E820_RESERVED);
  }
  add(0xfeff_c000n, 0xff00_0000n, E820_RESERVED);
  add(0xfffc_0000n, FOUR_GIB, E820_RESERVED);
  add(FOUR_GIB, FOUR_GIB + high, E820_RAM);
  return t;
}
