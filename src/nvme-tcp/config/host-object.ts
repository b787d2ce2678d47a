// `-object x-nvmemu-host`: one host as the NVMe/TCP target knows it (docs/security.md), the
// counterpart of nvmet's /sys/kernel/config/nvmet/hosts/<hostnqn> with its dhchap_key,
// dhchap_ctrl_key, dhchap_hash and dhchap_dhgroup — and a TLS PSK. Subsystems name the hosts
// they allow with `x-hosts=` (nvme/subsys/fabrics-config.ts).
//
//   -object secret,id=h1-key,file=/etc/nvmemu/h1.dhchap
//   -object x-nvmemu-host,id=h1,nqn=nqn.2014-08.org.nvmexpress:uuid:...,dhchap-secret=h1-key
//
// The key texts come from `secret` objects (machine/secret.ts) and are parsed when the host is
// realized: a malformed key fails the machine with a message naming the property and the
// secret object, never the key (the parsers' messages name the part that is wrong).

import { ConfigError } from '../../config/errors.js';
import type { Props, TypeSchema } from '../../config/schema.js';
import type {
  Component,
  ComponentType,
  PlanContext,
  Planned,
  RealizeContext,
} from '../../machine/registry.js';
import { secretOf } from '../../machine/secret.js';
import { HOST_OBJECT_TYPE, type FabricsHostPlan } from '../../nvme/subsys/fabrics-config.js';
import { parseDhchapSecret, type DhchapSecret } from '../auth/secret.js';
import { hashIdFromName, HASHES, type HashId } from '../auth/hash.js';
import { dhGroupIdFromName, DH_GROUPS, type DhGroupId } from '../auth/dh.js';
import { ALL_DH_GROUPS, ALL_HASHES } from '../auth/common.js';
import { parseTlsPsk, type PskDerivation, type TlsPsk } from '../tls/psk.js';
import { tlsPskProblem } from '../tls/node-psk.js';

/** NQNs are at most 223 bytes (NVMe Base Spec 2.0 §4.5). */
const MAX_NQN_BYTES = 223;

export const HOST_OBJECT_SCHEMA: TypeSchema = {
  typeName: HOST_OBJECT_TYPE,
  kind: 'object',
  reserved: ['id', 'qom-type'],
  props: [
    { name: 'nqn', type: { kind: 'str' }, description: 'host NQN' },
    { name: 'dhchap-secret', type: { kind: 'str' }, description: "secret id: the host's key" },
    {
      name: 'dhchap-ctrl-secret',
      type: { kind: 'str' },
      description: "secret id: the controller's key (bidirectional)",
    },
    {
      name: 'dhchap-hashes',
      type: { kind: 'str' },
      default: 'sha256:sha384:sha512',
      description: 'hashes the controller accepts, preferred first',
    },
    {
      name: 'dhchap-dhgroups',
      type: { kind: 'str' },
      default: 'null:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192',
      description: 'DH groups the controller accepts, preferred first',
    },
    { name: 'tls-psk', type: { kind: 'str' }, description: 'secret id: configured TLS PSK' },
    {
      name: 'tls-psk-derivation',
      type: { kind: 'enum', values: ['rfc8446', 'libnvme-compat'] },
      default: 'rfc8446',
      description: "the host's TLS PSK derivation (libnvme-compat: nvme-cli <= 2.15)",
    },
  ],
};

/** The checked host: the secrets by id (read at realize). */
export interface HostObjectPlan extends FabricsHostPlan {
  readonly id: string;
  readonly dhchapSecret?: string;
  readonly dhchapCtrlSecret?: string;
  readonly hashes: readonly HashId[];
  readonly dhGroups: readonly DhGroupId[];
  readonly tlsPsk?: string;
  readonly derivation: PskDerivation;
}

function nameList<T>(
  text: string,
  property: string,
  parse: (name: string) => T | undefined,
  valid: string,
): T[] {
  const out: T[] = [];
  for (const name of text.split(':')) {
    const v = parse(name);
    if (v === undefined) {
      throw new ConfigError(`${property}: '${name}' is not one of ${valid}`, property);
    }
    if (out.includes(v)) throw new ConfigError(`${property}: '${name}' is listed twice`, property);
    out.push(v);
  }
  return out;
}

function secretRef(props: Props, name: string, ctx: PlanContext): string | undefined {
  const id = props.str(name);
  if (id === undefined) return undefined;
  if (ctx.lookup(id, 'object')?.typeName !== 'secret') {
    throw new ConfigError(
      `${name}: no secret object '${id}' (declare it first with -object secret,id=${id},file=PATH)`,
      name,
    );
  }
  return id;
}

