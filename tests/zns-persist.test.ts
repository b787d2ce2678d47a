// Persisted zone state (`zoned.persist`, an nvmemu extension; docs/zns.md): zones survive a
// restart (open zones come back Closed, as after a power cycle), `persist=off` is QEMU's
// volatile behaviour, foreign or mismatching state files are refused with a typed error, a
// torn tail is dropped, and a process killed (SIGKILL) in the middle of writes leaves a state
// whose write pointers cover every completed write and nothing that was not written.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Drive } from '../src/block/drive.js';
import { Namespace } from '../src/nvme/ns/namespace.js';
import { nsConfig, pattern } from '../src/nvme/ns/fixtures.js';
import type { ZonedParams } from '../src/nvme/ns/config.js';
import { isEmuError } from '../src/util/errors.js';
import { ZoneState } from '../src/nvme/ns/zoned/state.js';
import { Zsa } from '../src/nvme/ns/zoned/commands.js';
import { ZoneJournal } from '../src/nvme/ns/zoned/journal.js';
import {
  appendTo,
  LBA,
  readAt,
  writeAt,
  ZONE_BLOCKS,
  zms,
  zonedParams,
} from '../src/nvme/ns/zoned/fixtures.js';
import type { TempNs } from '../src/nvme/ns/fixtures.js';

const Z = ZONE_BLOCKS;
const S = ZoneState;
const ZONES = 8;

interface Img {
  readonly dir: string;
  readonly file: string;
}

function image(zones = ZONES): Img {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-zns-persist-'));
  const file = join(dir, 'zns.img');
  writeFileSync(file, '');
  truncateSync(file, zones * Z * LBA);
  return { dir, file };
}

/** Opens the namespace over `img` the way realize does (sync state file load). */
async function open(img: Img, over: Partial<ZonedParams> = {}): Promise<TempNs> {
  const drive = await Drive.open({ id: 'd', file: img.file, readOnly: false });
  const zoned = zonedParams({ persist: true, descrExtSize: 64, ...over });
  let ns: Namespace;
  try {
    ns = new Namespace(nsConfig(drive.size, { zoned }), drive);
  } catch (e) {
    await drive.close();
    throw e;
  }
  return {
    ns,
    drive,
    async cleanup() {
      await ns.close();
      await drive.close();
    },
  };
}

const states = (t: TempNs): number[] => t.ns.zoned!.table.zones.map((z) => z.state);
const wps = (t: TempNs): number[] => t.ns.zoned!.table.zones.map((z) => z.wp);

