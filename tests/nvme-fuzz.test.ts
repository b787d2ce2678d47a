// Random admin SQEs never break the controller: every command completes (AERs may stay
// outstanding, as the spec allows) with a status from the table, and the controller keeps
// answering Identify afterwards.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isKnownStatus, statusName } from '../src/nvme/spec/status.js';
import { bufferData } from '../src/nvme/spec/transfer.js';
import { Subsystem } from '../src/nvme/subsys/subsystem.js';
import { openController } from '../src/nvme/index.js';
import { FakeNamespace, pcieOf } from './nvme-fakes.js';

const OPCODES = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x15, 0x18, 0x1c, 0x7c, 0x80,
];
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

const sqeArb = fc.record({
  opcode: fc.oneof(fc.constantFrom(...OPCODES), fc.integer({ min: 0, max: 255 })),
  flags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  nsid: fc.oneof(fc.constantFrom(0, 1, 2, 3, 256, 257, 0xfffffffe, 0xffffffff), fc.nat()),
  cdw10: fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.nat(), fc.constant(0xffffffff)),
  cdw11: fc.oneof(fc.constant(0), fc.nat(), fc.constant(0x00010001)),
  cdw12: fc.oneof(fc.constant(0), fc.nat()),
  cdw13: fc.oneof(fc.constant(0), fc.nat()),
  cdw14: fc.oneof(fc.constant(0), fc.nat()),
  prp1: fc.oneof(
    fc.constant(0n),
    fc.constant(0x1000n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ),
  dataLen: fc.constantFrom(0, 8, 512, 4096, 8192),
});

describe('admin fuzz', () => {
  it('completes every random admin command with a known status and keeps working', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sqeArb, { minLength: 1, maxLength: 25 }), async (cmds) => {
        const subsys = new Subsystem(true, 'nqn.2019-08.org.qemu:fz');
        const { controller: c, host } = openController({ serial: 'fz', subsystem: subsys });
        subsys.addNamespace(new FakeNamespace(1), c);
        subsys.addNamespace(new FakeNamespace(2, { detached: true }), c);
        subsys.addNamespace(new FakeNamespace(3, { csi: 2 }), c);
        let cid = 0;
        for (const s of cmds) {
          const ok = pcieOf(c).submit(
            0,
            {
              opcode: s.opcode,
              fuse: s.flags & 3,
              psdt: s.flags >>> 6,
              cid: ++cid,
              nsid: s.nsid,
              cdw10: s.cdw10,
              cdw11: s.cdw11,
              cdw12: s.cdw12,
              cdw13: s.cdw13,
              cdw14: s.cdw14,
              prp1: s.prp1,
            },
            bufferData(new Uint8Array(s.dataLen)),
          );
          assert.ok(ok, 'admin SQ accepts');
          for (let i = 0; i < 3; i++) await tick();
          for (const cqe of pcieOf(c).reap(0)) {
            assert.ok(isKnownStatus(cqe.status), `unknown status ${statusName(cqe.status)}`);
            assert.equal(cqe.sqid, 0);
          }
        }
        assert.equal(c.csts & 0x2, 0, 'no controller fatal status');
        assert.equal(c.internalErrors, 0, 'no handler threw');
        const id = await host.admin({ opcode: 0x06, cdw10: 1 }, new Uint8Array(4096));
        assert.equal(id.status, 0);
      }),
      { numRuns: 150 },
    );
  });
});
