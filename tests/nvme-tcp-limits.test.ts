// The NVMe/TCP target's limits (nvme-tcp/target/limits.ts; docs/security.md "Limits"): each one
// bites where it should, logs one line naming the limit and counts in TargetCounters — and a
// well-behaved host below the limits is unaffected.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { TcpTarget, type TcpTargetOptions } from '../src/nvme-tcp/target/port.js';
import {
  NvmeTcpController,
  NvmeStatusError,
  buildSqe,
  connectData,
} from '../src/nvme-tcp/host/index.js';
import { encodePdu } from '../src/nvme-tcp/pdu/codec.js';
import { PduFramer } from '../src/nvme-tcp/framer.js';
import { PduType, type ParsedPdu, type Pdu, type R2TPdu } from '../src/nvme-tcp/pdu/types.js';
import { IoOpc } from '../src/nvme/spec/opcodes.js';
import { fakeSubsystem, FAKE_LBA } from './nvme-tcp-fake-ctrl.js';
import { until } from './nvme-tcp-auth-harness.js';

const NQN = 'nqn.2019-08.org.qemu:limits';
const HOSTNQN = 'nqn.2014-08.org.nvmexpress:uuid:1e1e1e1e-0000-0000-0000-000000000001';
const NO_DIGEST = { hdgst: false, ddgst: false };

async function start(o: TcpTargetOptions): Promise<{ t: TcpTarget; lines: string[] }> {
  const { subsys } = fakeSubsystem(NQN, 2, 4096);
  const lines: string[] = [];
  const t = await TcpTarget.start(() => [subsys], {
    port: 0,
    discoveryPort: null,
    log: (l) => lines.push(l),
    ...o,
  });
  return { t, lines };
}

