// Field tables of the structures in the fixtures, so the 7.2/10.0 difference table names
// fields instead of byte offsets. Offsets and bit names follow the NVMe Base Specification 2.0c
// (Identify Controller Figure 276, I/O Command Set Independent Identify Namespace Figure 280,
// Commands Supported and Effects Figure 210, Endurance Group Information Figure 213, FDP logs
// Figures 284-290 of TP 4146), the NVM Command Set 1.1 (Identify Namespace Figure 97, NVM
// Identify Namespace Figure 114, Identify Controller Figure 117), ZNS 1.1 (Figures 48, 50) and
// PCI 3.0 (configuration header). Bytes outside every field are reported as byte ranges.

import { AdminOpc, IoOpc } from '../../src/nvme/spec/opcodes.js';

export interface Field {
  readonly off: number;
  readonly size: number;
  readonly name: string;
  readonly desc: string;
  readonly ascii?: boolean;
  /** Sub-fields [low bit, high bit, name]; a change lists the sub-fields that changed. */
  readonly parts?: readonly (readonly [number, number, string])[];
}

type Row = readonly [
  number,
  number,
  string,
  string,
  (readonly (readonly [number, number, string])[])?,
];

function table(rows: readonly Row[]): Field[] {
  return rows.map(([off, size, name, desc, parts]) => ({
    off,
    size,
    name,
    desc,
    ...(parts !== undefined ? { parts } : {}),
  }));
}

/** Single bits b -> name as parts. */
function bits(names: Record<number, string>): (readonly [number, number, string])[] {
  return Object.entries(names).map(([b, n]) => [Number(b), Number(b), n] as const);
}

const PCI_CONFIG = table([
  [0x00, 2, 'VID', 'vendor id'],
  [0x02, 2, 'DID', 'device id'],
  [0x04, 2, 'COMMAND', 'command register'],
  [0x06, 2, 'STATUS', 'status register'],
  [0x08, 1, 'RID', 'revision'],
  [0x09, 3, 'CC', 'class code'],
  [0x0e, 1, 'HTYPE', 'header type'],
  [0x10, 4, 'BAR0', 'BAR0 low'],
  [0x14, 4, 'BAR1', 'BAR0 high'],
  [0x18, 4, 'BAR2', 'BAR2 low'],
  [0x1c, 4, 'BAR3', 'BAR2 high'],
  [0x20, 4, 'BAR4', 'BAR4 low'],
  [0x24, 4, 'BAR5', 'BAR4 high'],
  [0x2c, 2, 'SSVID', 'subsystem vendor id'],
  [0x2e, 2, 'SSID', 'subsystem id'],
  [0x34, 1, 'CAP', 'capabilities pointer'],
  [0x3c, 1, 'INTL', 'interrupt line'],
  [0x3d, 1, 'INTP', 'interrupt pin'],
  [
    0x84,
    4,
    'DEVCAP',
    'PCI Express device capabilities',
    bits({ 5: 'extended tag field', 28: 'FLR' }),
  ],
]);

/** Extended configuration space from 0x100 (offsets relative to it): ARI, then SR-IOV. */
const PCI_EXT_CONFIG = table([
  [0x00, 4, 'ARI header', 'ARI extended capability header'],
  [0x04, 2, 'ARI CAP', 'ARI capability (15:8 next function number)'],
]);

