// Where nvmemu deliberately answers differently from the QEMU it reproduces, in one place: the
// rows of the key-by-key comparison (levels.test.ts) that are expected, each with the reason.
// A row matches an entry when its answer key, field and configuration match; an entry that no
// longer matches any row fails the test too, so this list cannot go stale.

import type { QemuVersion } from './configs.js';
import type { DiffRow } from './diff.js';

export interface Deviation {
  /** The answer key (a string matches exactly, a RegExp anywhere). */
  readonly answer: string | RegExp;
  /** The field (`status`, `dw0`, `ONCS (520)`, `bytes 0-3`, ...); every field when undefined. */
  readonly field?: string | RegExp;
  /** The levels it holds at. */
  readonly levels: readonly QemuVersion[];
  /** The configurations it holds for (every one when undefined). */
  readonly configs?: readonly string[];
  readonly why: string;
}

const BOTH: readonly QemuVersion[] = ['7.2', '10.0'];
const AT_72: readonly QemuVersion[] = ['7.2'];

/** The sweep's Write Uncorrectable (I/O 04h, all fields 0) marks LBA 0 uncorrectable. */
const UNCOR =
  "nvmemu implements Write Uncorrectable (docs/nvme.md); the opcode sweep's 04h with all fields 0 marks LBA 0 uncorrectable, so later commands reading LBA 0 fail with 0x281 (and are not counted as reads)";

