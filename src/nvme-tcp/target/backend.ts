// What the NVMe/TCP target needs of an emulated controller, stated transport-independently.
// The fabrics layer (fabrics.ts) owns everything that exists only over fabrics — Connect,
// Property Get/Set onto CAP/VS/CC/CSTS, Keep Alive/KATO, cntlid binding, the Identify fields a
// fabrics controller must report (reference nvme-tcp.md §2.2–§2.4, §2.8) — and drives a
// FabricsController for the rest. machine.ts adapts the machine's `-device nvme` controllers to
// this interface; discovery-ctrl.ts implements it for the discovery service (§2.6).

import type { NvmeCmd } from '../../nvme/spec/command.js';
import type { Completion, HostData } from '../../nvme/spec/transfer.js';

export interface FabricsController {
  /** Fixed controller id (QEMU's subsystem slot), reported in Connect DW0 and Identify. */
  readonly cntlid: number;
  /** CNTRLTYPE (Identify byte 111): 1 I/O controller, 2 discovery controller. */
  readonly cntrltype: 1 | 2;
  /** CAP register (8 bytes, §2.3); MPSMIN must be 0 and CRMS 0 for Linux. */
  readonly cap: bigint;
  /** VS register. */
  readonly vs: number;
  /** Maximum data transfer in bytes (0 = no limit): bounds the target's per-command buffer. */
  readonly mdtsBytes: number;
  /** I/O queue pairs this controller can grant (Set Features 07h clamps to it). */
  readonly maxIoQueues: number;
  /** CC.EN 0→1 with the given CC value; false makes CSTS.CFS (e.g. bad IOSQES/CSS). */
  enable(cc: number): boolean;
  /**
   * Controller reset (CC.EN 1→0, or association end): drop outstanding AERs and per-association
   * feature state. Pending commands may still complete; the target discards their results.
   */
  reset(): Promise<void>;
  /** CC.SHN: make data durable (namespace flush, zone close). */
  shutdown(): Promise<void>;
  /** An admin command other than Fabrics/Keep Alive, with its data already mapped. */
  admin(cmd: NvmeCmd, data: HostData): Promise<Completion>;
  /** An I/O command on queue `sqid` (≥ 1). */
  io(sqid: number, cmd: NvmeCmd, data: HostData): Promise<Completion>;
  /** io() run at once when nothing in it has to wait; undefined: nothing done, call io(). */
  ioNow?(sqid: number, cmd: NvmeCmd, data: HostData): Completion | undefined;
}

/** One NVM subsystem as the target serves it. */
export interface FabricsSubsystem {
  readonly nqn: string;
  /**
   * 'nvm': fixed controllers (QEMU topology); a Connect binds one for the association's life.
   * 'discovery': a fresh controller per association (createController).
   */
  readonly kind: 'nvm' | 'discovery';
  readonly controllers: readonly FabricsController[];
  /** Host NQNs allowed to connect (nvmet allowed_hosts); undefined = any host. */
  readonly allowedHosts?: readonly string[] | undefined;
  /**
   * Discovery subsystems: a new controller for cntlid `n`, for a host that reached us at
   * `localAddress`/`localPort` (discovery entries must name an address the host can reach, §2.6).
   */
  createController?(cntlid: number, localAddress: string, localPort: number): FabricsController;
}