const REGISTERS = table([
  [
    0x00,
    8,
    'CAP',
    'Controller Capabilities',
    [
      [0, 15, 'MQES'],
      [16, 16, 'CQR'],
      [17, 18, 'AMS'],
      [24, 31, 'TO'],
      [32, 35, 'DSTRD'],
      [36, 36, 'NSSRS'],
      [37, 44, 'CSS'],
      [45, 45, 'BPS'],
      [46, 47, 'CPS'],
      [48, 51, 'MPSMIN'],
      [52, 55, 'MPSMAX'],
      [56, 56, 'PMRS'],
      [57, 57, 'CMBS'],
      [58, 58, 'NSSS'],
      [59, 60, 'CRMS'],
    ],
  ],
  [0x08, 4, 'VS', 'Version'],
  [0x0c, 4, 'INTMS', 'Interrupt Mask Set'],
  [0x10, 4, 'INTMC', 'Interrupt Mask Clear'],
  [
    0x14,
    4,
    'CC',
    'Controller Configuration',
    [
      [0, 0, 'EN'],
      [4, 6, 'CSS'],
      [7, 10, 'MPS'],
      [11, 13, 'AMS'],
      [14, 15, 'SHN'],
      [16, 19, 'IOSQES'],
      [20, 23, 'IOCQES'],
      [24, 24, 'CRIME'],
    ],
  ],
  [0x1c, 4, 'CSTS', 'Controller Status'],
  [0x20, 4, 'NSSR', 'NVM Subsystem Reset'],
  [0x24, 4, 'AQA', 'Admin Queue Attributes'],
  [0x28, 8, 'ASQ', 'Admin SQ Base Address'],
  [0x30, 8, 'ACQ', 'Admin CQ Base Address'],
  [0x38, 4, 'CMBLOC', 'CMB Location'],
  [0x3c, 4, 'CMBSZ', 'CMB Size'],
  [0x40, 4, 'BPINFO', 'Boot Partition Information'],
  [0x44, 4, 'BPRSEL', 'Boot Partition Read Select'],
  [0x48, 8, 'BPMBL', 'Boot Partition Memory Buffer Location'],
  [0x50, 8, 'CMBMSC', 'CMB Memory Space Control'],
  [0x58, 4, 'CMBSTS', 'CMB Status'],
  [0x5c, 4, 'CMBEBS', 'CMB Elasticity Buffer Size'],
  [0x60, 4, 'CMBSWTP', 'CMB Sustained Write Throughput'],
  [0x64, 4, 'NSSD', 'NVM Subsystem Shutdown'],
  [0x68, 4, 'CRTO', 'Controller Ready Timeouts'],
]);

