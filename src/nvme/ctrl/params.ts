// Runtime parameters of one controller: the checked `-device nvme` configuration reduced to
// what the controller model uses, plus the in-process knobs (clock).

import { nvmeLevel, type QemuCompat } from '../spec/levels.js';
import { MQES } from './regs.js';

/** Milliseconds of virtual time; injected so tests control power-on hours and timestamps. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/**
 * The personality a controller presents, chosen by the front end that binds it (ctrl/state.ts):
 * 'pci' reproduces QEMU 7.2's PCIe controller (admin PSDT must be PRP, queue commands and
 * Doorbell Buffer Config, no Keep Alive); 'fabrics' is NVMe-oF's (SGLs, queues by Connect,
 * Property Get/Set, Keep Alive, the fabrics Identify fields).
 */
export type Transport = 'pci' | 'fabrics';

export interface ControllerParams {
  readonly serial: string;
  readonly cntlid: number;
  readonly maxIoqpairs: number;
  readonly msixQsize: number;
  readonly aerl: number;
  readonly aerMaxQueued: number;
  readonly mdts: number;
  readonly vsl: number;
  readonly zasl: number;
  readonly zonedAutoTransition: boolean;
  readonly useIntelId: boolean;
  readonly cmbSizeMb: number;
  readonly pmr: boolean;
  readonly smartCriticalWarning: number;
  /** Identify Controller FR and Firmware Slot FRS1 (nvmemu reports "1.0"; QEMU its version). */
  readonly firmwareRevision: string;
  readonly clock: Clock;
  /** MSI-X enabled by the host (the in-process host behaves like Linux: on). */
  readonly msixEnabled: boolean;
  /** The QEMU release whose answers the controller gives (spec/levels.ts), from the machine. */
  readonly compat: QemuCompat;
  /** CAP.MQES, 0's based (`mqes`, QEMU 10.0; 2047 at 7.2). */
  readonly mqes: number;
  /** Doorbell Buffer Config supported (`dbcs`, QEMU 10.0; always at 7.2). */
  readonly dbcs: boolean;
  /** CTRATT bit 16 MEM (`ctratt.mem`, QEMU 10.0). */
  readonly ctrattMem: boolean;
  /** Identify Controller AWUN / AWUPF (0's based blocks) and the DN default (`atomic.*`). */
  readonly awun: number;
  readonly awupf: number;
  readonly atomicDn: boolean;
  /** OCP Datacenter NVMe SSD extensions (`ocp`, QEMU 10.0): log C0h. */
  readonly ocp: boolean;
  /** PCI function: DevCap Extended Tag, ARI next function 1 (`x-pcie-*`, spec/levels.ts). */
  readonly pcieExtTag: boolean;
  readonly ariNextFn1: boolean;
}

export const FIRMWARE_REVISION = '1.0';

/** QEMU's defaults for everything but the serial, at the level `overrides.compat` (7.2). */
export function defaultParams(
  serial: string,
  overrides: Partial<ControllerParams> = {},
): ControllerParams {
  return {
    serial,
    cntlid: 0,
    maxIoqpairs: 64,
    msixQsize: 65,
    aerl: 3,
    aerMaxQueued: 64,
    mdts: 7,
    vsl: 7,
    zasl: 0,
    zonedAutoTransition: true,
    useIntelId: false,
    cmbSizeMb: 0,
    pmr: false,
    smartCriticalWarning: 0,
    firmwareRevision: FIRMWARE_REVISION,
    clock: systemClock,
    msixEnabled: true,
    compat: '7.2',
    mqes: MQES,
    dbcs: true,
    ctrattMem: false,
    awun: 0,
    awupf: 0,
    atomicDn: false,
    ocp: false,
    pcieExtTag: nvmeLevel(overrides.compat).pcieExtTag,
    ariNextFn1: nvmeLevel(overrides.compat).ariNextFn1,
    ...overrides,
  };
}
