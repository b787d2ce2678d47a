// The recording format: pinned sizes, golden bytes, precise rejections of damaged and foreign
// files, and framing that survives any split (house rules 3 and 4).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CommandLayout,
  commandFrameSize,
  dataHash,
  DataKind,
  writeCommandFrame,
  encodeCommand,
  encodeFile,
  encodeFileHeader,
  encodeFrame,
  encodeJsonFrame,
  FileHeaderLayout,
  FrameLayout,
  NO_SECTION,
  RecordType,
  writeCheck,
  type CommandRecord,
} from './format.js';
import { cutFrames, parseRecording, RecordingError } from './parse.js';
import { encodeSqe, parseSqe } from '../nvme/spec/command.js';
import { LeStore } from '../util/bytes.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const MACHINE = {
  argv: ['-device', 'nvme,serial=x'],
  images: [],
  nvmemu: '0.0.0',
  data: 'hash',
  trackWrites: false,
  startedMs: 1,
};

const sqe = new Uint8Array(64);
sqe[0] = 0x01; // Write
sqe[4] = 1; // NSID 1

const CMD: CommandRecord = {
  ctrl: 0,
  sqid: 1,
  completed: true,
  status: 0,
  dw0: 0,
  dw1: 0,
  beginTick: 2n,
  endTick: 3n,
  beginNs: 1000n,
  elapsedNs: 500n,
  sqe,
  data: { kind: DataKind.WHOLE, length: 4, bytes: Uint8Array.of(1, 2, 3, 4) },
  meta: NO_SECTION,
  transport: 0,
};

/** A file of this version: each frame followed by a check record (records 1, 3, 5...). */
function file(...frames: Uint8Array[]): Uint8Array {
  return encodeFile(frames);
}

const goodFrames = (version?: number): Uint8Array[] => [
  encodeJsonFrame(RecordType.MACHINE, MACHINE, version),
  encodeJsonFrame(
    RecordType.EVENT,
    { kind: 'controller', tick: 1, index: 0, id: null, serial: 'x' },
    version,
  ),
  encodeFrame(RecordType.COMMAND, encodeCommand(CMD), version),
  encodeJsonFrame(RecordType.END, { commands: 1, events: 1, ticks: 3 }, version),
];

const good = (version?: number): Uint8Array => encodeFile(goodFrames(version), version);

