// Replay (docs/record-replay.md): re-runs a recording against a machine built from the same
// options and reports every divergence.
//
// Order. Each recorded command is issued at its begin tick, after every command that ended
// before that tick has completed in the replay; events (faults, power cuts, hotplug) happen at
// their tick under the same rule. So commands that overlapped in the recording overlap again,
// and a command that depended on another's completion waits for it.
//
// Front end. Commands go through the in-process host (nvme/pci/local-host.ts), the PCIe
// personality of each controller: a command's data pointer and CID are its front end's, so the
// replay supplies its own buffers (PSDT 0) and CIDs. The transport's own commands (Fabrics
// 7Fh: Connect, Property Get/Set, authentication) are not replayed; I/O queues a fabrics
// recording used are created when first needed. Time is compared as the controller measured it
// (the observer seam) on both sides.

import { Host } from '../nvme/pci/local-host.js';
import type { Machine } from '../machine/machine.js';
import { NvmeDevice } from '../nvme/index.js';
import type { Controller, CommandObserver } from '../nvme/ctrl/controller.js';
import { parseSqe, type CmdInit, type Cqe } from '../nvme/spec/command.js';
import { AdminOpc } from '../nvme/spec/opcodes.js';
import { bufferData } from '../nvme/spec/transfer.js';
import { MQES } from '../nvme/ctrl/regs.js';
import type { FaultInjector } from '../faults/injector.js';
import { trackWrites } from '../faults/power-cut.js';
import {
  DataKind,
  dataHash,
  NO_SECTION,
  type CommandRecord,
  type RecordedEvent,
  type Recording,
  type Section,
} from './format.js';
import { RecordingError } from './parse.js';
import { commandName, compareCompletion, type Divergence, type Observed } from './compare.js';

/** What a replay drives: the machine now (a power cut replaces it) and its fault injector. */
export interface ReplayTarget {
  machine(): Machine;
  injector(): FaultInjector;
  /** Cuts the power (faults/power-cut.ts) and runs the rebuilt machine. */
  powerCut(opts: { seed: number; mode: 'all' | 'prefix' | 'subset' }): Promise<void>;
}

export interface ReplayOptions {
  /** Time divergence beyond this many ms (default 100; Infinity: times not compared). */
  readonly timeToleranceMs?: number;
  /** How long to wait for a completion the recording has (default 5000 ms). */
  readonly completionTimeoutMs?: number;
  /** Divergences kept in the report (all are counted). Default 1000. */
  readonly keep?: number;
  /** Told of each divergence as it is found. */
  readonly onDivergence?: (d: Divergence) => void;
}

export interface ReplayReport {
  readonly commands: number;
  readonly replayed: number;
  /** Transport commands (Fabrics 7Fh) not replayed. */
  readonly skipped: number;
  readonly events: number;
  /** Divergences found (the first `keep` are listed). */
  readonly divergent: number;
  readonly divergences: readonly Divergence[];
}

/** Fabrics commands belong to the transport that carried them (NVMe-oF 1.1 §3.3). */
const FABRICS = 0x7f;

/** Refuses a recording that cannot be re-run (before anything runs). */
export function checkReplayable(rec: Recording): void {
  rec.commands.forEach((c, i) => {
    if ((c.sqe[0]! & 3) === 1 && c.data.kind !== DataKind.WHOLE && c.data.kind !== DataKind.NONE) {
      throw new RecordingError(
        `command ${i + 1}: its data was recorded as ${c.data.kind === DataKind.HASH ? 'a hash' : 'unavailable'}, so it cannot be re-run (record with --record-data hash or whole; compare with replay --diff)`,
      );
    }
  });
}

interface Pending {
  readonly rec: CommandRecord;
  readonly index: number;
  /** Resolves with what the replay observed (or no completion in time). */
  done: Promise<Observed>;
  settled: boolean;
}

