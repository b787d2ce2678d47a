// Zoned namespaces at scale (issue 20), each figure beside a baseline from the same run and a
// PASS/MISS verdict:
//  - zone state cost per write command (admission + completion, with the journal record) at
//    1,000,000 zones against the same at 1,000 zones: O(1) means no more than 2× (noise);
//  - the first write to a fresh 1,000,000-zone namespace (it creates the state file), after the
//    zoned write path ran elsewhere: ≤ 2 ms;
//  - the worst event-loop stall (perf_hooks monitorEventLoopDelay) while writes run at 1,000,000
//    zones, all holding data, through a background compaction of all of them: ≤ 2 ms; beside it
//    the longest turn the compaction itself took (the histogram also counts every preemption of
//    a loaded machine, which the compaction's own turns show apart);
//  - `nvmemu run` with a 1,000,000-zone namespace to its readiness line, fresh and with a state
//    file recording every zone: ≤ 1 s and ≤ 120 MiB peak RSS, beside a regular namespace;
//  - `nvmemu nvme zns report-zones` of 100,000 zones (text and JSON) as a process: ≤ 0.5 s, beside
//    `nvmemu nvme zns id-ns` against the same machine (the CLI's fixed cost).
// Medians of repeated runs; the machine is printed by the NVMe/TCP benchmark.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Drive } from '../src/block/drive.js';
import { Namespace } from '../src/nvme/ns/namespace.js';
import { ctxOf, fakeCtrl, nsConfig, rw } from '../src/nvme/ns/fixtures.js';
import { zonedParams } from '../src/nvme/ns/zoned/fixtures.js';
import { ZoneJournal } from '../src/nvme/ns/zoned/journal.js';
import { ZoneState, ZoneTable } from '../src/nvme/ns/zoned/state.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { atMost, formatTable, median, verdict } from './checks.js';
import {
  childrenCpuMs,
  describeSplit,
  openSchedClock,
  processMainCpuMs,
  threadCpuNs,
  TurnMonitor,
  type SchedClock,
  type Split,
} from './sched.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const LBA = 512;
const ZONE_BLOCKS = 128;
const ZONE_BYTES = ZONE_BLOCKS * LBA;
const MILLION = 1_000_000;

interface Check {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: string;
  readonly bound: ReturnType<typeof atMost>;
}

/** A sparse image of `zones` 64 KiB zones. */
function image(dir: string, name: string, zones: number): string {
  const file = join(dir, name);
  writeFileSync(file, '');
  truncateSync(file, zones * ZONE_BYTES);
  return file;
}

interface Opened {
  readonly ns: Namespace;
  close(): Promise<void>;
}

async function zonedNamespace(
  file: string,
  persist: boolean,
  aio: 'sync' | 'threads' = 'sync',
): Promise<Opened> {
  const drive = await Drive.open({ id: 'z', file, readOnly: false, aio });
  const ns = new Namespace(
    nsConfig(BigInt(drive.size), { zoned: zonedParams({ persist }) }),
    drive,
  );
  return {
    ns,
    async close() {
      await ns.close();
      await drive.close();
    },
  };
}

async function regularNamespace(file: string, aio: 'sync' | 'threads'): Promise<Opened> {
  const drive = await Drive.open({ id: 'r', file, readOnly: false, aio });
  const ns = new Namespace(nsConfig(BigInt(drive.size)), drive);
  return {
    ns,
    async close() {
      await ns.close();
      await drive.close();
    },
  };
}

/**
 * CPU µs per write command of the zone state alone: ZonedNs.admitWrite + commit (what io.ts
 * calls around the data transfer), journal record included. The same work at every table size:
 * one-block writes round robin over 1,000 zones spread across the table.
 */
