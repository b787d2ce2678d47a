// Child process of the live view benchmark (bench/live-view.ts): a machine served over NVMe/TCP
// on its own core, whose live view the parent turns on and off between rounds ('on' answers
// with the view's URL, 'off' closes it), so both sides of the ratio run in the same process,
// on the same warmed-up command path.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { startNvmeTcp } from '../src/nvme-tcp/target/index.js';
import { startLiveView, type LiveView } from '../src/http/index.js';

export const VIEW_BENCH_NQN = 'nqn.2019-08.org.qemu:viewbench';
export const VIEW_BENCH_IMAGE_BYTES = 256 << 20;

async function main(): Promise<void> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-viewbench-'));
  writeFileSync(join(dir, 'nvm.img'), new Uint8Array(VIEW_BENCH_IMAGE_BYTES));
  writeFileSync(join(dir, 'zns.img'), new Uint8Array(64 << 20));
  const a = parseArgs([
    ...['-drive', `file=${join(dir, 'nvm.img')},if=none,id=nvm,format=raw`],
    ...['-drive', `file=${join(dir, 'zns.img')},if=none,id=zns,format=raw`],
    ...['-device', 'nvme-subsys,id=s,nqn=viewbench'],
    ...['-device', 'nvme,id=c0,serial=viewbench0,subsys=s,mdts=0'],
    ...['-device', 'nvme-ns,id=data,drive=nvm,nsid=1'],
    // A zoned namespace of 256 zones: the page's zone map is part of what each tick sends.
    ...['-device', 'nvme-ns,id=zoned,drive=zns,nsid=2,zoned=on,zoned.zone_size=256K'],
  ]);
  const machine = await Machine.create(a.items, { settings: machineSettings(a), dataDir: dir });
  const svc = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  let view: LiveView | undefined;
  process.on('message', (m: unknown) => {
    void (async () => {
      if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
      if (m === 'on') {
        view ??= await startLiveView(machine, { port: 0 });
        process.send?.({ url: view.url });
      }
      if (m === 'off') {
        await view?.close();
        view = undefined;
        process.send?.({ off: true });
      }
    })();
  });
  process.on('disconnect', () => {
    void (view?.close() ?? Promise.resolve())
      .then(() => svc.close())
      .then(() => machine.shutdown())
      .finally(() => {
        rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  process.send?.({ port: svc.target.ioPort.port });
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  await main();
}
