// Mutated PDU streams against a live target (issue 4 "must show"): whatever a hostile peer sends,
// the target neither crashes nor leaks connections or associations, and a well-behaved host on
// another connection keeps working throughout (reference nvme-tcp.md §1.10, DESIGN.md rule 2).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { TcpTarget } from '../src/nvme-tcp/target/port.js';
import { NvmeTcpController, buildSqe, connectData } from '../src/nvme-tcp/host/index.js';
import { encodePdu } from '../src/nvme-tcp/pdu/codec.js';
import { PduType } from '../src/nvme-tcp/pdu/types.js';
import type { Pdu } from '../src/nvme-tcp/pdu/types.js';
import { concat } from '../src/nvme-tcp/pdu/fixtures.js';
import { fakeSubsystem } from './nvme-tcp-fake-ctrl.js';

const NQN = 'nqn.2019-08.org.qemu:fuzz';

/** A plausible session: ICReq, admin Connect, Property Get/Set, a write by R2T data, a read. */
function session(): Uint8Array {
  const dg = { hdgst: false, ddgst: false };
  const pdus: Pdu[] = [
    { type: PduType.ICReq, pfv: 0, hpda: 0, dgst: dg, maxr2t: 0 },
    {
      type: PduType.CapsuleCmd,
      sqe: buildSqe({ opcode: 0x7f, fctype: 1, cdw11: 31, cdw12: 0 }, 1, 0x01, 1024),
      data: connectData(new Uint8Array(16), 0xffff, NQN, 'nqn.fuzz:host'),
    },
    {
      type: PduType.CapsuleCmd,
      sqe: buildSqe({ opcode: 0x7f, fctype: 0, cdw11: 0x14, cdw12: 0x460001 }, 2, 0x5a, 0),
      data: new Uint8Array(0),
    },
    {
      type: PduType.CapsuleCmd,
      sqe: buildSqe({ opcode: 0x06, cdw10: 1 }, 3, 0x5a, 4096),
      data: new Uint8Array(0),
    },
    {
      type: PduType.H2CData,
      cccid: 3,
      ttag: 1,
      datao: 0,
      lastPdu: true,
      data: new Uint8Array(512).fill(7),
    },
  ];
  return concat(pdus.flatMap((p) => encodePdu(p, dg)));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NVMe/TCP target under mutated PDU streams', () => {
  const { subsys } = fakeSubsystem(NQN, 2);
  let t: TcpTarget;
  before(async () => {
    t = await TcpTarget.start(() => [subsys], { port: 0, discoveryPort: null, icTimeoutMs: 200 });
  });
  after(() => t.close());

  it('never crashes, never leaks a connection, and leaves another association working', async () => {
    const good = await NvmeTcpController.connect({
      address: '127.0.0.1',
      port: t.ioPort.port,
      subnqn: NQN,
      cntlid: 1,
    });
    const base = session();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(base.length),
        async (mutations, cut) => {
          const bytes = base.slice(0, Math.max(cut, 8));
          for (const [at, v] of mutations) if (at < bytes.length) bytes[at] = v;
          const s = connect({ host: '127.0.0.1', port: t.ioPort.port });
          await once(s, 'connect');
          s.on('error', () => undefined);
          s.on('data', () => undefined);
          s.write(bytes);
          await pause(5);
          s.destroy();
          const r = await good.ioCommand({ opcode: 0x02, nsid: 1 }, { readLength: 512 });
          assert.equal(r.status, 0);
        },
      ),
      { numRuns: 60 },
    );
    // Every fuzz connection is gone; only the good association's admin + I/O sockets remain.
    const start = Date.now();
    while (t.connections.length !== 2 && Date.now() - start < 2000) await pause(10);
    assert.equal(t.connections.length, 2);
    assert.equal(t.fabrics.associations.length, 1);
    assert.ok(t.connections.every((c) => c.inflight <= 1));
    await good.disconnect();
  });
});