const ID_CTRL = table([
  [0, 2, 'VID', 'PCI vendor id'],
  [2, 2, 'SSVID', 'PCI subsystem vendor id'],
  [4, 20, 'SN', 'serial number'],
  [24, 40, 'MN', 'model number'],
  [64, 8, 'FR', 'firmware revision (QEMU version)'],
  [72, 1, 'RAB', 'recommended arbitration burst'],
  [73, 3, 'IEEE', 'IEEE OUI'],
  [
    76,
    1,
    'CMIC',
    'multi-path I/O and namespace sharing',
    bits({ 0: 'multiple ports', 1: 'multiple controllers', 2: 'SR-IOV', 3: 'ANA' }),
  ],
  [77, 1, 'MDTS', 'maximum data transfer size'],
  [78, 2, 'CNTLID', 'controller id'],
  [80, 4, 'VER', 'version'],
  [84, 4, 'RTD3R', 'RTD3 resume latency'],
  [88, 4, 'RTD3E', 'RTD3 entry latency'],
  [
    92,
    4,
    'OAES',
    'optional asynchronous events',
    bits({
      8: 'NS attribute',
      9: 'firmware activation',
      11: 'ANA change',
      14: 'endurance group event',
      27: 'zone descriptor changed',
    }),
  ],
  [
    96,
    4,
    'CTRATT',
    'controller attributes',
    bits({
      0: 'HIDS',
      2: 'NVM sets',
      4: 'Endurance Groups',
      7: 'NS granularity',
      9: 'UUID list',
      15: 'ELBAS',
      16: 'MEM',
      19: 'FDPS',
    }),
  ],
  [100, 2, 'RRLS', 'read recovery levels supported'],
  [111, 1, 'CNTRLTYPE', 'controller type'],
  [112, 16, 'FGUID', 'FRU globally unique id'],
  [128, 2, 'CRDT1', 'command retry delay time 1'],
  [253, 1, 'NVMSR', 'NVM subsystem report'],
  [254, 1, 'VWCI', 'VPD write cycle information'],
  [255, 1, 'MEC', 'management endpoint capabilities'],
  [
    256,
    2,
    'OACS',
    'optional admin commands',
    bits({
      0: 'Security Send/Receive',
      1: 'Format NVM',
      2: 'Firmware',
      3: 'NS Management',
      4: 'Device Self-test',
      5: 'Directives',
      6: 'NVMe-MI',
      7: 'Virtualization Management',
      8: 'Doorbell Buffer Config',
      9: 'Get LBA Status',
      10: 'Lockdown',
    }),
  ],
  [258, 1, 'ACL', 'abort command limit'],
  [259, 1, 'AERL', 'asynchronous event request limit'],
  [260, 1, 'FRMW', 'firmware updates'],
  [
    261,
    1,
    'LPA',
    'log page attributes',
    bits({
      0: 'SMART per NS',
      1: 'effects log',
      2: 'extended data',
      3: 'telemetry',
      4: 'persistent event',
      5: 'supported log pages',
      6: 'telemetry area 4',
    }),
  ],
  [262, 1, 'ELPE', 'error log page entries'],
  [263, 1, 'NPSS', 'number of power states'],
  [264, 1, 'AVSCC', 'admin vendor specific command configuration'],
  [265, 1, 'APSTA', 'autonomous power state transition'],
  [266, 2, 'WCTEMP', 'warning composite temperature threshold'],
  [268, 2, 'CCTEMP', 'critical composite temperature threshold'],
  [270, 2, 'MTFA', 'maximum time for firmware activation'],
  [272, 4, 'HMPRE', 'host memory buffer preferred size'],
  [276, 4, 'HMMIN', 'host memory buffer minimum size'],
  [280, 16, 'TNVMCAP', 'total NVM capacity'],
  [296, 16, 'UNVMCAP', 'unallocated NVM capacity'],
  [312, 4, 'RPMBS', 'replay protected memory block support'],
  [316, 2, 'EDSTT', 'extended device self-test time'],
  [318, 1, 'DSTO', 'device self-test options'],
  [319, 1, 'FWUG', 'firmware update granularity'],
  [320, 2, 'KAS', 'keep alive support'],
  [322, 2, 'HCTMA', 'host controlled thermal management'],
  [328, 4, 'SANICAP', 'sanitize capabilities'],
  [338, 2, 'NSETIDMAX', 'NVM set identifier maximum'],
  [340, 2, 'ENDGIDMAX', 'endurance group identifier maximum'],
  [342, 1, 'ANATT', 'ANA transition time'],
  [343, 1, 'ANACAP', 'ANA capabilities'],
  [344, 4, 'ANAGRPMAX', 'ANA group identifier maximum'],
  [348, 4, 'NANAGRPID', 'number of ANA group identifiers'],
  [352, 4, 'PELS', 'persistent event log size'],
  [356, 2, 'DMID', 'domain identifier'],
  [512, 1, 'SQES', 'submission queue entry size'],
  [513, 1, 'CQES', 'completion queue entry size'],
  [514, 2, 'MAXCMD', 'maximum outstanding commands'],
  [516, 4, 'NN', 'number of namespaces'],
  [
    520,
    2,
    'ONCS',
    'optional NVM commands',
    bits({
      0: 'Compare',
      1: 'Write Uncorrectable',
      2: 'DSM',
      3: 'Write Zeroes',
      4: 'Save/Select',
      5: 'Reservations',
      6: 'Timestamp',
      7: 'Verify',
      8: 'Copy',
      9: 'NVMCSA',
      10: 'NVMAFC',
      11: 'MAXWZD',
      12: 'NSZS',
    }),
  ],
  [522, 2, 'FUSES', 'fused operations'],
  [524, 1, 'FNA', 'format NVM attributes'],
  [525, 1, 'VWC', 'volatile write cache'],
  [526, 2, 'AWUN', 'atomic write unit normal'],
  [528, 2, 'AWUPF', 'atomic write unit power fail'],
  [530, 1, 'ICSVSCC', 'I/O vendor specific command configuration'],
  [531, 1, 'NWPC', 'namespace write protection'],
  [532, 2, 'ACWU', 'atomic compare and write unit'],
  [
    534,
    2,
    'OCFS',
    'optional copy formats supported',
    bits({ 0: 'format 0', 1: 'format 1', 2: 'format 2', 3: 'format 3' }),
  ],
  [
    536,
    4,
    'SGLS',
    'SGL support',
    [
      [0, 1, 'SGL support'],
      [2, 2, 'keyed'],
      [16, 16, 'bit bucket'],
      [17, 17, 'byte aligned MPTR'],
      [18, 18, 'length > data'],
      [19, 19, 'MPTR SGL'],
      [20, 20, 'address as offset'],
    ],
  ],
  [540, 4, 'MNAN', 'maximum number of allowed namespaces'],
  [544, 16, 'MAXDNA', 'maximum domain namespace attachments'],
  [560, 4, 'MAXCNA', 'maximum I/O controller namespace attachments'],
  [564, 4, 'OAQD', 'optimal aggregated queue depth'],
  [768, 256, 'SUBNQN', 'NVM subsystem NQN'],
  [1792, 4, 'IOCCSZ', 'I/O queue command capsule size'],
  [1796, 4, 'IORCSZ', 'I/O queue response capsule size'],
  [2048, 32, 'PSD0', 'power state 0 descriptor'],
]).map((f) => (['SN', 'MN', 'FR', 'SUBNQN'].includes(f.name) ? { ...f, ascii: true } : f));

