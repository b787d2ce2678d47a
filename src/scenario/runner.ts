// Runs a parsed scenario in-process: builds the machine in a data folder, drives it with an
// in-process NVMe host (one I/O queue pair per controller), injects and clears faults, cuts
// the power, and checks every expectation. The result lists each step as passed or failed
// with the reason; the first failure does not stop the run (later steps still report).

import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from '../config/options.js';
import { setAnaState } from '../nvme/ana-control.js';
import { withImagePaths } from '../config/image-paths.js';
import { machineFaults, type FaultInjector } from '../faults/injector.js';
import { flushAudit, powerCutMachine, restartMachine, trackWrites } from '../faults/power-cut.js';
import { Machine } from '../machine/machine.js';
import { machineSettings } from '../machine/settings.js';
import { registerAllTypes } from '../devices.js';
import { NvmeDevice } from '../nvme/index.js';
import { Host } from '../nvme/pci/local-host.js';
import type { Cqe } from '../nvme/spec/command.js';
import { AdminOpc, IoOpc } from '../nvme/spec/opcodes.js';
import { readU16le, readU64le } from '../util/bytes.js';
import type { Recording } from '../replay/format.js';
import { replayOn } from '../replay/replayer.js';
import { formatDivergence } from '../replay/compare.js';
import type { Expect, IoTarget, Scenario, ScenarioStep, SmartField } from './format.js';
import { blockPattern } from './pattern.js';
import { loadRecordings } from './replay-step.js';

/** The outcome of one step. */
export interface StepResult {
  readonly index: number;
  readonly title: string;
  readonly ok: boolean;
  /** Why it failed, or what it observed. */
  readonly message: string;
}

/** The outcome of a run: every step, and whether all passed. */
export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  readonly steps: readonly StepResult[];
}

class StepFailure extends Error {}