async function stateCost(dir: string, zones: number, n: number): Promise<number> {
  const file = image(dir, `cost-${zones}.img`, zones);
  const opened = await zonedNamespace(file, true);
  const zns = opened.ns.zoned!;
  const t = zns.table;
  const stride = Math.floor(zones / 1000);
  const run = (from: number, to: number): number => {
    let done = 0;
    for (let k = from; k < to; k++) {
      const i = (k % 1000) * stride;
      const a = zns.admitWrite(t.wptrOf(i), 1, true);
      if (a.status !== 0) throw new Error(`zone ${i}: status 0x${a.status.toString(16)}`);
      a.commit();
      done++;
    }
    return done;
  };
  run(0, 2000); // warm-up (JIT, the journal file's creation)
  const c0 = process.cpuUsage();
  const done = run(2000, 2000 + n);
  const c = process.cpuUsage(c0);
  await opened.close();
  return (c.user + c.system) / done;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Collects the garbage of what came before (building a million-zone table, loading a state file)
 * when the bench runs with --expose-gc (npm run bench does): a running emulator collects it
 * while idle, long before the writes measured here, and a collection of it inside the measured
 * window would be charged to whichever turn it fell in.
 */
function settle(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * The worst event-loop delay while writes run at 1M zones: the first write to a fresh namespace
 * (it creates the state file), then writes over zones that all hold data, through a background
 * compaction of the million-record snapshot. Returns both, ms.
 */
async function stall(
  dir: string,
  log: (l: string) => void,
  clock: { read: SchedClock },
): Promise<{
  first: Split;
  firstRegular: Split;
  warm: number;
  max: number;
  step: number;
  stepClock: string;
  worstOwn: Split;
  worstRun: Split;
}> {
  const ctrl = fakeCtrl({ css: 6, mdtsBytes: 0, zaslBytes: 0 });
  const data = new Uint8Array(4096);
  const write = (ns: Namespace, lba: number) =>
    ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(lba, 8) }, data, undefined, ctrl));

  // The zoned write path warmed on a small zoned namespace first, state file included (its
  // second write is the baseline): the first write of a process runs cold code, which is not
  // what is measured here; the fresh namespace's first write then shows what is first about it
  // (the state file). Its data on the thread pool, as below.
  const small = await zonedNamespace(image(dir, 'small.img', 1000), true, 'threads');
  await write(small.ns, 0);
  const r0 = performance.now();
  await write(small.ns, 8);
  const warm = performance.now() - r0;
  await small.close();
  // The loop turns of the first write to a fresh namespace, three times (the state file removed
  // in between), beside the same on a fresh regular namespace of the same size.
  const firstTurn = async (zoned: boolean): Promise<Split> => {
    const img = image(dir, zoned ? 'fresh.img' : 'fresh-regular.img', MILLION);
    const xs: Split[] = [];
    for (let r = 0; r < 3; r++) {
      rmSync(`${img}.zones`, { force: true });
      const fresh = zoned
        ? await zonedNamespace(img, true, 'threads')
        : await regularNamespace(img, 'threads');
      settle();
      await turn();
      const m = new TurnMonitor(clock.read);
      m.start();
      const s = (await write(fresh.ns, 0)).status;
      await turn(); // the turn that completed it ends
      m.stop();
      if (s !== 0) throw new Error(`first write: status 0x${s.toString(16)}`);
      xs.push(m.worstOwn);
      await fresh.close();
    }
    return [...xs].sort((a, b) => a.own - b.own)[1]!;
  };
  const first = await firstTurn(true);
  const firstRegular = await firstTurn(false);

  const file = image(dir, 'stall.img', MILLION);
  fullStateFile(file, MILLION);
  // The data on the thread pool (aio=threads): with aio=sync each write's pwrite runs on the
  // event loop, and on a busy disk the kernel's write throttling stalls it there, which says
  // nothing about the zone state.
  // The compaction's turns timed by the main thread's CPU (a preemption is not its work), where
  // the journal lets its clock be set.
  const J = ZoneJournal as unknown as { stepClock?: () => number };
  const cpuClock = J.stepClock !== undefined;
  if (cpuClock) J.stepClock = () => threadCpuNs() / 1e6;
  const opened = await zonedNamespace(file, true, 'threads');
  const ns = opened.ns;
  const zns = ns.zoned!;
  const t = zns.table;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const turns = new TurnMonitor(clock.read);
  turns.start();
  const start = performance.now();
  let k = 0;
  let failed = 0;
  let asked = false;
  let compactAt = 0;
  let compactEnd = 0;
  // Eight writes per turn (a queue depth of 8) for 2 s and until a compaction of the whole
  // snapshot, started after 0.5 s, has finished.
  for (;;) {
    const now = performance.now() - start;
    if (!asked && now > 500) {
      zns.journal!.compactSoon();
      asked = true;
      compactAt = performance.now();
    }
    if (asked && compactEnd === 0 && !zns.journal!.compacting) compactEnd = performance.now();
    if ((now > 2000 && asked && !zns.journal!.compacting) || now > 60_000) break;
    const batch = [];
    for (let q = 0; q < 8; q++, k++) {
      const i = (k * 7919) % MILLION;
      // Promise.resolve: execute() may complete synchronously on some paths.
      if (t.stateOf(i) !== ZoneState.FULL) batch.push(Promise.resolve(write(ns, t.wptrOf(i))));
    }
    for (const c of await Promise.all(batch)) if (c.status !== 0) failed++;
    await turn();
  }
  h.disable();
  turns.stop();
  log(
    `zns stall: the longest turn of the first write to a fresh 1,000,000-zone namespace ` +
      `(median of 3) ${describeSplit(first)}; to a fresh regular namespace ${describeSplit(firstRegular)}; ` +
      `${k} writes over 1,000,000 half-written zones in ${((performance.now() - start) / 1000).toFixed(1)} s ` +
      `with ${zns.journal!.compactions} background compaction(s) of the ${MILLION}-record snapshot, ${failed} failed; ` +
      `loop delay p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, ` +
      `max ${(h.max / 1e6).toFixed(2)} ms; longest compaction turn ${zns.journal!.longestStepMs.toFixed(2)} ms (${cpuClock ? 'main-thread CPU' : 'wall'}); ` +
      `${turns.turns} loop turns: longest ${describeSplit(turns.worstWall)}, ` +
      `most own time ${describeSplit(turns.worstOwn)}, ` +
      `most main-thread CPU ${describeSplit(turns.worstRun)}`,
  );
  if (process.env.NVMEMU_BENCH_VERBOSE === '1') {
    log(
      `  writes from ${start.toFixed(1)} ms, compaction ${compactAt.toFixed(1)}-${compactEnd.toFixed(1)} ms`,
    );
    for (const b of turns.busy) log(`  busy turn at ${b.at.toFixed(1)} ms: ${describeSplit(b)}`);
  }
  if (zns.journal!.compactions < 1) throw new Error('no compaction ran during the stall test');
  await opened.close();
  if (cpuClock) J.stepClock = () => performance.now();
  return {
    first,
    firstRegular,
    warm,
    max: h.max / 1e6,
    step: zns.journal!.longestStepMs,
    stepClock: cpuClock ? 'main-thread CPU' : 'wall clock, preemption included',
    worstOwn: turns.worstOwn,
    worstRun: turns.worstRun,
  };
}

