// The live view in a real browser (docs/live-view.md): `nvmemu run --http` with a zoned
// namespace, a host writes into two zones over NVMe/TCP and finishes one, and headless Chromium
// (Debian's, driven by playwright-core) shows them in the zone map with their states and write
// pointer fill; a fault injected through QMP appears in the feed, marked. A screenshot is saved
// as a test artifact (artifacts/live-view.png, or $NVMEMU_ARTIFACTS). `nvmemu top --once` reads
// the same machine through its data folder. Skips, saying why, where Chromium cannot run.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { startRun, stopRun, type Running } from './support/run.js';
import { openBrowser } from './support/browser.js';
import { Firefox } from './support/firefox.js';
import { NvmeTcpController } from '../src/nvme-tcp/host/index.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { QmpClient } from '../src/monitor/client.js';
import { topCommand } from '../src/cli/top.js';
import { bufferIo } from '../src/cli/io.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const ARTIFACTS = process.env.NVMEMU_ARTIFACTS ?? join(ROOT, 'artifacts');

let dir = '';
let run: Running | undefined;
let url = '';
let tcpPort = 0;
let browser: Browser | string = 'not started';

before(async () => {
  browser = await openBrowser();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-lv-browser-'));
  writeFileSync(join(dir, 'zns.img'), '');
  truncateSync(join(dir, 'zns.img'), 16 << 20);
  run = await startRun([
    ...['-drive', `file=${join(dir, 'zns.img')},if=none,id=zd,format=raw`],
    ...['-device', 'nvme,id=nvme0,serial=lvb'],
    ...['-device', 'nvme-ns,id=zns,drive=zd,nsid=1,zoned=on,zoned.zone_size=1M,zoned.max_open=4'],
    ...['--data', dir, '--listen', '127.0.0.1:0', '--discovery', 'none', '--http', '127.0.0.1:0'],
  ]);
  url = /live view: (http:\/\/\S+\/) /.exec(run.out)?.[1] ?? '';
  tcpPort = Number(/nvme-tcp: listening on 127\.0\.0\.1:(\d+)/.exec(run.out)?.[1]);
  await zoneWork();
});

after(async () => {
  if (typeof browser !== 'string') await browser.close();
  await host?.disconnect();
  if (run !== undefined) await stopRun(run.child);
  rmSync(dir, { recursive: true, force: true });
});

let host: NvmeTcpController | undefined;

async function io(
  init: Parameters<NvmeTcpController['ioCommand']>[0],
  opts: Parameters<NvmeTcpController['ioCommand']>[1] = {},
): Promise<number> {
  return (await host!.ioCommand(init, opts)).status;
}

/** Writes into two zones and finishes one. The host stays connected (a controller shutdown at
 * disconnect would close the open zone). */
async function zoneWork(): Promise<void> {
  host = await NvmeTcpController.connect({
    address: '127.0.0.1',
    port: tcpPort,
    subnqn: 'nqn.2019-08.org.qemu:lvb',
  });
  const write = async (slba: number, nlb: number): Promise<void> => {
    const st = await io(
      { opcode: IoOpc.WRITE, nsid: 1, cdw10: slba, cdw12: nlb - 1 },
      { write: new Uint8Array(nlb * 512).fill(1) },
    );
    assert.equal(st, 0, `write ${slba}+${nlb}`);
  };
  // 1 MiB zones of 2048 blocks: zone 0 gets 512 blocks (25%, implicitly open), zone 1 gets
  // 1024 blocks and is finished (full: the write pointer at the zone's end).
  await write(0, 256);
  await write(256, 256);
  await write(2048, 512);
  await write(2560, 512);
  assert.equal(
    await io({ opcode: IoOpc.ZONE_MGMT_SEND, nsid: 1, cdw10: 2048, cdw13: 0x2 }),
    0,
    'Finish',
  );
}

async function injectFault(): Promise<void> {
  const q = await QmpClient.connect({ path: join(dir, 'qmp.sock') });
  try {
    await q.negotiate();
    await q.execute('x-nvmemu-inject-fault', {
      kind: 'media-error',
      id: 'nvme0',
      nsid: 1,
      type: 'read',
      times: 1,
    });
  } finally {
    q.close();
  }
}

