// Child process of the NVMe/TCP benchmark (bench/nvme-tcp.ts): the server side on its own core,
// as in reference nvme-tcp.md §5.2 (client and server in separate Node processes).
//   mode 'target': a machine (nvme-subsys + nvme + nvme-ns on a raw image) served by startNvmeTcp.
//   mode 'raw': the lean baseline (bench/lean-loopback.ts): the same bytes per request and reply
//   as NVMe/TCP moves, answered with no NVMe logic at all.

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { startNvmeTcp } from '../src/nvme-tcp/target/index.js';
import { leanServe } from './lean-loopback.js';

export const BENCH_NQN = 'nqn.2019-08.org.qemu:bench';
export const BENCH_IMAGE_BYTES = 256 << 20;

/** The parent samples this process's CPU time around each test (µs of CPU per operation). */
function answerCpuQueries(): void {
  process.on('message', (m: unknown) => {
    if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  });
}

async function main(mode: string): Promise<void> {
  answerCpuQueries();
  if (mode === 'raw') {
    const server = createServer(leanServe);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      process.send?.({ port: (server.address() as AddressInfo).port });
    });
    return;
  }
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-bench-'));
  writeFileSync(join(dir, 'nvm.img'), new Uint8Array(BENCH_IMAGE_BYTES));
  const a = parseArgs([
    '-drive',
    `file=${join(dir, 'nvm.img')},if=none,id=nvm,format=raw`,
    '-device',
    'nvme-subsys,id=s,nqn=bench',
    '-device',
    'nvme,id=c0,serial=bench0,subsys=s,mdts=0',
    '-device',
    'nvme-ns,drive=nvm,nsid=1',
  ]);
  const machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
  const svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  process.on('disconnect', () => {
    void svc
      .close()
      .then(() => machine.shutdown())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  process.send?.({ port: svc.target.ioPort.port });
}

// Only as the forked child: bench/nvme-tcp.ts imports the constants above, and a target started
// at import time would keep the parent alive (and cost it a 256 MiB image and a machine).
if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  await main(process.argv[2] ?? 'target');
}