const LBAFS: Row[] = Array.from({ length: 64 }, (_, i) => [
  128 + 4 * i,
  4,
  `LBAF${i}`,
  `LBA format ${i}`,
]);

const ID_NS = table([
  [0, 8, 'NSZE', 'namespace size'],
  [8, 8, 'NCAP', 'namespace capacity'],
  [16, 8, 'NUSE', 'namespace utilization'],
  [
    24,
    1,
    'NSFEAT',
    'namespace features',
    bits({
      0: 'THINP',
      1: 'NSABP',
      2: 'DAE',
      3: 'UIDREUSE',
      4: 'OPTPERF (NPWG..NOWS)',
      5: 'OPTPERF bit 1 (NPDGL/NPDAL)',
    }),
  ],
  [25, 1, 'NLBAF', 'number of LBA formats'],
  [26, 1, 'FLBAS', 'formatted LBA size'],
  [27, 1, 'MC', 'metadata capabilities'],
  [28, 1, 'DPC', 'end-to-end data protection capabilities'],
  [29, 1, 'DPS', 'end-to-end data protection settings'],
  [30, 1, 'NMIC', 'namespace multi-path I/O and sharing', bits({ 0: 'shared', 1: 'dispersed' })],
  [31, 1, 'RESCAP', 'reservation capabilities'],
  [32, 1, 'FPI', 'format progress indicator'],
  [
    33,
    1,
    'DLFEAT',
    'deallocate logical block features',
    [
      [0, 2, 'read behaviour'],
      [3, 3, 'Write Zeroes deallocates'],
      [4, 4, 'guard CRC'],
    ],
  ],
  [34, 2, 'NAWUN', 'namespace atomic write unit normal'],
  [36, 2, 'NAWUPF', 'namespace atomic write unit power fail'],
  [38, 2, 'NACWU', 'namespace atomic compare and write unit'],
  [40, 2, 'NABSN', 'namespace atomic boundary size normal'],
  [42, 2, 'NABO', 'namespace atomic boundary offset'],
  [44, 2, 'NABSPF', 'namespace atomic boundary size power fail'],
  [46, 2, 'NOIOB', 'namespace optimal I/O boundary'],
  [48, 16, 'NVMCAP', 'NVM capacity'],
  [64, 2, 'NPWG', 'preferred write granularity'],
  [66, 2, 'NPWA', 'preferred write alignment'],
  [68, 2, 'NPDG', 'preferred deallocate granularity'],
  [70, 2, 'NPDA', 'preferred deallocate alignment'],
  [72, 2, 'NOWS', 'optimal write size'],
  [74, 2, 'MSSRL', 'maximum single source range length'],
  [76, 4, 'MCL', 'maximum copy length'],
  [80, 1, 'MSRC', 'maximum source range count'],
  [81, 1, 'KPIOS', 'key per I/O status'],
  [82, 1, 'NULBAF', 'number of unique attribute LBA formats'],
  [92, 4, 'ANAGRPID', 'ANA group identifier'],
  [99, 1, 'NSATTR', 'namespace attributes'],
  [100, 2, 'NVMSETID', 'NVM set identifier'],
  [102, 2, 'ENDGID', 'endurance group identifier'],
  [104, 16, 'NGUID', 'namespace globally unique identifier'],
  [120, 8, 'EUI64', 'IEEE extended unique identifier'],
  ...LBAFS,
]);

