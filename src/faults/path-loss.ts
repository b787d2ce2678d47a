// Path loss on the NVMe/TCP target: the network between host and target fails. `drop` closes
// every connection of the matching associations (the host sees the sockets reset and starts
// its reconnect loop; while the fault lasts, new connections are closed as soon as they send a
// command); `stall` stops reading and writing them (commands and keep-alives go unanswered,
// so the host times out; the KATO timer of the target expires too). Clearing the fault lets
// stalled sockets flow again and new connections through.

import type { Socket } from 'node:net';
import type { TargetConnection } from '../nvme-tcp/target/connection.js';
import type { TcpTarget } from '../nvme-tcp/target/port.js';
import type { ActiveFault } from './fault.js';
import type { FaultLog } from './record.js';

interface PathFault {
  readonly fault: ActiveFault;
  readonly subnqn: string | undefined;
  readonly mode: 'drop' | 'stall';
}

export class PathFaults {
  readonly #log: FaultLog;
  readonly #targets = new Set<TcpTarget>();
  readonly #faults: PathFault[] = [];
  /** Sockets stalled by us, and the waiters of commands held on them. */
  readonly #stalled = new Set<Socket>();
  #waiters: (() => void)[] = [];

  constructor(log: FaultLog) {
    this.#log = log;
  }

  attach(target: TcpTarget): void {
    this.#targets.add(target);
    this.#install(target);
  }

  /**
   * The gate sits in the target's command path only while a path fault exists: without one,
   * commands complete at once when nothing in them waits (no promise per command).
   */
  #install(target: TcpTarget): void {
    target.fabrics.pathGate =
      this.#faults.length > 0 ? (conn, nqn) => this.#gate(conn, nqn) : undefined;
  }

  detach(target: TcpTarget): void {
    this.#targets.delete(target);
    target.fabrics.pathGate = undefined;
  }

  get attached(): boolean {
    return this.#targets.size > 0;
  }

  add(fault: ActiveFault): void {
    const pf: PathFault = { fault, subnqn: fault.spec.target.subnqn, mode: fault.spec.mode! };
    this.#faults.push(pf);
    for (const t of this.#targets) this.#install(t);
    let n = 0;
    for (const t of this.#targets) {
      for (const a of t.fabrics.associations) {
        if (pf.subnqn !== undefined && a.subsys.nqn !== pf.subnqn) continue;
        for (const c of [a.admin, ...a.io.values()]) {
          this.#cut(pf, c);
          n++;
        }
      }
    }
    fault.phase = 'active';
    fault.firstFiredAt = Date.now();
    this.#log.add({
      fault: fault.id,
      kind: 'path-loss',
      event: 'applied',
      detail: `${pf.mode}: ${n} connection${n === 1 ? '' : 's'}${pf.subnqn ? ` of ${pf.subnqn}` : ''}`,
    });
  }

  remove(fault: ActiveFault): void {
    const i = this.#faults.findIndex((f) => f.fault === fault);
    if (i >= 0) this.#faults.splice(i, 1);
    for (const t of this.#targets) this.#install(t);
    if (this.#faults.some((f) => f.mode === 'stall')) return;
    for (const s of this.#stalled) {
      s.uncork();
      s.resume();
    }
    this.#stalled.clear();
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  #cut(pf: PathFault, c: TargetConnection): void {
    if (pf.mode === 'drop') {
      c.socket.destroy();
      return;
    }
    if (this.#stalled.has(c.socket)) return;
    this.#stalled.add(c.socket);
    // cork() holds every write (responses, R2Ts, data) until uncork(); pause() stops reading.
    c.socket.cork();
    c.socket.pause();
  }

  #gate(conn: TargetConnection, subnqn: string | undefined): Promise<void> | undefined {
    const pf = this.#faults.find((f) => f.subnqn === undefined || f.subnqn === subnqn);
    if (pf === undefined) return undefined;
    this.#log.add({
      fault: pf.fault.id,
      kind: 'path-loss',
      event: 'hit',
      detail: `${pf.mode}: connection ${conn.id}`,
    });
    this.#cut(pf, conn);
    if (pf.mode === 'drop') return new Promise<void>(() => undefined);
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
