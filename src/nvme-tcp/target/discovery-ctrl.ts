// The discovery subsystem (reference nvme-tcp.md §2.6, §6.15): the well-known NQN, a fresh
// discovery controller per association — a core controller of type 'discovery' (nvme/ctrl
// discovery.ts runs its commands) — whose Discovery Log Page lists every NVM subsystem at the
// I/O port and this discovery subsystem, naming an address the connecting host can reach.

import { Controller } from '../../nvme/ctrl/controller.js';
import { defaultParams } from '../../nvme/ctrl/params.js';
import { Subsystem } from '../../nvme/subsys/subsystem.js';
import {
  AdrFam,
  DISCOVERY_NQN,
  SubType,
  TREQ_DISABLE_SQFLOW,
  TrType,
  encodeDiscoveryLog,
} from '../discovery.js';
import type { DiscoveryEntry } from '../discovery.js';
import type { FabricsSubsystem } from './backend.js';

/** A port the target listens on, as discovery entries describe it. */
export interface PortInfo {
  readonly portid: number;
  /** The listen address ('0.0.0.0'/'::' are replaced by the address the host reached). */
  readonly address: string;
  readonly port: number;
  /**
   * The address the discovery log names instead of `address` (`--advertise`): a host behind
   * NAT reaches 127.0.0.1 as another address (QEMU user networking: 10.0.2.2).
   */
  readonly advertise?: string;
}

export interface DiscoverySource {
  /** The NVM subsystems to list and the port that serves them. */
  subsystems(): readonly FabricsSubsystem[];
  readonly ioPort: PortInfo;
  readonly discoveryPort: PortInfo;
}

/** Discovery controllers' parameters: their own identity, no I/O queues, AERL 3. */
const DISCOVERY_PARAMS = defaultParams('nvmemu-discovery', {
  maxIoqpairs: 0,
  msixQsize: 1,
  mdts: 0,
  firmwareRevision: '0.1.0',
});

/** The discovery subsystem served at the well-known NQN. */
export function discoverySubsystem(src: DiscoverySource): FabricsSubsystem {
  const subsys = new Subsystem(false, DISCOVERY_NQN);
  return {
    nqn: DISCOVERY_NQN,
    kind: 'discovery',
    controllers: () => [],
    createController: (cntlid, localAddress) => {
      const c = new Controller({ ...DISCOVERY_PARAMS, cntlid }, subsys, 'discovery');
      c.discoveryLog = () => encodeDiscoveryLog(1n, discoveryEntries(src, localAddress));
      return c;
    },
  };
}

function reachable(p: PortInfo, localAddress: string): string {
  if (p.advertise !== undefined) return p.advertise;
  const unspecified = p.address === '0.0.0.0' || p.address === '::' || p.address === '';
  const addr = unspecified ? localAddress : p.address;
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Entries: every NVM subsystem at the I/O port, and this discovery subsystem (SUBTYPE 3). */
export function discoveryEntries(src: DiscoverySource, localAddress: string): DiscoveryEntry[] {
  const entry = (p: PortInfo, subtype: number, subnqn: string): DiscoveryEntry => {
    const traddr = reachable(p, localAddress);
    return {
      trtype: TrType.TCP,
      adrfam: traddr.includes(':') ? AdrFam.IPV6 : AdrFam.IPV4,
      subtype,
      treq: TREQ_DISABLE_SQFLOW,
      portid: p.portid,
      cntlid: 0xffff,
      asqsz: 32,
      eflags: 0,
      trsvcid: String(p.port),
      subnqn,
      traddr,
      sectype: 0,
    };
  };
  const out = src
    .subsystems()
    .filter((s) => s.kind === 'nvm')
    .map((s) => entry(src.ioPort, SubType.NVME, s.nqn));
  out.push(entry(src.discoveryPort, SubType.CURRENT_DISCOVERY, DISCOVERY_NQN));
  return out;
}
