// A busy machine for the live view (docs/live-view.md's screenshots, and by hand): an FDP
// subsystem under random reads and placed writes, a zoned namespace with zones in every state,
// a namespace with unflushed writes, an NVDIMM and a virtio-pmem device with unpersisted
// stores and bad blocks, and an occasional injected media error. All over NVMe/TCP on
// 127.0.0.1, the view on a free port.
//
//   node build/tests/support/live-view-demo.js [SECONDS] [SCREENSHOT.png ...]
//
// Without a screenshot path it serves until Ctrl-C and prints the view's URL; with paths it
// waits SECONDS (default 20), saves the page (headless Chromium, see browser.ts), and stops.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.js';
import { machineSettings } from '../../src/machine/settings.js';
import { registerAllTypes } from '../../src/devices.js';
import { parseArgs } from '../../src/config/options.js';
import { startNvmeTcp } from '../../src/nvme-tcp/target/index.js';
import { NvmeTcpController } from '../../src/nvme-tcp/host/index.js';
import { IoOpc } from '../../src/nvme/spec/opcodes.js';
import { machineFaults } from '../../src/faults/injector.js';
import { trackWrites } from '../../src/faults/power-cut.js';
import { startLiveView } from '../../src/http/index.js';
import { NvdimmDevice } from '../../src/pmem/nvdimm/device.js';
import { VirtioPmemDevice } from '../../src/pmem/virtio-pmem/device.js';
import { openBrowser } from './browser.js';

const MiB = 1 << 20;
const ZSLBA = (z: number): number => z * 4096; // 2 MiB zones of 512-byte blocks