const ID_NS_NVM = table([
  [0, 8, 'LBSTM', 'logical block storage tag mask'],
  [8, 1, 'PIC', 'protection information capabilities'],
  [9, 1, 'PIFA', 'protection information format attribute'],
  ...Array.from({ length: 64 }, (_, i): Row => [
    12 + 4 * i,
    4,
    `ELBAF${i}`,
    `extended LBA format ${i}`,
  ]),
  [268, 4, 'NPDGL', 'preferred deallocate granularity large'],
  [272, 4, 'NPRG', 'preferred read granularity'],
  [276, 4, 'NPRA', 'preferred read alignment'],
  [280, 4, 'NORS', 'optimal read size'],
  [284, 4, 'NPDAL', 'preferred deallocate alignment large'],
]);

const ID_NS_ZONED = table([
  [0, 2, 'ZOC', 'zone operation characteristics'],
  [2, 2, 'OZCS', 'optional zoned command support'],
  [4, 4, 'MAR', 'maximum active resources'],
  [8, 4, 'MOR', 'maximum open resources'],
  [12, 4, 'RRL', 'reset recommended limit'],
  [16, 4, 'FRL', 'finish recommended limit'],
  [44, 4, 'NUMZRWA', 'number of ZRWA resources'],
  [48, 2, 'ZRWAFG', 'ZRWA flush granularity'],
  [50, 2, 'ZRWAS', 'ZRWA size'],
  [52, 1, 'ZRWACAP', 'ZRWA capability'],
  ...Array.from({ length: 64 }, (_, i): Row => [
    2816 + 16 * i,
    16,
    `LBAFE${i}`,
    `LBA format extension ${i} (ZSZE, ZDES)`,
  ]),
]);

const ID_CTRL_NVM = table([
  [0, 1, 'VSL', 'verify size limit'],
  [1, 1, 'WZSL', 'write zeroes size limit'],
  [2, 1, 'WUSL', 'write uncorrectable size limit'],
  [3, 1, 'DMRL', 'dataset management ranges limit'],
  [4, 4, 'DMRSL', 'dataset management range size limit'],
  [8, 8, 'DMSL', 'dataset management size limit'],
]);

const ID_CTRL_ZONED = table([[0, 1, 'ZASL', 'zone append size limit']]);

