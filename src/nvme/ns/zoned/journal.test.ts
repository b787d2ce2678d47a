// The zone state journal on its own (zoned-ns.ts wires it to a namespace; tests/zns-persist
// covers restarts and kills): the first record creates the file, compaction in event-loop slices
// keeps every change made while it runs, close() in the middle leaves the live file whole, and
// compact() of copies keeps what the copies do not carry.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJournal } from './journal-format.js';
import {
  encodeRecord,
  JournalHeaderLayout,
  parseJournal,
  ZoneJournal,
  type JournalGeometry,
} from './journal.js';
import { crc32c } from '../../../util/crc.js';
import { writeU32le, writeU64le } from '../../../util/bytes.js';
import { ZA_ZDEV, ZoneState, ZoneTable } from './state.js';

const ZSZE = 128;

function setup(nrZones: number, descrExtSize = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'nvmemu-journal-'));
  const file = join(dir, 'z.zones');
  const g: JournalGeometry = { lbaSize: 512, zoneSize: ZSZE, zoneCap: ZSZE, nrZones, descrExtSize };
  const open = () => {
    const t = new ZoneTable(nrZones, ZSZE, ZSZE, { maxActive: 0, maxOpen: 0, numZrwa: 0 });
    const { journal, saved } = ZoneJournal.open(file, g, false);
    journal!.attach(t);
    t.onChange = (i) => journal!.record(i);
    return { t, journal: journal!, saved };
  };
  return { dir, file, g, open, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Closed with `n` blocks written (a record per call). */
const write = (t: ZoneTable, i: number, n: number): void =>
  t.restoreAt(i, ZoneState.CLOSED, t.zslbaOf(i) + n, 0);

/** What the file says, as [zone, state, wp] for every zone it leaves out of its initial state. */
function fileState(file: string, g: JournalGeometry): [number, number, number][] {
  return fileStateOf(new Uint8Array(readFileSync(file)), file, g);
}

function fileStateOf(
  bytes: Uint8Array,
  file: string,
  g: JournalGeometry,
): [number, number, number][] {
  const { zones } = parseJournal(bytes, g, file);
  return [...zones]
    .filter(([i, z]) => z.state !== ZoneState.EMPTY || z.wp !== i * ZSZE || z.za !== 0)
    .sort(([a], [b]) => a - b)
    .map(([i, z]) => [i, z.state, z.wp] as [number, number, number]);
}

function tableState(t: ZoneTable): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < t.count; i++) {
    if (!t.isDefault(i)) out.push([i, t.stateOf(i), t.wpOf(i)]);
  }
  return out;
}

const turn = () => new Promise((r) => setImmediate(r));

