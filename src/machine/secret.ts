// QEMU's `secret` object (crypto/secret.c, qapi/crypto.json SecretProperties): key material
// given inline (`data=`) or, better, in a file only its owner can read (`file=`), optionally
// base64-encoded (`format=base64`). nvmemu's NVMe/TCP target reads DH-HMAC-CHAP secrets and
// TLS PSKs from such objects (docs/security.md); nothing here knows their formats.
//
// A secret never prints: the component's describe(), toString(), JSON and util.inspect show its
// id and length only, the option text in messages has `data=` redacted (config/redact.ts), and
// the monitor's qom-get answers `<redacted>` for `data` (PropDef.sensitive). QEMU's encrypted
// secrets (`keyid=`, `iv=`: a secret decrypted with another secret) are refused, not ignored.

import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ConfigError } from '../config/errors.js';
import type { Props, TypeSchema } from '../config/schema.js';
import type {
  Component,
  ComponentType,
  PlanContext,
  Planned,
  RealizeContext,
} from '../config/component.js';

export const SECRET_SCHEMA: TypeSchema = {
  typeName: 'secret',
  kind: 'object',
  reserved: ['id', 'qom-type'],
  props: [
    { name: 'data', type: { kind: 'str' }, description: '', sensitive: true },
    { name: 'file', type: { kind: 'str' }, description: '' },
    {
      name: 'format',
      type: { kind: 'enum', values: ['raw', 'base64'] },
      label: 'QCryptoSecretFormat',
      default: 'raw',
      description: '',
    },
    { name: 'keyid', type: { kind: 'str' }, description: '' },
    { name: 'iv', type: { kind: 'str' }, description: '' },
    { name: 'loaded', type: { kind: 'bool' }, description: '', hidden: true },
  ],
};

/** The checked secret: where its bytes come from. */
export interface SecretPlan {
  readonly id: string | undefined;
  readonly format: 'raw' | 'base64';
  readonly source: { readonly data: string } | { readonly file: string };
}

export function checkSecret(props: Props, id: string | undefined, ctx: PlanContext): SecretPlan {
  for (const name of ['keyid', 'iv'] as const) {
    if (props.has(name)) {
      throw new ConfigError(
        `encrypted secrets ('${name}') are not supported: give the plain secret in a file only ` +
          'the nvmemu user can read (file=PATH)',
        name,
      );
    }
  }
  const data = props.str('data');
  const file = props.str('file');
  if (data !== undefined && file !== undefined) {
    throw new ConfigError("'data' and 'file' are mutually exclusive", 'file');
  }
  if (data === undefined && file === undefined) {
    throw new ConfigError("Either 'data' or 'file' must be provided", 'data');
  }
  const format = props.str('format') === 'base64' ? 'base64' : 'raw';
  if (file !== undefined) {
    const st = ctx.host.stat(file);
    if (st === undefined) {
      throw new ConfigError(`Unable to read ${file}: No such file or directory`, 'file');
    }
    if (st.kind !== 'file') {
      throw new ConfigError(`Unable to read ${file}: not a regular file`, 'file');
    }
    return { id, format, source: { file } };
  }
  return { id, format, source: { data: data ?? '' } };
}

/** A realized secret: its bytes, for the consumer that parses them. */
export class SecretObject implements Component {
  readonly typeName = 'secret';
  readonly id: string | undefined;
  readonly #bytes: Uint8Array;

  constructor(id: string | undefined, bytes: Uint8Array) {
    this.id = id;
    this.#bytes = Uint8Array.from(bytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The secret as UTF-8 text (DHHC-1 and NVMeTLSkey-1 secrets are ASCII). Reveals it. */
  text(): string {
    return Buffer.from(this.#bytes).toString('utf8');
  }

  close(): Promise<void> {
    this.#bytes.fill(0);
    return Promise.resolve();
  }

  describe(): string {
    return `secret '${this.id ?? ''}' (${this.#bytes.length} bytes)`;
  }

  toString(): string {
    return `SecretObject(${this.id ?? ''}: <redacted ${this.#bytes.length} bytes>)`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Reads and decodes a checked secret (QEMU reads the file when the object is completed). */
export function loadSecret(plan: SecretPlan): SecretObject {
  let raw: Buffer;
  if ('file' in plan.source) {
    try {
      raw = readFileSync(plan.source.file);
    } catch (e) {
      throw new ConfigError(
        `Unable to read ${plan.source.file}: ${(e as Error).message}`,
        'file',
        '',
      );
    }
  } else {
    raw = Buffer.from(plan.source.data, 'utf8');
  }
  if (plan.format === 'base64') {
    const text = raw.toString('ascii').trim();
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
      throw new ConfigError('secret: format=base64 but the secret is not base64', 'format', '');
    }
    raw = Buffer.from(text, 'base64');
  }
  const s = new SecretObject(plan.id, raw);
  raw.fill(0);
  return s;
}

export const SECRET_TYPE: ComponentType = {
  kind: 'object',
  schema: SECRET_SCHEMA,
  description: '',
  hotpluggable: true,
  check: (props: Props, id: string | undefined, ctx: PlanContext) => checkSecret(props, id, ctx),
  realize: (plan: Planned, _ctx: RealizeContext) =>
    Promise.resolve(loadSecret(plan.config as SecretPlan)),
};

/** The realized secret object `id`, or a ConfigError naming `property`. */
export function secretOf(ctx: RealizeContext, id: string, property: string): SecretObject {
  const c = ctx.component(id, 'object');
  if (!(c instanceof SecretObject)) {
    throw new ConfigError(`${property}: '${id}' is not a secret object`, property);
  }
  return c;
}
