// The ssd model's bookkeeping without a machine: die queues, zone resets as erases, FDP
// streams with their own WAF, deallocation through a namespace, run-time property changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SsdModel } from './ssd.js';
import { DEFAULT_PARAMS, parseModelProps, setModelProp, type ModelParams } from './params.js';
import { SeededRng } from '../../util/rng.js';
import { ctxOf, rw, tempNamespace } from '../ns/fixtures.js';
import { IoOpc } from '../spec/opcodes.js';
import { writeU32le, writeU64le } from '../../util/bytes.js';

const P = (over: Partial<ModelParams>): ModelParams => ({
  ...DEFAULT_PARAMS,
  kind: 'ssd',
  channelMBps: 0,
  ...over,
});

test('channel transfer and die time add up for one page, and reads of unwritten pages are free', () => {
  const s = new SsdModel(P({ channels: 1, dies: 1, channelMBps: 400, tReadUs: 50, tProgUs: 500 }), {
    bytes: 1 << 20,
    lbaSize: 4096,
    streams: 1,
  });
  // 4096 bytes at 400 MB/s = 10.24 µs on the channel, then the program.
  assert.equal(s.write(0, 1, 0, 0), (10.24 + 500) * 1e3);
  assert.equal(s.read(5, 6, 1e9), 1e9, 'page 5 holds no data');
  assert.equal(s.read(0, 1, 1e9), 1e9 + (50 + 10.24) * 1e3);
});

test('a zone reset erases the zone blocks on every die; wear follows zone erases', () => {
  const s = new SsdModel(
    P({ channels: 2, dies: 2, pagesPerBlock: 16, tEraseUs: 1000, peCycles: 4 }),
    {
      bytes: 4 << 20,
      lbaSize: 4096,
      zoneBlocks: 256, // 1 MiB zones of 256 pages: 16 blocks, 4 per die
      streams: 1,
    },
  );
  assert.equal(s.eraseZone(0, 0), 4 * 1000 * 1e3, 'four blocks per die, dies in parallel');
  assert.equal(s.erases, 16);
  for (let i = 0; i < 7; i++) s.eraseZone(256, 0);
  const w = s.wear();
  assert.equal(w.maxPe, 7);
  assert.equal(s.hostPages, s.mediaPages, 'no GC in a zoned namespace: WAF 1');
  assert.ok(w.availableSpare < 100, 'zone 1 wore past its rated 4 cycles');
});

test('FDP handles are streams: a sequential handle beside a random one, WAF per handle', () => {
  const s = new SsdModel(P({ channels: 1, dies: 1, pagesPerBlock: 32, spare: 0.1 }), {
    bytes: 32 << 20,
    lbaSize: 4096,
    streams: 2,
  });
  const half = s.pagesTotal / 2;
  const rng = new SeededRng(4);
  for (let p = 0; p < 2 * half; p++) s.write(p, p + 1, p < half ? 0 : 1, 0);
  for (let i = 0; i < 6 * half; i++) {
    const r = rng.below(half);
    s.write(r, r + 1, 0, 0);
    const q = half + (i % half);
    s.write(q, q + 1, 1, 0);
  }
  const [random, sequential] = s.streamPages();
  const waf = (x: { host: number; media: number }): number => x.media / x.host;
  assert.ok(waf(sequential!) < waf(random!), `${waf(sequential!)} vs ${waf(random!)}`);
});

test('Dataset Management deallocate reaches the FTL (a trimmed page is unmapped)', async () => {
  const model = P({ channels: 1, dies: 1, tReadUs: 0, tProgUs: 0, tEraseUs: 0 });
  const t = await tempNamespace(1 << 20, { lbaSize: 512, model });
  try {
    const data = new Uint8Array(4096 * 2);
    assert.equal(
      (await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(0, 16) }, data))).status,
      0,
    );
    const ftl = t.ns.model!.ssd!.ftls![0]!;
    assert.ok(ftl.mapped(0) && ftl.mapped(1));
    const range = new Uint8Array(16);
    writeU32le(range, 4, 8); // 8 blocks = page 0
    writeU64le(range, 8, 0n);
    const dsm = await t.ns.execute(ctxOf({ opcode: IoOpc.DSM, cdw10: 0, cdw11: 4 }, range));
    assert.equal(dsm.status, 0);
    assert.equal(ftl.mapped(0), false);
    assert.equal(ftl.mapped(1), true);
  } finally {
    await t.cleanup();
  }
});

