// Start-up benchmark (issue 20): how long the built `nvmemu` takes before it is useful, each
// figure beside bare Node's start (`node -e 0`) measured in the same run, alternating with it.
//
//  - `nvmemu run` with the default machine's devices (README "Set up") to its readiness line
//    ("Running; ..."), in a fresh temp data folder (its images and state created) and again in
//    that folder (images reused): ≤ 300 ms. NVMe/TCP and discovery listen on ports the kernel
//    picks (127.0.0.1:0), not 4420/8009: the machine is shared.
//  - nvme-cli-style commands as processes against that machine (`nvme id-ctrl`, `nvme list`
//    through the discovery service, `nvme zns id-ns`) and `nvmemu --help`: the CLI's fixed cost
//    (issue 20 sets no bound of its own; report-zones of 100,000 zones, ≤ 0.5 s, is in
//    zns-scale.ts).
//
// Wall time is what a user waits for, but a loaded machine inflates it by whatever else runs;
// CPU time (every thread of the process: /proc/PID/task/*/schedstat at the readiness line, the
// process's own getrusage() at exit for short commands) is printed beside it, baseline too.
// Medians of NVMEMU_BENCH_ROUNDS (default 7) alternating rounds.
//
// NVMEMU_BENCH_BEFORE=PATH/build/src/cli/main.js (another build, e.g. of main) adds a column
// measured in the same rounds, alternating with this build and the baseline: before vs after.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atMost, formatTable, median, verdict, type Bound } from './checks.js';
import type { Benchmark } from './main.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const BEFORE = process.env.NVMEMU_BENCH_BEFORE;
const ROUNDS = Math.max(1, Number(process.env.NVMEMU_BENCH_ROUNDS ?? 7));
const READY = 'Running;';
const SUBNQN = 'nqn.2019-08.org.qemu:subsys0';

/** CPU ms of every thread of `pid` so far (schedstat's first field is ns on a CPU); NaN off Linux. */
function threadsCpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

interface Sample {
  readonly ms: number;
  readonly cpuMs: number;
}

/** Spawns `args` under Node and resolves when stdout shows `ready`, then ends the process. */
function untilReady(args: readonly string[], ready: string): Promise<Sample & { out: string }> {
  return new Promise((ok, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`not ready in 60 s: ${args.join(' ')}: ${out}${err}`));
    }, 60_000);
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (done || !out.includes(ready)) return;
      done = true;
      const ms = performance.now() - t0;
      const cpuMs = threadsCpuMs(child.pid!);
      clearTimeout(timer);
      child.once('exit', () => ok({ ms, cpuMs, out }));
      child.kill('SIGTERM');
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!done)
        fail(new Error(`${args.join(' ')} exited with ${code ?? 'a signal'}: ${out}${err}`));
    });
  });
}

/**
 * A CommonJS preload that appends the process's getrusage() CPU time at exit to the file
 * NVMEMU_BENCH_CPU names: the same cheap instrument for the CLI and for `node -e 0`.
 */
function writePreload(dir: string): string {
  const file = join(dir, 'cpu-at-exit.cjs');
  writeFileSync(
    file,
    `'use strict';\nprocess.on('exit', () => {\n  const u = process.cpuUsage();\n` +
      `  require('node:fs').writeFileSync(process.env.NVMEMU_BENCH_CPU, String((u.user + u.system) / 1000));\n});\n`,
  );
  return file;
}

/** Wall and CPU time of one short-lived Node process (exit status 0 required). */
function processTime(preload: string, cpuFile: string, args: readonly string[]): Promise<Sample> {
  return new Promise((ok, fail) => {
    rmSync(cpuFile, { force: true });
    const t0 = performance.now();
    const p = spawn(process.execPath, ['-r', preload, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NVMEMU_BENCH_CPU: cpuFile },
    });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) {
        fail(new Error(`node ${args.join(' ')} exited ${code ?? 'by a signal'}: ${err}`));
        return;
      }
      ok({ ms, cpuMs: Number(readFileSync(cpuFile, 'utf8')) });
    });
  });
}

interface Row {
  readonly name: string;
  readonly subject: Sample[];
  /** The same figure of the NVMEMU_BENCH_BEFORE build, when given. */
  readonly before: Sample[];
  readonly base: Sample[];
  readonly baseName: string;
  readonly bound?: Bound;
}

const med = (xs: readonly Sample[]): Sample => ({
  ms: median(xs.map((x) => x.ms)),
  cpuMs: median(xs.map((x) => x.cpuMs)),
});

const fmt = (s: Sample): string =>
  `${s.ms.toFixed(0)} ms${Number.isNaN(s.cpuMs) ? '' : ` (CPU ${s.cpuMs.toFixed(0)} ms)`}`;

function runArgs(data: string, cli = CLI): string[] {
  return [cli, 'run', '--data', data, '--listen', '127.0.0.1:0', '--discovery', '0'];
}

