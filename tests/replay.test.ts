// Record and replay (docs/record-replay.md): a mixed workload — zoned writes and appends, PI
// writes with separate metadata, a seeded media-error fault, cached writes cut by a seeded
// power cut — is recorded, and a replay on a fresh machine reproduces every completion; the
// same replay with a device default changed reports divergences; two recordings compare.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseArgs } from '../src/config/options.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { findType } from '../src/machine/registry.js';
import { registerAllTypes } from '../src/devices.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { bufferData } from '../src/nvme/spec/transfer.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { machineFaults } from '../src/faults/injector.js';
import { powerCutMachine, trackWrites } from '../src/faults/power-cut.js';
import { freshImages } from '../src/replay/session.js';
import {
  diffRecordings,
  parseRecording,
  Recorder,
  replayRecording,
  type Recording,
} from '../src/replay/index.js';
import { tempDir } from './faults-harness.js';

const ARGV = (dir: string): string[] => [
  '-drive',
  `file=${join(dir, 'z.img')},if=none,id=dz,format=raw`,
  '-drive',
  `file=${join(dir, 'p.img')},if=none,id=dp,format=raw`,
  '-device',
  'nvme,id=nvme0,serial=rec0',
  '-device',
  'nvme-ns,id=nsz,drive=dz,nsid=1,zoned=on,zoned.zone_size=1M',
  '-device',
  'nvme-ns,id=nsp,drive=dp,nsid=2,ms=8,pi=1',
];

const pattern = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff);

const PRACT = 0x8 << 26;
const GUARD_REF = (0x4 | 0x1) << 26;

async function build(dir: string, argv: readonly string[]): Promise<Machine> {
  registerAllTypes();
  const args = parseArgs(argv);
  return Machine.create(args.items, {
    settings: machineSettings(args),
    dataDir: dir,
    warn: () => undefined,
  });
}

function hostOf(m: Machine): Host {
  const dev = m.components().find((c): c is NvmeDevice => c instanceof NvmeDevice)!;
  const h = new Host(dev.controller);
  h.enable();
  return h;
}

/** The mixed workload; returns the statuses it saw (for the test's own sanity checks). */
async function workload(
  dir: string,
  rec: Recording | undefined,
  into: { bytes?: Uint8Array },
): Promise<number[]> {
  // Images of the recorded shape (a fresh pair each time).
  const argv = freshImages(
    rec ?? {
      version: 1,
      machine: {
        argv: ARGV(dir),
        images: [
          { path: join(dir, 'z.img'), size: 4 << 20 },
          { path: join(dir, 'p.img'), size: 1 << 20 },
        ],
        nvmemu: '',
        data: 'hash',
        trackWrites: false,
        startedMs: 0,
      },
      commands: [],
      events: [],
      end: undefined,
    },
    dir,
  );
  let m = await build(dir, argv);
  trackWrites(m);
  const inj = machineFaults(m, { seed: 11 });
  const r = new Recorder(m, inj, { argv });
  const st: number[] = [];
  let h = hostOf(m);
  await h.createIoQueues(2, 64);
  // Zones: two writes at the write pointer of zone 0, an append to zone 1, a write off the
  // pointer (Zone Invalid Write), a report.
  st.push(
    (await h.command(1, { opcode: IoOpc.WRITE, nsid: 1, cdw10: 0, cdw12: 7 }, pattern(4096, 1)))
      .status,
  );
  st.push(
    (await h.command(1, { opcode: IoOpc.WRITE, nsid: 1, cdw10: 8, cdw12: 127 }, pattern(65536, 2)))
      .status,
  );
  st.push(
    (
      await h.command(
        2,
        { opcode: IoOpc.ZONE_APPEND, nsid: 1, cdw10: 2048, cdw12: 3 },
        pattern(2048, 3),
      )
    ).status,
  );
  st.push(
    (await h.command(1, { opcode: IoOpc.WRITE, nsid: 1, cdw10: 500, cdw12: 0 }, pattern(512, 4)))
      .status,
  );
  st.push(
    (
      await h.command(
        1,
        { opcode: IoOpc.ZONE_MGMT_RECV, nsid: 1, cdw12: 1023 },
        new Uint8Array(4096),
      )
    ).status,
  );
  // PI with separate metadata: PRACT inserts the tuples; a read returns data and tuples.
  for (let k = 0; k < 4; k++) {
    st.push(
      (
        await h.command(
          1,
          {
            opcode: IoOpc.WRITE,
            nsid: 2,
            cdw10: k * 8,
            cdw12: 7 | PRACT | GUARD_REF,
            cdw14: k * 8,
          },
          pattern(4096, 10 + k),
        )
      ).status,
    );
  }
  const meta = new Uint8Array(64);
  st.push(
    (
      await h.command(
        1,
        { opcode: IoOpc.READ, nsid: 2, cdw10: 8, cdw12: 7 | GUARD_REF, cdw14: 8 },
        new Uint8Array(4096),
        bufferData(meta),
      )
    ).status,
  );
  // A seeded fault: reads of LBAs 0..31 of namespace 2 fail half of the time.
  const fid = inj.inject({ kind: 'media-error', id: 'nsp', lba: 0, count: 32, probability: 0.5 });
  const reads = await Promise.all(
    Array.from({ length: 12 }, (_, k) =>
      h.command(
        k % 2 === 0 ? 1 : 2,
        { opcode: IoOpc.READ, nsid: 2, cdw10: (k % 4) * 8, cdw12: 7 },
        new Uint8Array(4096),
      ),
    ),
  );
  st.push(...reads.map((c) => c.status));
  inj.clear(fid);
  // Cached writes (volatile write cache on), one flushed, then a seeded power cut that keeps a
  // subset of the rest.
  for (let k = 0; k < 6; k++) {
    st.push(
      (
        await h.command(
          1,
          {
            opcode: IoOpc.WRITE,
            nsid: 2,
            cdw10: 64 + k * 8,
            cdw12: 7 | PRACT | GUARD_REF,
            cdw14: 64 + k * 8,
          },
          pattern(4096, 20 + k),
        )
      ).status,
    );
    if (k === 1) st.push((await h.command(1, { opcode: IoOpc.FLUSH, nsid: 2 })).status);
  }
  r.powerCut({ seed: 5, mode: 'subset' });
  const cut = await powerCutMachine(m, { seed: 5, mode: 'subset' });
  m = cut.machine;
  trackWrites(m);
  r.attach(m, machineFaults(m));
  h = hostOf(m);
  await h.createIoQueues(1, 64);
  for (let k = 0; k < 6; k++) {
    st.push(
      (
        await h.command(
          1,
          { opcode: IoOpc.READ, nsid: 2, cdw10: 64 + k * 8, cdw12: 7 },
          new Uint8Array(4096),
        )
      ).status,
    );
  }
  st.push(
    (await h.command(1, { opcode: IoOpc.READ, nsid: 1, cdw10: 0, cdw12: 15 }, new Uint8Array(8192)))
      .status,
  );
  r.stop();
  into.bytes = r.bytes();
  await m.shutdown();
  return st;
}