describe('persisted zone state', () => {
  it('survives a restart: data zones Closed, Full stays Full, extension kept, empty zones Empty', async () => {
    const img = image();
    try {
      const a = await open(img);
      assert.equal((await writeAt(a, 0, 5)).status, 0); // IOpen with data
      assert.equal((await zms(a, Zsa.OPEN, Z)).status, 0); // EOpen without data
      assert.equal((await appendTo(a, 2 * Z, 7)).status, 0);
      assert.equal((await zms(a, Zsa.CLOSE, 2 * Z)).status, 0);
      assert.equal((await zms(a, Zsa.FINISH, 3 * Z)).status, 0);
      const ext = pattern(64, 9);
      assert.equal((await zms(a, Zsa.SET_ZDE, 4 * Z, { data: ext })).status, 0);
      await a.cleanup(); // no shutdown: like a crash after the commands completed
      assert.ok(existsSync(`${img.file}.zones`));

      const b = await open(img);
      assert.deepEqual(states(b).slice(0, 6), [
        S.CLOSED,
        S.EMPTY,
        S.CLOSED,
        S.FULL,
        S.CLOSED,
        S.EMPTY,
      ]);
      assert.deepEqual(wps(b).slice(0, 5), [5, Z, 2 * Z + 7, 4 * Z, 4 * Z]);
      assert.deepEqual(b.ns.zoned!.table.zones[4]!.ext, ext);
      assert.deepEqual([b.ns.zoned!.table.openCount, b.ns.zoned!.table.activeCount], [0, 3]);
      // Writing continues at the persisted write pointer.
      assert.equal((await writeAt(b, 5, 1)).status, 0);
      assert.equal((await writeAt(b, 2 * Z, 1)).status, 0x41bc);
      await b.cleanup();
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('zoned.persist=off is QEMU: every zone Empty after a restart, no state file', async () => {
    const img = image();
    try {
      const a = await open(img, { persist: false });
      await writeAt(a, 0, 5);
      await a.cleanup();
      const b = await open(img, { persist: false });
      assert.ok(states(b).every((s) => s === S.EMPTY));
      assert.equal(existsSync(`${img.file}.zones`), false);
      await b.cleanup();
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('creates no state file until a zone changes', async () => {
    const img = image();
    try {
      const a = await open(img);
      const buf = new Uint8Array(LBA);
      await readAt(a, 0, 1, buf);
      await a.cleanup();
      assert.equal(existsSync(`${img.file}.zones`), false);
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('refuses a state file written for another zone geometry, naming the way out', async () => {
    const img = image();
    try {
      const a = await open(img);
      await writeAt(a, 0, 1);
      await a.cleanup();
      await assert.rejects(
        () => open(img, { zoneSize: BigInt(2 * Z * LBA), zoneCapacity: BigInt(2 * Z * LBA) }),
        (e: unknown) =>
          isEmuError(e, 'EMU_ERR_CONFIG') &&
          e.message ===
            `zone state file '${img.file}.zones' was written for another zone geometry (8 zones of 128 blocks, capacity 128, 512-byte blocks, extension 64 bytes); remove it or set zoned.persist=off`,
      );
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not a zone state file', async () => {
    const img = image();
    try {
      writeFileSync(`${img.file}.zones`, 'not zones at all, but long enough to have a header....');
      await assert.rejects(
        () => open(img),
        (e: unknown) =>
          isEmuError(e, 'EMU_ERR_CONFIG') &&
          e.message === `zone state file '${img.file}.zones' is not an nvmemu zone state file`,
      );
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('drops a torn last record and keeps everything before it', async () => {
    const img = image();
    try {
      const a = await open(img);
      await writeAt(a, 0, 3);
      await writeAt(a, 3, 2);
      await a.cleanup();
      const good = statSync(`${img.file}.zones`).size;
      appendFileSync(`${img.file}.zones`, Buffer.from([1, 0, 16, 0, 0, 0, 0, 0, 0x44]));
      const b = await open(img);
      assert.deepEqual([states(b)[0], wps(b)[0]], [S.CLOSED, 5]);
      await b.cleanup();
      // Rewritten on load: the torn bytes are gone.
      assert.ok(statSync(`${img.file}.zones`).size <= good);
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });

  it('compaction rewrites the journal as one record per non-empty zone', async () => {
    const img = image();
    try {
      const a = await open(img);
      for (let i = 0; i < 50; i++) assert.equal((await writeAt(a, i, 1)).status, 0);
      await a.cleanup();
      const before = statSync(`${img.file}.zones`).size;
      const g = { lbaSize: LBA, zoneSize: Z, zoneCap: Z, nrZones: ZONES, descrExtSize: 64 };
      const { journal, saved } = ZoneJournal.open(`${img.file}.zones`, g, false);
      assert.deepEqual([...saved.keys()], [0]);
      assert.equal(saved.get(0)!.wp, 50);
      const b = await open(img);
      b.ns.zoned!.journal!.compact(b.ns.zoned!.table.zones);
      journal?.close();
      await b.cleanup();
      assert.ok(statSync(`${img.file}.zones`).size < before);
      assert.equal(statSync(`${img.file}.zones`).size, 64 + 28);
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });
});

describe('a kill (SIGKILL) in the middle of writes', () => {
  it('leaves write pointers that cover every completed write and only written data', async () => {
    const img = image();
    const build = new URL('../src/', import.meta.url);
    const child = join(img.dir, 'writer.mjs');
    // The child appends 4-block writes round robin over the zones, forever, and reports each
    // completion; the parent kills it without warning after enough completions.
    writeFileSync(
      child,
      `
import { Drive } from ${JSON.stringify(new URL('block/drive.js', build).href)};
import { Namespace } from ${JSON.stringify(new URL('nvme/ns/namespace.js', build).href)};
import { nsConfig, ctxOf, fakeCtrl, rw } from ${JSON.stringify(new URL('nvme/ns/fixtures.js', build).href)};
import { zonedParams } from ${JSON.stringify(new URL('nvme/ns/zoned/fixtures.js', build).href)};
const drive = await Drive.open({ id: 'd', file: process.argv[2], readOnly: false });
const ns = new Namespace(nsConfig(drive.size, { zoned: zonedParams({ persist: true, descrExtSize: 64 }) }), drive);
const ctrl = fakeCtrl({ css: 6 });
for (let i = 0; ; i++) {
  const zslba = (i % ${ZONES}) * ${Z};
  const z = ns.zoned.table.zones[i % ${ZONES}];
  if (z.state === 0xe) { await ns.execute(ctxOf({ opcode: 0x79, cdw10: zslba, cdw13: 4 }, undefined, undefined, ctrl)); continue; }
  const lba = z.wptr;
  const data = new Uint8Array(4 * ${LBA});
  for (let b = 0; b < 4; b++) data.fill(((lba + b) * 7 + 1) & 0xff, b * ${LBA}, (b + 1) * ${LBA});
  const c = await ns.execute(ctxOf({ opcode: 0x7d, ...rw(zslba, 4) }, data, undefined, ctrl));
  if (c.status !== 0) { console.error('status', c.status); process.exit(2); }
  process.stdout.write('ok ' + c.dw0 + '\\n');
  // With synchronous drive I/O every await above may resolve without a turn of the event
  // loop; yield so stdout drains and journal writes complete, as a real host's would.
  await new Promise((r) => setImmediate(r));
}
`,
    );
    try {
      const completed: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, [child, img.file], { stdio: ['ignore', 'pipe', 'pipe'] });
        let buf = '';
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) completed.push(Number(l.slice(3)));
          if (completed.length >= 400 && p.exitCode === null) p.kill('SIGKILL');
        });
        // A watchdog: the writer must never outlive the test, whatever happens to its output.
        const watchdog = setTimeout(() => {
          p.kill('SIGKILL');
          reject(new Error(`writer made ${completed.length} completions in 60 s: ${err}`));
        }, 60_000);
        p.on('exit', (code, signal) => {
          clearTimeout(watchdog);
          if (signal === 'SIGKILL') resolve();
          else reject(new Error(`writer exited ${code}: ${err}`));
        });
      });
      assert.ok(completed.length >= 400);
      const t = await open(img);
      const table = t.ns.zoned!.table;
      // Every completed append lies below its zone's persisted write pointer (or the zone was
      // reset later by the writer, which only happens for Full zones).
      const last = new Map<number, number>();
      for (const lba of completed) last.set(Math.floor(lba / Z), lba);
      for (const [zone, lba] of last) {
        const z = table.zones[zone]!;
        assert.ok(
          z.state === S.FULL || z.wp >= lba + 4,
          `zone ${zone}: WP ${z.wp} misses the completed write at ${lba}`,
        );
      }
      // Everything below each write pointer holds what the writer wrote there.
      for (const z of table.zones) {
        if (z.state !== S.CLOSED) continue;
        const n = z.wp - z.zslba;
        const buf = new Uint8Array(n * LBA);
        assert.equal((await readAt(t, z.zslba, n, buf)).status, 0);
        for (let b = 0; b < n; b++) {
          assert.equal(buf[b * LBA], ((z.zslba + b) * 7 + 1) & 0xff, `zone ${z.index} block ${b}`);
        }
        // And the zone takes writes again exactly at its write pointer.
        assert.equal((await writeAt(t, z.wp, 1)).status, 0);
      }
      await t.cleanup();
      assert.ok(readFileSync(`${img.file}.zones`).length >= 64);
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  });
});
