// What the NVMe/TCP target serves: NVM subsystems whose controllers are the machine's own core
// controllers (nvme/ctrl Controller, presented with the fabrics personality while an association
// holds them), and the discovery subsystem, which makes a discovery controller per association.
// machine.ts lists a machine's subsystems; discovery-ctrl.ts builds the discovery subsystem.

import type { Controller } from '../../nvme/ctrl/controller.js';
import type { SubsysAuthMode } from '../../nvme/subsys/fabrics-config.js';
import type { HostDhchap, HostTls } from '../config/host-object.js';

/** What the target knows about one host of a subsystem (an `x-nvmemu-host` object). */
export interface HostSecurity {
  readonly nqn: string;
  /** DH-HMAC-CHAP keys; absent: the host does not authenticate. */
  readonly dhchap?: HostDhchap | undefined;
  /** The configured TLS PSK; absent: the host cannot use TLS. */
  readonly tls?: HostTls | undefined;
}

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
  /** The hosts' keys by host NQN (`x-hosts`); absent: nobody authenticates or uses TLS. */
  readonly hosts?: ReadonlyMap<string, HostSecurity> | undefined;
  /** `x-auth` (default 'auto': hosts with a dhchap-secret authenticate). */
  readonly auth?: SubsysAuthMode | undefined;
  /**
   * Discovery subsystems: a new controller for cntlid `n`, for a host that reached us at
   * `localAddress`/`localPort` (discovery entries must name an address the host can reach, §2.6).
   */
  createController?(
    cntlid: number,
    localAddress: string,
    localPort: number,
    hostnqn: string,
  ): Controller;
}

/** The subsystems to serve, read when a host connects or discovers (they change at run time). */
export type SubsystemSource = () => readonly FabricsSubsystem[];
