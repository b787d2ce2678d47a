// Runtime parameters of one controller: the checked `-device nvme` configuration reduced to
// what the controller model uses, plus the in-process knobs (clock).

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
}

export const FIRMWARE_REVISION = '1.0';

/** QEMU 7.2 defaults for everything but the serial. */
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
    ...overrides,
  };
}
