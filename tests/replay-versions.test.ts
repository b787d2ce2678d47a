// Old recordings stay readable (docs/record-replay.md "Format"): a version 1 recording (CRC-32C
// checks, written by the recorder before version 2) is parsed and replayed by this nvmemu
// without a divergence, and so is the same recording framed as version 2 (CRC-32 of each
// frame: the fixture v2-basic.nvrec holds the records of v1-basic.nvrec); the recorder itself
// writes version 3 (CRC-32 of blocks of records).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FORMAT_VERSION, parseRecording, replayRecording } from '../src/replay/index.js';
import { tempDir } from './faults-harness.js';

const V1 = fileURLToPath(new URL('../../tests/fixtures/replay/v1-basic.nvrec', import.meta.url));
const V2 = fileURLToPath(new URL('../../tests/fixtures/replay/v2-basic.nvrec', import.meta.url));

describe('recording format versions', () => {
  it('reads a version 1 recording (CRC-32C): its commands, events and end record', () => {
    const rec = parseRecording(readFileSync(V1));
    assert.equal(rec.version, 1);
    assert.notEqual(FORMAT_VERSION, 1);
    assert.deepEqual(rec.end, { commands: 9, events: 1, ticks: 19 });
    assert.equal(rec.commands.length, 9);
    assert.deepEqual(
      rec.events.map((e) => e.kind),
      ['controller'],
    );
    // The fixture's workload: Create I/O CQ and SQ, Identify, a write and a read of 1 KiB, a
    // read with an invalid field (0x4002), a write beyond the namespace (LBA out of range,
    // 0x4080), an opcode the controller does not know (0x4001), a Flush; DNR set on each error.
    assert.deepEqual(
      rec.commands.map((c) => [c.sqe[0], c.status]),
      [
        [0x05, 0],
        [0x01, 0],
        [0x06, 0],
        [0x01, 0],
        [0x02, 0],
        [0x02, 0x4002],
        [0x01, 0x4080],
        [0x7e, 0x4001],
        [0x00, 0],
      ],
    );
    assert.deepEqual(
      rec.commands.map((c) => [c.data.kind, c.data.length]),
      [
        [0, 0],
        [0, 0],
        [2, 4096],
        [1, 1024],
        [2, 1024],
        [0, 512],
        [1, 1024],
        [0, 0],
        [0, 0],
      ],
    );
  });

  it('replays a version 1 recording on a fresh machine: every status and the I/O data reproduced', async () => {
    const tmp = tempDir('replay-v1');
    const rep = await replayRecording(parseRecording(readFileSync(V1)), {
      dataDir: tmp.dir,
      timeToleranceMs: Infinity,
    }).finally(tmp.cleanup);
    assert.equal(rep.commands, 9);
    assert.equal(rep.replayed, 9);
    // The recording names the nvmemu that made it; Identify's data is the device's defaults
    // of that version (a later version may answer differently: replay reports that, as it
    // should). Everything else (every status, the I/O data) is reproduced.
    const other = rep.divergences.filter(
      (d) => !(d.sqid === 0 && d.opcode === 0x06 && d.what === 'data'),
    );
    assert.deepEqual(other, []);
  });

  it('reads a version 2 recording (CRC-32 of each frame): the same records as version 1', () => {
    const v1 = parseRecording(readFileSync(V1));
    const v2 = parseRecording(readFileSync(V2));
    assert.equal(v2.version, 2);
    assert.equal(FORMAT_VERSION, 3);
    assert.deepEqual({ ...v2, version: 1 }, v1);
  });
});
