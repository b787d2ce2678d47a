// The bit-field decoding nvme-cli's `-H` prints under Identify fields: one table of bit ranges
// per field (NVMe Base Spec 2.0 Figures 275 and 280; house rule 6). Lines read
// `  [hi:lo] : 0xV\t<meaning>`; reserved ranges are shown only when non-zero.

/** One bit range of a field and what its value means (undefined: reserved). */
export type Bits = readonly [hi: number, lo: number, meaning?: (v: number) => string];

const sup =
  (label: string) =>
  (v: number): string =>
    `${label} ${v !== 0 ? '' : 'Not '}Supported`;
const res: (hi: number, lo: number) => Bits = (hi, lo) => [hi, lo];

function bitsOf(value: number | bigint, hi: number, lo: number): number {
  return Number((BigInt(value) >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}

/** The `-H` lines under one field, then a blank line (nvme-cli's layout). */
export function decodeBits(value: number | bigint, table: readonly Bits[]): string {
  let s = '';
  for (const [hi, lo, meaning] of table) {
    const v = bitsOf(value, hi, lo);
    if (meaning === undefined && v === 0) continue;
    s += `  [${hi}:${lo}] : 0x${v.toString(16)}\t${meaning?.(v) ?? 'Reserved'}\n`;
  }
  return `${s}\n`;
}

export const celsius = (k: number): string => `${k - 273}°C (${k} Kelvin)`;
const temperature =
  (what: string) =>
  (v: number): string =>
    `${celsius(v)}\t${what}`;

/** Identify Controller fields with a decoder (Figure 275). */
export const ID_CTRL_BITS: Readonly<Record<string, readonly Bits[]>> = {
  cmic: [
    res(7, 4),
    [3, 3, (v) => `ANA ${v ? '' : 'not '}supported`],
    [2, 2, (v) => (v ? 'SR-IOV' : 'PCI')],
    [1, 1, (v) => `${v ? 'Multi' : 'Single'} Controller`],
    [0, 0, (v) => `${v ? 'Multi' : 'Single'} Port`],
  ],
  oaes: [
    [31, 31, sup('Discovery Log Change Notice')],
    res(30, 28),
    [27, 27, sup('Zone Descriptor Changed Notices')],
    res(26, 16),
    [15, 15, sup('Normal NSS Shutdown Event')],
    [14, 14, sup('Endurance Group Event Aggregate Log Page Change Notice')],
    [13, 13, sup('LBA Status Information Notices')],
    [12, 12, sup('Predictable Latency Event Aggregate Log Change Notices')],
    [11, 11, sup('Asymmetric Namespace Access Change Notices')],
    res(10, 10),
    [9, 9, sup('Firmware Activation Notices')],
    [8, 8, sup('Namespace Attribute Changed Event')],
    res(7, 0),
  ],
  ctratt: [
    res(31, 20),
    [19, 19, sup('Flexible Data Placement')],
    res(18, 16),
    [15, 15, sup('Extended LBA Formats')],
    [14, 14, sup('Delete NVM Set')],
    [13, 13, sup('Delete Endurance Group')],
    [12, 12, sup('Variable Capacity Management')],
    [11, 11, sup('Fixed Capacity Management')],
    [10, 10, sup('Multi Domain Subsystem')],
    [9, 9, sup('UUID List')],
    [8, 8, sup('SQ Associations')],
    [7, 7, sup('Namespace Granularity')],
    [6, 6, sup('Traffic Based Keep Alive')],
    [5, 5, sup('Predictable Latency Mode')],
    [4, 4, sup('Endurance Groups')],
    [3, 3, sup('Read Recovery Levels')],
    [2, 2, sup('NVM Sets')],
    [1, 1, sup('Non-Operational Power State Permissive')],
    [0, 0, sup('128-bit Host Identifier')],
  ],
  cntrltype: [
    res(7, 2),
    [
      1,
      0,
      (v) =>
        ['Controller type not reported', 'I/O Controller', 'Discovery Controller'][v] ??
        'Administrative Controller',
    ],
  ],
  oacs: [
    res(15, 11),
    [10, 10, sup('Lockdown Command and Feature')],
    [9, 9, sup('Get LBA Status Capability')],
    [8, 8, sup('Doorbell Buffer Config')],
    [7, 7, sup('Virtualization Management')],
    [6, 6, sup('NVMe-MI Send and Receive')],
    [5, 5, sup('Directives')],
    [4, 4, sup('Device Self-test')],
    [3, 3, sup('NS Management and Attachment')],
    [2, 2, sup('FW Commit and Download')],
    [1, 1, sup('Format NVM')],
    [0, 0, sup('Security Send and Receive')],
  ],
  frmw: [
    res(7, 6),
    [5, 5, sup('Multiple FW or Boot Update Detection')],
    [4, 4, sup('Firmware Activate Without Reset')],
    [3, 1, () => 'Number of Firmware Slots'],
    [0, 0, (v) => `Firmware Slot 1 Read${v ? '-Only' : '/Write'}`],
  ],
  lpa: [
    res(7, 7),
    [6, 6, sup('Telemetry Log Data Area 4')],
    [5, 5, sup('LID 0x0, Scope of each command in LID 0x5, 0x12, 0x13')],
    [4, 4, sup('Persistent Event log')],
    [3, 3, sup('Telemetry host/controller initiated log page')],
    [2, 2, sup('Extended data for Get Log Page')],
    [1, 1, sup('Command Effects Log Page')],
    [0, 0, sup('SMART/Health Log Page per NS')],
  ],
  elpe: [[7, 0, (v) => `${v} (0's based)\tError Log Page Entries (ELPE)`]],
  npss: [[7, 0, (v) => `${v} (0's based)\tNumber of Power States Support (NPSS)`]],
  avscc: [
    res(7, 1),
    [0, 0, (v) => `Admin Vendor Specific Commands uses ${v ? 'NVMe' : 'Vendor Specific'} Format`],
  ],
  apsta: [res(7, 1), [0, 0, sup('Autonomous Power State Transitions')]],
  wctemp: [[15, 0, temperature('Warning Composite Temperature Threshold (WCTEMP)')]],
  cctemp: [[15, 0, temperature('Critical Composite Temperature Threshold (CCTEMP)')]],
  hctma: [res(15, 1), [0, 0, sup('Host Controlled Thermal Management')]],
  mntmt: [[15, 0, temperature('Minimum Thermal Management Temperature (MNTMT)')]],
  mxtmt: [[15, 0, temperature('Maximum Thermal Management Temperature (MXTMT)')]],
  sanicap: [
    [
      31,
      30,
      (v) =>
        [
          'Additional media modification after sanitize operation completes successfully is not defined',
          'Media is not additionally modified after sanitize operation completes successfully',
          'Media is additionally modified after sanitize operation completes successfully',
          'Reserved',
        ][v] ?? 'Reserved',
    ],
    [29, 29, sup('No-Deallocate After Sanitize bit in Sanitize command')],
    res(28, 3),
    [2, 2, sup('Overwrite Sanitize Operation')],
    [1, 1, sup('Block Erase Sanitize Operation')],
    [0, 0, sup('Crypto Erase Sanitize Operation')],
  ],
  anacap: [
    [7, 7, sup('Non-zero group ID')],
    [6, 6, (v) => `Group ID does ${v ? 'not ' : ''}change`],
    res(5, 5),
    [4, 4, sup('ANA Change state')],
    [3, 3, sup('ANA Persistent Loss state')],
    [2, 2, sup('ANA Inaccessible state')],
    [1, 1, sup('ANA Non-optimized state')],
    [0, 0, sup('ANA Optimized state')],
  ],
  sqes: [
    [7, 4, (v) => `Max SQ Entry Size (${2 ** v})`],
    [3, 0, (v) => `Min SQ Entry Size (${2 ** v})`],
  ],
  cqes: [
    [7, 4, (v) => `Max CQ Entry Size (${2 ** v})`],
    [3, 0, (v) => `Min CQ Entry Size (${2 ** v})`],
  ],
  oncs: [
    res(15, 9),
    [8, 8, sup('Copy')],
    [7, 7, sup('Verify')],
    [6, 6, sup('Timestamp')],
    [5, 5, sup('Reservations')],
    [4, 4, sup('Save and Select')],
    [3, 3, sup('Write Zeroes')],
    [2, 2, sup('Data Set Management')],
    [1, 1, sup('Write Uncorrectable')],
    [0, 0, sup('Compare')],
  ],
  fuses: [res(15, 1), [0, 0, sup('Fused Compare and Write')]],
  fna: [
    res(7, 4),
    [3, 3, sup('Format NVM Broadcast NSID (FFFFFFFFh)')],
    [2, 2, (v) => `Crypto Erase ${v ? '' : 'Not '}Supported as part of Secure Erase`],
    [1, 1, (v) => `Crypto Erase Applies to ${v ? 'All' : 'Single'} Namespace(s)`],
    [0, 0, (v) => `Format Applies to ${v ? 'All' : 'Single'} Namespace(s)`],
  ],
  vwc: [
    res(7, 3),
    [
      2,
      1,
      (v) =>
        [
          'Support for the NSID field set to FFFFFFFFh is not indicated',
          'Reserved',
          'The Flush command does not support NSID set to FFFFFFFFh',
          'The Flush command supports NSID set to FFFFFFFFh',
        ][v] ?? 'Reserved',
    ],
    [0, 0, (v) => `Volatile Write Cache ${v ? '' : 'Not '}Present`],
  ],
  nwpc: [
    res(7, 3),
    [2, 2, sup('Permanent Write Protect')],
    [1, 1, sup('Write Protect Until Power Supply')],
    [0, 0, sup('No Write Protect and Write Protect Namespace')],
  ],
  ocfs: [
    res(15, 4),
    [3, 3, sup('Controller Copy Format 3h')],
    [2, 2, sup('Controller Copy Format 2h')],
    [1, 1, sup('Controller Copy Format 1h')],
    [0, 0, sup('Controller Copy Format 0h')],
  ],
  sgls: [
    res(31, 22),
    [21, 21, sup('Transport SGL Data Block Descriptor')],
    [20, 20, sup('Address Offsets')],
    [19, 19, sup('Metadata Pointer Containing SGL Descriptor')],
    [18, 18, sup('SGL Length Larger than Buffer')],
    [17, 17, sup('Byte-Aligned Contig. MD Buffer')],
    [16, 16, sup('SGL Bit-Bucket')],
    [15, 8, () => 'SGL Descriptor Threshold'],
    res(7, 3),
    [2, 2, sup('Keyed SGL Data Block descriptor')],
    [
      1,
      0,
      (v) =>
        [
          'Scatter-Gather Lists Not Supported',
          'Scatter-Gather Lists Supported. No Dword alignment required.',
          'Scatter-Gather Lists Supported. Dword alignment required.',
          'Reserved',
        ][v] ?? 'Reserved',
    ],
  ],
  fcatt: [res(7, 1), [0, 0, (v) => `${v ? 'Static' : 'Dynamic'} Controller Model`]],
  ofcs: [res(15, 1), [0, 0, (v) => `Disconnect command ${v ? '' : 'Not '}Supported`]],
};

/** Identify Namespace fields with a decoder (Figure 280). */
export const ID_NS_BITS: Readonly<Record<string, readonly Bits[]>> = {
  nsfeat: [
    res(7, 5),
    [4, 4, (v) => `NPWG, NPWA, NPDG, NPDA, and NOWS are ${v ? '' : 'Not '}Supported`],
    [3, 3, (v) => `NGUID and EUI64 fields if non-zero, ${v ? 'Never ' : ''}Reused`],
    [2, 2, sup('Deallocated or Unwritten Logical Block error')],
    [1, 1, (v) => `Namespace uses ${v ? 'NAWUN, NAWUPF, and NACWU' : 'AWUN, AWUPF, and ACWU'}`],
    [0, 0, sup('Thin Provisioning')],
  ],
  flbas: [
    res(7, 7),
    [6, 5, () => 'Most significant 2 bits of Current LBA Format Selected'],
    [
      4,
      4,
      (v) => `Metadata Transferred ${v ? 'at End of Data LBA' : 'in Separate Contiguous Buffer'}`,
    ],
    [3, 0, () => 'Least significant 4 bits of Current LBA Format Selected'],
  ],
  mc: [
    res(7, 2),
    [1, 1, sup('Metadata Pointer')],
    [0, 0, sup('Metadata as Part of Extended Data LBA')],
  ],
  dpc: [
    res(7, 5),
    [4, 4, sup('Protection Information Transferred as Last 8 Bytes of Metadata')],
    [3, 3, sup('Protection Information Transferred as First 8 Bytes of Metadata')],
    [2, 2, sup('Protection Information Type 3')],
    [1, 1, sup('Protection Information Type 2')],
    [0, 0, sup('Protection Information Type 1')],
  ],
  dps: [
    res(7, 4),
    [
      3,
      3,
      (v) => `Protection Information is Transferred as ${v ? 'First' : 'Last'} 8 Bytes of Metadata`,
    ],
    [
      2,
      0,
      (v) =>
        `Protection Information ${['Disabled', 'Type 1 Enabled', 'Type 2 Enabled', 'Type 3 Enabled'][v] ?? 'Reserved Enabled'}`,
    ],
  ],
  nmic: [res(7, 1), [0, 0, (v) => `Namespace Multipath ${v ? '' : 'Not '}Capable`]],
  rescap: [
    [
      7,
      7,
      (v) =>
        `Ignore Existing Key - Used as defined in revision ${v ? '1.3 or later' : '1.2.1 or earlier'}`,
    ],
    [6, 6, sup('Exclusive Access - All Registrants')],
    [5, 5, sup('Write Exclusive - All Registrants')],
    [4, 4, sup('Exclusive Access - Registrants Only')],
    [3, 3, sup('Write Exclusive - Registrants Only')],
    [2, 2, sup('Exclusive Access')],
    [1, 1, sup('Write Exclusive')],
    [0, 0, sup('Persist Through Power Loss')],
  ],
  fpi: [
    [7, 7, sup('Format Progress Indicator')],
    [6, 0, (v) => `Format Progress Indicator (Remaining ${v}%)`],
  ],
  dlfeat: [
    res(7, 5),
    [
      4,
      4,
      (v) =>
        `Guard Field of Deallocated Logical Blocks is set to ${v ? 'CRC of The Value Read' : '0xFFFF'}`,
    ],
    [3, 3, (v) => `Deallocate Bit in the Write Zeroes Command is ${v ? '' : 'Not '}Supported`],
    [
      2,
      0,
      (v) =>
        `Bytes Read From a Deallocated Logical Block and its Metadata are ${['Not Reported', '0x00', '0xFF'][v] ?? 'Reserved Value'}`,
    ],
  ],
};