/** A raw peer that speaks PDUs by hand and collects what the target sends. */
class RawPeer {
  readonly got: Pdu[] = [];
  closed = false;
  private constructor(readonly sock: Socket) {
    const framer = new PduFramer(
      { role: 'host', pda: 0 },
      {
        onPdu: (p: ParsedPdu) => this.got.push(p.pdu),
        onFatal: () => undefined,
      },
    );
    sock.on('data', (b: Buffer) => framer.push(b));
    sock.on('error', () => undefined);
    sock.on('close', () => (this.closed = true));
  }
  static async open(port: number, localAddress?: string): Promise<RawPeer> {
    const sock = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    const p = new RawPeer(sock);
    await once(sock, 'connect');
    return p;
  }
  send(...pdus: Pdu[]): void {
    for (const pdu of pdus) for (const piece of encodePdu(pdu, NO_DIGEST)) this.sock.write(piece);
  }
  icreq(): void {
    this.send({ type: PduType.ICReq, pfv: 0, hpda: 0, dgst: NO_DIGEST, maxr2t: 0 });
  }
  connectQueue(qid: number, cntlid: number, sqsize = 31): void {
    this.send({
      type: PduType.CapsuleCmd,
      sqe: buildSqe({ opcode: 0x7f, fctype: 1, cdw10: qid << 16, cdw11: sqsize }, 0xf0, 0x01, 1024),
      data: connectData(new Uint8Array(16), cntlid, NQN, HOSTNQN),
    });
  }
  count(type: number): number {
    return this.got.filter((p) => p.type === type).length;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function host(t: TcpTarget, extra: Partial<Parameters<typeof NvmeTcpController.connect>[0]> = {}) {
  return NvmeTcpController.connect({
    address: '127.0.0.1',
    port: t.ioPort.port,
    subnqn: NQN,
    hostnqn: HOSTNQN,
    ioQueues: 1,
    ...extra,
  });
}

describe('NVMe/TCP target limits', () => {
  it('connect-timeout: a connection that completes ICReq and never sends Connect is closed', async () => {
    const { t, lines } = await start({ limits: { connectTimeoutMs: 200 } });
    try {
      const idle = await RawPeer.open(t.ioPort.port);
      idle.icreq();
      await until(() => idle.count(PduType.ICResp) === 1, 2000, 'ICResp');
      const c = await host(t);
      await until(() => idle.closed, 3000, 'the idle connection to close');
      assert.equal(t.counters.connectTimeouts, 1);
      assert.match(
        lines.join('\n'),
        /127\.0\.0\.1:\d+: no Connect within 200 ms of ICResp; closing \(connect-timeout\)/,
      );
      // The host that did Connect keeps working past the timeout.
      await pause(300);
      const r = await c.ioCommand({ opcode: IoOpc.READ, nsid: 1, cdw12: 0 }, { readLength: 512 });
      assert.equal(r.status, 0);
      await c.disconnect();
    } finally {
      await t.close();
    }
  });

  it('ic-timeout: a connection that sends nothing is closed', async () => {
    const { t, lines } = await start({ icTimeoutMs: 150 });
    try {
      const idle = await RawPeer.open(t.ioPort.port);
      await until(() => idle.closed, 3000, 'close');
      assert.equal(t.counters.icTimeouts, 1);
      assert.match(lines.join('\n'), /no ICReq within 150 ms; closing \(ic-timeout\)/);
    } finally {
      await t.close();
    }
  });

  it('max-connections: the connection past the limit is closed at accept', async () => {
    const { t, lines } = await start({ limits: { maxConnections: 3 } });
    try {
      const peers = await Promise.all([1, 2, 3].map(() => RawPeer.open(t.ioPort.port)));
      await until(() => t.counters.connectionsOpen === 3, 2000, 'three open');
      const fourth = await RawPeer.open(t.ioPort.port);
      await until(() => fourth.closed, 2000, 'the fourth to be closed');
      assert.equal(t.counters.connectionsRefused, 1);
      assert.match(
        lines.join('\n'),
        /I\/O port: refused a connection from 127\.0\.0\.1:\d+: 3 connections open \(max-connections\)/,
      );
      peers[0]!.sock.destroy();
      await until(() => t.counters.connectionsOpen === 2, 2000, 'one closed');
      const again = await RawPeer.open(t.ioPort.port);
      again.icreq();
      await until(() => again.count(PduType.ICResp) === 1, 2000, 'served again');
      for (const p of [...peers, again]) p.sock.destroy();
    } finally {
      await t.close();
    }
  });

  it('max-connections-per-address: one address is capped, another still gets in', async () => {
    const { t, lines } = await start({ limits: { maxConnectionsPerAddress: 2 } });
    try {
      const a = await Promise.all([1, 2].map(() => RawPeer.open(t.ioPort.port)));
      await until(() => t.counters.connectionsOpen === 2, 2000, 'two open');
      const third = await RawPeer.open(t.ioPort.port);
      await until(() => third.closed, 2000, 'the third to be closed');
      assert.match(
        lines.join('\n'),
        /2 connections open from 127\.0\.0\.1 \(max-connections-per-address\)/,
      );
      // Linux routes all of 127/8 to loopback: another source address is another peer.
      const other = await RawPeer.open(t.ioPort.port, '127.0.0.2').catch(() => undefined);
      if (other !== undefined) {
        other.icreq();
        await until(() => other.count(PduType.ICResp) === 1, 2000, 'the other address served');
        other.sock.destroy();
      }
      for (const p of a) p.sock.destroy();
    } finally {
      await t.close();
    }
  });

  it('max-queue-depth: a queue deeper than the limit is refused at Connect', async () => {
    const { t, lines } = await start({ limits: { maxQueueDepth: 64 } });
    try {
      await assert.rejects(host(t, { queueSize: 128 }), (e: unknown) => {
        assert.ok(e instanceof NvmeStatusError);
        assert.equal(e.statusName, 'CONNECT_INVALID_PARAMETERS+DNR');
        return true;
      });
      assert.equal(t.counters.queuesRefused, 1);
      assert.match(
        lines.join('\n'),
        /qid 1: refused a queue of 128 entries \(max 64\) \(max-queue-depth\)/,
      );
      const ok = await host(t, { queueSize: 64 });
      await ok.disconnect();
    } finally {
      await t.close();
    }
  });

  it('max-io-queues-per-host: I/O queues of one host NQN are counted over its associations', async () => {
    const { t, lines } = await start({ limits: { maxIoQueuesPerHost: 2 } });
    try {
      await assert.rejects(host(t, { ioQueues: 3 }), NvmeStatusError);
      const first = await host(t, { ioQueues: 2, cntlid: 0 });
      await assert.rejects(host(t, { ioQueues: 1, cntlid: 1 }), NvmeStatusError);
      // Another host is not affected.
      const other = await host(t, {
        ioQueues: 1,
        cntlid: 1,
        hostnqn: 'nqn.2014-08.org.nvmexpress:uuid:1e1e1e1e-0000-0000-0000-000000000002',
      });
      assert.equal(t.counters.queuesRefused, 2);
      assert.match(
        lines.join('\n'),
        /refused a I\/O queue beyond 2 for this host \(max-io-queues-per-host\)/,
      );
      await other.disconnect();
      await first.disconnect();
    } finally {
      await t.close();
    }
  });

  it('max-r2t: writes past the limit wait for an R2T slot and all complete', async () => {
    const { t, lines } = await start({ inCapsuleSize: 0, limits: { maxOutstandingR2t: 1 } });
    try {
      const c = await host(t);
      const raw = await RawPeer.open(t.ioPort.port);
      raw.icreq();
      raw.connectQueue(2, c.cntlid);
      await until(() => raw.count(PduType.CapsuleResp) === 1, 2000, 'Connect');
      // Three 4 KiB writes that must be solicited: only one R2T is outstanding at a time.
      for (const cid of [1, 2, 3]) {
        raw.send({
          type: PduType.CapsuleCmd,
          sqe: buildSqe(
            { opcode: IoOpc.WRITE, nsid: 1, cdw10: cid, cdw12: 7 },
            cid,
            0x5a,
            8 * FAKE_LBA,
          ),
          data: new Uint8Array(0),
        });
      }
      await until(() => raw.count(PduType.R2T) === 1, 2000, 'the first R2T');
      await pause(50);
      assert.equal(raw.count(PduType.R2T), 1);
      assert.equal(t.counters.r2tDeferred, 2);
      // Answering each R2T releases the next one.
      for (let i = 0; i < 3; i++) {
        await until(() => raw.count(PduType.R2T) === i + 1, 2000, `R2T ${i + 1}`);
        const r2t = raw.got.filter((p) => p.type === PduType.R2T)[i] as R2TPdu;
        raw.send({
          type: PduType.H2CData,
          cccid: r2t.cccid,
          ttag: r2t.ttag,
          datao: 0,
          lastPdu: true,
          data: new Uint8Array(8 * FAKE_LBA).fill(i),
        });
      }
      await until(() => raw.count(PduType.CapsuleResp) === 4, 2000, 'three completions');
      assert.match(lines.join('\n'), /1 R2Ts outstanding; a write waits \(max-r2t\)/);
      raw.sock.destroy();
      await c.disconnect();
    } finally {
      await t.close();
    }
  });

  it('in-capsule-size: a capsule carrying more in-capsule data than IOCCSZ allows is terminated', async () => {
    const { t, lines } = await start({ inCapsuleSize: 4096 });
    try {
      const c = await host(t);
      const q = c.io[0]!;
      const write = q.submit(
        { opcode: IoOpc.WRITE, nsid: 1, cdw12: 15 },
        { write: new Uint8Array(16 * FAKE_LBA), inCapsule: true },
      );
      await assert.rejects(write, { code: 'NVME_TCP_PROTOCOL' });
      assert.equal(t.counters.oversizedCapsules, 1);
      assert.match(
        lines.join('\n'),
        /CapsuleCmd carries 8192 data bytes \(limit 4096\) \(in-capsule-size\)/,
      );
      await c.disconnect();
    } finally {
      await t.close();
    }
  });

  it('logs a limit at most once per interval, then says how many were left out', async () => {
    const { TargetLog } = await import('../src/nvme-tcp/target/limits.js');
    const out: string[] = [];
    const log = new TargetLog((l) => out.push(l), 50);
    log.limit('max-connections', 'a');
    log.limit('max-connections', 'b');
    log.limit('max-connections', 'c');
    log.limit('max-r2t', 'd');
    await pause(60);
    log.limit('max-connections', 'e');
    assert.deepEqual(out, [
      'nvmemu: nvme-tcp: a (max-connections)',
      'nvmemu: nvme-tcp: d (max-r2t)',
      'nvmemu: nvme-tcp: e (max-connections) (2 more since)',
    ]);
  });
});
