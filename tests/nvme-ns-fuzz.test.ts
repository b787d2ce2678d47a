// Fuzz: random I/O submission queue entries (any opcode, flags and dwords, random host buffers)
// against a namespace. Every command must complete — never throw — with a status this
// emulator declares, one of those its opcode can produce, and the namespace must keep
// serving correct I/O afterwards (house rule 2).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSqe, encodeSqe } from '../src/nvme/spec/command.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { Status, withDnr, isKnownStatus, statusName } from '../src/nvme/spec/status.js';
import { bufferData, NO_DATA } from '../src/nvme/spec/transfer.js';
import { ctxOf, fakeCtrl, pattern, rw, tempNamespace } from '../src/nvme/ns/fixtures.js';

const D = withDnr;
const RW = [D(Status.INVALID_FIELD), D(Status.LBA_RANGE), D(Status.DATA_TRANSFER_ERROR)];
const COMMON = [Status.INVALID_FIELD]; // FUSE

/** Statuses each opcode may complete with (besides success and the common ones). */
const ALLOWED = new Map<number, readonly number[]>([
  [IoOpc.FLUSH, [Status.WRITE_FAULT]],
  [IoOpc.WRITE, [...RW, Status.WRITE_FAULT]],
  [IoOpc.READ, [...RW, D(Status.DULB), Status.UNRECOVERED_READ]],
  [IoOpc.WRITE_ZEROES, [D(Status.LBA_RANGE), Status.WRITE_FAULT]],
  [IoOpc.DSM, [Status.DATA_TRANSFER_ERROR]],
  [IoOpc.WRITE_UNCOR, [D(Status.LBA_RANGE)]],
  [
    IoOpc.COPY,
    [
      D(Status.CMD_SIZE_LIMIT),
      D(Status.INVALID_FIELD),
      D(Status.INVALID_NSID),
      D(Status.INVALID_FORMAT),
      D(Status.LBA_RANGE),
      D(Status.DULB),
      Status.DATA_TRANSFER_ERROR,
      Status.UNRECOVERED_READ,
      Status.WRITE_FAULT,
    ],
  ],
  // Reservations (ns/resv): conflicts, a malformed command, a 64-bit host asking 128-bit data,
  // and a data buffer shorter than the command's 16 or 8 bytes: Data Transfer Error without
  // DNR, as every failed host transfer reports (spec/transfer.ts; RESV_REPORT below too).
  [IoOpc.RESV_REGISTER, [D(Status.RESERVATION_CONFLICT), ...RW, Status.DATA_TRANSFER_ERROR]],
  [IoOpc.RESV_ACQUIRE, [D(Status.RESERVATION_CONFLICT), ...RW, Status.DATA_TRANSFER_ERROR]],
  [IoOpc.RESV_RELEASE, [D(Status.RESERVATION_CONFLICT), ...RW, Status.DATA_TRANSFER_ERROR]],
  [IoOpc.RESV_REPORT, [D(Status.HOST_ID_INCONSISTENT), Status.DATA_TRANSFER_ERROR]],
  // Flexible Data Placement outside an FDP subsystem.
  [IoOpc.IO_MGMT_RECV, [D(Status.FDP_DISABLED)]],
  [IoOpc.IO_MGMT_SEND, [D(Status.FDP_DISABLED)]],
  [
    IoOpc.VERIFY,
    [D(Status.INVALID_FIELD), D(Status.LBA_RANGE), D(Status.DULB), Status.UNRECOVERED_READ],
  ],
  [
    IoOpc.COMPARE,
    [
      ...RW,
      Status.DATA_TRANSFER_ERROR,
      D(Status.DULB),
      Status.UNRECOVERED_READ,
      Status.CMP_FAILURE,
    ],
  ],
]);

/** Mostly `usual`, sometimes `rare` (so that the data path is reached, not only validation). */
const mostly = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: usual, weight: 5 }, { arbitrary: rare, weight: 1 });

