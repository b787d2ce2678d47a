// A target on 127.0.0.1 whose subsystem lists one host with DH-HMAC-CHAP keys (and a TLS PSK),
// for the end-to-end authentication, TLS and limit tests; plus raw queue helpers that speak
// Authentication Send/Receive without the host library's state machine.

import { TcpTarget, type TcpTargetOptions } from '../src/nvme-tcp/target/port.js';
import type { FabricsSubsystem, HostSecurity } from '../src/nvme-tcp/target/backend.js';
import type { HostDhchap, HostTls } from '../src/nvme-tcp/config/host-object.js';
import type { SubsysAuthMode } from '../src/nvme/subsys/fabrics-config.js';
import { genDhchapKey } from '../src/nvme-tcp/auth/secret.js';
import { AUTH_SECP, AUTH_SPSP } from '../src/nvme-tcp/auth/messages.js';
import { HostQueue, connectData, type CommandResult } from '../src/nvme-tcp/host/index.js';
import { seededRandom } from '../src/nvme-tcp/auth/test-support.js';
import { fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

export const HOST = 'nqn.2014-08.org.nvmexpress:uuid:0c33f2ea-96c7-4c3d-9a8c-6a7d6b1d2f10';
export const OTHER_HOST = 'nqn.2014-08.org.nvmexpress:uuid:7d1f1bd4-1b9e-4d8b-9f0e-1d2c3b4a5f60';
export const NQN = 'nqn.2019-08.org.qemu:secure';

const rnd = seededRandom('harness');
export const KEYS = {
  host: genDhchapKey({ hmac: 1, nqn: HOST, secret: rnd(32) }),
  ctrl: genDhchapKey({ hmac: 2, nqn: NQN, secret: rnd(48) }),
  wrongHost: genDhchapKey({ hmac: 1, nqn: HOST, secret: rnd(32) }),
  wrongCtrl: genDhchapKey({ hmac: 2, nqn: NQN, secret: rnd(48) }),
};

export interface AuthTargetOptions {
  /** Overrides of the host's DH-HMAC-CHAP entry (null: the host has no key). */
  readonly dhchap?:
    { readonly [K in keyof HostDhchap]?: HostDhchap[K] | undefined } | null | undefined;
  readonly tls?: HostTls;
  readonly auth?: SubsysAuthMode;
  readonly target?: TcpTargetOptions;
  /** Other hosts the subsystem lists. */
  readonly others?: readonly HostSecurity[];
}

export interface AuthTarget {
  readonly target: TcpTarget;
  readonly port: number;
  readonly subsys: FabricsSubsystem;
  /** Every log line of the target. */
  readonly lines: string[];
  close(): Promise<void>;
}

export async function authTarget(o: AuthTargetOptions = {}): Promise<AuthTarget> {
  const { subsys: base } = fakeSubsystem(NQN, 2, 4096);
  const dhchap: HostDhchap | undefined =
    o.dhchap === null
      ? undefined
      : {
          hostSecret: KEYS.host,
          ctrlSecret: KEYS.ctrl,
          hashes: o.dhchap?.hashes ?? [1, 2, 3],
          dhGroups: o.dhchap?.dhGroups ?? [0, 1],
          ...(o.dhchap?.hostSecret !== undefined ? { hostSecret: o.dhchap.hostSecret } : {}),
        };
  if (
    dhchap !== undefined &&
    o.dhchap !== null &&
    o.dhchap !== undefined &&
    'ctrlSecret' in o.dhchap
  ) {
    if (o.dhchap.ctrlSecret === undefined) delete (dhchap as { ctrlSecret?: unknown }).ctrlSecret;
    else (dhchap as { ctrlSecret?: unknown }).ctrlSecret = o.dhchap.ctrlSecret;
  }
  const host: HostSecurity = { nqn: HOST, dhchap, tls: o.tls };
  const hosts = new Map<string, HostSecurity>([[HOST, host]]);
  for (const h of o.others ?? []) hosts.set(h.nqn, h);
  const subsys: FabricsSubsystem = {
    ...base,
    allowedHosts: [...hosts.keys()],
    hosts,
    auth: o.auth ?? 'auto',
  };
  const lines: string[] = [];
  const target = await TcpTarget.start(() => [subsys], {
    port: 0,
    discoveryPort: null,
    log: (l) => lines.push(l),
    ...o.target,
  });
  return { target, port: target.ioPort.port, subsys, lines, close: () => target.close() };
}

/** A queue connected by hand (no authentication): admin (qid 0) or I/O of `cntlid`. */
export async function rawQueue(
  port: number,
  opts: { qid?: number; cntlid?: number; hostnqn?: string; sqsize?: number } = {},
): Promise<{ q: HostQueue; connect: CommandResult }> {
  const q = await HostQueue.open({ host: '127.0.0.1', port });
  const qid = opts.qid ?? 0;
  const connect = await q.submit(
    {
      opcode: 0x7f,
      fctype: 0x01,
      cdw10: qid << 16,
      cdw11: opts.sqsize ?? 31,
      cdw12: qid === 0 ? 0 : 0,
    },
    {
      write: connectData(new Uint8Array(16), opts.cntlid ?? 0xffff, NQN, opts.hostnqn ?? HOST),
      inCapsule: true,
    },
  );
  q.qid = qid;
  return { q, connect };
}

const CDW10 = (AUTH_SECP << 24) | (AUTH_SPSP << 16) | (AUTH_SPSP << 8);

/** Authentication Send with `payload` (fields overridable to test their checks). */
export function authSend(
  q: HostQueue,
  payload: Uint8Array,
  f: { cdw10?: number; tl?: number } = {},
): Promise<CommandResult> {
  return q.submit(
    { opcode: 0x7f, fctype: 0x05, cdw10: f.cdw10 ?? CDW10, cdw11: f.tl ?? payload.length },
    { write: payload },
  );
}

/** Authentication Receive of `al` bytes. */
export function authRecv(
  q: HostQueue,
  al = 4096,
  f: { cdw10?: number; readLength?: number } = {},
): Promise<CommandResult> {
  return q.submit(
    { opcode: 0x7f, fctype: 0x06, cdw10: f.cdw10 ?? CDW10, cdw11: al },
    { readLength: f.readLength ?? al },
  );
}

/** Resolves when `cond` holds (polled), or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