function check(cond: boolean, message: string): void {
  if (!cond) throw new StepFailure(message);
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** How a scenario run finds the files its steps name. */
export interface ScenarioRunOptions {
  /** The folder `replay` steps' files are relative to (the scenario file's; default cwd). */
  readonly baseDir?: string;
  /** The scenario file's name, for the field path of an error in a replay step's file. */
  readonly where?: string;
}

/** Runs a parsed scenario in-process in a data folder. */
export class ScenarioRun {
  readonly #s: Scenario;
  readonly #dir: string;
  readonly #opts: ScenarioRunOptions;
  #machine: Machine | undefined;
  readonly #hosts = new Map<string, Host>();
  readonly #faults = new Map<string, { injector: FaultInjector; id: number }>();
  #recordings = new Map<number, Recording>();
  #index = 0;

  constructor(scenario: Scenario, dataDir: string, opts: ScenarioRunOptions = {}) {
    this.#s = scenario;
    this.#dir = dataDir;
    this.#opts = opts;
  }

  /**
   * Runs every step; `log` receives each result as it is known, `starting` is told before a
   * step runs (for progress displays).
   */
  async run(
    log: (r: StepResult) => void = () => undefined,
    starting: (index: number, total: number, title: string) => void = () => undefined,
  ): Promise<ScenarioResult> {
    registerAllTypes();
    // Recordings first: a file that is missing or not replayable is the scenario's mistake
    // (ScenarioError), found before anything runs.
    this.#recordings = loadRecordings(
      this.#s,
      this.#opts.baseDir ?? process.cwd(),
      this.#opts.where,
    );
    for (const [name, bytes] of Object.entries(this.#s.images)) {
      const path = join(this.#dir, name);
      writeFileSync(path, '');
      truncateSync(path, bytes);
    }
    const args = parseArgs(withImagePaths(this.#s.machine, this.#s.images, this.#dir));
    this.#machine = await Machine.create(args.items, {
      settings: machineSettings(args),
      dataDir: this.#dir,
      warn: () => undefined,
    });
    this.#started();
    const results: StepResult[] = [];
    try {
      for (const [i, st] of this.#s.steps.entries()) {
        let r: StepResult;
        starting(i + 1, this.#s.steps.length, st.title);
        this.#index = i;
        try {
          const message = await this.#step(st);
          r = { index: i + 1, title: st.title, ok: true, message };
        } catch (e) {
          r = { index: i + 1, title: st.title, ok: false, message: (e as Error).message };
        }
        results.push(r);
        log(r);
      }
    } finally {
      machineFaults(this.#m).clear();
      if (this.#m.state === 'running') await this.#m.shutdown();
    }
    return { name: this.#s.name, passed: results.every((r) => r.ok), steps: results };
  }

  get #m(): Machine {
    if (this.#machine === undefined) throw new Error('scenario machine not started');
    return this.#machine;
  }

  #started(): void {
    machineFaults(this.#m, { seed: this.#s.seed });
    if (this.#s.trackWrites) trackWrites(this.#m);
    this.#hosts.clear();
  }

  async #host(ctrlId: string | undefined): Promise<Host> {
    const devs = this.#m.components().filter((c): c is NvmeDevice => c instanceof NvmeDevice);
    const dev = ctrlId === undefined ? devs[0] : devs.find((d) => d.id === ctrlId);
    if (dev === undefined) throw new StepFailure(`no nvme controller ${ctrlId ?? ''}`.trim());
    const key = dev.id ?? '';
    let h = this.#hosts.get(key);
    if (h === undefined) {
      h = new Host(dev.controller);
      h.enable();
      await h.createIoQueues(1, 64);
      this.#hosts.set(key, h);
    }
    return h;
  }

  /** Runs one step; returns what it observed (for the report). */
  async #step(st: ScenarioStep): Promise<string> {
    const s = st.step;
    const x = st.expect;
    switch (s.op) {
      case 'fault': {
        const injector = machineFaults(this.#m);
        const id = injector.inject(s.fault);
        if (s.as !== undefined) this.#faults.set(s.as, { injector, id });
        return `fault ${id}`;
      }
      case 'clear':
        if (s.name === 'all') return `cleared ${machineFaults(this.#m).clear()}`;
        {
          const f = this.#faults.get(s.name)!;
          f.injector.clear(f.id);
          return `cleared ${s.name}`;
        }
      case 'write':
      case 'read':
        return this.#io(
          s.op,
          s.io,
          s.op === 'write' ? s.pattern : 0,
          s.op === 'write' && s.fua,
          st,
        );
      case 'flush': {
        const h = await this.#host(s.ctrl);
        return this.#completion(h.command(1, { opcode: IoOpc.FLUSH, nsid: s.nsid }), st);
      }
      case 'reset': {
        const h = await this.#host(s.ctrl);
        h.disable();
        this.#hosts.delete(s.ctrl ?? [...this.#hosts.keys()][0] ?? '');
        this.#hosts.clear();
        return 'controller reset';
      }
      case 'power-cut': {
        machineFaults(this.#m).clear();
        const { machine, report } = await powerCutMachine(this.#m, {
          mode: s.mode,
          seed: s.seed ?? this.#s.seed,
        });
        this.#machine = machine;
        this.#started();
        const lost = report.namespaces.reduce((n, ns) => n + (ns.cut?.lost.length ?? 0), 0);
        if (x.lostWrites !== undefined) {
          check(
            lost === x.lostWrites,
            `expected ${x.lostWrites} lost writes, the cut lost ${lost}`,
          );
        }
        return `${lost} cached writes lost`;
      }
      case 'restart':
        machineFaults(this.#m).clear();
        this.#machine = await restartMachine(this.#m);
        this.#started();
        return 'restarted';
      case 'audit': {
        const n = flushAudit(this.#m).reduce((k, a) => k + a.volatile.length, 0);
        if (x.volatileWrites !== undefined) {
          check(
            n === x.volatileWrites,
            `expected ${x.volatileWrites} volatile writes, audit lists ${n}`,
          );
        }
        return `${n} acknowledged writes not durable`;
      }
      case 'smart':
        return this.#smart(s.ctrl, x);
      case 'check-fault': {
        const f = this.#faults.get(s.name)!;
        const fired = f.injector
          .history()
          .filter((r) => r.fault === f.id && r.event === 'hit').length;
        if (x.fired !== undefined) {
          check(
            fired === x.fired,
            `expected fault '${s.name}' to fire ${x.fired} times, it fired ${fired}`,
          );
        }
        return `fired ${fired}`;
      }
      case 'sleep':
        await sleep(s.ms);
        return `slept ${s.ms} ms`;
      case 'ana': {
        const ids = setAnaState(this.#m.components(), {
          group: s.group,
          state: s.state,
          ...(s.ctrl !== undefined ? { id: s.ctrl } : {}),
          ...(s.transition !== undefined ? { transitionMs: s.transition } : {}),
        });
        return `ANA group ${s.group} ${s.state} on controller ${ids.join(',')}`;
      }
      case 'replay':
        return this.#replay(this.#recordings.get(this.#index)!, s.timeToleranceMs, x);
    }
  }

  /**
   * Replays a recording on the machine as it is. The replay drives each controller with its
   * own in-process host, so every controller is reset before (the scenario's hosts let go) and
   * after (the next step's host enables it anew, as after a `reset` step).
   */
  async #replay(rec: Recording, tolMs: number | undefined, x: Expect): Promise<string> {
    this.#resetControllers();
    let report;
    try {
      report = await replayOn(
        rec,
        {
          machine: () => this.#m,
          injector: () => machineFaults(this.#m),
          powerCut: async (o) => {
            machineFaults(this.#m).clear();
            this.#machine = (await powerCutMachine(this.#m, o)).machine;
            this.#started();
          },
        },
        { timeToleranceMs: tolMs ?? Infinity, keep: 3 },
      );
    } finally {
      this.#resetControllers();
    }
    const want = x.divergences ?? 0;
    const first = report.divergences.map(formatDivergence).join('; ');
    check(
      report.divergent === want,
      `expected ${want} divergences, the replay found ${report.divergent}${first ? `: ${first}` : ''}`,
    );
    return `${report.replayed} commands replayed, ${report.divergent} divergences`;
  }

  #resetControllers(): void {
    for (const c of this.#m.components()) {
      if (c instanceof NvmeDevice && !c.controller.removed) new Host(c.controller).disable();
    }
    this.#hosts.clear();
  }

  async #io(
    op: 'read' | 'write',
    io: IoTarget,
    pattern: number,
    fua: boolean,
    st: ScenarioStep,
  ): Promise<string> {
    const h = await this.#host(io.ctrl);
    const buf = new Uint8Array(io.count * 512);
    if (op === 'write') {
      for (let k = 0; k < io.count; k++) buf.set(blockPattern(io.lba + k, pattern, 512), k * 512);
    }
    const cmd = {
      opcode: op === 'write' ? IoOpc.WRITE : IoOpc.READ,
      nsid: io.nsid,
      cdw10: io.lba,
      cdw12: (io.count - 1) | (fua ? 1 << 30 : 0),
    };
    const msg = await this.#completion(h.command(1, cmd, buf), st);
    const want = st.expect.pattern;
    if (op === 'read' && want !== undefined && st.expect.completes !== false) {
      for (let k = 0; k < io.count; k++) {
        const got = buf.subarray(k * 512, (k + 1) * 512);
        const exp = want === 0 ? new Uint8Array(512) : blockPattern(io.lba + k, want, 512);
        check(
          got.every((b, i) => b === exp[i]),
          `LBA ${io.lba + k} does not hold ${want === 0 ? 'zeros' : `pattern ${want}`}`,
        );
      }
    }
    return msg;
  }

  /** Waits for a completion and checks its status (default: success). */
  async #completion(p: Promise<Cqe>, st: ScenarioStep): Promise<string> {
    const x: Expect = st.expect;
    if (x.completes === false) {
      p.catch(() => undefined);
      const r = await Promise.race([p, sleep(st.wait).then(() => undefined)]);
      check(r === undefined, `completed with ${hex(r?.status ?? 0)} but must not complete`);
      return `no completion within ${st.wait} ms`;
    }
    const cqe = await p;
    const want = x.status ?? 0;
    check(cqe.status === want, `status ${hex(cqe.status)}, expected ${hex(want)}`);
    return `status ${hex(cqe.status)}`;
  }

  async #smart(ctrlId: string | undefined, x: Expect): Promise<string> {
    const h = await this.#host(ctrlId);
    const log = new Uint8Array(512);
    const cqe = await h.admin(
      { opcode: AdminOpc.GET_LOG_PAGE, nsid: 0xffff_ffff, cdw10: 0x02 | (127 << 16) },
      log,
    );
    check(cqe.status === 0, `Get Log Page 02h: status ${hex(cqe.status)}`);
    const fields: Record<SmartField, number> = {
      'critical-warning': log[0]!,
      temperature: readU16le(log, 1),
      'power-cycles': Number(readU64le(log, 112)),
      'unsafe-shutdowns': Number(readU64le(log, 144)),
      'media-errors': Number(readU64le(log, 160)),
      'available-spare': log[3]!,
      'percentage-used': log[5]!,
    };
    for (const [k, v] of Object.entries(x.smart ?? {})) {
      check(
        fields[k as SmartField] === v,
        `SMART ${k} is ${fields[k as SmartField]}, expected ${v}`,
      );
    }
    return Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
}
