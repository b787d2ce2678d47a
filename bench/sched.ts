// Event-loop turns split into our own time and preemption (issue 20), for the zoned benchmarks on
// a shared machine: a wall-clock stall of the loop is the sum of
//   run    CPU time of the main thread (our JS, GC, the CPU of our syscalls),
//   wait   time the thread was runnable but another task had the core (preemption),
//   sleep  time it slept in the kernel (a blocking fsync, write throttling, a lock, I/O faults).
// run is clock_gettime(CLOCK_THREAD_CPUTIME_ID); the number of sleeps and preemptions are the
// thread's voluntary and involuntary context switches (getrusage RUSAGE_THREAD); wait is the
// second field of /proc/thread-self/schedstat (run_delay, ns spent runnable on a runqueue;
// Documentation/scheduler/sched-stats.rst), read through one open descriptor with pread.
// "Own" time is what the loop would still lose on an idle machine (see Split.own). run_delay is
// sched_clock based and on this VM not always consistent with the wall clock over short
// intervals (it can exceed them), so it only describes; it never decides. Where /proc is
// missing every figure but wall is NaN and own is the wall time.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import koffi from 'koffi';

/** CPU time of the calling thread, ns (CLOCK_THREAD_CPUTIME_ID: V8's helper threads excluded). */
export const threadCpuNs: () => number = (() => {
  const libc = koffi.load('libc.so.6');
  koffi.struct('nvmemu_bench_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
  const clockGettime = libc.func('int clock_gettime(int clk, _Out_ nvmemu_bench_timespec *ts)') as (
    clk: number,
    out: { tv_sec: number; tv_nsec: number },
  ) => number;
  const CLOCK_THREAD_CPUTIME_ID = 3;
  const out = { tv_sec: 0, tv_nsec: 0 };
  return () => {
    clockGettime(CLOCK_THREAD_CPUTIME_ID, out);
    return out.tv_sec * 1e9 + out.tv_nsec;
  };
})();

/**
 * Context switches of the calling thread so far: voluntary (it slept in the kernel: blocking
 * I/O, a lock, a page fault waiting for I/O) and involuntary (preempted). getrusage(2),
 * RUSAGE_THREAD; struct rusage on x86-64 and aarch64 Linux: two timevals, then 14 longs of
 * which ru_nvcsw and ru_nivcsw are the last two.
 */
export const threadSwitches: () => { voluntary: number; involuntary: number } = (() => {
  const libc = koffi.load('libc.so.6');
  const getrusage = libc.func('int getrusage(int who, void *usage)') as (
    who: number,
    usage: Buffer,
  ) => number;
  const RUSAGE_THREAD = 1;
  const buf = Buffer.alloc(144);
  return () => {
    getrusage(RUSAGE_THREAD, buf);
    return {
      voluntary: Number(buf.readBigInt64LE(32 + 12 * 8)),
      involuntary: Number(buf.readBigInt64LE(32 + 13 * 8)),
    };
  };
})();

/**
 * CPU time (user + system, ms) of the children this process has waited for, getrusage(2)
 * RUSAGE_CHILDREN: the difference around one child's run is that child's CPU time.
 */
export const childrenCpuMs: () => number = (() => {
  const libc = koffi.load('libc.so.6');
  const getrusage = libc.func('int getrusage(int who, void *usage)') as (
    who: number,
    usage: Buffer,
  ) => number;
  const RUSAGE_CHILDREN = -1;
  const buf = Buffer.alloc(144);
  return () => {
    getrusage(RUSAGE_CHILDREN, buf);
    const tv = (at: number): number =>
      Number(buf.readBigInt64LE(at)) * 1e3 + Number(buf.readBigInt64LE(at + 8)) / 1e3;
    return tv(0) + tv(16);
  };
})();

/**
 * CPU time (ms) of the main thread of process `pid` so far, from /proc/PID/schedstat (exact
 * while that thread sleeps, as an idle server does between commands); NaN without it.
 */
export function processMainCpuMs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/**
 * CPU time of the calling thread and of the whole process, runqueue-wait time (ns) and context
 * switches of the calling thread so far; null without schedstat.
 */
export type SchedClock = () => {
  run: number;
  all: number;
  wait: number;
  voluntary: number;
  involuntary: number;
} | null;

/** Opens the main thread's schedstat; call on the main thread. */
export function openSchedClock(): { read: SchedClock; close(): void } {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return { read: () => null, close: () => undefined };
  }
  const buf = Buffer.alloc(128);
  const read: SchedClock = () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const wait = Number(buf.toString('latin1', 0, n).trim().split(' ')[1]);
    if (!Number.isFinite(wait)) return null;
    const u = process.cpuUsage();
    return { run: threadCpuNs(), all: (u.user + u.system) * 1000, wait, ...threadSwitches() };
  };
  // Warm up: the first calls compile and resolve things, ~1 ms that no measurement should hold.
  for (let i = 0; i < 200; i++) read();
  return { read, close: () => closeSync(fd) };
}

