// Child process of the recording benchmark (bench/record.ts), NVMe/TCP shape: what `nvmemu run
// --record` serves — a machine behind the NVMe/TCP target, recorded by the same RecordingControl
// that `nvmemu run` and x-nvmemu-record-start use — on its own event loop, as a real target is.
// The parent turns recording on and off between rounds over IPC and samples this process's CPU
// time (all threads, and the main thread alone: the recorder writes its file from libuv's pool).
//
// IPC: 'cpu' → {cpu: µs all threads, main: µs main thread}; {record: FILE, data?} → {ok};
// 'seam' → {ok} (a no-op command observer on every controller: the seam's own cost);
// 'stop' → {stats} (undefined when not recording; the no-op observer removed too).

import { readFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { startNvmeTcp } from '../src/nvme-tcp/target/index.js';
import { RecordingControl } from '../src/replay/control.js';
import { machineFaults } from '../src/faults/injector.js';
import { NvmeDevice } from '../src/nvme/index.js';
import type { CommandObserver } from '../src/nvme/ctrl/controller.js';

export const RECORD_NQN = 'nqn.2019-08.org.qemu:record-bench';
export const RECORD_IMAGE_BYTES = 256 << 20;

/** The benchmark's `seam` mode: an observer told of every command that does nothing. */
export const NOOP_OBSERVER: CommandObserver = { begin: () => undefined, end: () => undefined };

/** Linux's USER_HZ (the unit of /proc/.../stat times): 100 on every mainstream build. */
const CLOCK_TICK_US = 10_000;

/**
 * CPU time of this process's main thread, µs (user + system, 10 ms resolution): what the
 * command path itself costs, without the file writes libuv's thread pool does. Undefined where
 * /proc is not Linux's.
 */
export function mainThreadCpuUs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_US;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-record-tcp-'));
  writeFileSync(join(dir, 'nvm.img'), '');
  truncateSync(join(dir, 'nvm.img'), RECORD_IMAGE_BYTES);
  const argv = [
    '-drive',
    `file=${join(dir, 'nvm.img')},if=none,id=nvm,format=raw`,
    '-device',
    'nvme-subsys,id=s,nqn=record-bench',
    '-device',
    'nvme,id=c0,serial=recbench0,subsys=s,mdts=0',
    '-device',
    'nvme-ns,drive=nvm,nsid=1',
  ];
  const a = parseArgs(argv);
  const machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
  const svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  const recording = new RecordingControl(
    () => machine,
    () => machineFaults(machine),
    argv,
    'bench',
  );
  const ctrls = machine
    .components()
    .filter((c): c is NvmeDevice => c instanceof NvmeDevice)
    .map((c) => c.controller);
  const unseam = (): void => {
    for (const c of ctrls) {
      const i = c.observers.indexOf(NOOP_OBSERVER);
      if (i >= 0) c.observers.splice(i, 1);
    }
  };
  process.on('message', (m: unknown) => {
    if (m === 'seam') {
      for (const c of ctrls) c.observers.push(NOOP_OBSERVER);
      process.send?.({ ok: true });
    } else if (m === 'cpu') {
      const c = process.cpuUsage();
      process.send?.({ cpu: c.user + c.system, main: mainThreadCpuUs() });
    } else if (m === 'stop') {
      unseam();
      process.send?.({ stats: recording.active === undefined ? undefined : recording.stop() });
    } else if (typeof m === 'object' && m !== null && 'record' in m) {
      const r = m as { record: string; data?: 'hash' | 'hash-all' };
      recording.start(r.record, r.data ?? 'hash');
      process.send?.({ ok: true });
    }
  });
  process.on('disconnect', () => {
    if (recording.active !== undefined) recording.stop();
    void svc
      .close()
      .then(() => machine.shutdown())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  process.send?.({ port: svc.target.ioPort.port, dir });
}

// Only as the forked child (bench/record.ts imports the helpers above).
if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  await main();
}
