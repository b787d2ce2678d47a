// The scenario step `replay` (docs/scenarios.md): a recorded workload (writes, a seeded
// media-error fault, the failing read and the clear) runs as a step of a scenario on the
// scenario's machine, with no divergence; later steps see what it wrote; a fault the scenario
// injected first shows up as the divergences expected; a recording that is missing or is not
// one is the scenario's mistake, named by its field, before anything runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/app.js';
import { parseArgs } from '../src/config/options.js';
import { registerAllTypes } from '../src/devices.js';
import { machineFaults } from '../src/faults/injector.js';
import { Machine } from '../src/machine/machine.js';
import { machineSettings } from '../src/machine/settings.js';
import { NvmeDevice } from '../src/nvme/index.js';
import { Host } from '../src/nvme/pci/local-host.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Recorder } from '../src/replay/index.js';
import {
  blockPattern,
  parseScenario,
  ScenarioError,
  ScenarioRun,
  type ScenarioResult,
} from '../src/scenario/index.js';
import { tempDir } from './faults-harness.js';

const dirs: (() => void)[] = [];
after(() => dirs.forEach((c) => c()));

const machine = (img: string): string[] => [
  '-drive',
  `file=${img},if=none,id=d0,format=raw`,
  '-device',
  'nvme,id=nvme0,serial=scn0,drive=d0',
];

const pattern = (lba: number, count: number, p: number): Uint8Array => {
  const b = new Uint8Array(count * 512);
  for (let k = 0; k < count; k++) b.set(blockPattern(lba + k, p, 512), k * 512);
  return b;
};

/** Records the workload into `dir`/work.nvrec. */
async function record(dir: string): Promise<void> {
  registerAllTypes();
  const img = join(dir, 'rec.img');
  writeFileSync(img, new Uint8Array(1 << 20));
  const argv = machine(img);
  const a = parseArgs(argv);
  const m = await Machine.create(a.items, {
    settings: machineSettings(a),
    dataDir: dir,
    warn: () => undefined,
  });
  const inj = machineFaults(m, { seed: 1 });
  const rec = new Recorder(m, inj, { argv, file: join(dir, 'work.nvrec') });
  const h = new Host(
    m.components().find((c): c is NvmeDevice => c instanceof NvmeDevice)!.controller,
  );
  h.enable();
  await h.createIoQueues(1, 64);
  const st = async (op: number, lba: number, count: number, buf: Uint8Array): Promise<number> =>
    (await h.command(1, { opcode: op, nsid: 1, cdw10: lba, cdw12: count - 1 }, buf)).status;
  assert.equal(await st(IoOpc.WRITE, 0, 16, pattern(0, 16, 1)), 0);
  const f = inj.inject({ kind: 'media-error', id: 'nvme0', lba: 8, count: 4 });
  assert.equal(await st(IoOpc.READ, 6, 4, new Uint8Array(2048)), 0x281);
  inj.clear(f);
  assert.equal(await st(IoOpc.READ, 8, 4, new Uint8Array(2048)), 0);
  assert.equal(rec.stop().commands, 5); // Create I/O CQ and SQ, the write, the two reads
  await m.shutdown();
}

const scenario = (steps: unknown[]): string =>
  JSON.stringify({
    images: { 'd0.img': '1M' },
    machine: machine('d0.img'),
    seed: 1,
    steps,
  });

async function run(text: string, dir: string): Promise<ScenarioResult> {
  const t = tempDir('scn-replay');
  dirs.push(t.cleanup);
  return new ScenarioRun(parseScenario(text, 'f'), t.dir, { baseDir: dir, where: 'f' }).run();
}

const failures = (r: ScenarioResult): string[] =>
  r.steps.filter((x) => !x.ok).map((x) => `${x.index} ${x.title}: ${x.message}`);

describe('scenario step replay', () => {
  let dir = '';
  before(async () => {
    const t = tempDir('scn-rec');
    dirs.push(t.cleanup);
    dir = t.dir;
    await record(dir);
  });

  it('replays a recorded workload on the scenario machine with no divergence; later steps see its data', async () => {
    const r = await run(
      scenario([
        { replay: { file: 'work.nvrec' } },
        { read: { lba: 0, count: 16 }, expect: { pattern: 1 } },
        { smart: {}, expect: { smart: { 'media-errors': 1 } } },
        { replay: { file: 'work.nvrec', 'time-tolerance': 60_000 } },
      ]),
      dir,
    );
    assert.deepEqual(failures(r), []);
    assert.equal(r.steps[0]!.message, '5 commands replayed, 0 divergences');
  });

  it('a fault the scenario injected first is the divergence the step expects', async () => {
    // The scenario's own media error (every read, twice: a trigger, not a defect of the
    // medium, so the recording's clear of its range does not repair it) makes the last read
    // fail where the recording read pattern 1: one divergence (its status; the data of a
    // failed command is not compared).
    const steps = [
      { fault: { kind: 'media-error', id: 'nvme0', times: 2 } },
      { replay: { file: 'work.nvrec' }, expect: { divergences: 1 } },
    ];
    assert.deepEqual(failures(await run(scenario(steps), dir)), []);
    const r = await run(scenario([steps[0], { replay: { file: 'work.nvrec' } }]), dir);
    assert.equal(r.passed, false);
    assert.match(
      r.steps[1]!.message,
      /^expected 0 divergences, the replay found 1: command 5 \(ctrl 0, sq 1, Read\): status: expected 0x0000, got 0x0281$/,
    );
  });

  it('a missing or damaged recording is a mistake of the scenario file (exit 2), found before the run', async () => {
    writeFileSync(join(dir, 'not.nvrec'), '{"not":"a recording"}');
    await assert.rejects(run(scenario([{ replay: { file: 'gone.nvrec' } }]), dir), (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      assert.match(e.message, /^f\.steps\[0\]\.replay\.file: cannot read .*gone\.nvrec: ENOENT$/);
      return true;
    });
    await assert.rejects(run(scenario([{ replay: { file: 'not.nvrec' } }]), dir), (e: unknown) => {
      assert.ok(e instanceof ScenarioError);
      assert.match(
        e.message,
        /^f\.steps\[0\]\.replay\.file: .*not\.nvrec: not an nvmemu recording: magic/,
      );
      return true;
    });
    assert.throws(() => parseScenario(scenario([{ replay: {} }]), 'f'), {
      message: /^f\.steps\[0\]\.replay\.file: expected a recording file name/,
    });
    const file = join(dir, 'bad.json');
    writeFileSync(file, scenario([{ replay: { file: 'not.nvrec' } }]));
    const err: string[] = [];
    const code = await main(['scenario', 'run', file], {
      out: () => undefined,
      err: (s: string) => err.push(s),
    });
    assert.equal(code, 2);
    assert.match(err.join(''), /bad\.json\.steps\[0\]\.replay\.file: .*not an nvmemu recording/);
  });
});