export async function startupChecks(log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-startup-'));
  const preload = writePreload(dir);
  const cpuFile = join(dir, 'cpu');
  const load0 = loadavg();
  const bare = ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1 << 30)'];
  const row = (name: string) => ({
    name,
    subject: [] as Sample[],
    before: [] as Sample[],
    base: [] as Sample[],
  });
  const rows = {
    fresh: row('start, default machine, fresh data folder'),
    again: row('start, default machine, same folder again'),
    help: row('nvmemu --help'),
    idctrl: row('nvme id-ctrl (connect, Identify)'),
    list: row('nvme list (discovery, 2 namespaces)'),
    znsIdNs: row('nvme zns id-ns'),
  };
  try {
    // Warm-up: the file cache holds Node, the build and node_modules afterwards.
    await untilReady(bare, 'ready');
    const warm = join(dir, 'warm');
    await untilReady(runArgs(warm), READY);
    rmSync(warm, { recursive: true, force: true });
    if (BEFORE !== undefined) {
      await untilReady(runArgs(warm, BEFORE), READY);
      rmSync(warm, { recursive: true, force: true });
    }
    for (let r = 0; r < ROUNDS; r++) {
      const data = join(dir, `data${r}`);
      rows.fresh.base.push(await untilReady(bare, 'ready'));
      rows.fresh.subject.push(await untilReady(runArgs(data), READY));
      rows.again.base.push(await untilReady(bare, 'ready'));
      rows.again.subject.push(await untilReady(runArgs(data), READY));
      rmSync(data, { recursive: true, force: true });
      if (BEFORE !== undefined) {
        rows.fresh.before.push(await untilReady(runArgs(data, BEFORE), READY));
        rows.again.before.push(await untilReady(runArgs(data, BEFORE), READY));
        rmSync(data, { recursive: true, force: true });
      }
    }
    // The commands against one running machine.
    const machine = spawn(process.execPath, runArgs(join(dir, 'serve')), {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const out = await new Promise<string>((ok, fail) => {
        let text = '';
        machine.stdout.on('data', (b: Buffer) => {
          text += b.toString();
          if (text.includes(READY)) ok(text);
        });
        machine.once('exit', (c) => fail(new Error(`nvmemu run exited ${c}: ${text}`)));
      });
      const port = /listening on [^\s]+:(\d+)/.exec(out)?.[1];
      const disc = /discovery on [^\s]+:(\d+)/.exec(out)?.[1];
      if (port === undefined || disc === undefined) throw new Error(`no ports in: ${out}`);
      const target = ['-n', SUBNQN, '--trsvcid', port];
      const commands: [keyof typeof rows, string[]][] = [
        ['help', ['--help']],
        ['idctrl', ['nvme', 'id-ctrl', ...target]],
        ['list', ['nvme', 'list', '--trsvcid', disc]],
        ['znsIdNs', ['nvme', 'zns', 'id-ns', '--namespace-id', '2', ...target]],
      ];
      for (const [, args] of commands) await processTime(preload, cpuFile, [CLI, ...args]);
      for (let r = 0; r < ROUNDS; r++) {
        for (const [key, args] of commands) {
          rows[key].base.push(await processTime(preload, cpuFile, ['-e', '0']));
          rows[key].subject.push(await processTime(preload, cpuFile, [CLI, ...args]));
          if (BEFORE !== undefined)
            rows[key].before.push(await processTime(preload, cpuFile, [BEFORE, ...args]));
        }
      }
    } finally {
      await stop(machine);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus();
  log(
    `machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ` +
      `load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ` +
      `${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at end; medians of ${ROUNDS} alternating rounds`,
  );
  const table: Row[] = [
    { ...rows.fresh, baseName: 'node -e 0 to its first line', bound: atMost(300, '≤ 300 ms') },
    { ...rows.again, baseName: 'node -e 0 to its first line', bound: atMost(300, '≤ 300 ms') },
    { ...rows.help, baseName: 'node -e 0' },
    { ...rows.idctrl, baseName: 'node -e 0' },
    { ...rows.list, baseName: 'node -e 0' },
    { ...rows.znsIdNs, baseName: 'node -e 0' },
  ];
  const out = [
    [
      'check',
      'value (wall, CPU)',
      ...(BEFORE === undefined ? [] : ['before (same run)']),
      'baseline (same run)',
      'target',
    ],
  ];
  for (const r of table) {
    const s = med(r.subject);
    out.push([
      r.name,
      fmt(s),
      ...(BEFORE === undefined ? [] : [fmt(med(r.before))]),
      `${r.baseName}: ${fmt(med(r.base))}`,
      r.bound === undefined ? '—' : verdict(s.ms, r.bound),
    ]);
  }
  if (BEFORE !== undefined) log(`before: ${BEFORE}`);
  for (const line of formatTable(out)) log(line);
  log(
    `start, fresh folder, wall ms: ${rows.fresh.subject.map((s) => s.ms.toFixed(0)).join(' ')}; ` +
      `CPU ms: ${rows.fresh.subject.map((s) => s.cpuMs.toFixed(0)).join(' ')}; ` +
      `node -e 0 wall ms: ${rows.fresh.base.map((s) => s.ms.toFixed(0)).join(' ')}`,
  );
  if (BEFORE !== undefined)
    log(
      `before, start, fresh folder, wall ms: ${rows.fresh.before.map((s) => s.ms.toFixed(0)).join(' ')}; ` +
        `CPU ms: ${rows.fresh.before.map((s) => s.cpuMs.toFixed(0)).join(' ')}`,
    );
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export const startupBenchmark: Benchmark = {
  name: 'startup',
  description:
    'nvmemu run (default machine) to its readiness line and nvme-cli commands as processes, beside node -e 0',
  run: async (log) => {
    await startupChecks(log);
    return [];
  },
};