class Run {
  readonly #rec: Recording;
  readonly #t: ReplayTarget;
  readonly #tol: number;
  readonly #timeout: number;
  readonly #keep: number;
  readonly #tell: (d: Divergence) => void;
  readonly divergences: Divergence[] = [];
  divergent = 0;
  skipped = 0;
  replayed = 0;
  readonly #ctrlInfo = new Map<number, { id: string | null; serial: string }>();
  readonly #hosts = new Map<number, Host>();
  readonly #faultIds = new Map<number, number>();
  /** Controller-measured time of replayed commands, by `ctrl:sqid:cid`. */
  readonly #elapsed = new Map<string, bigint>();
  readonly #watched = new Map<Controller, CommandObserver>();
  #chain: Promise<void> = Promise.resolve();

  constructor(rec: Recording, t: ReplayTarget, o: ReplayOptions) {
    this.#rec = rec;
    this.#t = t;
    this.#tol = o.timeToleranceMs ?? 100;
    this.#timeout = o.completionTimeoutMs ?? 5000;
    this.#keep = o.keep ?? 1000;
    this.#tell = o.onDivergence ?? (() => undefined);
  }

  diverged(d: Divergence): void {
    this.divergent++;
    if (this.divergences.length < this.#keep) this.divergences.push(d);
    this.#tell(d);
  }

  #controller(index: number): Controller | undefined {
    const info = this.#ctrlInfo.get(index);
    if (info === undefined) return undefined;
    const devs = this.#t
      .machine()
      .components()
      .filter((c): c is NvmeDevice => c instanceof NvmeDevice);
    const dev =
      info.id !== null
        ? devs.find((d) => d.id === info.id)
        : devs.find((d) => d.controller.params.serial === info.serial);
    return dev?.controller;
  }

