// The discovery subsystem (reference nvme-tcp.md §2.6, §6.15): the well-known NQN, a fresh
// discovery controller per association — a core controller of type 'discovery' (nvme/ctrl
// discovery.ts runs its commands) — whose Discovery Log Page lists the NVM subsystems at the
// I/O port that the connecting host may use, and this discovery subsystem, naming an address the
// host can reach. A subsystem with `x-hosts` is listed only to the hosts it names, and, when the
// I/O port requires TLS, only to those with a TLS PSK (the others could not connect anyway:
// nvmet lists only subsystems whose allowed hosts include the host, too). The I/O port's entries
// carry its secure channel requirement (TREQ bits 1:0) and TLS 1.3 in TSAS (tls-port.ts).

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
import { tlsDiscoveryFields, type TlsMode } from './tls-port.js';

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
  /** TLS on the I/O port (default none). */
  readonly tls?: TlsMode;
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
    createController: (cntlid, localAddress, _localPort, hostnqn) => {
      const c = new Controller({ ...DISCOVERY_PARAMS, cntlid }, subsys, 'discovery');
      c.discoveryLog = () => encodeDiscoveryLog(1n, discoveryEntries(src, localAddress, hostnqn));
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

/** Whether `hostnqn` may connect to `s` (allowed, and with a PSK when TLS is required). */
export function mayAccess(s: FabricsSubsystem, hostnqn: string, tls: TlsMode): boolean {
  if (s.allowedHosts !== undefined && !s.allowedHosts.includes(hostnqn)) return false;
  return tls !== 'required' || s.hosts?.get(hostnqn)?.tls !== undefined;
}

/**
 * Entries: the NVM subsystems at the I/O port that `hostnqn` may access (every one when
 * `hostnqn` is undefined), and this discovery subsystem (SUBTYPE 3).
 */
export function discoveryEntries(
  src: DiscoverySource,
  localAddress: string,
  hostnqn?: string,
): DiscoveryEntry[] {
  const tls = src.tls ?? 'none';
  const entry = (p: PortInfo, subtype: number, subnqn: string): DiscoveryEntry => {
    const traddr = reachable(p, localAddress);
    const secure = p === src.ioPort ? tlsDiscoveryFields(tls) : tlsDiscoveryFields('none');
    return {
      trtype: TrType.TCP,
      adrfam: traddr.includes(':') ? AdrFam.IPV6 : AdrFam.IPV4,
      subtype,
      treq: TREQ_DISABLE_SQFLOW | secure.treq,
      portid: p.portid,
      cntlid: 0xffff,
      asqsz: 32,
      eflags: 0,
      trsvcid: String(p.port),
      subnqn,
      traddr,
      sectype: secure.sectype,
    };
  };
  const out = src
    .subsystems()
    .filter((s) => s.kind === 'nvm' && (hostnqn === undefined || mayAccess(s, hostnqn, tls)))
    .map((s) => entry(src.ioPort, SubType.NVME, s.nqn));
  out.push(entry(src.discoveryPort, SubType.CURRENT_DISCOVERY, DISCOVERY_NQN));
  return out;
}