export interface Demo {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  registerAllTypes();
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-demo-'));
  for (const [name, size] of [
    ['fdp.img', 256 * MiB],
    ['zns.img', 64 * MiB],
    ['log.img', 64 * MiB],
    ['pmem.img', 66 * MiB],
    ['vpmem.img', 32 * MiB],
  ] as const) {
    writeFileSync(join(dir, name), '');
    truncateSync(join(dir, name), size);
  }
  const f = (n: string): string => join(dir, n);
  const a = parseArgs([
    ...['-machine', 'pc,nvdimm=on', '-m', '512M,slots=4,maxmem=8G'],
    ...['-drive', `file=${f('fdp.img')},if=none,id=fdpd,format=raw`],
    ...['-drive', `file=${f('zns.img')},if=none,id=znsd,format=raw`],
    ...['-drive', `file=${f('log.img')},if=none,id=logd,format=raw`],
    ...['-device', 'nvme-subsys,id=fdp0,nqn=fdp0,fdp=on,fdp.nruh=4,fdp.runs=1M'],
    ...['-device', 'nvme,id=nvme0,serial=demo0,subsys=fdp0'],
    ...['-device', 'nvme-ns,id=data,drive=fdpd,nsid=1,fdp.ruhs=0;1;2'],
    ...['-device', 'nvme-subsys,id=zns0,nqn=zns0'],
    ...['-device', 'nvme,id=nvme1,serial=demo1,subsys=zns0'],
    ...[
      '-device',
      'nvme-ns,id=zns,drive=znsd,nsid=1,zoned=on,zoned.zone_size=2M,zoned.max_open=6,zoned.max_active=8',
    ],
    ...['-device', 'nvme-ns,id=log,drive=logd,nsid=2'],
    ...['-object', `memory-backend-file,id=pm0,share=on,mem-path=${f('pmem.img')},size=66M`],
    ...['-device', 'nvdimm,id=nvdimm0,memdev=pm0,label-size=2M'],
    ...['-object', `memory-backend-file,id=vpm0,share=on,mem-path=${f('vpmem.img')},size=32M`],
    ...['-device', 'virtio-pmem-pci,id=vpmem0,memdev=vpm0'],
  ]);
  const machine = await Machine.create(a.items, {
    settings: machineSettings(a),
    dataDir: dir,
    warn: () => undefined,
  });
  trackWrites(machine);
  const tcp = await startNvmeTcp(machine, { listen: '127.0.0.1:0', discoveryPort: null });
  const view = await startLiveView(machine, { port: 0, version: 'demo' });
  const port = tcp.target.ioPort.port;
  const fdp = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port,
    subnqn: 'nqn.2019-08.org.qemu:fdp0',
    ioQueues: 2,
    hostnqn: 'nqn.2014-08.org.nvmexpress:demo-db',
  });
  const zns = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port,
    subnqn: 'nqn.2019-08.org.qemu:zns0',
    hostnqn: 'nqn.2014-08.org.nvmexpress:demo-fs',
  });
  const io = (
    c: NvmeTcpController,
    opcode: number,
    nsid: number,
    slba: number,
    nlb: number,
    extra: { cdw12?: number; cdw13?: number } = {},
    qid?: number,
  ): Promise<unknown> =>
    c.ioCommand(
      {
        opcode,
        nsid,
        cdw10: slba,
        cdw11: 0,
        cdw12: (nlb - 1) | (extra.cdw12 ?? 0),
        cdw13: extra.cdw13 ?? 0,
      },
      opcode === IoOpc.WRITE
        ? { write: new Uint8Array(nlb * 512).fill(0x5a) }
        : opcode === IoOpc.READ
          ? { readLength: nlb * 512 }
          : {},
      qid,
    );
  const zsend = (zone: number, zsa: number): Promise<unknown> =>
    zns.ioCommand({
      opcode: IoOpc.ZONE_MGMT_SEND,
      nsid: 1,
      cdw10: ZSLBA(zone),
      cdw11: 0,
      cdw13: zsa,
    });

  // Zones in most states: full (written, or finished early), open, closed, empty.
  for (const [zone, blocks] of [
    [0, 4096],
    [1, 4096],
    [2, 2600],
    [3, 1800],
    [4, 900],
    [5, 3000],
    [6, 300],
    [7, 1200],
  ] as const) {
    for (let done = 0; done < blocks; done += 256)
      await io(zns, IoOpc.WRITE, 1, ZSLBA(zone) + done, Math.min(256, blocks - done));
  }
  await zsend(2, 0x2); // finish
  await zsend(5, 0x1); // close
  await zsend(8, 0x3); // explicitly open
  // Unflushed writes on the log namespace: the flush audit lists them.
  for (let i = 0; i < 24; i++) await io(zns, IoOpc.WRITE, 2, i * 64, 16);

  const faults = machineFaults(machine);
  faults.inject({ kind: 'media-error', id: 'nvme0', nsid: 1, type: 'read', probability: 0.0004 });
  faults.inject({ kind: 'badblocks', id: 'nvdimm0', sector: 4096, count: 16 });
  for (const c of machine.components()) {
    if (c instanceof NvdimmDevice)
      for (let i = 0; i < 40; i++) c.backend.write(i * 65536, new Uint8Array(100).fill(i));
    if (c instanceof VirtioPmemDevice)
      for (let i = 0; i < 12; i++) c.backend.write(i * 4096, new Uint8Array(64).fill(i));
  }

  let running = true;
  const blocks = (256 * MiB) / 512;
  const reader = async (qid: number): Promise<void> => {
    while (running) {
      await io(fdp, IoOpc.READ, 1, Math.floor(Math.random() * (blocks / 8)) * 8, 8, {}, qid).catch(
        () => undefined,
      );
    }
  };
  let pid = 0;
  const writer = async (): Promise<void> => {
    while (running) {
      const nlb = 8 * (1 + Math.floor(Math.random() * 8));
      pid = (pid + 1) % 3;
      await io(
        fdp,
        IoOpc.WRITE,
        1,
        Math.floor(Math.random() * (blocks / 64)) * 64,
        nlb,
        { cdw12: 2 << 20, cdw13: pid << 16 },
        2,
      ).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const zoneAppender = async (): Promise<void> => {
    // Zone 3 fills slowly from its write pointer (1800 blocks in) toward its end.
    for (let wp = 1800; running && wp + 8 <= 4096; wp += 8) {
      await io(zns, IoOpc.WRITE, 1, ZSLBA(3) + wp, 8).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const load = [reader(1), reader(1), reader(1), reader(1), reader(2), writer(), zoneAppender()];
  return {
    url: view.url,
    stop: async () => {
      running = false;
      await Promise.allSettled(load);
      await fdp.disconnect();
      await zns.disconnect();
      await view.close();
      await tcp.close();
      await machine.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const seconds = Number(argv[0] ?? 20);
  const shots = argv.slice(1);
  const demo = await startDemo();
  process.stdout.write(`live view: ${demo.url}\n`);
  if (shots.length === 0) {
    process.once('SIGINT', () => void demo.stop().then(() => process.exit(0)));
    return;
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const browser = await openBrowser();
  if (typeof browser === 'string') throw new Error(browser);
  try {
    const page = await browser.newPage({
      viewport: { width: 1480, height: 1000 },
      deviceScaleFactor: 1,
    });
    await page.goto(demo.url);
    await page.waitForSelector('.zone[data-state]');
    await page.waitForTimeout(2500);
    for (const path of shots) {
      const clip = /-(\w+)\.png$/.exec(path)?.[1];
      if (clip === undefined || clip === 'page') await page.screenshot({ path, fullPage: true });
      else await page.locator(`#${clip}-card`).screenshot({ path });
      process.stdout.write(`saved ${path}\n`);
    }
  } finally {
    await browser.close();
    await demo.stop();
  }
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === new URL(`file://${process.argv[1]}`).href
) {
  await main(process.argv.slice(2));
}
