// The live view's /metrics and /api against the machine (docs/live-view.md): every metric that
// carries a QMP x-nvmemu-query-stats figure has that figure, with its type; the latency
// histogram counts exactly the commands the controller completed while the view ran; zones,
// FDP reclaim units, the write cache model, SMART and pmem match the devices; the feed marks
// injected faults; bad requests get precise statuses; the observers go when the view closes.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { registerAllTypes } from '../src/devices.js';
import { parseArgs } from '../src/config/options.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { queryStats } from '../src/monitor/commands/stats.js';
import { machineFaults } from '../src/faults/injector.js';
import { trackWrites } from '../src/faults/power-cut.js';
import { NvdimmDevice } from '../src/pmem/nvdimm/device.js';
import { API_ENDPOINTS, QMP_METRICS, startLiveView, type LiveView } from '../src/http/index.js';
import type { FeedEntry, NamespaceInfo, Sample, Snapshot } from '../src/http/wire.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir = '';
let machine: Machine;
let view: LiveView;
let host: Host;

const MiB = 1 << 20;

before(async () => {
  registerAllTypes();
  dir = mkdtempSync(join(tmpdir(), 'nvmemu-lv-metrics-'));
  for (const [n, size] of [
    ['zns.img', 16 * MiB],
    ['fdp.img', 16 * MiB],
    ['pmem.img', 6 * MiB],
  ] as const) {
    writeFileSync(join(dir, n), '');
    truncateSync(join(dir, n), size);
  }
  const a = parseArgs([
    ...['-machine', 'pc,nvdimm=on', '-m', '512M,slots=2,maxmem=4G'],
    ...['-drive', `file=${join(dir, 'zns.img')},if=none,id=zd,format=raw`],
    ...['-drive', `file=${join(dir, 'fdp.img')},if=none,id=fd,format=raw`],
    ...['-device', 'nvme-subsys,id=s0,nqn=lv,fdp=on,fdp.nruh=2,fdp.runs=64K'],
    ...['-device', 'nvme,id=c0,serial=lv0,subsys=s0'],
    ...['-device', 'nvme-ns,id=fdp,drive=fd,nsid=1,fdp.ruhs=0;1'],
    ...['-device', 'nvme,id=c1,serial=lv1'],
    ...['-device', 'nvme-ns,id=zns,drive=zd,nsid=1,zoned=on,zoned.zone_size=1M,zoned.max_open=3'],
    ...['-object', `memory-backend-file,id=pm,share=on,mem-path=${join(dir, 'pmem.img')},size=6M`],
    ...['-device', 'nvdimm,id=dimm0,memdev=pm,label-size=2M'],
  ]);
  machine = await Machine.create(a.items, {
    settings: machineSettings(a),
    dataDir: dir,
    warn: () => undefined,
  });
  trackWrites(machine);
  // A long interval: the test takes its samples itself (view.tick()).
  view = await startLiveView(machine, { port: 0, intervalMs: 3_600_000, version: 'test' });
  const c1 = machine.components().find((c) => c.id === 'c1') as NvmeDevice;
  host = new Host(c1.controller);
  assert.equal(host.enable(), 1);
  await host.createIoQueues(1, 32);
});

after(async () => {
  await view.close();
  await machine.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function get(
  path: string,
  opts: { method?: string; host?: string } = {},
): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(path, view.url);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        headers: opts.host === undefined ? {} : { Host: opts.host },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          ok({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
        );
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Prometheus text → `name{labels}` → value, and metric family → type. */
function parseMetrics(text: string): { values: Map<string, number>; types: Map<string, string> } {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t !== null) types.set(t[1]!, t[2]!);
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m !== null) values.set(`${m[1]!}${m[2] ?? ''}`, Number(m[3]));
  }
  return { values, types };
}

const zsend = (slba: number, zsa: number): Promise<number> =>
  host
    .command(1, { opcode: IoOpc.ZONE_MGMT_SEND, nsid: 1, cdw10: slba, cdw13: zsa })
    .then((c) => c.status);
const write = (slba: number, nlb: number): Promise<number> =>
  host
    .command(
      1,
      { opcode: IoOpc.WRITE, nsid: 1, cdw10: slba, cdw12: nlb - 1 },
      new Uint8Array(nlb * 512),
    )
    .then((c) => c.status);
const read = (slba: number, nlb: number): Promise<number> =>
  host
    .command(
      1,
      { opcode: IoOpc.READ, nsid: 1, cdw10: slba, cdw12: nlb - 1 },
      new Uint8Array(nlb * 512),
    )
    .then((c) => c.status);

