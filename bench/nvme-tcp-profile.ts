// Where the NVMe/TCP target spends its CPU (issue 20 asks for a `--cpu-prof` summary of the
// target at QD32): the bench target (nvme-tcp-server.ts) in a child process with the V8 sampling
// profiler hooked in (cpu-prof-hook.ts), driven by the host library for a few seconds after a
// warm-up; prints the target's CPU per command and its top functions by self time, and saves the
// .cpuprofile (open it in Chrome DevTools or speedscope). Self time is also summed per module
// (source file; native functions and V8's pseudo-frames by name). NVMEMU_PROF_HOST=1 profiles the
// host library (this process) over the same window too, saved beside it as *.host.cpuprofile.
//
//   node build/bench/nvme-tcp-profile.js [read|write] [size] [qd] [seconds] [conns] [out.cpuprofile]
//   defaults: read 4096 32 5 1 /tmp/nvmemu-target.cpuprofile
//
// Self time only counts samples whose top frame is the function: native work a function
// triggers (a writev syscall, a pread) is charged to the JS function that called into it.

import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { formatTable } from './checks.js';
import { closedLoop, readBuffers } from './nvme-tcp.js';
import { BENCH_IMAGE_BYTES, BENCH_NQN } from './nvme-tcp-server.js';

const SERVER = fileURLToPath(new URL('./nvme-tcp-server.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./cpu-prof-hook.js', import.meta.url));
const LBA = 512;
const TOP = 25;
/** Sampling interval, µs (NVMEMU_PROF_INTERVAL_US); 0 measures CPU time without the profiler. */
const INTERVAL_US = Number(process.env.NVMEMU_PROF_INTERVAL_US ?? 500);

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Self time (µs) per function — or per module with `by: 'module'` (the source file; a frame
 * without one, native or V8's own such as `(garbage collector)`, under its name) — largest first,
 * with the total of all samples.
 */
export function selfTimes(
  p: Profile,
  by: 'function' | 'module' = 'function',
): { total: number; rows: [string, number][] } {
  const byNode = new Map<number, string>();
  for (const n of p.nodes) {
    const f = n.callFrame;
    const file = f.url === '' ? '' : f.url.replace(/^.*\/(build|node_modules)\//, '');
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    if (by === 'module') byNode.set(n.id, file === '' ? `[${name}]` : file);
    else byNode.set(n.id, `${name}${file === '' ? '' : ` ${file}:${f.lineNumber + 1}`}`);
  }
  const self = new Map<string, number>();
  let total = 0;
  // timeDeltas[i] is the time since the previous sample; charge it to sample i's node.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = Math.max(0, p.timeDeltas[i] ?? 0);
    const key = byNode.get(p.samples[i]!) ?? '?';
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return { total, rows: [...self].sort((a, b) => b[1] - a[1]) };
}

/** The top self-time rows of one side, per function and per module. */
function printTop(side: string, profile: Profile, done: number): void {
  for (const by of ['function', 'module'] as const) {
    const { total, rows } = selfTimes(profile, by);
    const table: string[][] = [['self %', 'self µs/cmd', `${side}: ${by}`]];
    for (const [name, t] of rows.slice(0, TOP)) {
      table.push([((t / total) * 100).toFixed(1), (t / done).toFixed(2), name]);
    }
    for (const line of formatTable(table)) console.log(line);
  }
}

async function main(): Promise<void> {
  const [kind = 'read', sizeArg = '4096', qdArg = '32', secsArg = '5', connsArg = '1'] =
    process.argv.slice(2);
  const out = process.argv[7] ?? '/tmp/nvmemu-target.cpuprofile';
  const size = Number(sizeArg);
  const qd = Number(qdArg);
  const conns = Number(connsArg);
  if (kind !== 'read' && kind !== 'write') throw new Error(`kind must be read or write: ${kind}`);
  const child = fork(SERVER, ['target'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, '--import', HOOK],
  });
  const [hello] = (await once(child, 'message')) as [{ port: number }];
  const ctrl = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port: hello.port,
    subnqn: BENCH_NQN,
    ioQueues: conns,
    queueSize: 128,
  });
  const nlb = size / LBA;
  const slots = BENCH_IMAGE_BYTES / size;
  const data = Buffer.alloc(size, 0xa5);
  const spare = readBuffers(qd, size);
  const op = async (i: number): Promise<void> => {
    const into = kind === 'read' ? spare.pop()! : undefined;
    const r = await ctrl.ioCommand(
      {
        opcode: kind === 'read' ? IoOpc.READ : IoOpc.WRITE,
        nsid: 1,
        cdw10: Math.floor(Math.random() * slots) * nlb,
        cdw12: nlb - 1,
      },
      into !== undefined ? { readLength: size, into } : { write: data },
      (i % conns) + 1,
    );
    if (into !== undefined) spare.push(into);
    if (r.status !== 0) throw new Error(`status 0x${r.status.toString(16)}`);
  };
  const ask = async <T>(msg: object, want: string): Promise<T> => {
    const reply = new Promise<T>((resolve) => {
      const on = (m: unknown): void => {
        if (typeof m === 'object' && m !== null && (m as { prof?: string }).prof === want) {
          child.off('message', on);
          resolve(m as T);
        }
      };
      child.on('message', on);
    });
    child.send(msg);
    return reply;
  };
  const cpu = async (): Promise<NodeJS.CpuUsage> => {
    const r = await new Promise<NodeJS.CpuUsage>((resolve) => {
      const on = (m: unknown): void => {
        if (typeof m === 'object' && m !== null && 'cpu' in m) {
          child.off('message', on);
          resolve((m as { cpu: NodeJS.CpuUsage }).cpu);
        }
      };
      child.on('message', on);
      child.send('cpu');
    });
    return r;
  };
  try {
    await closedLoop(qd, 1500, op);
    if (INTERVAL_US > 0) await ask({ prof: 'start', intervalUs: INTERVAL_US }, 'started');
    let host: Session | undefined;
    if (INTERVAL_US > 0 && process.env.NVMEMU_PROF_HOST === '1') {
      host = new Session();
      host.connect();
      await host.post('Profiler.enable');
      await host.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
      await host.post('Profiler.start');
    }
    const c0 = await cpu();
    const h0 = process.cpuUsage();
    const r = await closedLoop(qd, Number(secsArg) * 1000, op);
    const h = process.cpuUsage(h0);
    const c1 = await cpu();
    const hostCpu = `host CPU ${((h.user + h.system) / r.done).toFixed(2)} µs/cmd`;
    if (INTERVAL_US === 0) {
      console.log(
        `${size} B ${kind} QD${qd} ×${conns} conn: ${Math.round(r.ops)} IOPS, target CPU ` +
          `${((c1.user + c1.system - c0.user - c0.system) / r.done).toFixed(2)} µs/cmd (user ` +
          `${((c1.user - c0.user) / r.done).toFixed(2)}, system ` +
          `${((c1.system - c0.system) / r.done).toFixed(2)}; not profiled); ${hostCpu}`,
      );
      return;
    }
    const { profile, writes, reads } = await ask<{
      profile: Profile;
      writes: number;
      reads: number;
    }>({ prof: 'stop' }, 'profile');
    writeFileSync(out, JSON.stringify(profile));
    console.log(
      `${size} B ${kind} QD${qd} ×${conns} conn: ${Math.round(r.ops)} IOPS, target CPU ` +
        `${((c1.user + c1.system - c0.user - c0.system) / r.done).toFixed(2)} µs/cmd (user ` +
        `${((c1.user - c0.user) / r.done).toFixed(2)}, system ` +
        `${((c1.system - c0.system) / r.done).toFixed(2)}; profiled every ${INTERVAL_US} µs, which ` +
        `adds its own cost); ${hostCpu}; profile ${out}`,
    );
    console.log(
      `target socket writes ${(writes / r.done).toFixed(3)}/cmd, socket reads ` +
        `${(reads / r.done).toFixed(3)}/cmd`,
    );
    printTop('target', profile, r.done);
    if (host !== undefined) {
      const { profile: hp } = await host.post('Profiler.stop');
      const hostOut = out.replace(/(\.cpuprofile)?$/, '.host.cpuprofile');
      writeFileSync(hostOut, JSON.stringify(hp));
      console.log(`host profile ${hostOut}`);
      printTop('host', hp as Profile, r.done);
    }
  } finally {
    await ctrl.disconnect().catch(() => undefined);
    child.disconnect();
  }
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  await main();
}
