// One QMP client (QEMU docs/interop/qmp-spec.rst): greeting, capabilities negotiation, then
// commands and asynchronous events. Requests from one client run in order; a malformed
// request is answered with an error and the session goes on. A client that half-closes its
// side still gets every answer, then the server closes its side. A message longer than the
// endpoint's cap is answered with one error and skipped; the next message parses normally
// (json.ts, limits.ts).

import type { Duplex } from 'node:stream';
import { QmpError } from './errors.js';
import { JsonStream, qmpStringify, type StreamItem } from './json.js';
import { DEFAULT_QMP_MESSAGE_BYTES } from './limits.js';
import { QEMU_VERSION, type Monitor, type QmpEvent } from './monitor.js';

type Reply = Record<string, unknown>;

export interface QmpSessionOptions {
  /** Longest request accepted, in bytes (default DEFAULT_QMP_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  /** The endpoint, for log lines (`unix:/path`, `tcp:127.0.0.1:4444`, `stdio`). */
  readonly endpoint?: string;
}

export class QmpSession {
  readonly #monitor: Monitor;
  readonly #sock: Duplex;
  readonly #stream: JsonStream;
  #negotiated = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #unsubscribe: () => void;

  constructor(monitor: Monitor, sock: Duplex, opts: QmpSessionOptions = {}) {
    this.#monitor = monitor;
    this.#sock = sock;
    const max = opts.maxMessageBytes ?? DEFAULT_QMP_MESSAGE_BYTES;
    this.#stream = new JsonStream(max);
    sock.setEncoding('utf8');
    this.#send({
      QMP: {
        version: { qemu: { ...QEMU_VERSION }, package: `nvmemu ${monitor.hooks.version}` },
        capabilities: ['oob'],
      },
    });
    this.#unsubscribe = monitor.onEvent((e) => this.#event(e));
    sock.on('data', (chunk: string) => {
      for (const item of this.#stream.push(chunk)) {
        if (!item.ok && item.oversized === true) {
          monitor.counters.oversizedMessages++;
          monitor.log(
            `monitor ${opts.endpoint ?? 'QMP'}: dropped a QMP message longer than ${max} bytes (x-max-message-size)`,
          );
        }
        this.#chain = this.#chain.then(() => this.#handle(item));
      }
    });
    sock.on('end', () => {
      // Half-close: answer what was asked, then close our side.
      void this.#chain.then(() => sock.end());
    });
    sock.on('close', () => this.#unsubscribe());
    sock.on('error', () => sock.destroy());
  }

  #send(msg: unknown): void {
    if (this.#sock.writable) this.#sock.write(`${qmpStringify(msg)}\n`);
  }

  #event(e: QmpEvent): void {
    // Events go to negotiated sessions only (QEMU: not in capabilities-negotiation mode).
    if (this.#negotiated) this.#send(e);
  }

  async #handle(item: StreamItem): Promise<void> {
    if (!item.ok) {
      this.#send({ error: { class: 'GenericError', desc: item.error } });
      return;
    }
    const req = item.value;
    if (typeof req !== 'object' || req === null || Array.isArray(req)) {
      this.#send({ error: { class: 'GenericError', desc: 'QMP input must be a JSON object' } });
      return;
    }
    const obj = req as Record<string, unknown>;
    const hasId = 'id' in obj;
    const withId = (r: Reply): Reply => (hasId ? { ...r, id: obj.id } : r);
    const fail = (cls: string, desc: string) => this.#send(withId({ error: { class: cls, desc } }));
    // qmp_dispatch_check_obj: member by member, id first when answering.
    for (const [k, v] of Object.entries(obj)) {
      let problem: string | undefined;
      if (k === 'execute' || k === 'exec-oob') {
        if (typeof v !== 'string') problem = `QMP input member '${k}' must be a string`;
      } else if (k === 'arguments') {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          problem = `QMP input member 'arguments' must be an object`;
        }
      } else if (k !== 'id') {
        problem = `QMP input member '${k}' is unexpected`;
      }
      if (problem !== undefined) {
        this.#send(
          hasId
            ? { id: obj.id, error: { class: 'GenericError', desc: problem } }
            : {
                error: { class: 'GenericError', desc: problem },
              },
        );
        return;
      }
    }
    const oob = 'exec-oob' in obj;
    if (oob && 'execute' in obj) {
      fail('GenericError', `QMP input member 'exec-oob' is unexpected`);
      return;
    }
    const name = (obj.execute ?? obj['exec-oob']) as string | undefined;
    if (name === undefined) {
      fail('GenericError', `QMP input lacks member 'execute'`);
      return;
    }
    const args = (obj.arguments ?? {}) as Record<string, unknown>;
    if (!this.#negotiated) {
      if (name !== 'qmp_capabilities') {
        fail('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'");
        return;
      }
      const problem = capabilitiesProblem(args);
      if (problem !== undefined) {
        fail('GenericError', problem);
        return;
      }
      this.#negotiated = true;
      this.#send(withId({ return: {} }));
      return;
    }
    if (name === 'qmp_capabilities') {
      fail('CommandNotFound', 'Capabilities negotiation is already complete, command ignored');
      return;
    }
    if (oob) {
      // None of nvmemu's commands is safe to run out of band.
      fail(
        this.#monitor.has(name) ? 'GenericError' : 'CommandNotFound',
        this.#monitor.has(name)
          ? `The command ${name} does not support OOB`
          : `The command ${name} has not been found`,
      );
      return;
    }
    try {
      const result = await this.#monitor.execute(name, args);
      this.#send(withId({ return: result ?? {} }));
    } catch (e) {
      const q = e instanceof QmpError ? e : new QmpError('GenericError', String(e));
      fail(q.errorClass, q.message);
    }
  }
}

/** qmp_capabilities {enable?: ['oob']}; QEMU 7.2 names a bad list element 'null'. */
function capabilitiesProblem(args: Record<string, unknown>): string | undefined {
  for (const k of Object.keys(args)) {
    if (k !== 'enable') return `Parameter '${k}' is unexpected`;
  }
  const en = args.enable;
  if (en === undefined) return undefined;
  if (!Array.isArray(en)) return `Invalid parameter type for 'enable', expected: array`;
  for (const v of en as unknown[]) {
    if (typeof v !== 'string') return `Invalid parameter type for 'null', expected: string`;
    if (v !== 'oob') return `Parameter 'null' does not accept value '${v}'`;
  }
  return undefined;
}