const ID_NS_INDEPENDENT = table([
  [0, 1, 'NSFEAT', 'namespace features'],
  [1, 1, 'NMIC', 'namespace multi-path I/O and sharing'],
  [2, 1, 'RESCAP', 'reservation capabilities'],
  [3, 1, 'FPI', 'format progress indicator'],
  [4, 4, 'ANAGRPID', 'ANA group identifier'],
  [8, 1, 'NSATTR', 'namespace attributes'],
  [10, 2, 'NVMSETID', 'NVM set identifier'],
  [12, 2, 'ENDGID', 'endurance group identifier'],
  [14, 1, 'NSTAT', 'namespace status (bit 0: ready)'],
]);

const PRIMARY_CAPS = table([
  [0, 2, 'CNTLID', 'controller id'],
  [2, 2, 'PORTID', 'port id'],
  [4, 1, 'CRT', 'controller resource types'],
  [32, 4, 'VQFRT', 'VQ flexible resources total'],
  [36, 4, 'VQRFA', 'VQ resources flexible assigned'],
  [40, 2, 'VQRFAP', 'VQ resources flexible allocated to primary'],
  [42, 2, 'VQPRT', 'VQ private resources total'],
  [44, 2, 'VQFRSM', 'VQ flexible resource secondary maximum'],
  [46, 2, 'VQGRAN', 'VQ flexible resource preferred granularity'],
  [64, 4, 'VIFRT', 'VI flexible resources total'],
  [68, 4, 'VIRFA', 'VI resources flexible assigned'],
  [72, 2, 'VIRFAP', 'VI resources flexible allocated to primary'],
  [74, 2, 'VIPRT', 'VI private resources total'],
  [76, 2, 'VIFRSM', 'VI flexible resource secondary maximum'],
  [78, 2, 'VIGRAN', 'VI flexible resource preferred granularity'],
]);

const SMART = table([
  [0, 1, 'CW', 'critical warning'],
  [1, 2, 'CTEMP', 'composite temperature'],
  [3, 1, 'AVSP', 'available spare'],
  [4, 1, 'AVSPT', 'available spare threshold'],
  [5, 1, 'PUSED', 'percentage used'],
  [6, 1, 'EGCWS', 'endurance group critical warning summary'],
  [32, 16, 'DUR', 'data units read'],
  [48, 16, 'DUW', 'data units written'],
  [64, 16, 'HRC', 'host read commands'],
  [80, 16, 'HWC', 'host write commands'],
  [96, 16, 'CBT', 'controller busy time'],
  [112, 16, 'PWRC', 'power cycles'],
  [128, 16, 'POH', 'power on hours'],
  [144, 16, 'UPL', 'unsafe shutdowns'],
  [160, 16, 'MDIE', 'media and data integrity errors'],
  [176, 16, 'NEILE', 'error information log entries'],
]);

const ENDURANCE = table([
  [0, 1, 'CW', 'critical warning'],
  [1, 1, 'EGFEAT', 'endurance group features'],
  [3, 1, 'AVSP', 'available spare'],
  [4, 1, 'AVSPT', 'available spare threshold'],
  [5, 1, 'PUSED', 'percentage used'],
  [6, 2, 'DMID', 'domain identifier'],
  [32, 16, 'EE', 'endurance estimate'],
  [48, 16, 'DUR', 'data units read'],
  [64, 16, 'DUW', 'data units written'],
  [80, 16, 'MUW', 'media units written'],
  [96, 16, 'HRC', 'host read commands'],
  [112, 16, 'HWC', 'host write commands'],
  [128, 16, 'MDIE', 'media and data integrity errors'],
  [144, 16, 'NEILE', 'error information log entries'],
  [160, 16, 'TEGCAP', 'total endurance group capacity'],
  [176, 16, 'UEGCAP', 'unallocated endurance group capacity'],
]);