export const DEVIATIONS: readonly Deviation[] = [
  // ---- nvmemu's extensions, at every level -------------------------------------------------
  {
    answer: 'identify cns=0x01 csi=0x00 nsid=0x0',
    field: 'ELPE (262)',
    levels: BOTH,
    why: 'nvmemu keeps 64 Error Information log entries (ELPE 63); QEMU keeps none',
  },
  {
    answer: /^log lid=0x01$/,
    levels: BOTH,
    why: 'the Error Information log holds real entries (one per failed command of the sweeps)',
  },
  {
    answer: /^(fdp )?log lid=0x02/,
    field: 'NEILE (176)',
    levels: BOTH,
    why: 'SMART counts the Error Information log entries nvmemu keeps',
  },
  {
    answer: 'identify cns=0x01 csi=0x00 nsid=0x0',
    field: 'ONCS (520)',
    levels: BOTH,
    why: 'Write Uncorrectable is implemented and advertised (ONCS bit 1)',
  },
  {
    answer: /^log lid=0x05/,
    field: 'IOCS[0x04] (1040)',
    levels: BOTH,
    why: 'Write Uncorrectable is in the I/O command table, so in the effects log',
  },
  { answer: 'io opc=0x04 nsid=1 zero', field: 'status', levels: BOTH, why: UNCOR },
  { answer: 'io opc=0x05 nsid=1 zero', field: 'status', levels: BOTH, why: UNCOR },
  {
    answer: 'io opc=0x0c nsid=1 zero',
    field: 'status',
    levels: BOTH,
    configs: ['zoned'],
    why: `${UNCOR} (Verify)`,
  },
  {
    answer: 'io opc=0x19 nsid=1 zero',
    field: 'status',
    levels: BOTH,
    configs: ['zoned'],
    why: `${UNCOR} (Copy reads its source before the destination zone's write pointer is checked)`,
  },
  {
    answer: /^log lid=0x0[29] (lsi=1 )?after$/,
    field: /^HRC/,
    levels: BOTH,
    why: `${UNCOR}: the failed Compare (and Verify) are not host read commands`,
  },
  // ---- Multi-host (issue 18, docs/multipath.md): reservations and Namespace Management -----
  {
    answer: /^identify cns=0x(00|11) csi=0x00 nsid=0x1$/,
    field: 'RESCAP (31)',
    levels: BOTH,
    why: 'nvmemu implements Reservations (NVMe 2.0 §8.19) on every namespace; QEMU has none',
  },
  {
    answer: /^log lid=0x05/,
    field: /^IOCS\[0x(0d|0e|11|15)\]/,
    levels: BOTH,
    why: 'the reservation commands are in the I/O command table, so in the effects log',
  },
  {
    answer: /^io opc=0x(0d|0e|11|15) nsid=1 zero$/,
    field: 'status',
    levels: BOTH,
    why: "the sweep's reservation commands run (QEMU: Invalid Opcode)",
  },
  {
    answer: /^log lid=0x80$/,
    field: 'status',
    levels: BOTH,
    why: 'the Reservation Notification log exists with reservations',
  },
  {
    answer: /^get-features fid=0x8[123] /,
    field: 'status',
    levels: BOTH,
    why: 'Host Identifier (81h), Reservation Notification Mask (82h) and Reservation Persistence (83h) exist with reservations (82h/83h need a namespace)',
  },
  {
    answer: /^log lid=0x05/,
    field: /^ACS\[0x0d\]/,
    levels: BOTH,
    why: 'nvmemu implements Namespace Management (create/delete on nvme-subsys nvm-capacity)',
  },
  {
    answer: 'admin opc=0x0d zero',
    field: 'status',
    levels: BOTH,
    why: "Namespace Management runs: the sweep's create (all fields 0) finds no capacity (0x115), QEMU 7.2/10.0 have no such command",
  },
  // ---- FDP: nvmemu follows TP 4146 where QEMU 10.0 does not -----------------------------------
  {
    answer: /get-features fid=0x1e .*noet=255/,
    field: /^(dw0|EVENT\d)/,
    levels: ['10.0'],
    configs: ['fdp'],
    why: 'FDP Events lists the event types nvmemu raises (00h, 03h, 81h); QEMU lists 00h-03h, 80h, 81h and raises only 00h',
  },
  {
    answer: 'fdp log lid=0x23 host events',
    field: /^EVENT[01]\.(TYPE|FLAGS|PID|RUHID|TIMESTAMP)/,
    levels: ['10.0'],
    configs: ['fdp'],
    why: 'nvmemu logs Invalid Placement Identifier (03h, no location) for the write with PID 7, and no "RU not fully written" for the unit a write filled exactly (QEMU checks the unit before subtracting the write that fills it); so the events and their order differ',
  },
  {
    answer: 'fdp log lid=0x23 controller events',
    levels: ['10.0'],
    configs: ['fdp'],
    why: 'nvmemu logs "Implicitly Modified RUH" (81h) when a reclaim unit fills; QEMU raises no controller event',
  },
  {
    answer: 'fdp log lid=0x22 lsi=1',
    field: 'MBMW (16)',
    levels: ['10.0'],
    configs: ['fdp'],
    why: 'QEMU counts the last write of the exactly filled unit twice in media bytes written',
  },
  // ---- The 7.2 level: nvmemu as it has always answered ---------------------------------------
  {
    answer: 'identify cns=0x01 csi=0x00 nsid=0x0',
    field: 'FR (64)',
    levels: AT_72,
    why: "FR is nvmemu's firmware revision 1.0 (the Firmware Slot log's FRS1); QEMU 7.2 reports its version",
  },
  {
    answer: 'identify cns=0x01 csi=0x00 nsid=0x0',
    field: 'OCFS (534)',
    levels: AT_72,
    why: 'Copy implements descriptor formats 0-3 (as QEMU 10.0); QEMU 7.2 reports 0 and 1',
  },
  {
    answer: /^identify cns=0x(00|11) csi=0x00 nsid=0x1$/,
    field: /^(MSSRL|MCL|MSRC) /,
    levels: AT_72,
    configs: ['legacy'],
    why: "the drive= namespace has nvme-ns's Copy limits at nvmemu's 7.2 level (QEMU leaves them 0); the 10.0 level answers as QEMU",
  },
  {
    answer: 'io opc=0x19 nsid=1 zero',
    field: 'status',
    levels: AT_72,
    configs: ['legacy'],
    why: "Copy succeeds within the drive= namespace's Copy limits (QEMU 7.2: 0x006)",
  },
  {
    answer: 'log lid=0x02 after',
    field: /^HWC/,
    levels: AT_72,
    configs: ['legacy'],
    why: 'the Copy that succeeds is a host write command',
  },
  {
    answer: /^log lid=0x05/,
    field: /^IOCS\[0x(12|1d)\]/,
    levels: AT_72,
    why: 'Flexible Data Placement (post-7.2) is available at the 7.2 level: I/O Management Receive/Send are in the I/O command table',
  },
  {
    answer: /^(fdp )?log lid=0x2[0-3]/,
    field: 'status',
    levels: AT_72,
    why: 'FDP (post-7.2) at the 7.2 level: log 20h answers, 21h-23h report FDP Disabled (29h) outside an FDP subsystem',
  },
  {
    answer: /^(fdp )?[gs]et-features fid=0x1[de]/,
    field: 'status',
    levels: AT_72,
    why: 'FDP (post-7.2) at the 7.2 level: the FDP Mode and FDP Events features exist (QEMU 7.2: Invalid Field)',
  },
  {
    answer:
      /^(io opc=0x(12|1d) nsid=1 zero|io-mgmt-(receive|send) mo=\d nsid=1|fdp ruh (status|update) .*)$/,
    field: 'status',
    levels: AT_72,
    why: 'FDP (post-7.2) at the 7.2 level: I/O Management Receive/Send report FDP Disabled (29h) outside an FDP subsystem (QEMU 7.2: Invalid Opcode)',
  },
];

function matches(p: string | RegExp, s: string): boolean {
  return typeof p === 'string' ? p === s : p.test(s);
}

/** The deviation that explains `row` of configuration `config` at `level`, if any. */
export function explain(row: DiffRow, config: string, level: QemuVersion): Deviation | undefined {
  return DEVIATIONS.find(
    (d) =>
      d.levels.includes(level) &&
      (d.configs === undefined || d.configs.includes(config)) &&
      matches(d.answer, row.answer) &&
      (d.field === undefined || matches(d.field, row.field)),
  );
}
