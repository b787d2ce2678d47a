// The QEMU compatibility levels of the NVMe devices (issue 21, docs/qemu-10.md): what differs
// between QEMU 7.2's and QEMU 10.0's `nvme`, `nvme-ns` and `nvme-subsys`, as data. Each field
// is read by the one encoder or handler that owns the answer (Identify, the effects log, the
// registers, ...); no answer is built twice. The values are the recorded answers of
// tests/fixtures/qemu/{7.2,10.0}/ (the keys cited are theirs), checked key by key by
// tests/fidelity/levels.test.ts.

import type { QemuCompat } from '../../config/component.js';
import { Effects } from './opcodes.js';
import { Status } from './status.js';

export type { QemuCompat };

export interface NvmeLevel {
  readonly compat: QemuCompat;
  /**
   * Identify Controller FR when it is not the firmware revision of the active slot. QEMU
   * reports its own version there ("7.2.22", "10.0.13") and "1.0" in the Firmware Slot log's
   * FRS1; nvmemu's 7.2 level reports its firmware revision in both (docs/nvme.md), the 10.0
   * level the version it reproduces in FR.
   */
  readonly identifyFr: string | undefined;
  /** CAP.CSS (bits 44:37): 10.0 drops "admin only" (bit 7), so CC.CSS = 7 fails to enable. */
  readonly capCss: number;
  /**
   * ONCS bits not derived from the I/O command table: Save/Select (4), Timestamp (6), and at
   * 10.0 Copy Single Atomicity (9) and All Fast Copy (10) (`identify cns=0x01` ONCS 0x75d).
   */
  readonly oncsFixed: number;
  /** SGLS on PCIe: SGLs (bit 0), and at 10.0 an SGL in MPTR (bit 19, pci/dma.ts mapMptr). */
  readonly sgls: number;
  /** Directive Send/Receive (OACS bit 5) with the Identify directive. */
  readonly directives: boolean;
  /**
   * Virtualization Management exists only on an SR-IOV primary, which advertises it (OACS
   * bit 7); 7.2 lists and runs it everywhere with OACS bit 7 clear (`admin opc=0x1c zero`).
   */
  readonly virtMgmtOnSriovOnly: boolean;
  /** Namespace Attachment's effects: 10.0 adds Controller Capability Change (CCC). */
  readonly nsAttachmentEffects: number;
  /**
   * Every subsystem has endurance group 1 holding its `nvme-ns` namespaces (ENDGID 1, Identify
   * CNS 08h/19h, log 09h), not only an FDP one; the `drive=` namespace stays outside.
   */
  readonly enduranceGroupAlways: boolean;
  /**
   * 10.0 gives every controller a subsystem: Identify CNS 12h/13h answer without
   * `nvme-subsys`, a shared namespace reports NMIC 1 in it, and CNS 13h lists the SR-IOV
   * secondary controllers. CMIC, CTRATT and ENDGIDMAX still follow `nvme-subsys` only.
   */
  readonly implicitSubsystem: boolean;
  /** NSFEAT bit 5 (OPTPERF bit 1) and NPDGL/NPDAL of the NVM namespace structure (CNS 05h). */
  readonly npdgl: boolean;
  /** DLFEAT: reads of deallocated blocks return zeros (1), + Write Zeroes DEAC (bit 3) at 10.0. */
  readonly dlfeat: number;
  /** DMRL of the NVM controller structure (CNS 06h CSI 0); DMSL = DMRL x DMRSL when set. */
  readonly dmrl: number;
  /** Write Atomicity Normal (FID 0Ah) is changeable (DN bit; Set succeeds). */
  readonly writeAtomicityChangeable: boolean;
  /** Identify CNS 11h of a namespace of another command set (`identify cns=0x11` zoned). */
  readonly invalidIocsStatus: number;
  /** I/O Management Receive/Send MO 0 succeed without FDP (`io opc=0x12 nsid=1 zero`). */
  readonly ioMgmtNoOpWithoutFdp: boolean;
  /** Get Features FDP Mode of endurance group 1 needs FDP (`get-features fid=0x1d sel=0 cdw11=1`). */
  readonly fdpModeNeedsFdp: boolean;
  /** The PCI function's defaults of `x-pcie-ext-tag` and `x-pcie-ari-nextfn-1`. */
  readonly pcieExtTag: boolean;
  readonly ariNextFn1: boolean;
  /**
   * The `drive=` namespace has nvme-ns's Copy limits (MSSRL 128, MCL 128, MSRC 127). QEMU
   * leaves them 0 (so Copy fails with 0x183); nvmemu's 7.2 level has always given the limits
   * and keeps them, the 10.0 level answers as QEMU does.
   */
  readonly legacyCopyLimits: boolean;
}

const LEVEL_72: NvmeLevel = {
  compat: '7.2',
  identifyFr: undefined,
  capCss: 0xc1,
  oncsFixed: (1 << 4) | (1 << 6),
  sgls: 0x1,
  directives: false,
  virtMgmtOnSriovOnly: false,
  nsAttachmentEffects: Effects.CSUPP | Effects.NIC,
  enduranceGroupAlways: false,
  implicitSubsystem: false,
  npdgl: false,
  dlfeat: 0x1,
  dmrl: 0,
  writeAtomicityChangeable: false,
  invalidIocsStatus: Status.INVALID_CMD_SET,
  ioMgmtNoOpWithoutFdp: false,
  fdpModeNeedsFdp: false,
  pcieExtTag: false,
  ariNextFn1: true,
  legacyCopyLimits: true,
};

const LEVEL_10: NvmeLevel = {
  compat: '10.0',
  identifyFr: '10.0.13',
  capCss: 0x41,
  oncsFixed: (1 << 4) | (1 << 6) | (1 << 9) | (1 << 10),
  sgls: 0x8_0001,
  directives: true,
  virtMgmtOnSriovOnly: true,
  nsAttachmentEffects: Effects.CSUPP | Effects.NIC | Effects.CCC,
  enduranceGroupAlways: true,
  implicitSubsystem: true,
  npdgl: true,
  dlfeat: 0x9,
  dmrl: 0xff,
  writeAtomicityChangeable: true,
  invalidIocsStatus: Status.INVALID_IOCS,
  ioMgmtNoOpWithoutFdp: true,
  fdpModeNeedsFdp: true,
  pcieExtTag: true,
  ariNextFn1: false,
  legacyCopyLimits: false,
};

export const NVME_LEVELS: Readonly<Record<QemuCompat, NvmeLevel>> = {
  '7.2': LEVEL_72,
  '10.0': LEVEL_10,
};

/** The level of `compat` (7.2 when not given: the default machine types). */
export function nvmeLevel(compat: QemuCompat | undefined): NvmeLevel {
  return NVME_LEVELS[compat ?? '7.2'];
}