const FDP_CONFIGS = table([
  [0, 2, 'NUMFDPC', 'number of FDP configurations (0-based)'],
  [2, 1, 'VER', 'version'],
  [4, 4, 'LSIZE', 'log size'],
  [16, 2, 'DSZE', 'descriptor size'],
  [18, 1, 'FDPA', 'FDP attributes (bit 7 valid, 3:0 RGIF)'],
  [19, 1, 'VSS', 'vendor specific size'],
  [20, 4, 'NRG', 'number of reclaim groups'],
  [24, 2, 'NRUH', 'number of reclaim unit handles'],
  [26, 2, 'MAXPIDS', 'maximum placement identifiers'],
  [28, 4, 'NNSS', 'number of namespaces supported'],
  [32, 8, 'RUNS', 'reclaim unit nominal size'],
  [40, 4, 'ERUTL', 'estimated reclaim unit time limit'],
  ...Array.from({ length: 16 }, (_, i): Row => [
    80 + 4 * i,
    4,
    `RUHD${i}`,
    `reclaim unit handle descriptor ${i} (type)`,
  ]),
]);

const FDP_STATS = table([
  [0, 16, 'HBMW', 'host bytes with metadata written'],
  [16, 16, 'MBMW', 'media bytes with metadata written'],
  [32, 16, 'MBE', 'media bytes erased'],
]);

/** FDP event log: header (events count) and 64-byte events (TP 4146 Figure 'FDP Event'). */
const FDP_EVENTS = table([
  [0, 4, 'NEVENTS', 'number of events'],
  ...Array.from({ length: 8 }, (_, i): Row[] => {
    const b = 64 + 64 * i;
    return [
      [b, 1, `EVENT${i}.TYPE`, `event ${i} type`],
      [b + 1, 1, `EVENT${i}.FLAGS`, `event ${i} flags`, bits({ 0: 'PIV', 1: 'NSIDV', 2: 'LV' })],
      [b + 2, 2, `EVENT${i}.PID`, `event ${i} placement identifier`],
      [b + 4, 8, `EVENT${i}.TIMESTAMP`, `event ${i} timestamp (48-bit ms, byte 6 attributes)`],
      [b + 12, 4, `EVENT${i}.NSID`, `event ${i} namespace`],
      [b + 32, 2, `EVENT${i}.RGID`, `event ${i} reclaim group`],
      [b + 34, 2, `EVENT${i}.RUHID`, `event ${i} reclaim unit handle`],
    ];
  }).flat(),
]);

const ADMIN_NAMES = new Map(
  Object.entries(AdminOpc).map(([k, v]) => [v as number, k.toLowerCase().replace(/_/g, ' ')]),
);
const IO_NAMES = new Map(
  Object.entries(IoOpc).map(([k, v]) => [v as number, k.toLowerCase().replace(/_/g, ' ')]),
);

const EFFECTS = table([
  ...Array.from({ length: 256 }, (_, o): Row => [
    4 * o,
    4,
    `ACS[0x${o.toString(16).padStart(2, '0')}]`,
    `admin ${ADMIN_NAMES.get(o) ?? 'opcode'} effects`,
    bits({ 0: 'CSUPP', 1: 'LBCC', 2: 'NCC', 3: 'NIC', 4: 'CCC' }),
  ]),
  ...Array.from({ length: 256 }, (_, o): Row => [
    1024 + 4 * o,
    4,
    `IOCS[0x${o.toString(16).padStart(2, '0')}]`,
    `I/O ${IO_NAMES.get(o) ?? 'opcode'} effects`,
    bits({ 0: 'CSUPP', 1: 'LBCC', 2: 'NCC', 3: 'NIC', 4: 'CCC' }),
  ]),
]);

const RUH_USAGE = table([
  [0, 2, 'NRUH', 'number of reclaim unit handles'],
  ...Array.from({ length: 16 }, (_, i): Row => [
    8 + 8 * i,
    1,
    `RUHA${i}`,
    `RUH ${i} attributes (1 host, 2 controller specified)`,
  ]),
]);

