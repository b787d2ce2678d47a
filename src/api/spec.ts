// Documented public names for core pieces the facade hands out (raw NVMe commands, the
// configuration error, power-cut results, the fault injector). Re-declared here so the public
// surface carries its own TSDoc without touching the core modules.

import { ConfigError as CoreConfigError } from '../config/errors.js';
import type { FaultInjector as CoreFaultInjector } from '../faults/injector.js';
import type {
  PowerCutOptions as CorePowerCutOptions,
  PowerCutReport as CorePowerCutReport,
} from '../faults/power-cut.js';
import type { CmdInit as CoreCmdInit, Cqe as CoreCqe } from '../nvme/spec/command.js';
import { AdminOpc as CoreAdminOpc, IoOpc as CoreIoOpc } from '../nvme/spec/opcodes.js';
import { Status as CoreStatus, statusName as coreStatusName } from '../nvme/spec/status.js';

/**
 * A bad machine argument or property: `message` is QEMU's text, `location` the option as typed
 * (`-device nvme,serial=x`), `property` the property it is about. Code `EMU_ERR_CONFIG`.
 */
export const ConfigError = CoreConfigError;
/** An instance of {@link ConfigError}. */
export type ConfigError = CoreConfigError;

/**
 * The fields of a submission queue entry to send (NVMe Base Spec 2.0 Figure 88): `opcode` and
 * any of `nsid`, `cdw2`..`cdw15`, `fuse`; omitted fields are zero. The data pointer is filled
 * in by the host from the buffer passed alongside.
 */
export type CmdInit = CoreCmdInit;

/**
 * A completion queue entry (Figure 90): `status` is the 15-bit status field (SCT << 8 | SC,
 * DNR bit 14), `dw0`/`dw1` the command-specific result.
 */
export type Cqe = CoreCqe;

/** Admin command opcodes (Base Spec 2.0 Figure 138), e.g. `AdminOpc.IDENTIFY`. */
export const AdminOpc = CoreAdminOpc;

/** I/O command opcodes (NVM Command Set 1.0, ZNS 1.1), e.g. `IoOpc.WRITE`. */
export const IoOpc = CoreIoOpc;

/** Named status values, SCT << 8 | SC (DNR not included), e.g. `Status.LBA_RANGE`. */
export const Status = CoreStatus;

/** The spec's name of a status field value, with `+DNR` / `+MORE` when those bits are set. */
export const statusName: (status: number) => string = coreStatusName;

/** Options of `Machine.powerCut`: `mode` (what survives of cached writes) and `seed`. */
export type PowerCutOptions = CorePowerCutOptions;

/** What a power cut did: lost writes per namespace, unsafe shutdowns, pmem reports. */
export type PowerCutReport = CorePowerCutReport;

/**
 * The fault injector of a machine (`machine.faults()`): `inject(spec)` → fault id,
 * `clear(id?)`, `faults()`, `history()`. See docs/faults.md for the catalogue.
 */
export type FaultInjector = CoreFaultInjector;