describe('live view in Chromium', () => {
  it('nvmemu run printed the view and the NVMe/TCP port', () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(tcpPort > 0);
  });

  it('shows two written zones (one finished), then an injected fault in the feed', async (t) => {
    if (typeof browser === 'string') return t.skip(browser);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    const zone = (i: number) => page.locator(`.zns[data-ns="zns"] .zone[data-index="${i}"]`);
    await zone(0).waitFor({ timeout: 15_000 });
    const attrs = async (i: number): Promise<[string | null, string | null]> => [
      await zone(i).getAttribute('data-state'),
      await zone(i).getAttribute('data-fill'),
    ];
    assert.deepEqual(await attrs(0), ['implicitly-open', '25.0']);
    assert.deepEqual(await attrs(1), ['full', '100.0']);
    assert.deepEqual(await attrs(2), ['empty', '0.0']);
    assert.equal(await page.locator('.zone').count(), 16);
    // The fill is drawn: the bar's height is the write pointer's share of the zone.
    const style = await zone(0).locator('.zone-fill').getAttribute('style');
    assert.equal(style, 'height:25.0%');
    assert.equal(await page.locator('[data-open]').getAttribute('data-open'), '1');
    assert.equal(await page.locator('[data-active]').getAttribute('data-active'), '1');
    // A fault injected through QMP fails the next Read; the feed shows both, marked injected,
    // within a tick or two.
    await injectFault();
    assert.equal(
      (await io({ opcode: IoOpc.READ, nsid: 1, cdw10: 0, cdw12: 7 }, { readLength: 4096 })) & 0x7ff,
      0x281,
    );
    const failed = page.locator('#feed li.injected[data-event="nvme:cmd:err"]');
    await failed.first().waitFor({ timeout: 10_000 });
    assert.match((await failed.first().textContent()) ?? '', /FAULT.*Read .*0x281/);
    assert.ok((await page.locator('#feed li.injected[data-event="faults:record"]').count()) >= 2);
    // The charts and the latency panel drew; the page raised no error.
    assert.ok((await page.locator('#chart-iops canvas').count()) >= 1);
    await page.locator('#latency button.tab').first().waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'live-view.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# screenshot: ${shot}`);
    await page.close();
  });

  it('nvmemu top --once reads the same machine through its data folder', async () => {
    const io = bufferIo();
    const code = await topCommand(['--data', dir, '--once'], io);
    assert.equal(code, 0, io.stderr);
    assert.match(io.stdout, /^nvmemu top http:\/\/127\.0\.0\.1:\d+\/ /);
    assert.match(io.stdout, /ZONES zns \(nsid 1\): 16 zones, open 1\/4, active 1\/∞/);
    assert.match(io.stdout, /nvme0 +NVMe\/TCP +admin 0\/32 +q1 0\/128/);
    assert.match(io.stdout, /^ {2}iF\.{14}$/m);
  });
});

// Firefox runs after the checks above: it writes into zone 2, which they expect empty.
describe('live view in Firefox', () => {
  it('shows the zone map and follows a write live', async (t) => {
    const ff = await Firefox.open();
    if (typeof ff === 'string') return t.skip(ff);
    try {
      await ff.goto(url);
      const zone = (i: number): string =>
        `document.querySelector('.zns[data-ns="zns"] .zone[data-index="${i}"]')`;
      const attrs = (i: number): string =>
        `${zone(i)} && [${zone(i)}.dataset.state, ${zone(i)}.dataset.fill]`;
      assert.deepEqual(await ff.waitFor(attrs(0)), ['implicitly-open', '25.0']);
      assert.deepEqual(await ff.evaluate(attrs(1)), ['full', '100.0']);
      assert.deepEqual(await ff.evaluate(attrs(2)), ['empty', '0.0']);
      assert.equal(await ff.evaluate(`document.querySelectorAll('.zone').length`), 16);
      // Half of zone 2 written while the page is open: the server-sent update redraws it.
      const st = await io(
        { opcode: IoOpc.WRITE, nsid: 1, cdw10: 4096, cdw12: 1023 },
        { write: new Uint8Array(1024 * 512).fill(2) },
      );
      assert.equal(st, 0);
      const live = `${zone(2)}.dataset.fill === '50.0' && ${attrs(2)}`;
      assert.deepEqual(await ff.waitFor(live, 10_000), ['implicitly-open', '50.0']);
      assert.equal(await ff.evaluate(`${zone(2)}.querySelector('.zone-fill').style.height`), '50%');
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'live-view-firefox.png');
      writeFileSync(shot, await ff.screenshot());
      console.log(`# Firefox ${ff.version}, screenshot: ${shot}`);
    } finally {
      await ff.close();
    }
  });
});