describe('zone journal', () => {
  it('is created by its first record: header and record in one file, nothing before', () => {
    const s = setup(16);
    try {
      const { t, journal } = s.open();
      assert.equal(existsSync(s.file), false);
      write(t, 3, 5);
      assert.equal(statSync(s.file).size, 64 + 28);
      assert.deepEqual(fileState(s.file, s.g), [[3, ZoneState.CLOSED, 3 * ZSZE + 5]]);
      journal.close();
    } finally {
      s.done();
    }
  });

  it('loads a zero-length file (a creation the power took) as no state', () => {
    const s = setup(16);
    try {
      writeFileSync(s.file, '');
      const { t, journal, saved } = s.open();
      assert.equal(saved.size, 0);
      write(t, 0, 1);
      assert.deepEqual(fileState(s.file, s.g), [[0, ZoneState.CLOSED, 1]]);
      journal.close();
    } finally {
      s.done();
    }
  });

  it('compacts in slices and keeps every change made meanwhile, before and after the cursor', async () => {
    const zones = 200_000;
    const s = setup(zones);
    try {
      const { t, journal } = s.open();
      // 1 MiB of records (28 bytes each) starts a compaction; the same few zones take them.
      let n = 0;
      while (!journal.compacting) write(t, n++ % 1000, 1 + (n % 100));
      const steps = { during: 0 };
      // Changes while it runs: zones already snapshotted (low), not yet (high), and resets.
      while (journal.compacting) {
        write(t, steps.during % 50, 7);
        write(t, zones - 1 - (steps.during % 50), 9);
        if (steps.during === 3) t.reset(t.zone(999));
        steps.during++;
        await turn();
      }
      assert.equal(journal.compactions, 1);
      assert.ok(steps.during > 1, `the compaction took ${steps.during} turns`);
      assert.equal(existsSync(`${s.file}.tmp`), false);
      assert.deepEqual(fileState(s.file, s.g), tableState(t));
      // The file is the snapshot plus the changes since, not the megabyte of records.
      assert.ok(statSync(s.file).size < 100_000, `${statSync(s.file).size} bytes`);
      // And it keeps taking records.
      write(t, 12345, 3);
      assert.deepEqual(fileState(s.file, s.g), tableState(t));
      journal.close();
    } finally {
      s.done();
    }
  });

  // Flushes every third turn send it round again; a flush every turn keeps it going round until
  // the hand-over writes and syncs the last records itself (MAX_ROUNDS).
  for (const every of [3, 1]) {
    it(`a cut at any turn of a compaction (a flush every ${every} turn(s)) leaves a file that loads every zone`, async () => {
      const zones = 200_000;
      const s = setup(zones);
      try {
        const { t, journal } = s.open();
        let n = 0;
        while (!journal.compacting) write(t, n++ % 1000, 1 + (n % 100));
        // At each turn, what a cut would find (the files as they stand: every record written,
        // the temporary file whatever it holds) must load as the table is, whatever stage the
        // compaction is in.
        let turns = 0;
        const cut = (): void => {
          const bytes = new Uint8Array(readFileSync(s.file));
          assert.deepEqual(fileStateOf(bytes, s.file, s.g), tableState(t), `turn ${turns}`);
        };
        while (journal.compacting) {
          cut();
          write(t, turns % 50, 7 + (turns % 3));
          write(t, zones - 1 - (turns % 50), 9);
          if (turns % every === 0) journal.sync();
          if (turns === 5) t.reset(t.zone(999));
          cut();
          turns++;
          await turn();
        }
        cut();
        assert.equal(journal.compactions, 1);
        assert.ok(turns > 3, `the compaction took ${turns} turns`);
        assert.equal(existsSync(`${s.file}.tmp`), false);
        assert.ok(statSync(s.file).size < 100_000, `${statSync(s.file).size} bytes`);
        journal.close();
      } finally {
        s.done();
      }
    });
  }

  it('close() in the middle of a compaction leaves the live file whole and no temporary file', async () => {
    const s = setup(200_000);
    try {
      const { t, journal } = s.open();
      let n = 0;
      while (!journal.compacting) write(t, n++ % 1000, 1 + (n % 100));
      await turn();
      write(t, 150_000, 4);
      journal.close();
      assert.equal(existsSync(`${s.file}.tmp`), false);
      assert.deepEqual(fileState(s.file, s.g), tableState(t));
    } finally {
      s.done();
    }
  });

  it('compact() takes copies that change state and WP; attributes and extension stay the zone’s', () => {
    const s = setup(8, 64);
    try {
      const { t, journal } = s.open();
      const ext = new Uint8Array(64).fill(0xab);
      t.setExtension(t.zone(2), ext);
      t.open(t.zone(2), 'implicit', false, false);
      t.reserve(t.zone(2), 10);
      t.advance(t.zone(2), 10);
      write(t, 5, 20);
      // What the power cut's roll-back passes: spread copies for the zones it moves back.
      const zones = t.zones.map((z) =>
        z.index === 2 ? { ...z, wp: z.zslba + 4, wptr: z.zslba + 4, state: ZoneState.CLOSED } : z,
      );
      journal.compact(zones);
      journal.close();
      const { zones: saved } = parseJournal(new Uint8Array(readFileSync(s.file)), s.g, s.file);
      assert.deepEqual([...saved.keys()], [2, 5]);
      assert.deepEqual(saved.get(2), {
        state: ZoneState.CLOSED,
        wp: 2 * ZSZE + 4,
        za: ZA_ZDEV,
        ext,
      });
      assert.deepEqual(saved.get(5), {
        state: ZoneState.CLOSED,
        wp: 5 * ZSZE + 20,
        za: 0,
        ext: undefined,
      });
    } finally {
      s.done();
    }
  });

  it('reads a version 1 file (type 1 records) and refuses an unknown version by name', () => {
    const s = setup(16);
    try {
      const header = (version: number): Uint8Array => {
        const h = JournalHeaderLayout.encode({
          magic: 'NVMZONES',
          version,
          lbaSize: 512,
          zoneSize: BigInt(ZSZE),
          zoneCap: BigInt(ZSZE),
          nrZones: 16,
          descrExtSize: 0,
        });
        writeU32le(h, 60, crc32c(h.subarray(0, 60)));
        return h;
      };
      const payload = new Uint8Array(16);
      payload[0] = ZoneState.FULL;
      writeU64le(payload, 8, BigInt(7 * ZSZE + ZSZE));
      writeFileSync(s.file, Buffer.concat([header(1), encodeRecord(1, 7, payload)]));
      const { t, journal, saved } = s.open();
      assert.deepEqual([...saved.keys()], [7]);
      assert.equal(saved.get(7)!.state, ZoneState.FULL);
      // Appends keep the version 1 file readable; compaction makes it version 2.
      write(t, 2, 3);
      assert.deepEqual(fileState(s.file, s.g), [
        [2, ZoneState.CLOSED, 2 * ZSZE + 3],
        [7, ZoneState.FULL, 8 * ZSZE],
      ]);
      journal.compact(t.zones);
      assert.equal(JournalHeaderLayout.decode(readFileSync(s.file)).version, 2);
      journal.close();
      writeFileSync(s.file, header(3));
      assert.throws(
        () => ZoneJournal.open(s.file, s.g, false),
        (e: Error) =>
          e.message ===
          `zone state file '${s.file}' has format version 3; this nvmemu reads versions 1 and 2: remove it or set zoned.persist=off`,
      );
    } finally {
      s.done();
    }
  });

  it('reads a file piece by piece as it reads it whole: records across pieces, a torn tail', () => {
    const zones = 150_000;
    const s = setup(zones);
    try {
      const { t, journal } = s.open();
      for (let i = 0; i < zones; i += 2) t.restoreAt(i, ZoneState.CLOSED, t.zslbaOf(i) + 3, 0);
      journal.compact(t.zones); // 75,000 entries: 19 blocks, some across the 1 MiB pieces
      write(t, 7, 9);
      journal.close();
      appendFileSync(s.file, Buffer.from([1, 0, 16, 0, 7, 0, 0, 0, 0x44]));
      const bytes = new Uint8Array(readFileSync(s.file));
      assert.ok(bytes.length > 1 << 20);
      const whole = parseJournal(bytes, s.g, s.file);
      const pieces = readJournal(s.file, s.g);
      assert.equal(pieces.length, bytes.length);
      assert.equal(pieces.validLength, whole.validLength);
      assert.equal(pieces.validLength, bytes.length - 9);
      assert.equal(pieces.zones.size, 75_001); // the even zones and zone 7
      assert.deepEqual([...pieces.zones], [...whole.zones]);
      assert.deepEqual(pieces.zones.get(7), {
        state: ZoneState.CLOSED,
        wp: 7 * ZSZE + 9,
        za: 0,
        ext: undefined,
      });
    } finally {
      s.done();
    }
  });
});