describe('recording layouts', () => {
  it('have the pinned sizes', () => {
    assert.equal(FileHeaderLayout.size, 16);
    assert.equal(FrameLayout.size, 8);
    assert.equal(CommandLayout.size, 128);
  });

  it("the recorder's field-by-field writer equals the layout-table encoding (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          ctrl: fc.integer({ min: 0, max: 0xffff }),
          sqid: fc.integer({ min: 0, max: 0xffff }),
          status: fc.integer({ min: 0, max: 0x7fff }),
          dw0: fc.integer({ min: 0, max: 0xffff_ffff }),
          tick: fc.integer({ min: 0, max: 2 ** 40 }),
          ns: fc.maxSafeNat(),
          sqe: fc.uint8Array({ minLength: 64, maxLength: 64 }),
          data: fc.uint8Array({ maxLength: 64 }),
          kind: fc.constantFrom(DataKind.WHOLE, DataKind.HASH, DataKind.NONE),
          transport: fc.constantFrom(0 as const, 1 as const),
        }),
        (x) => {
          x.sqe[1]! &= 0xc3; // reserved bits of CDW0 are not part of an NvmeCmd
          const cmd = parseSqe(x.sqe);
          const section =
            x.kind === DataKind.NONE
              ? NO_SECTION
              : {
                  kind: x.kind,
                  length: x.data.length,
                  bytes: x.kind === DataKind.WHOLE ? x.data : dataHash(x.data),
                };
          const f = {
            ctrl: x.ctrl,
            sqid: x.sqid,
            completed: true,
            status: x.status,
            dw0: x.dw0,
            dw1: 0,
            beginTick: x.tick,
            endTick: x.tick + 1,
            beginNs: x.ns,
            elapsedNs: 7,
            transport: x.transport,
          };
          const golden = encodeFrame(
            RecordType.COMMAND,
            encodeCommand({
              ...f,
              beginTick: BigInt(f.beginTick),
              endTick: BigInt(f.endTick),
              beginNs: BigInt(f.beginNs),
              elapsedNs: BigInt(f.elapsedNs),
              sqe: encodeSqe(cmd),
              data: section,
              meta: NO_SECTION,
            }),
          );
          const fast = new Uint8Array(
            commandFrameSize({
              ...f,
              cmd,
              data: {
                kind: x.kind,
                length: x.kind === DataKind.NONE ? 0 : x.data.length,
                bytes: x.data,
              },
              meta: { kind: DataKind.NONE, length: 0, bytes: undefined },
            }),
          );
          const end = writeCommandFrame(new LeStore(fast), 0, {
            ...f,
            cmd,
            data: {
              kind: x.kind,
              length: x.kind === DataKind.NONE ? 0 : x.data.length,
              bytes: x.data,
            },
            meta: { kind: DataKind.NONE, length: 0, bytes: undefined },
          });
          return end === fast.length && hex(fast) === hex(golden);
        },
      ),
      { numRuns: 200 },
    );
  });

  // The expected CRCs are Python's zlib.crc32 of the same bytes (an independent implementation).
  it('golden bytes: the file header, a frame and its check record (version 3: CRC-32 of blocks)', () => {
    assert.equal(hex(encodeFileHeader()), '4e564d454d555243030010004858da08');
    assert.equal(
      hex(encodeFrame(RecordType.EVENT, Uint8Array.of(0x7b, 0x7d))),
      '03000000020000007b7d',
    );
    assert.equal(
      hex(encodeFile([encodeFrame(RecordType.EVENT, Uint8Array.of(0x7b, 0x7d))]).subarray(16)),
      '03000000020000007b7d' + '0500000004000000' + '5c1534a4',
    );
  });

  it('golden bytes: version 2 (CRC-32 of each frame), which readers still accept', () => {
    assert.equal(hex(encodeFileHeader(2)), '4e564d454d555243020010002d3f66b0');
    assert.equal(
      hex(encodeFrame(RecordType.EVENT, Uint8Array.of(0x7b, 0x7d), 2)),
      '03000000020000007b7dc2df0aa7',
    );
  });

  it('golden bytes: version 1 (CRC-32C), which readers still accept', () => {
    assert.equal(hex(encodeFileHeader(1)), '4e564d454d55524301001000337c01ce');
    assert.equal(
      hex(encodeFrame(RecordType.EVENT, Uint8Array.of(0x7b, 0x7d), 1)),
      '03000000020000007b7dce0d5db8',
    );
  });

  it('golden bytes: a command record', () => {
    const b = encodeCommand(CMD);
    assert.equal(b.length, 132); // 128 and 4 bytes of data
    assert.equal(
      hex(b.subarray(0, 64)),
      '0000010000010000' + // ctrl 0, sqid 1, outcome 0, data WHOLE, status 0
        '0200000000000000' + // begin tick 2
        '0300000000000000' + // end tick 3
        'e803000000000000' + // begin 1000 ns
        'f401000000000000' + // elapsed 500 ns
        '0000000000000000' + // dw0, dw1
        '0400000000000000' + // data 4 bytes, metadata 0
        '0000000000000000', // metadata kind NONE, transport PCIe, reserved
    );
    assert.equal(hex(b.subarray(64, 72)), '0100000001000000');
    assert.equal(hex(b.subarray(128)), '01020304');
  });

  it('round-trips through the parser (versions 1, 2 and 3)', () => {
    for (const version of [1, 2, 3]) {
      const r = parseRecording(good(version));
      assert.equal(r.version, version);
      assert.deepEqual(r.machine, MACHINE);
      assert.equal(r.commands.length, 1);
      assert.deepEqual(r.commands[0], CMD);
      assert.deepEqual(r.end, { commands: 1, events: 1, ticks: 3 });
    }
  });

  it('version 3: one check record may close a block of several records', () => {
    const frames = goodFrames();
    const body = Buffer.concat(frames);
    const b = new Uint8Array(16 + body.length + 12);
    b.set(encodeFileHeader(), 0);
    b.set(body, 16);
    writeCheck(b, 16, 16 + body.length);
    const r = parseRecording(b);
    assert.deepEqual(r.commands[0], CMD);
    assert.deepEqual(r.end, { commands: 1, events: 1, ticks: 3 });
  });
});