/** One interval (a loop turn, or a measured operation) split as above, ms. */
export interface Split {
  readonly wall: number;
  /** CPU time of the main thread. */
  readonly run: number;
  /** CPU time of every thread of the process (V8's helpers, the libuv pool). */
  readonly all: number;
  /** Runqueue wait of the main thread (schedstat). */
  readonly wait: number;
  /** Voluntary context switches: the main thread slept in the kernel this many times. */
  readonly sleeps: number;
  /** Involuntary context switches (preemptions). */
  readonly preemptions: number;
  /**
   * What the loop would lose on an idle machine: the main thread's CPU time when it never
   * slept (wall − CPU was then all runqueue wait); when it slept, the CPU time of all our
   * threads, at most the wall time. The second rule charges a sleep as the work of the threads
   * it waited for, which holds when the sleeps are waits on our own threads (V8's GC helpers,
   * the libuv pool's lock) and not on the disk; `perf record -e sched:sched_switch -g` of the
   * stall workload shows only futex waits (docs/zns.md).
   */
  readonly own: number;
}

const ZERO: Split = { wall: 0, run: 0, all: 0, wait: 0, sleeps: 0, preemptions: 0, own: 0 };

function between(wall: number, a: ReturnType<SchedClock>, b: ReturnType<SchedClock>): Split {
  if (a === null || b === null)
    return { wall, run: NaN, all: NaN, wait: NaN, sleeps: NaN, preemptions: NaN, own: wall };
  const run = (b.run - a.run) / 1e6;
  const all = (b.all - a.all) / 1e6;
  const sleeps = b.voluntary - a.voluntary;
  const own = sleeps === 0 ? run : Math.max(run, Math.min(wall, all));
  return {
    wall,
    run,
    all,
    wait: (b.wait - a.wait) / 1e6,
    sleeps,
    preemptions: b.involuntary - a.involuntary,
    own,
  };
}

/** Measures the synchronous `fn` as one interval (an asynchronous one would count idle time). */
export function splitOfSync(clock: SchedClock, fn: () => void): Split {
  const s0 = clock();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  return between(wall, s0, clock());
}

/**
 * Samples every event-loop turn (a setImmediate chain, so the loop never idles in its poll
 * phase while it runs) and keeps the turn with the most own time, the one with the most CPU
 * time of the main thread and the one with the longest wall time.
 */
export class TurnMonitor {
  readonly #clock: SchedClock;
  #running = false;
  #t = 0;
  #s: ReturnType<SchedClock> = null;
  turns = 0;
  worstOwn: Split = ZERO;
  worstRun: Split = ZERO;
  worstWall: Split = ZERO;
  /** The 20 turns with the most main-thread CPU, with their performance.now(), most first. */
  readonly busy: (Split & { at: number })[] = [];

  constructor(clock: SchedClock) {
    this.#clock = clock;
  }

  start(): void {
    this.#running = true;
    this.#t = performance.now();
    this.#s = this.#clock();
    setImmediate(() => this.#tick());
  }

  stop(): void {
    this.#running = false;
  }

  #tick(): void {
    if (!this.#running) return;
    const t = performance.now();
    const s = this.#clock();
    const split = between(t - this.#t, this.#s, s);
    this.#t = t;
    this.#s = s;
    this.turns++;
    if (split.own > this.worstOwn.own) this.worstOwn = split;
    if (split.run > this.worstRun.run) this.worstRun = split;
    if (split.wall > this.worstWall.wall) this.worstWall = split;
    const b = this.busy;
    if (b.length < 20 || split.run > b[b.length - 1]!.run) {
      b.push({ ...split, at: t });
      b.sort((x, y) => y.run - x.run);
      if (b.length > 20) b.pop();
    }
    setImmediate(() => this.#tick());
  }
}

/** "6.45 ms wall (CPU 0.90 main, 1.20 all threads; runqueue 5.40; 0 sleeps, 3 preemptions)" */
export function describeSplit(s: Split): string {
  return (
    `${s.wall.toFixed(2)} ms wall (CPU ${s.run.toFixed(2)} main, ${s.all.toFixed(2)} all threads; ` +
    `runqueue ${s.wait.toFixed(2)}; ${s.sleeps} sleeps, ${s.preemptions} preemptions)`
  );
}