/** I/O Management Receive, Reclaim Unit Handle Status (TP 4146 Figure 'RUH Status'). */
const RUH_STATUS = table([
  [14, 2, 'NRUHSD', 'number of RUH status descriptors'],
  ...Array.from({ length: 8 }, (_, i): Row[] => {
    const b = 16 + 32 * i;
    return [
      [b, 2, `RUHSD${i}.PID`, `descriptor ${i} placement identifier`],
      [b + 2, 2, `RUHSD${i}.RUHID`, `descriptor ${i} reclaim unit handle`],
      [b + 4, 4, `RUHSD${i}.EARUTR`, `descriptor ${i} estimated active RU time remaining`],
      [b + 8, 8, `RUHSD${i}.RUAMW`, `descriptor ${i} RU available media writes (blocks)`],
    ];
  }).flat(),
]);

/** Directive Receive, Identify / Return Parameters (Base 2.0 Figure 319). */
const DIRECTIVES = table([
  [0, 32, 'DSUP', 'directives supported (bit 0 identify, 1 streams, 2 data placement)'],
  [32, 32, 'DEN', 'directives enabled'],
  [64, 32, 'DPER', 'directives persistent across controller level resets'],
]);

/** Get Features FDP Events data: NOET {type, enabled} pairs. */
const FDP_EVENT_FEATURE = table(
  Array.from({ length: 8 }, (_, i): Row => [
    2 * i,
    2,
    `EVENT${i}`,
    `event type (low byte) and enabled (high byte) ${i}`,
  ]),
);

function idList(what: string): Field[] {
  return table([
    [0, 2, 'NUMID', 'number of identifiers'],
    ...Array.from({ length: 8 }, (_, i): Row => [2 + 2 * i, 2, `ID${i}`, what]),
  ]);
}
const CTRL_LIST = idList('controller identifier');
const ENDGRP_LIST = idList('endurance group identifier');

const TIMESTAMP = table([[0, 8, 'TIMESTAMP', 'timestamp (48-bit ms, byte 6 attributes)']]);

/** The field table that describes the data of answer `key`, or none (byte ranges). */
export function fieldsOf(key: string): readonly Field[] {
  const cns = /^identify cns=0x([0-9a-f]{2}) csi=0x([0-9a-f]{2})/.exec(key);
  if (cns !== null) {
    const c = Number.parseInt(cns[1]!, 16);
    const csi = Number.parseInt(cns[2]!, 16);
    if (c === 0x00 || c === 0x11) return ID_NS;
    if (c === 0x01) return ID_CTRL;
    if (c === 0x05 || c === 0x1b) return csi === 2 ? ID_NS_ZONED : ID_NS_NVM;
    if (c === 0x06) return csi === 2 ? ID_CTRL_ZONED : ID_CTRL_NVM;
    if (c === 0x08 || c === 0x1f) return ID_NS_INDEPENDENT;
    if (c === 0x14) return PRIMARY_CAPS;
    if (c === 0x12 || c === 0x13) return CTRL_LIST;
    if (c === 0x19) return ENDGRP_LIST;
    return [];
  }
  if (key === 'pci config') return PCI_CONFIG;
  if (key === 'pci extended config') return PCI_EXT_CONFIG;
  if (key.startsWith('regs') && !key.startsWith('regs pmr')) return REGISTERS;
  const lid = /log lid=0x([0-9a-f]{2})/.exec(key)?.[1];
  switch (lid) {
    case '02':
      return SMART;
    case '05':
      return EFFECTS;
    case '09':
      return ENDURANCE;
    case '20':
      return FDP_CONFIGS;
    case '21':
      return RUH_USAGE;
    case '22':
      return FDP_STATS;
    case '23':
      return FDP_EVENTS;
    default:
      break;
  }
  if (key.includes('fid=0x0e')) return TIMESTAMP;
  if (key.includes('fid=0x1e')) return FDP_EVENT_FEATURE;
  if (key.startsWith('fdp ruh status') || key.startsWith('io-mgmt-receive mo=1')) return RUH_STATUS;
  if (key.startsWith('directive-receive')) return DIRECTIVES;
  return [];
}
