// What the NVMe/TCP target serves: NVM subsystems whose controllers are the machine's own core
// controllers (nvme/ctrl Controller, presented with the fabrics personality while an association
// holds them), and the discovery subsystem, which makes a discovery controller per association.
// machine.ts lists a machine's subsystems; discovery-ctrl.ts builds the discovery subsystem.

import type { Controller } from '../../nvme/ctrl/controller.js';

/** One NVM subsystem as the target serves it. */
export interface FabricsSubsystem {
  readonly nqn: string;
  /**
   * 'nvm': fixed controllers (QEMU topology); a Connect binds one for the association's life.
   * 'discovery': a fresh controller per association (createController).
   */
  readonly kind: 'nvm' | 'discovery';
  /**
   * The controllers serving the subsystem now, in CNTLID order. Read at every Connect: SR-IOV
   * VFs brought online appear, controllers removed by device_del are gone.
   */
  controllers(): readonly Controller[];
  /** Host NQNs allowed to connect (nvmet allowed_hosts); undefined = any host. */
  readonly allowedHosts?: readonly string[] | undefined;
  /**
   * Discovery subsystems: a new controller for cntlid `n`, for a host that reached us at
   * `localAddress`/`localPort` (discovery entries must name an address the host can reach, §2.6).
   */
  createController?(cntlid: number, localAddress: string, localPort: number): Controller;
}

/** The subsystems to serve, read when a host connects or discovers (they change at run time). */
export type SubsystemSource = () => readonly FabricsSubsystem[];