export function checkHostObject(props: Props, id: string, ctx: PlanContext): HostObjectPlan {
  const nqn = props.str('nqn');
  if (nqn === undefined || nqn === '') throw new ConfigError("Parameter 'nqn' is missing", 'nqn');
  if (Buffer.byteLength(nqn) > MAX_NQN_BYTES || /\s/.test(nqn)) {
    throw new ConfigError(`nqn: an NQN is at most ${MAX_NQN_BYTES} bytes, without spaces`, 'nqn');
  }
  const dhchapSecret = secretRef(props, 'dhchap-secret', ctx);
  const dhchapCtrlSecret = secretRef(props, 'dhchap-ctrl-secret', ctx);
  if (dhchapCtrlSecret !== undefined && dhchapSecret === undefined) {
    throw new ConfigError(
      'dhchap-ctrl-secret needs dhchap-secret (the controller authenticates to a host that did)',
      'dhchap-ctrl-secret',
    );
  }
  const hashes = nameList(
    props.str('dhchap-hashes') ?? '',
    'dhchap-hashes',
    hashIdFromName,
    ALL_HASHES.map((h) => HASHES[h].node).join(', '),
  );
  const dhGroups = nameList(
    props.str('dhchap-dhgroups') ?? '',
    'dhchap-dhgroups',
    dhGroupIdFromName,
    ALL_DH_GROUPS.map((g) => DH_GROUPS[g].name).join(', '),
  );
  const tlsPsk = secretRef(props, 'tls-psk', ctx);
  return {
    id,
    nqn,
    dhchap: dhchapSecret !== undefined,
    hashes,
    dhGroups,
    derivation: props.str('tls-psk-derivation') === 'libnvme-compat' ? 'libnvme-compat' : 'rfc8446',
    ...(dhchapSecret !== undefined ? { dhchapSecret } : {}),
    ...(dhchapCtrlSecret !== undefined ? { dhchapCtrlSecret } : {}),
    ...(tlsPsk !== undefined ? { tlsPsk } : {}),
  };
}

/** The DH-HMAC-CHAP configuration of a host (the controller side's view). */
export interface HostDhchap {
  readonly hostSecret: DhchapSecret;
  readonly ctrlSecret?: DhchapSecret;
  readonly hashes: readonly HashId[];
  readonly dhGroups: readonly DhGroupId[];
}

/** The TLS configuration of a host. */
export interface HostTls {
  readonly psk: TlsPsk;
  readonly derivation: PskDerivation;
}

/** A realized host. Its keys never print (DhchapSecret and TlsPsk redact themselves). */
export class FabricsHost implements Component {
  readonly typeName = HOST_OBJECT_TYPE;
  constructor(
    readonly id: string,
    readonly nqn: string,
    readonly dhchap: HostDhchap | undefined,
    readonly tls: HostTls | undefined,
  ) {}

  close(): Promise<void> {
    return Promise.resolve();
  }

  describe(): string {
    const parts: string[] = [];
    if (this.dhchap !== undefined) {
      parts.push(
        this.dhchap.ctrlSecret !== undefined ? 'DH-HMAC-CHAP bidirectional' : 'DH-HMAC-CHAP',
      );
    }
    if (this.tls !== undefined) parts.push(`TLS PSK (${this.tls.derivation})`);
    return `${HOST_OBJECT_TYPE} '${this.id}' ${this.nqn}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
  }
}

/** Parses a key of a realized secret; the error names the property and the secret object. */
function parseKey<T>(
  ctx: RealizeContext,
  id: string,
  property: string,
  parse: (text: string) => T,
): T {
  const secret = secretOf(ctx, id, property);
  try {
    return parse(secret.text());
  } catch (e) {
    throw new ConfigError(`${property}: secret '${id}': ${(e as Error).message}`, property);
  }
}

export function realizeHostObject(plan: HostObjectPlan, ctx: RealizeContext): FabricsHost {
  let dhchap: HostDhchap | undefined;
  if (plan.dhchapSecret !== undefined) {
    const hostSecret = parseKey(ctx, plan.dhchapSecret, 'dhchap-secret', parseDhchapSecret);
    const ctrlSecret =
      plan.dhchapCtrlSecret === undefined
        ? undefined
        : parseKey(ctx, plan.dhchapCtrlSecret, 'dhchap-ctrl-secret', parseDhchapSecret);
    dhchap = {
      hostSecret,
      hashes: plan.hashes,
      dhGroups: plan.dhGroups,
      ...(ctrlSecret !== undefined ? { ctrlSecret } : {}),
    };
  }
  let tls: HostTls | undefined;
  if (plan.tlsPsk !== undefined) {
    const psk = parseKey(ctx, plan.tlsPsk, 'tls-psk', parseTlsPsk);
    // What Node's TLS cannot serve is refused here, never accepted and failed at handshake.
    const problem = tlsPskProblem(psk.cipherHash);
    if (problem !== undefined) throw new ConfigError(`tls-psk: ${problem}`, 'tls-psk');
    tls = { psk, derivation: plan.derivation };
  }
  return new FabricsHost(plan.id, plan.nqn, dhchap, tls);
}

export const HOST_OBJECT: ComponentType = {
  kind: 'object',
  schema: HOST_OBJECT_SCHEMA,
  description: 'a host of the NVMe/TCP target: its NQN, DH-HMAC-CHAP keys and TLS PSK',
  hotpluggable: false,
  check: (props, id, ctx) => checkHostObject(props, id ?? '', ctx),
  realize: (plan: Planned, ctx: RealizeContext) => {
    try {
      return Promise.resolve(realizeHostObject(plan.config as HostObjectPlan, ctx));
    } catch (e) {
      // Realize errors carry the option (its text has no key: config/redact.ts).
      if (e instanceof ConfigError && e.location === undefined) e.location = plan.location;
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  },
};
