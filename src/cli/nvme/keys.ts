// nvme-cli's key commands (nvme-cli 2.13 output formats; docs/security.md):
//   gen-dhchap-key  [--hmac/-m 0..3] [--secret/-s HEX] [--key-length/-l 32|48|64] [--nqn/-n NQN]
//   check-dhchap-key --key/-k DHHC-1:...
//   gen-tls-key     [--hmac/-m 1|2] [--secret/-s HEX] [--identity/-I 0|1]
//   check-tls-key   --keydata/-d NVMeTLSkey-1:... --subsysnqn/-c NQN [--hostnqn/-n NQN]
//                   [--identity/-I 0|1] [--compat]
// They run locally: no target is contacted (the target options are accepted and ignored).
// The host NQN defaults to /etc/nvme/hostnqn, as nvme-cli's. nvmemu cannot reach the kernel
// keyring, so --insert, --keyring, --keytype and --keyfile are refused with a clear error.
// Errors never echo a secret (nvme-cli's "Invalid secret '%s'" does).

import { readFileSync } from 'node:fs';
import type { CliIo } from '../io.js';
import { genDhchapKey, parseDhchapSecret } from '../../nvme-tcp/auth/secret.js';
import { deriveTlsKey, parseTlsPsk, TlsPsk } from '../../nvme-tcp/tls/psk.js';
import { crc32 } from '../../util/crc.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { num, str, UsageError, type Values } from './options.js';

const HOSTNQN_FILE = '/etc/nvme/hostnqn';

function hostNqnFromFile(): string | undefined {
  try {
    const t = readFileSync(HOSTNQN_FILE, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

/** nvme-cli's --secret: hexadecimal characters, two per byte. */
function hexSecret(v: Values): Uint8Array | undefined {
  const s = str(v, 'secret');
  if (s === undefined) return undefined;
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) {
    throw new UsageError('Invalid secret (expected an even number of hexadecimal characters)');
  }
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function refuseKeyring(v: Values): void {
  for (const o of ['insert', 'keyring', 'keytype', 'keyfile']) {
    if (v[o] !== undefined && v[o] !== false) {
      throw new UsageError(
        `--${o} is not supported: nvmemu has no access to the kernel keyring (give the key to the target and to 'nvme connect --tls-key' instead)`,
      );
    }
  }
}

function identityVersion(v: Values): 0 | 1 {
  const n = num(v, 'identity', 0);
  if (n !== 0 && n !== 1) throw new UsageError(`Invalid TLS identity version ${n}`);
  return n;
}

const keyringOptions = {
  keyring: { type: 'string', short: 'k' },
  keytype: { type: 'string' },
  keyfile: { type: 'string', short: 'f' },
  insert: { type: 'boolean', short: 'i' },
} as const;

export const genDhchapKeyCommand: NvmeSubcommand = {
  name: 'gen-dhchap-key',
  shortS: false,
  options: {
    secret: { type: 'string', short: 's' },
    'key-length': { type: 'string', short: 'l' },
    hmac: { type: 'string', short: 'm' },
  },
  run: (v: Values, io: CliIo) => {
    const hmac = num(v, 'hmac', 0);
    const nqn = str(v, 'nqn') ?? (hmac === 0 ? undefined : hostNqnFromFile());
    const keyLength = num(v, 'key-length', 0);
    const secret = hexSecret(v);
    const key = genDhchapKey({
      hmac,
      keyLength,
      ...(nqn === undefined ? {} : { nqn }),
      ...(secret === undefined ? {} : { secret }),
    });
    io.out(`${key.format()}\n`);
    return Promise.resolve(0);
  },
};

export const checkDhchapKeyCommand: NvmeSubcommand = {
  name: 'check-dhchap-key',
  shortS: true,
  options: { key: { type: 'string', short: 'k' } },
  run: (v: Values, io: CliIo) => {
    const text = str(v, 'key');
    if (text === undefined) throw new UsageError('Key not specified');
    const key = parseDhchapSecret(text);
    const crc = crc32(key.keyBytes()).toString(16).padStart(8, '0');
    io.out(`Key is valid (HMAC ${key.hash}, length ${key.length}, CRC ${crc})\n`);
    return Promise.resolve(0);
  },
};

export const genTlsKeyCommand: NvmeSubcommand = {
  name: 'gen-tls-key',
  shortS: false,
  options: {
    secret: { type: 'string', short: 's' },
    hmac: { type: 'string', short: 'm' },
    identity: { type: 'string', short: 'I' },
    subsysnqn: { type: 'string', short: 'c' },
    ...keyringOptions,
  },
  run: (v: Values, io: CliIo) => {
    refuseKeyring(v);
    const hmac = num(v, 'hmac', 1);
    if (hmac !== 1 && hmac !== 2) throw new UsageError(`Invalid HMAC identifier ${hmac}`);
    identityVersion(v);
    const len = hmac === 2 ? 48 : 32;
    const secret =
      hexSecret(v) ?? Uint8Array.from(globalThis.crypto.getRandomValues(new Uint8Array(len)));
    if (secret.length !== len) throw new UsageError(`Invalid key length (${secret.length} bytes)`);
    io.out(`${new TlsPsk(hmac, secret).format()}\n`);
    return Promise.resolve(0);
  },
};

export const checkTlsKeyCommand: NvmeSubcommand = {
  name: 'check-tls-key',
  shortS: true,
  options: {
    keydata: { type: 'string', short: 'd' },
    subsysnqn: { type: 'string', short: 'c' },
    identity: { type: 'string', short: 'I' },
    compat: { type: 'boolean' },
    ...keyringOptions,
  },
  run: (v: Values, io: CliIo) => {
    refuseKeyring(v);
    const text = str(v, 'keydata');
    if (text === undefined) throw new UsageError('No key data');
    const version = identityVersion(v);
    const psk = parseTlsPsk(text);
    const subsysNqn = str(v, 'subsysnqn');
    if (subsysNqn === undefined) throw new UsageError('Need to specify a subsystem NQN');
    // nvme-cli's -n here is the host NQN; nvmemu's -n (--nqn) lands in the same place.
    const hostNqn = str(v, 'hostnqn') ?? str(v, 'nqn') ?? hostNqnFromFile();
    if (hostNqn === undefined) throw new UsageError('Failed to read host NQN');
    const d = deriveTlsKey(
      psk,
      hostNqn,
      subsysNqn,
      version,
      v.compat === true ? 'libnvme-compat' : 'rfc8446',
    );
    d.key.fill(0);
    io.out(`${d.identity}\n`);
    return Promise.resolve(0);
  },
};

export const KEY_COMMANDS: readonly NvmeSubcommand[] = [
  genDhchapKeyCommand,
  checkDhchapKeyCommand,
  genTlsKeyCommand,
  checkTlsKeyCommand,
];
