// `-qmp SPEC` / `-monitor SPEC`: the subset of QEMU's character-device syntax a monitor needs
// (QEMU qemu-options.hx, chardev/char-socket.c). Parsed with the keyval grammar, with
// QemuOpts' short-form booleans (`server,nowait`) as QEMU 7.2 still accepts them:
//
//   unix:PATH[,server=on][,wait=on|off][,x-max-sessions=N][,x-max-message-size=BYTES]
//   tcp:HOST:PORT[,server=on][,wait=on|off][,nodelay=on|off][,x-allow-remote=on][,x-max-...]
//   stdio | none
//
// nvmemu only listens (server=on); `wait` defaults to on as in QEMU: start-up then waits for
// the first client. A tcp monitor is a remote control of the host's files, so hosts other
// than loopback are refused unless `x-allow-remote=on` says the user means it.
// `x-max-sessions` and `x-max-message-size` override the endpoint's limits (limits.ts).

import { ConfigError } from '../config/errors.js';
import { parseBool } from '../config/numbers.js';
import { flattenKeyval, parseKeyval } from '../config/keyval.js';

/** Per-endpoint overrides of the monitor limits (limits.ts); absent means the default. */
export interface ChardevLimits {
  readonly maxSessions?: number;
  readonly maxMessageBytes?: number;
}

export type ChardevSpec =
  | ({ readonly kind: 'unix'; readonly path: string; readonly wait: boolean } & ChardevLimits)
  | ({
      readonly kind: 'tcp';
      readonly host: string;
      readonly port: number;
      readonly wait: boolean;
    } & ChardevLimits)
  | { readonly kind: 'stdio' }
  | { readonly kind: 'none' };

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/;

/** Parses one spec; `option` is `-qmp` or `-monitor` (message prefix). */
export function parseChardev(option: string, text: string): ChardevSpec {
  const location = `${option} ${text}`;
  const fail = (message: string, property?: string): ConfigError =>
    new ConfigError(message, property, location);
  let values: Map<string, string>;
  try {
    values = flattenKeyval(parseKeyval(text, { impliedKey: 'backend', bareKeysAreOn: true }).tree);
  } catch (e) {
    if (e instanceof ConfigError) e.location = location;
    throw e;
  }
  const target = values.get('backend') ?? '';
  values.delete('backend');
  const flag = (name: string, dflt: boolean): boolean => {
    const v = values.get(name);
    values.delete(name);
    if (v === undefined) return dflt;
    const b = parseBool(v);
    if (b === undefined) throw fail(`Parameter '${name}' expects 'on' or 'off'`, name);
    return b;
  };
  if (target === 'stdio' || target === 'none') {
    if (values.size > 0) throw fail(`Invalid parameter '${[...values.keys()][0] ?? ''}'`);
    return { kind: target };
  }
  const colon = target.indexOf(':');
  const backend = colon < 0 ? target : target.slice(0, colon);
  const rest = colon < 0 ? '' : target.slice(colon + 1);
  if (backend !== 'unix' && backend !== 'tcp') {
    throw fail(`chardev: '${backend}' is not supported by nvmemu (use unix:, tcp:, stdio or none)`);
  }
  const server = flag('server', false);
  const wait = flag('wait', true);
  flag('nodelay', false); // TCP_NODELAY is always on for monitor sockets
  flag('telnet', false);
  const allowRemote = flag('x-allow-remote', false);
  const limits: { maxSessions?: number; maxMessageBytes?: number } = {};
  const count = (name: string, min: number, max: number): number | undefined => {
    const v = values.get(name);
    values.delete(name);
    if (v === undefined) return undefined;
    const n = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) {
      throw fail(`Parameter '${name}' expects an integer from ${min} to ${max}`, name);
    }
    return n;
  };
  const sessions = count('x-max-sessions', 1, 1024);
  if (sessions !== undefined) limits.maxSessions = sessions;
  // 64 bytes is enough for `{"execute": "qmp_capabilities"}`; 64 MiB is QEMU's own cap.
  const bytes = count('x-max-message-size', 64, 64 << 20);
  if (bytes !== undefined) limits.maxMessageBytes = bytes;
  if (values.size > 0) throw fail(`Invalid parameter '${[...values.keys()][0] ?? ''}'`);
  if (!server) {
    throw fail('nvmemu monitors only listen: add server=on (client mode is not supported)');
  }
  if (backend === 'unix') {
    if (rest === '') throw fail('chardev: socket: no path given', 'path');
    return { kind: 'unix', path: rest, wait, ...limits };
  }
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(rest);
  if (m === null) throw fail(`address '${rest}' is not HOST:PORT`, 'port');
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535) throw fail(`port ${port} is out of range`, 'port');
  if (!LOOPBACK.test(host) && !allowRemote) {
    throw fail(
      `refusing to listen on '${host === '' ? '*' : host}': a monitor controls host files; ` +
        'use a loopback address (127.0.0.1) or add x-allow-remote=on',
      'host',
    );
  }
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port, wait, ...limits };
}
