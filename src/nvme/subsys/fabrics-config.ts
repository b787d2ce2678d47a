// The nvme-subsys properties of the NVMe/TCP target (nvmemu extensions; docs/security.md):
//
//   x-hosts=h1:h2     the hosts allowed to connect, as ids of `-object x-nvmemu-host` objects
//                     (nvmet's allowed_hosts); absent: any host, and nobody authenticates
//   x-auth=auto       hosts with a dhchap-secret authenticate (nvmet's rule: AUTHREQ.ATR in the
//                     Connect response); `required`: every listed host must have one (checked
//                     here); `off`: keys are ignored, nobody authenticates
//
// The host objects belong to the NVMe/TCP layer (nvme-tcp/config), above this one: the check
// sees their plans through FabricsHostPlan, which that layer's plans implement.

import { ConfigError } from '../../config/errors.js';
import type { PropDef, Props } from '../../config/schema.js';
import type { PlanContext } from '../../machine/registry.js';

export const HOST_OBJECT_TYPE = 'x-nvmemu-host';

export type SubsysAuthMode = 'auto' | 'required' | 'off';

export const FABRICS_SUBSYS_PROPS: readonly PropDef[] = [
  { name: 'x-hosts', type: { kind: 'str' }, description: 'x-nvmemu-host ids, colon separated' },
  {
    name: 'x-auth',
    type: { kind: 'enum', values: ['auto', 'required', 'off'] },
    default: 'auto',
    description: 'DH-HMAC-CHAP for hosts with a dhchap-secret',
  },
];

/** What an `-object x-nvmemu-host` plan shows the subsystem check. */
export interface FabricsHostPlan {
  readonly nqn: string;
  /** A dhchap-secret is configured. */
  readonly dhchap: boolean;
}

/** The target's view of the subsystem: allowed hosts (object ids) and the authentication mode. */
export interface SubsysFabricsConfig {
  readonly hosts: readonly string[] | undefined;
  readonly auth: SubsysAuthMode;
}

/** Checks x-hosts / x-auth against the host objects planned before; undefined when unused. */
export function checkFabricsSubsys(
  props: Props,
  ctx: PlanContext,
): SubsysFabricsConfig | undefined {
  const list = props.str('x-hosts');
  const auth = (props.str('x-auth') ?? 'auto') as SubsysAuthMode;
  if (list === undefined) {
    if (auth === 'required') {
      throw new ConfigError('x-auth=required needs x-hosts (the hosts and their keys)', 'x-auth');
    }
    return props.given.has('x-auth') ? { hosts: undefined, auth } : undefined;
  }
  const ids = list.split(':');
  const nqns = new Map<string, string>();
  for (const id of ids) {
    const plan = id === '' ? undefined : ctx.lookup(id, 'object');
    if (plan?.typeName !== HOST_OBJECT_TYPE) {
      throw new ConfigError(
        `x-hosts: '${id}' is not an ${HOST_OBJECT_TYPE} object (declare it first with ` +
          `-object ${HOST_OBJECT_TYPE},id=${id || 'ID'},nqn=HOSTNQN)`,
        'x-hosts',
      );
    }
    const host = plan.config as FabricsHostPlan;
    const twin = nqns.get(host.nqn);
    if (twin !== undefined) {
      throw new ConfigError(`x-hosts: '${twin}' and '${id}' have the same nqn`, 'x-hosts');
    }
    nqns.set(host.nqn, id);
    if (auth === 'required' && !host.dhchap) {
      throw new ConfigError(
        `x-auth=required: host '${id}' has no dhchap-secret (every listed host must authenticate)`,
        'x-auth',
      );
    }
  }
  return { hosts: ids, auth };
}