describe('live view: /metrics and /api', () => {
  it('zones written, finished and read show in /api/namespaces and /metrics', async () => {
    // Zone 0: 512 of 2048 blocks (implicitly open); zone 1: 1024 blocks then Finish (full).
    assert.equal(await write(0, 256), 0);
    assert.equal(await write(256, 256), 0);
    assert.equal(await write(2048, 256), 0);
    assert.equal(await write(2304, 256), 0);
    assert.equal(await zsend(2048, 0x2), 0);
    for (let i = 0; i < 10; i++) assert.equal(await read(i * 8, 8), 0);
    const nss = JSON.parse((await get('/api/namespaces')).body) as NamespaceInfo[];
    const zns = nss.find((n) => n.label === 'zns')!;
    assert.deepEqual(zns.zoned!.state.slice(0, 3), [0x2, 0xe, 0x1]);
    assert.deepEqual(zns.zoned!.written.slice(0, 3), [512, 2048, 0]);
    assert.equal(zns.zoned!.open, 1);
    assert.equal(zns.zoned!.active, 1);
    assert.equal(zns.zoned!.maxOpen, 3);
    assert.deepEqual(zns.controllers, ['c1']);
    // The write cache model holds the four writes (the namespace was never flushed).
    assert.equal(zns.writeCache.tracked, true);
    assert.equal(zns.writeCache.volatileWrites, 4);
    assert.equal(zns.writeCache.dirtyBytes, 4 * 256 * 512);
    const { values, types } = parseMetrics((await get('/metrics')).body);
    assert.equal(values.get('nvmemu_zones{namespace="zns",state="implicitly-open"}'), 1);
    assert.equal(values.get('nvmemu_zones{namespace="zns",state="full"}'), 1);
    assert.equal(values.get('nvmemu_zones{namespace="zns",state="empty"}'), 14);
    assert.equal(values.get('nvmemu_zones_open{namespace="zns"}'), 1);
    assert.equal(values.get('nvmemu_zones_max_open{namespace="zns"}'), 3);
    assert.equal(values.get('nvmemu_write_cache_dirty_bytes{namespace="zns"}'), 4 * 256 * 512);
    assert.equal(values.get('nvmemu_write_cache_volatile_writes{namespace="zns"}'), 4);
    assert.equal(types.get('nvmemu_zones'), 'gauge');
  });

  it('every QMP x-nvmemu-query-stats figure is in /metrics with its name, type and value', async () => {
    const text = (await get('/metrics')).body;
    const stats = queryStats(machine, {});
    const { values, types } = parseMetrics(text);
    const label = new Map([
      ['/machine/peripheral/c0', 'c0'],
      ['/machine/peripheral/c1', 'c1'],
      ['/machine/peripheral/fdp', 'fdp'],
      ['/machine/peripheral/zns', 'zns'],
      ['/machine/peripheral/dimm0', 'dimm0'],
    ]);
    let checked = 0;
    for (const r of stats) {
      const nsid = r.stats.find((s) => s.name === 'nsid')?.value;
      for (const s of r.stats) {
        const m = QMP_METRICS.find((q) => q.provider === r.provider && q.stat === s.name);
        if (m === undefined) {
          assert.ok(
            s.name === 'nsid' || r.provider === 'monitor',
            `${r.provider} ${s.name} has a metric`,
          );
          continue;
        }
        const who = label.get(r['qom-path'])!;
        const key =
          r.provider === 'nvme-ns'
            ? `${m.name}{namespace="${who}",nsid="${String(nsid)}"}`
            : `${m.name}{${r.provider === 'nvme' ? 'controller' : 'nvdimm'}="${who}"}`;
        assert.equal(values.get(key), Number(s.value), key);
        assert.equal(types.get(m.name), m.kind, `${m.name} type`);
        assert.equal(
          m.name.endsWith('_total'),
          m.kind === 'counter',
          `${m.name}: counters end in _total`,
        );
        checked++;
      }
    }
    assert.ok(checked >= 20, `checked ${checked} figures`);
    // Reads and writes reached the namespace: the figures are not all zero.
    assert.equal(values.get('nvmemu_namespace_write_commands_total{namespace="zns",nsid="1"}'), 4);
    assert.equal(values.get('nvmemu_namespace_read_commands_total{namespace="zns",nsid="1"}'), 10);
  });

  it('the latency histogram counts every command c1 completed since the view started', async () => {
    const { values, types } = parseMetrics((await get('/metrics')).body);
    assert.equal(types.get('nvmemu_command_duration_seconds'), 'histogram');
    const sum = (pred: (k: string) => boolean): number =>
      [...values].filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0);
    const io = sum((k) =>
      k.startsWith('nvmemu_command_duration_seconds_count{controller="c1",kind="io"'),
    );
    const admin = sum((k) =>
      k.startsWith('nvmemu_command_duration_seconds_count{controller="c1",kind="admin"'),
    );
    assert.equal(io, values.get('nvmemu_controller_io_commands_total{controller="c1"}'));
    assert.equal(admin, values.get('nvmemu_controller_admin_commands_total{controller="c1"}'));
    const reads = 'controller="c1",kind="io",opcode="read"';
    assert.equal(values.get(`nvmemu_command_duration_seconds_count{${reads}}`), 10);
    assert.equal(values.get(`nvmemu_command_duration_seconds_bucket{${reads},le="+Inf"}`), 10);
    // Buckets are cumulative and end at the count.
    const buckets = [...values]
      .filter(([k]) => k.startsWith(`nvmemu_command_duration_seconds_bucket{${reads}`))
      .map(([, v]) => v);
    assert.equal(buckets.length, 22);
    assert.deepEqual(
      [...buckets].sort((a, b) => a - b),
      buckets,
    );
    assert.ok(values.has(`nvmemu_command_duration_seconds_bucket{${reads},le="0.000001"}`));
    assert.ok(values.has(`nvmemu_command_duration_seconds_bucket{${reads},le="1.048576"}`));
  });

  it('queues, SMART and controller identity', async () => {
    const ctrls = JSON.parse((await get('/api/controllers')).body) as Snapshot['controllers'];
    const c1 = ctrls.find((c) => c.label === 'c1')!;
    assert.equal(c1.boundTo, 'pci');
    assert.deepEqual(
      c1.queues.map((q) => [q.qid, q.depth, q.outstanding]),
      [
        [0, 32, 0],
        [1, 32, 0],
      ],
    );
    assert.equal(c1.queues[1]!.completed, 15);
    assert.equal(c1.smart.hostWriteCommands, 4);
    assert.equal(c1.smart.hostReadCommands, 10);
    assert.equal(c1.smart.temperatureKelvin, 323);
    const c0 = ctrls.find((c) => c.label === 'c0')!;
    assert.equal(c0.boundTo, null);
    assert.deepEqual(c0.queues, []);
    const { values } = parseMetrics((await get('/metrics')).body);
    assert.equal(values.get('nvmemu_queue_depth{controller="c1",queue="1"}'), 32);
    assert.equal(values.get('nvmemu_smart_temperature_kelvin{controller="c1"}'), 323);
    // 1024 blocks of 512 bytes: thousands of 512-byte units, rounded up (SMART's rule).
    assert.equal(values.get('nvmemu_smart_data_units_written_total{controller="c1"}'), 2);
    assert.equal(
      values.get(
        'nvmemu_controller_info{controller="c0",serial="lv0",cntlid="0",subnqn="nqn.2019-08.org.qemu:lv",transport="none"}',
      ),
      1,
    );
  });

  it('FDP reclaim units and pmem regions', async () => {
    const c0 = machine.components().find((c) => c.id === 'c0') as NvmeDevice;
    const h0 = new Host(c0.controller);
    assert.equal(h0.enable(), 1);
    await h0.createIoQueues(1, 16);
    // 64 KiB reclaim units of 128 blocks: 300 blocks through handle 1 fill two and part of one.
    for (let i = 0; i < 3; i++) {
      const c = await h0.command(
        1,
        { opcode: IoOpc.WRITE, nsid: 1, cdw10: i * 100, cdw12: 99 | (2 << 20), cdw13: 1 << 16 },
        new Uint8Array(100 * 512),
      );
      assert.equal(c.status, 0);
    }
    h0.disable();
    const dimm = machine.components().find((c) => c instanceof NvdimmDevice) as NvdimmDevice;
    dimm.backend.write(0, new Uint8Array(10));
    dimm.backend.write(3 * 4096, new Uint8Array(10));
    dimm.injectBadBlocks(8, 4);
    const snap = JSON.parse((await get('/api/snapshot')).body) as Snapshot;
    const f = snap.fdp[0]!;
    assert.equal(f.subnqn, 'nqn.2019-08.org.qemu:lv');
    assert.equal(f.hostBytesWritten, 300 * 512);
    const ruh1 = f.handles[1]!;
    assert.equal(ruh1.unitBlocks, 128);
    assert.deepEqual(ruh1.groups, [{ available: 128 * 3 - 300, rollovers: 2 }]);
    const p = snap.pmem.find((x) => x.label === 'dimm0')!;
    assert.equal(p.granularity, 'page');
    assert.equal(p.dirty, 2);
    assert.equal(p.persisted, (4 * MiB) / 4096 - 2);
    assert.deepEqual(p.badBlocks, [{ sector: 8, count: 4 }]);
    const { values } = parseMetrics((await get('/metrics')).body);
    const lab = 'subsystem="nqn.2019-08.org.qemu:lv",handle="1",group="0"';
    assert.equal(values.get(`nvmemu_fdp_reclaim_unit_rollovers_total{${lab}}`), 2);
    assert.equal(values.get(`nvmemu_fdp_reclaim_unit_available_blocks{${lab}}`), 84);
    assert.equal(values.get('nvmemu_pmem_units{region="dimm0",state="dirty"}'), 2);
    assert.equal(values.get('nvmemu_nvdimm_bad_sectors{nvdimm="dimm0"}'), 4);
  });

  it('the feed marks an injected fault and the command it failed', async () => {
    const before = (JSON.parse((await get('/api/feed')).body) as FeedEntry[]).at(-1)?.seq ?? 0;
    const id = machineFaults(machine).inject({
      kind: 'status',
      id: 'c1',
      status: 0x281,
      opcode: 'read',
      times: 1,
    });
    assert.equal(await read(0, 8), 0x281);
    assert.equal(await read(0, 8), 0);
    const feed = JSON.parse((await get(`/api/feed?since=${before}`)).body) as FeedEntry[];
    const err = feed.find((e) => e.event === 'nvme:cmd:err');
    assert.ok(err !== undefined, JSON.stringify(feed));
    assert.equal(err.injected, true);
    assert.equal(err.fault, id);
    assert.match(err.text, /Read .*0x281/);
    assert.ok(
      feed.some((e) => e.event === 'faults:record' && e.injected && e.data.event === 'injected'),
    );
    const { values } = parseMetrics((await get('/metrics')).body);
    assert.equal(values.get('nvmemu_fault_events_total{fault="status",event="hit"}'), 1);
  });

  it('samples: IOPS and per-opcode latency between two ticks', async () => {
    view.tick();
    for (let i = 0; i < 20; i++) await read(i * 8, 8);
    await new Promise((r) => setTimeout(r, 20));
    view.tick();
    const io = JSON.parse((await get('/api/io')).body) as Sample[];
    const last = io.at(-1)!;
    const r = last.opcodes.find((o) => o.name === 'Read' && !o.admin)!;
    assert.equal(r.count, 20);
    assert.equal(
      r.buckets.reduce((a, b) => a + b, 0),
      20,
    );
    assert.ok(last.readIops > 0 && last.iops >= last.readIops);
  });

  it('bad requests get precise statuses', async () => {
    const cases: [string, { method?: string; host?: string }, number, RegExp][] = [
      ['/nope', {}, 404, /no such page \/nope/],
      ['/api/nope', {}, 404, /no API endpoint \/api\/nope/],
      ['/api/feed?since=x', {}, 400, /'since': expected a sequence number, got 'x'/],
      ['/api/pmem?x=1', {}, 400, /unknown query parameter 'x'/],
      ['/metrics', { method: 'POST' }, 405, /method POST not allowed/],
      [
        '/metrics',
        { host: 'evil.example:80' },
        403,
        /Host 'evil.example:80' is not this loopback view/,
      ],
    ];
    for (const [path, opts, status, msg] of cases) {
      const r = await get(path, opts);
      assert.equal(r.status, status, path);
      assert.match(r.body, msg);
      assert.match(r.type, /application\/json/);
    }
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>nvmemu live view<\/title>/);
    for (const a of [
      '/assets/uplot.js',
      '/assets/uplot.css',
      '/assets/style.css',
      '/assets/page/main.js',
    ]) {
      assert.equal((await get(a)).status, 200, a);
    }
  });

  it('docs/live-view.md names every metric family and every API endpoint', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'live-view.md'), 'utf8');
    const { types } = parseMetrics((await get('/metrics')).body);
    assert.ok(types.size >= 40, `${types.size} metric families`);
    for (const name of types.keys()) assert.ok(doc.includes(`\`${name}\``), `${name} documented`);
    for (const e of API_ENDPOINTS)
      assert.ok(doc.includes(`| \`${e.path}\``), `${e.path} documented`);
  });

  it('closing the view removes its observers', async () => {
    const c1 = machine.components().find((c) => c.id === 'c1') as NvmeDevice;
    assert.equal(c1.controller.observers.length, 1);
    const again = await startLiveView(machine, { port: 0 });
    assert.equal(c1.controller.observers.length, 2);
    await again.close();
    assert.equal(c1.controller.observers.length, 1);
  });
});