const opcodeArb = mostly(
  fc.constantFrom(
    IoOpc.FLUSH,
    IoOpc.WRITE,
    IoOpc.READ,
    IoOpc.WRITE_UNCOR,
    IoOpc.COMPARE,
    IoOpc.WRITE_ZEROES,
    IoOpc.DSM,
    IoOpc.VERIFY,
    IoOpc.COPY,
  ),
  fc.integer({ min: 0, max: 255 }),
);

/** A small LBA most of the time so that commands also succeed, any 32-bit value otherwise. */
const anyDword = fc.integer({ min: 0, max: 0xffffffff });
const dwordArb = mostly(fc.nat(300), anyDword);

const sqeArb = fc.record({
  opcode: opcodeArb,
  flags: mostly(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  cdw10: dwordArb,
  cdw11: mostly(fc.constantFrom(0, 4), anyDword),
  cdw12: mostly(fc.oneof(fc.nat(64), fc.constant(1 << 30), fc.constant((1 << 25) | 3)), anyDword),
  cdw13: dwordArb,
  cdw14: dwordArb,
  cdw15: dwordArb,
  dataLen: mostly(fc.constant(70000), fc.oneof(fc.constant(-1), fc.nat(70000))),
  dataSeed: fc.nat(255),
  mdts: fc.constantFrom(0, 4096 << 7, 4096),
  dulbe: fc.boolean(),
});

describe('random I/O SQEs', () => {
  for (const over of [{}, { ms: 8 }, { ms: 8, mset: 1 }]) {
    it(`always complete with a valid status (${JSON.stringify(over)})`, async () => {
      const t = await tempNamespace(256 * 1024, over);
      const ctrl = fakeCtrl();
      const seen = new Map<string, number>();
      try {
        await fc.assert(
          fc.asyncProperty(sqeArb, async (s) => {
            const raw = encodeSqe({ ...s, nsid: 1, cid: 1 });
            raw[1] = s.flags;
            const cmd = parseSqe(raw);
            t.ns.errorRecovery = s.dulbe ? 1 << 16 : 0;
            const data = s.dataLen < 0 ? NO_DATA : bufferData(pattern(s.dataLen, s.dataSeed));
            const c = await t.ns.execute({
              cmd,
              data,
              meta: bufferData(new Uint8Array(4096)),
              sqid: 1,
              ctrl: { ...ctrl, mdtsBytes: s.mdts },
            });
            assert.ok(Number.isInteger(c.status) && c.status >= 0 && c.status <= 0x7fff);
            assert.ok(isKnownStatus(c.status), statusName(c.status));
            const key = `${cmd.opcode}:${statusName(c.status)}`;
            seen.set(key, (seen.get(key) ?? 0) + 1);
            if (c.status === Status.SUCCESS) return;
            const allowed = [...COMMON, ...(ALLOWED.get(cmd.opcode) ?? [D(Status.INVALID_OPCODE)])];
            assert.ok(
              allowed.includes(c.status),
              `opcode 0x${cmd.opcode.toString(16)}: ${statusName(c.status)}`,
            );
          }),
          { numRuns: 400 },
        );
        // The generator reaches the data path, not only the validation failures.
        for (const op of [IoOpc.READ, IoOpc.WRITE, IoOpc.WRITE_ZEROES, IoOpc.DSM, IoOpc.FLUSH]) {
          assert.ok(
            (seen.get(`${op}:SUCCESS`) ?? 0) > 0,
            `no successful opcode ${op}: ${[...seen.keys()].join(' ')}`,
          );
        }
        // Still serving: a write/read round trip works after the storm.
        t.ns.errorRecovery = 0;
        const blocks = pattern(
          2 * t.ns.lbaSize + 2 * t.ns.geometry.ms * (t.ns.geometry.extended ? 1 : 0),
          9,
        );
        const w = await t.ns.execute(ctxOf({ opcode: IoOpc.WRITE, ...rw(3, 2) }, blocks));
        assert.equal(w.status, Status.SUCCESS);
        const back = new Uint8Array(blocks.length);
        const r = await t.ns.execute(ctxOf({ opcode: IoOpc.READ, ...rw(3, 2) }, back));
        assert.equal(r.status, Status.SUCCESS);
        assert.deepEqual(back, blocks);
      } finally {
        await t.cleanup();
      }
    });
  }
});