describe('record and replay', () => {
  const t = tempDir('replay');
  let recording: Recording;
  let statuses: number[] = [];
  before(async () => {
    const out: { bytes?: Uint8Array } = {};
    statuses = await workload(t.dir, undefined, out);
    recording = parseRecording(out.bytes!);
  });
  after(() => t.cleanup());

  it('records the mixed workload: commands, faults, the power cut, controllers', () => {
    // The workload itself did what it meant to: a zone error, some fault hits, successes.
    assert.ok(
      statuses.some((s) => (s & 0x7ff) === 0x1bc),
      'a write off the write pointer fails (Zone Invalid Write)',
    );
    assert.ok(statuses.filter((s) => (s & 0x7ff) === 0x281).length > 0, 'the fault fired');
    assert.ok(statuses.filter((s) => s === 0).length > 20);
    const kinds = recording.events.map((e) => e.kind);
    assert.deepEqual(kinds, ['controller', 'fault-inject', 'fault-clear', 'power-cut']);
    assert.ok(recording.end !== undefined);
    assert.equal(recording.end.commands, recording.commands.length);
    // Every command completed; reads carry hashes, writes their data whole.
    assert.ok(recording.commands.every((c) => c.completed));
  });

  it('a replay on a fresh machine reproduces every completion', async () => {
    const dir = join(t.dir, 'r1');
    (await import('node:fs')).mkdirSync(dir);
    const rep = await replayRecording(recording, { dataDir: dir, timeToleranceMs: Infinity });
    assert.deepEqual(rep.divergences, []);
    assert.equal(rep.replayed, recording.commands.length);
    assert.equal(rep.skipped, 0);
  });

  it('a changed device default shows up as divergences', async () => {
    const dir = join(t.dir, 'r2');
    (await import('node:fs')).mkdirSync(dir);
    // MDTS 7 (512 KiB) → 3 (32 KiB): the 64 KiB zoned write is now too large.
    const prop = findType('device', 'nvme')!.schema.props.find((p) => p.name === 'mdts')! as {
      default: unknown;
    };
    const was = prop.default;
    prop.default = 3;
    try {
      const rep = await replayRecording(recording, { dataDir: dir, timeToleranceMs: Infinity });
      assert.ok(rep.divergent > 0);
      const status = rep.divergences.find((d) => d.what === 'status');
      assert.ok(status !== undefined);
      assert.equal(status.name, 'Write');
      assert.equal(status.expected, '0x0000');
      assert.equal(status.got, '0x4002');
    } finally {
      prop.default = was;
    }
  });

  it('replay --diff: a recording equals itself; a changed completion is named', () => {
    assert.equal(diffRecordings(recording, recording, { timeToleranceMs: 0 }).divergent, 0);
    const changed: Recording = {
      ...recording,
      commands: recording.commands.map((c, i) => (i === 3 ? { ...c, status: 0x4002 } : c)),
    };
    const d = diffRecordings(recording, changed, { timeToleranceMs: Infinity });
    assert.equal(d.divergent, 1);
    assert.equal(d.divergences[0]!.what, 'status');
  });
});