/** A state file recording every one of `zones` zones (Closed, half written). */
function fullStateFile(img: string, zones: number): void {
  const t = new ZoneTable(zones, ZONE_BLOCKS, ZONE_BLOCKS, {
    maxActive: 0,
    maxOpen: 0,
    numZrwa: 0,
  });
  for (let i = 0; i < zones; i++) t.restoreAt(i, ZoneState.CLOSED, t.zslbaOf(i) + 64, 0);
  const g = {
    lbaSize: LBA,
    zoneSize: ZONE_BLOCKS,
    zoneCap: ZONE_BLOCKS,
    nrZones: zones,
    descrExtSize: 0,
  };
  const { journal } = ZoneJournal.open(`${img}.zones`, g, false);
  journal!.attach(t);
  journal!.compact(t.zones);
  journal!.close();
}

interface Started {
  readonly child: ChildProcess;
  readonly ms: number;
  readonly port: number;
  /** Peak RSS (VmHWM) at readiness, MiB; NaN where /proc is missing. */
  readonly peakMiB: number;
}

/** `nvmemu run ARGS` until "Running;", with the time it took and its peak RSS then. */
function startRun(args: readonly string[]): Promise<Started> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`nvmemu run not ready in 60 s: ${out}${err}`));
    }, 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!out.includes('Running;')) return;
      const ms = performance.now() - t0;
      clearTimeout(timer);
      let peakMiB = NaN;
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m !== null) peakMiB = Number(m[1]) / 1024;
      } catch {
        // not Linux
      }
      const port = Number(/listening on [^\s]+:(\d+)/.exec(out)?.[1] ?? 0);
      ok({ child, ms, port, peakMiB });
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`nvmemu run exited with ${code ?? 'a signal'}: ${out}${err}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const machineArgs = (dir: string, img: string, zoned: boolean): string[] => [
  '--data',
  join(dir, 'data'),
  '--listen',
  '127.0.0.1:0',
  '--discovery',
  'none',
  '-drive',
  `file=${img},if=none,id=zns,format=raw`,
  '-device',
  'nvme-subsys,id=s,nqn=zscale',
  '-device',
  'nvme,id=c0,serial=zscale0,subsys=s',
  '-device',
  `nvme-ns,drive=zns,nsid=1${zoned ? ',zoned=on,zoned.zone_size=64K' : ''}`,
];

/** Median start time and peak RSS of `runs` starts. */
async function startup(args: string[], runs: number): Promise<{ ms: number; mib: number }> {
  const ms: number[] = [];
  const mib: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await startRun(args);
    ms.push(s.ms);
    mib.push(s.peakMiB);
    await stop(s.child);
  }
  return { ms: median(ms), mib: median(mib) };
}

/** Wall time of one CLI process, ms. */
function cliMs(args: readonly string[]): Promise<number> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.once('exit', (code) => {
      if (code === 0) ok(performance.now() - t0);
      else fail(new Error(`nvmemu ${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

export async function znsScale(log: (l: string) => void): Promise<void> {
  const parts = scaleParts(process.env.NVMEMU_BENCH_ZNS_PARTS);
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-zscale-'));
  const checks: Check[] = [];
  try {
    if (parts.has('cost')) checks.push(...(await costChecks(dir, log)));
    if (parts.has('stall')) checks.push(...(await stallChecks(dir, log)));
    if (parts.has('startup')) checks.push(...(await startupChecks(dir)));
    if (parts.has('report')) checks.push(...(await reportChecks(dir, log)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [['check', 'value', 'baseline (same run)', 'target']];
  for (const c of checks) {
    const v = c.value < 10 ? c.value.toFixed(2) : c.value.toFixed(0);
    rows.push([c.name, `${v} ${c.unit}`, c.baseline, verdict(c.value, c.bound)]);
  }
  for (const line of formatTable(rows)) log(line);
}

const PARTS = ['cost', 'stall', 'startup', 'report'] as const;

/** NVMEMU_BENCH_ZNS_PARTS: a comma list of PARTS (default all). */
function scaleParts(v: string | undefined): Set<string> {
  if (v === undefined) return new Set(PARTS);
  const want = v.split(',');
  for (const w of want)
    if (!(PARTS as readonly string[]).includes(w))
      throw new Error(
        `NVMEMU_BENCH_ZNS_PARTS: unknown part ${JSON.stringify(w)} (${PARTS.join(', ')})`,
      );
  return new Set(want);
}

/** Zone state cost per command. */
async function costChecks(dir: string, log: (l: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const cost1k: number[] = [];
  const cost1m: number[] = [];
  for (let r = 0; r < 3; r++) {
    cost1k.push(await stateCost(dir, 1000, 20_000));
    cost1m.push(await stateCost(dir, MILLION, 20_000));
    rmSync(join(dir, `cost-1000.img.zones`), { force: true });
    rmSync(join(dir, `cost-${MILLION}.img.zones`), { force: true });
  }
  const c1k = median(cost1k);
  const c1m = median(cost1m);
  log(
    `zns state cost µs/command (admit + commit + journal record): 1,000 zones ${cost1k.map((x) => x.toFixed(2)).join(' ')}; ` +
      `1,000,000 zones ${cost1m.map((x) => x.toFixed(2)).join(' ')}`,
  );
  checks.push({
    name: 'zone state µs/write, 1M zones',
    value: c1m,
    unit: 'µs',
    baseline: `${c1k.toFixed(2)} µs at 1,000 zones`,
    bound: atMost(2 * c1k, '≤ 2× 1K zones (O(1))'),
  });
  return checks;
}

async function stallChecks(dir: string, log: (l: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const clock = openSchedClock();
  let st: Awaited<ReturnType<typeof stall>>;
  try {
    st = await stall(dir, log, clock);
  } finally {
    clock.close();
  }
  checks.push({
    name: 'first write, fresh 1M-zone ns, longest turn',
    value: st.first.own,
    unit: 'ms own',
    baseline:
      `main-thread CPU ${st.first.run.toFixed(2)} ms, wall ${st.first.wall.toFixed(2)} ms; ` +
      `regular ns ${st.firstRegular.own.toFixed(2)} ms own; ` +
      `next write, 1K zones: ${st.warm.toFixed(2)} ms`,
    bound: atMost(2, '≤ 2 ms'),
  });
  checks.push({
    name: 'worst event-loop stall, 1M zones',
    value: st.worstOwn.own,
    unit: 'ms own',
    baseline:
      `main-thread CPU ${st.worstOwn.run.toFixed(2)} ms; most in any turn ${st.worstRun.run.toFixed(2)} ms; ` +
      `loop delay max ${st.max.toFixed(2)} ms wall`,
    bound: atMost(2, '≤ 2 ms'),
  });
  checks.push({
    name: 'longest compaction turn, same run',
    value: st.step,
    unit: 'ms',
    baseline: st.stepClock,
    bound: atMost(2, '≤ 2 ms'),
  });
  return checks;
}

/** Startup of a machine with 1,000,000 zones. */
async function startupChecks(dir: string): Promise<Check[]> {
  const checks: Check[] = [];
  const big = image(dir, 'big.img', MILLION);
  const regular = await startup(machineArgs(dir, big, false), 3);
  const fresh = await startup(machineArgs(dir, big, true), 3);
  fullStateFile(big, MILLION);
  const loaded = await startup(machineArgs(dir, big, true), 3);
  const base = `regular ns: ${regular.ms.toFixed(0)} ms, ${regular.mib.toFixed(0)} MiB`;
  checks.push({
    name: 'start, 1M zones, no state file',
    value: fresh.ms,
    unit: 'ms',
    baseline: base,
    bound: atMost(1000, '≤ 1 s'),
  });
  checks.push({
    name: 'peak RSS, 1M zones, no state file',
    value: fresh.mib,
    unit: 'MiB',
    baseline: base,
    bound: atMost(120, '≤ 120 MiB'),
  });
  checks.push({
    name: 'start, 1M zones, every zone recorded',
    value: loaded.ms,
    unit: 'ms',
    baseline: base,
    bound: atMost(1000, '≤ 1 s'),
  });
  checks.push({
    name: 'peak RSS, 1M zones, every zone recorded',
    value: loaded.mib,
    unit: 'MiB',
    baseline: base,
    bound: atMost(120, '≤ 120 MiB'),
  });
  return checks;
}

/** report-zones of 100,000 zones through the CLI. */
async function reportChecks(dir: string, log: (l: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const rz = image(dir, 'rz.img', 100_000);
  const m = await startRun([...machineArgs(join(dir, 'rz'), rz, true)]);
  try {
    const target = [
      '--traddr',
      '127.0.0.1',
      '--trsvcid',
      String(m.port),
      '-n',
      'nqn.2019-08.org.qemu:zscale',
    ];
    const zns = (...a: string[]): string[] => [
      'nvme',
      'zns',
      ...a,
      '--namespace-id',
      '1',
      ...target,
    ];
    // Wall time (the target), and CPU time: the CLI's (its whole process) and the target's
    // (its main thread) for the same command; their sum is what an idle machine would take,
    // near enough (the two mostly take turns).
    interface Run {
      wall: number;
      cli: number;
      server: number;
    }
    const pid = m.child.pid!;
    const once = async (args: string[]): Promise<Run> => {
      const c0 = childrenCpuMs();
      const s0 = processMainCpuMs(pid);
      const wall = await cliMs(args);
      return { wall, cli: childrenCpuMs() - c0, server: processMainCpuMs(pid) - s0 };
    };
    const idns: Run[] = [];
    const text: Run[] = [];
    const json: Run[] = [];
    for (let r = 0; r < 5; r++) {
      idns.push(await once(zns('id-ns')));
      text.push(await once(zns('report-zones')));
      json.push(await once(zns('report-zones', '-o', 'json')));
    }
    const show = (rs: Run[]): string =>
      rs
        .map((x) => `${x.wall.toFixed(0)} (CPU ${x.cli.toFixed(0)} + ${x.server.toFixed(0)})`)
        .join(' ');
    log(
      `zns report-zones 100,000 zones, ms wall (CPU of the CLI + of the target): text ${show(text)}; ` +
        `json ${show(json)}; id-ns ${show(idns)}`,
    );
    const wall = (rs: Run[]): number => median(rs.map((x) => x.wall));
    const cpu = (rs: Run[]): number => median(rs.map((x) => x.cli + x.server));
    const cliOnly = (rs: Run[]): number => median(rs.map((x) => x.cli));
    const floor = `id-ns: ${wall(idns).toFixed(0)} ms`;
    const cpuFloor =
      `id-ns: ${cpu(idns).toFixed(0)} ms (CLI ${cliOnly(idns).toFixed(0)}); ` +
      `CLI CPU text ${cliOnly(text).toFixed(0)}, JSON ${cliOnly(json).toFixed(0)}`;
    checks.push({
      name: 'report-zones 100K zones (text)',
      value: wall(text),
      unit: 'ms',
      baseline: floor,
      bound: atMost(500, '≤ 0.5 s'),
    });
    checks.push({
      name: 'report-zones 100K zones (JSON)',
      value: wall(json),
      unit: 'ms',
      baseline: floor,
      bound: atMost(500, '≤ 0.5 s'),
    });
    checks.push({
      name: 'report-zones 100K (text), CPU CLI + target',
      value: cpu(text),
      unit: 'ms',
      baseline: cpuFloor,
      bound: atMost(500, '≤ 0.5 s'),
    });
    checks.push({
      name: 'report-zones 100K (JSON), CPU CLI + target',
      value: cpu(json),
      unit: 'ms',
      baseline: cpuFloor,
      bound: atMost(500, '≤ 0.5 s'),
    });
  } finally {
    await stop(m.child);
  }
  return checks;
}