describe('recording parser rejections', () => {
  const reject = (b: Uint8Array, msg: RegExp): void =>
    assert.throws(
      () => parseRecording(b),
      (e: unknown) =>
        e instanceof RecordingError && e.code === 'EMU_ERR_DECODE' && msg.test(e.message),
    );

  it('names what is wrong and where', () => {
    const g = good();
    reject(new TextEncoder().encode('{"not":"a recording"}'), /not an nvmemu recording: magic/);
    reject(g.subarray(0, 10), /shorter than the 16-byte header/);
    const v4 = encodeFileHeader();
    v4[8] = 4;
    reject(
      v4,
      /recording format version 4 is not supported \(this nvmemu reads versions 1, 2 and 3\)/,
    );
    const damaged = encodeFileHeader();
    damaged[10] = 17;
    reject(damaged, /header: CRC mismatch/);
    // A version 2 frame in a version 1 file: each version has its own check.
    reject(
      new Uint8Array(
        Buffer.concat([encodeFileHeader(1), encodeJsonFrame(RecordType.MACHINE, MACHINE, 2)]),
      ),
      /record 1 at offset 16: CRC mismatch/,
    );
    const bad = g.slice();
    bad[16 + 8 + 3]! ^= 1; // a byte of the machine record's payload
    reject(bad, /record 2 at offset \d+: CRC mismatch over records 1 to 2 from offset 16/);
    const bad2 = good(2);
    bad2[16 + 8 + 3]! ^= 1;
    reject(bad2, /record 1 at offset 16: CRC mismatch/);
    reject(g.subarray(0, g.length - 3), /record 8 at offset \d+: truncated/);
    reject(
      g.subarray(0, g.length - 12),
      /records 7 to 7 from offset \d+: no check record covers them \(the file ends before one/,
    );
    const res = g.slice();
    res[17] = 1;
    reject(res, /record 1 at offset 16: reserved bytes are not zero/);
    reject(
      file(encodeJsonFrame(RecordType.EVENT, {})),
      /record 1 at offset 16: the first record must be the machine record/,
    );
    reject(
      file(encodeFrame(9 as 1, new Uint8Array(0))),
      /record 1 at offset 16: unknown record type 9/,
    );
    reject(
      file(encodeJsonFrame(RecordType.MACHINE, { ...MACHINE, data: 'all' })),
      /record 1 \(machine\) at offset 16: 'data' must be one of hash, whole, hash-all/,
    );
    reject(
      file(
        encodeJsonFrame(RecordType.MACHINE, MACHINE),
        encodeJsonFrame(RecordType.EVENT, { kind: 'power-cut', tick: 1, seed: 1, mode: 'half' }),
      ),
      /record 3 \(event\) at offset \d+: 'mode' must be one of all, prefix, subset/,
    );
    const cmd = encodeCommand(CMD);
    reject(
      file(
        encodeJsonFrame(RecordType.MACHINE, MACHINE),
        encodeFrame(RecordType.COMMAND, cmd.subarray(0, 130)),
      ),
      /record 3 \(command\) at offset \d+: data section needs 4 bytes/,
    );
    reject(
      file(
        encodeJsonFrame(RecordType.MACHINE, MACHINE),
        encodeJsonFrame(RecordType.END, { commands: 2, events: 0, ticks: 0 }),
      ),
      /it counts 2 commands and 0 events, the file holds 0 and 0/,
    );
  });

  it('accepts a recording without its end record (a killed recorder) and says so', () => {
    const g = good();
    const endLen = encodeJsonFrame(RecordType.END, { commands: 1, events: 1, ticks: 3 }).length;
    assert.equal(parseRecording(g.subarray(0, g.length - endLen - 12)).end, undefined);
  });

  it('any damaged byte is a RecordingError, never another exception (property)', () => {
    const g = good();
    fc.assert(
      fc.property(fc.nat(g.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = g.slice();
        b[at]! ^= x;
        try {
          parseRecording(b);
          return false; // every byte is covered by a CRC
        } catch (e) {
          return e instanceof RecordingError;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('frames survive any split: a prefix yields whole checked frames and says it is incomplete (property)', () => {
    // Version 3 (each frame followed by its check record: 8 + 12 bytes besides the payload)
    // and version 2 (a trailer: 12 bytes).
    for (const [version, extra] of [
      [3, 20],
      [2, 12],
    ] as const) {
      propertySplit(good(version), version, extra);
    }
  });
});

function propertySplit(g: Uint8Array, version: number, extra: number): void {
  {
    const all = cutFrames(g, version).frames;
    fc.assert(
      fc.property(fc.nat(g.length), (n) => {
        const { frames, consumed, complete } = cutFrames(g.subarray(0, n), version);
        const whole = all.filter((f) => f.offset + extra + f.payload.length <= Math.max(n, 16));
        return (
          frames.length === whole.length &&
          consumed <= Math.max(n, 16) &&
          (complete ? consumed === Math.max(n, 16) : consumed < n)
        );
      }),
      { numRuns: 300 },
    );
  }
}