  #host(index: number): Host | undefined {
    let h = this.#hosts.get(index);
    if (h !== undefined && !h.ctrl.removed) return h;
    const ctrl = this.#controller(index);
    if (ctrl === undefined) return undefined;
    this.#watch(ctrl, index);
    h = new Host(ctrl);
    h.enable();
    this.#hosts.set(index, h);
    return h;
  }

  /** The controller's own measure of each replayed command (as the recorder took it). */
  #watch(ctrl: Controller, index: number): void {
    if (this.#watched.has(ctrl)) return;
    const obs: CommandObserver = {
      end: (_c, ctx, _done, ns) => this.#elapsed.set(`${index}:${ctx.sqid}:${ctx.cmd.cid}`, ns),
    };
    this.#watched.set(ctrl, obs);
    ctrl.observers.push(obs);
  }

  /** Stops watching the controllers (the machine may go on: a scenario's replay step). */
  unwatch(): void {
    for (const [ctrl, obs] of this.#watched) {
      const i = ctrl.observers.indexOf(obs);
      if (i >= 0) ctrl.observers.splice(i, 1);
    }
    this.#watched.clear();
  }

  async #queue(h: Host, sqid: number): Promise<void> {
    if (sqid === 0 || h.pcie.sqs[sqid] !== undefined) return;
    const size = Math.min(1024, MQES + 1);
    if (h.pcie.cqs[sqid] === undefined) {
      await h.admin({
        opcode: AdminOpc.CREATE_CQ,
        prp1: 0x1000_0000n * BigInt(sqid),
        cdw10: ((size - 1) << 16) | sqid,
        cdw11: 0x1 | (sqid << 16),
      });
    }
    await h.admin({
      opcode: AdminOpc.CREATE_SQ,
      prp1: 0x1000_0000n * BigInt(sqid) + 0x800_0000n,
      cdw10: ((size - 1) << 16) | sqid,
      cdw11: 0x1 | (sqid << 16),
    });
  }

  /** Issues one recorded command; the promise settles with what the replay observed. */
  issue(rec: CommandRecord, index: number): Pending | undefined {
    const cmd = parseSqe(rec.sqe);
    if (cmd.opcode === FABRICS) {
      this.skipped++;
      return undefined;
    }
    this.replayed++;
    const toDevice = (cmd.opcode & 3) === 1;
    const buffer = (s: Section): Uint8Array | undefined => {
      if (s.length === 0) return undefined;
      return toDevice && s.kind === DataKind.WHOLE ? s.bytes.slice() : new Uint8Array(s.length);
    };
    const data = buffer(rec.data);
    const meta = buffer(rec.meta);
    const init: CmdInit = {
      opcode: cmd.opcode,
      fuse: cmd.fuse,
      nsid: cmd.nsid,
      cdw2: cmd.cdw2,
      cdw3: cmd.cdw3,
      prp1: cmd.prp1,
      prp2: cmd.prp2,
      cdw10: cmd.cdw10,
      cdw11: cmd.cdw11,
      cdw12: cmd.cdw12,
      cdw13: cmd.cdw13,
      cdw14: cmd.cdw14,
      cdw15: cmd.cdw15,
    };
    // Submissions keep the recording's order: each waits for the one before to be submitted
    // (queue set-up included), not completed.
    const submitted = this.#chain.then(async () => {
      const h = this.#host(rec.ctrl);
      if (h === undefined) throw new Error(`controller ${rec.ctrl} is not in the machine`);
      await this.#queue(h, rec.sqid);
      const cqe = h.command(
        rec.sqid,
        init,
        data,
        meta === undefined ? undefined : bufferData(meta),
      );
      return { cqe };
    });
    this.#chain = submitted.then(
      () => undefined,
      () => undefined,
    );
    const p: Pending = { rec, index, done: Promise.resolve(NOT_COMPLETED), settled: false };
    p.done = submitted
      .then(async ({ cqe: pending }) => {
        const cqe: Cqe = await pending;
        const key = `${rec.ctrl}:${rec.sqid}:${cqe.cid}`;
        const elapsedNs = this.#elapsed.get(key) ?? 0n;
        this.#elapsed.delete(key);
        const o: Observed = {
          completed: true,
          status: cqe.status,
          dw0: cqe.dw0,
          dw1: cqe.dw1,
          elapsedNs,
          returned: toDevice ? NO_SECTION : returned(rec.data, data, cqe.status),
        };
        return o;
      })
      .catch(() => NOT_COMPLETED)
      .finally(() => {
        p.settled = true;
      });
    return p;
  }

  /** Waits for a replayed command the recording saw complete, then compares. */
  async settle(p: Pending): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>(
      (r) => (timer = setTimeout(() => r(undefined), this.#timeout)),
    );
    const got = await Promise.race([p.done, late]);
    clearTimeout(timer);
    this.compare(p, got ?? NOT_COMPLETED);
  }

  compare(p: Pending, got: Observed): void {
    const cmd = parseSqe(p.rec.sqe);
    const head = {
      index: p.index,
      ctrl: p.rec.ctrl,
      sqid: p.rec.sqid,
      opcode: cmd.opcode,
      name: commandName(p.rec.sqid, cmd.opcode),
    };
    const want: Observed = {
      completed: p.rec.completed,
      status: p.rec.status,
      dw0: p.rec.dw0,
      dw1: p.rec.dw1,
      elapsedNs: p.rec.elapsedNs,
      returned: (cmd.opcode & 3) === 1 ? NO_SECTION : p.rec.data,
    };
    for (const d of compareCompletion(head, cmd.cdw10, want, got, { timeToleranceMs: this.#tol })) {
      // Admin answers of a fabrics recording are the fabrics personality's (Identify's
      // fabrics fields, no PCIe-only commands); the replay runs the PCIe one: status only.
      if (
        p.rec.transport === 1 &&
        p.rec.sqid === 0 &&
        d.what !== 'status' &&
        d.what !== 'completion'
      )
        continue;
      this.diverged(d);
    }
  }

  async event(e: RecordedEvent): Promise<void> {
    const fail = (what: string): void =>
      this.diverged({
        index: 0,
        ctrl: 0,
        sqid: 0,
        opcode: 0,
        name: e.kind,
        what: 'event',
        expected: e.kind,
        got: what,
      });
    try {
      switch (e.kind) {
        case 'controller':
          this.#ctrlInfo.set(e.index, { id: e.id, serial: e.serial });
          return;
        case 'fault-inject':
          this.#faultIds.set(e.fault, this.#t.injector().inject(e.spec));
          return;
        case 'fault-clear': {
          const id = this.#faultIds.get(e.fault);
          // A fault that ended by itself in the replay is not a divergence of the clear.
          if (
            id !== undefined &&
            this.#t
              .injector()
              .faults()
              .some((f) => f.id === id)
          ) {
            this.#t.injector().clear(id);
          }
          return;
        }
        case 'power-cut':
          await this.#t.powerCut({ seed: e.seed, mode: e.mode });
          this.#hosts.clear();
          this.unwatch();
          return;
        case 'hotplug-add': {
          const it = e.item;
          const front = it.json ? 'qmp' : it.kind === 'object' ? 'object' : 'device';
          await this.#t
            .machine()
            .add(it.kind, new Map(Object.entries(it.values)), front, it.location);
          return;
        }
        case 'hotplug-del':
          await this.#t.machine().remove(e.item.kind, e.item.id);
          return;
        case 'track-writes':
          trackWrites(this.#t.machine());
          return;
      }
    } catch (err) {
      fail(`failed: ${(err as Error).message}`);
    }
  }
}

const NOT_COMPLETED: Observed = {
  completed: false,
  status: 0,
  dw0: 0,
  dw1: 0,
  elapsedNs: 0n,
  returned: NO_SECTION,
};

/** The replay's returned data in the recording's form (whole, or hashed). */
function returned(rec: Section, buf: Uint8Array | undefined, status: number): Section {
  if (buf === undefined || (status & 0x7ff) !== 0) return NO_SECTION;
  if (rec.kind === DataKind.HASH)
    return { kind: DataKind.HASH, length: buf.length, bytes: dataHash(buf) };
  return { kind: DataKind.WHOLE, length: buf.length, bytes: buf };
}

type Action =
  | { readonly tick: bigint; readonly cmd: CommandRecord; readonly index: number }
  | { readonly tick: bigint; readonly event: RecordedEvent };

/** Replays `rec` on `target` (the machine must be fresh: built from the recording's options). */
export async function replayOn(
  rec: Recording,
  target: ReplayTarget,
  opts: ReplayOptions = {},
): Promise<ReplayReport> {
  checkReplayable(rec);
  const run = new Run(rec, target, opts);
  const actions: Action[] = [
    ...rec.commands.map((cmd, i) => ({ tick: cmd.beginTick, cmd, index: i + 1 })),
    ...rec.events.map((event) => ({ tick: BigInt(event.tick), event })),
  ];
  actions.sort((a, b) => (a.tick < b.tick ? -1 : a.tick > b.tick ? 1 : 0));
  // Completed commands in end order: before an action at tick t, those that ended before t.
  const pendingOf = new Map<CommandRecord, Pending>();
  const ends = rec.commands
    .filter((c) => c.completed)
    .sort((a, b) => (a.endTick < b.endTick ? -1 : 1));
  let next = 0;
  const upTo = async (tick: bigint): Promise<void> => {
    while (next < ends.length && ends[next]!.endTick < tick) {
      const p = pendingOf.get(ends[next]!);
      next++;
      if (p !== undefined) await run.settle(p);
    }
  };
  const unsettled: Pending[] = [];
  try {
    for (const a of actions) {
      await upTo(a.tick);
      if ('event' in a) {
        await run.event(a.event);
        continue;
      }
      const p = run.issue(a.cmd, a.index);
      if (p === undefined) continue;
      pendingOf.set(a.cmd, p);
      if (!a.cmd.completed) unsettled.push(p);
    }
    await upTo(BigInt(Number.MAX_SAFE_INTEGER));
    // Commands the recording never saw complete: a completion in the replay is a divergence.
    await new Promise((r) => setImmediate(r));
    for (const p of unsettled) {
      if (p.settled) run.compare(p, await p.done);
    }
  } finally {
    run.unwatch();
  }
  return {
    commands: rec.commands.length,
    replayed: run.replayed,
    skipped: run.skipped,
    events: rec.events.length,
    divergent: run.divergent,
    divergences: run.divergences,
  };
}
