import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { LeanClient, leanMessage, leanServe } from './lean-loopback.js';

/** Just the socket surface leanServe uses, recording each write (one per reply). */
class FakeSocket extends EventEmitter {
  readonly writes: Buffer[] = [];
  corked = 0;
  destroyed = false;
  setNoDelay(): void {}
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
  write(b: Buffer): boolean {
    this.writes.push(b);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const stream = Buffer.concat([leanMessage(72, 4144), leanMessage(4168, 24), leanMessage(8, 48)]);

test('leanServe answers each complete request with one write of its reply length, at any split', () => {
  for (const step of [1, 3, 7, 8, 9, 100, stream.length]) {
    const s = new FakeSocket();
    leanServe(s as unknown as Socket);
    for (let off = 0; off < stream.length; off += step) {
      s.emit('data', stream.subarray(off, Math.min(stream.length, off + step)));
    }
    assert.deepEqual(
      s.writes.map((w) => w.length),
      [4144, 24, 48],
      `split every ${step} bytes`,
    );
    assert.equal(s.corked, 0, 'every cork is undone by the end of a data event');
    assert.equal(s.destroyed, false);
  }
});

test('leanServe drops a connection whose prefix is impossible', () => {
  const s = new FakeSocket();
  leanServe(s as unknown as Socket);
  const bad = Buffer.alloc(8);
  bad.writeUInt32LE(4, 0);
  bad.writeUInt32LE(10, 4);
  s.emit('data', bad);
  assert.equal(s.destroyed, true);
  assert.deepEqual(s.writes, []);
});

test('LeanClient gets its replies in order over loopback', async () => {
  const server = createServer(leanServe);
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const sock = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  await once(sock, 'connect');
  const c = new LeanClient(sock);
  const order: number[] = [];
  const msgs = [leanMessage(72, 131120), leanMessage(131168, 48), leanMessage(72, 4144)];
  await Promise.all(msgs.map((m, i) => c.request(m).then(() => order.push(i))));
  assert.deepEqual(order, [0, 1, 2]);
  c.destroy();
  server.close();
});
