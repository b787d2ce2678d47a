// A small QMP client: what `nvmemu monitor` uses to talk to a running nvmemu (or QEMU), and
// what the tests use to drive the server over real sockets. Replies are matched to requests
// by order (one connection runs its commands in order); events are queued for the caller.

import { connect, type Socket } from 'node:net';
import { JsonStream } from './json.js';

/** A QMP reply: `return` or `error`, and the request `id`. */
export interface QmpReply {
  readonly return?: unknown;
  readonly error?: { readonly class: string; readonly desc: string };
  readonly id?: unknown;
}

/** A QMP event (`SHUTDOWN`, `NVMEMU_FAULT`, ...). */
export interface QmpEventMessage {
  readonly event: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp: { seconds: number; microseconds: number };
}

/** Where a QMP server listens: a unix socket path or a TCP host and port. */
export type QmpAddress = { path: string } | { host: string; port: number };

/** A QMP client (QEMU Machine Protocol) for a running nvmemu or QEMU. */
export class QmpClient {
  /** The server's greeting (`QMP.version`, `capabilities`). */
  readonly greeting: Record<string, unknown>;
  /** Events received so far, oldest first. */
  readonly events: QmpEventMessage[] = [];
  readonly #sock: Socket;
  readonly #pending: ((r: QmpReply) => void)[] = [];
  readonly #eventWaiters: (() => void)[] = [];
  #closed = false;
  readonly #closedPromise: Promise<void>;

  private constructor(sock: Socket, greeting: Record<string, unknown>, rest: JsonStream) {
    this.#sock = sock;
    this.greeting = greeting;
    this.#closedPromise = new Promise((r) => sock.once('close', () => r()));
    sock.on('data', (chunk: string) => {
      for (const item of rest.push(chunk)) if (item.ok) this.#message(item.value);
    });
    sock.on('close', () => {
      this.#closed = true;
      for (const p of this.#pending.splice(0)) {
        p({ error: { class: 'Disconnected', desc: 'connection closed' } });
      }
      for (const w of this.#eventWaiters.splice(0)) w();
    });
  }

  /** Connects and reads the greeting (does not negotiate; see negotiate()). */
  static connect(addr: QmpAddress): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const sock = 'path' in addr ? connect(addr.path) : connect(addr.port, addr.host);
      sock.setEncoding('utf8');
      const stream = new JsonStream();
      const onData = (chunk: string) => {
        const items = stream.push(chunk);
        const first = items[0];
        if (first === undefined) return;
        sock.off('data', onData);
        sock.off('error', reject);
        if (!first.ok || typeof first.value !== 'object' || first.value === null) {
          sock.destroy();
          reject(new Error('not a QMP greeting'));
          return;
        }
        const refusal = (first.value as { error?: { desc?: unknown } }).error?.desc;
        if (typeof refusal === 'string') {
          // A server that turns the session away says why in place of the greeting.
          sock.destroy();
          reject(new Error(`QMP session refused: ${refusal}`));
          return;
        }
        const client = new QmpClient(sock, first.value as Record<string, unknown>, stream);
        for (const it of items.slice(1)) if (it.ok) client.#message(it.value);
        resolve(client);
      };
      sock.on('data', onData);
      sock.once('error', reject);
    });
  }

  #message(v: unknown): void {
    const m = v as Record<string, unknown>;
    if (typeof m.event === 'string') {
      this.events.push(m as unknown as QmpEventMessage);
      for (const w of this.#eventWaiters.splice(0)) w();
      return;
    }
    this.#pending.shift()?.(m);
  }

  /** Sends raw text (tests: malformed input); the next reply resolves. */
  sendRaw(text: string): Promise<QmpReply> {
    return new Promise((resolve) => {
      this.#pending.push(resolve);
      this.#sock.write(text);
    });
  }

  /** Sends raw text that produces `n` replies. */
  sendRawMany(text: string, n: number): Promise<QmpReply[]> {
    const replies: Promise<QmpReply>[] = [];
    for (let i = 0; i < n; i++) replies.push(new Promise((r) => this.#pending.push(r)));
    this.#sock.write(text);
    return Promise.all(replies);
  }

  /** Sends a command and resolves with its reply, error or not. */
  request(execute: string, args?: Record<string, unknown>, id?: unknown): Promise<QmpReply> {
    const msg: Record<string, unknown> = { execute };
    if (args !== undefined) msg.arguments = args;
    if (id !== undefined) msg.id = id;
    return this.sendRaw(`${JSON.stringify(msg)}\n`);
  }

  /** qmp_capabilities: leaves negotiation mode (required before other commands). */
  async negotiate(): Promise<void> {
    const r = await this.request('qmp_capabilities');
    if (r.error !== undefined) throw new Error(r.error.desc);
  }

  /** Runs a command; throws an Error with the QMP desc (and `qmpClass`) on an error reply. */
  async execute(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const r = await this.request(execute, args);
    if (r.error !== undefined) {
      throw Object.assign(new Error(r.error.desc), { qmpClass: r.error.class });
    }
    return r.return;
  }

  /** Resolves with the first queued event named `name` (removing it from the queue). */
  async nextEvent(name: string): Promise<QmpEventMessage | undefined> {
    for (;;) {
      const i = this.events.findIndex((e) => e.event === name);
      if (i >= 0) return this.events.splice(i, 1)[0];
      if (this.#closed) return undefined;
      await new Promise<void>((r) => this.#eventWaiters.push(r));
    }
  }

  /** Half-close: no more requests; replies still arrive. */
  endInput(): void {
    this.#sock.end();
  }

  /** Resolves when the connection has closed. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Closes the connection. */
  close(): void {
    this.#sock.destroy();
  }
}