test('parameters: preset then explicit values; geometry refused at run time', () => {
  const given = ['x-model-t-read-us', 'x-model-preset'];
  const vals: Record<string, string> = { 'x-model-preset': 'tlc-dc', 'x-model-t-read-us': '45.5' };
  const p = parseModelProps(given, (n) => vals[n])!;
  assert.equal(p.kind, 'ssd');
  assert.equal(p.channels, 8);
  assert.equal(p.tReadUs, 45.5);
  assert.equal(
    parseModelProps(['zoned'], () => undefined),
    undefined,
  );
  assert.equal(setModelProp(p, 'x-model-t-prog-us', 900).tProgUs, 900);
  assert.equal(setModelProp(p, 'x-model-channels', 8).channels, 8, 'the same value is fine');
  assert.throws(() => setModelProp(p, 'x-model-spare', 0.2), /FTL geometry/);
  assert.throws(() => setModelProp(p, 'x-model-preset', 'zn540'), /cannot change at run time/);
  assert.throws(() => setModelProp(p, 'x-model-pe-cycles', 0), /from 1 to 1000000, not '0'/);
});

test('a namespace too large for the model is refused with the numbers', () => {
  assert.throws(
    () => new SsdModel(P({ pageSize: 512 }), { bytes: 2 ** 40, lbaSize: 512, streams: 1 }),
    /at most 33554432 pages of 512 bytes; this namespace has 2147483648/,
  );
});

test('the endurance group log figures and SMART take the wear of modelled namespaces', async () => {
  const { EnduranceGroupState } = await import('../subsys/endurance.js');
  const { combineWear } = await import('./wear.js');
  const wear = (pu: number, spare: number, warn: number) => ({
    percentageUsed: pu,
    availableSpare: spare,
    availableSpareThreshold: 10,
    criticalWarning: warn,
    meanPe: pu * 30,
    maxPe: pu * 31,
    mediaBytesWritten: 3_000_000_000n,
  });
  const ns = (w: ReturnType<typeof wear> | undefined) => ({
    wear: () => w,
    smart: () => ({
      bytesRead: 0n,
      bytesWritten: 2_000_000_000n,
      readCommands: 0n,
      writeCommands: 1n,
    }),
  });
  const all = [ns(wear(120, 40, 0)), ns(wear(90, 5, 1)), ns(undefined)];
  const c = combineWear(all as never)!;
  assert.deepEqual(
    [c.percentageUsed, c.availableSpare, c.criticalWarning, c.mediaBytesWritten],
    [120, 5, 1, 6_000_000_000n],
  );
  assert.equal(combineWear([ns(undefined)] as never), undefined);
  const g = new EnduranceGroupState({
    namespaces: new Map(all.map((n, i) => [i + 1, n])),
  } as never);
  const f = g.figures();
  assert.equal(f.percentageUsed, 120);
  assert.equal(f.availableSpare, 5);
  assert.equal(f.availableSpareThreshold, 10);
  assert.equal(f.criticalWarning, 1);
  assert.equal(f.mediaUnitsWritten, 6n, 'media writes, in billions of bytes');
  assert.equal(f.dataUnitsWritten, 6n, 'the host writes of the three namespaces');
});

test('a zone reset through the namespace erases the zone in the model', async () => {
  const { tempZoned, exec, slbaDw } = await import('../ns/zoned/fixtures.js');
  const { Zsa } = await import('../ns/zoned/commands.js');
  const model = P({ channels: 1, dies: 2, pagesPerBlock: 4, tReadUs: 0, tProgUs: 0, tEraseUs: 0 });
  const t = await tempZoned({}, { ns: { model } });
  try {
    const w = await exec(t, { opcode: IoOpc.WRITE, ...slbaDw(0), cdw12: 7 }, new Uint8Array(4096));
    assert.equal(w.status, 0);
    const s = t.ns.model!.ssd!;
    assert.equal(s.hostPages, 1);
    assert.equal(s.erases, 0);
    const r = await exec(t, { opcode: IoOpc.ZONE_MGMT_SEND, ...slbaDw(0), cdw13: Zsa.RESET });
    assert.equal(r.status, 0);
    // 128 blocks of 512 bytes = 16 pages of 4 KiB = 4 erase blocks of 4 pages.
    assert.equal(s.erases, 4);
  } finally {
    await t.cleanup();
  }
});

test('an FDP write (DTYPE 2) goes to the stream of its placement handle', async () => {
  const { NsModel } = await import('./model.js');
  const { makeCmd } = await import('../spec/command.js');
  const m = new NsModel(P({ channels: 1, dies: 1, tReadUs: 0, tProgUs: 0, tEraseUs: 0 }), {
    bytes: 1 << 20,
    lbaSize: 4096,
    streams: 2,
  });
  const fdp = { phs: [0, 1], group: { decodePid: (pid: number): [number, number] => [0, pid] } };
  const placed = makeCmd({ opcode: IoOpc.WRITE, cdw12: 2 << 20, cdw13: 1 << 16 });
  const plain = makeCmd({ opcode: IoOpc.WRITE });
  m.ticket(placed, fdp).program(0, 1);
  m.ticket(plain, fdp).program(1, 1);
  m.ticket(placed, fdp).program(2, 2);
  assert.deepEqual(
    m.ssd!.streamPages().map((s) => s.host),
    [1, 3],
  );
  assert.deepEqual(
    m.figures().handles?.map((h) => h.handle),
    [0, 1],
  );
});
