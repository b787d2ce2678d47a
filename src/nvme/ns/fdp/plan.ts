// Plan-time placement handles of an `nvme-ns` in an FDP subsystem (reference qemu-nvme.md
// §1.2, §8): `fdp.ruhs` ("0;2;4-7") maps placement handle i to a reclaim unit handle, each
// claimed as host specified; without it placement handle 0 is the subsystem's controller
// specified handle (the first namespace without a list claims the first unused handle).
// Handles of earlier namespaces are derived from their plans, so a failed check claims
// nothing. Messages are QEMU's, including its missing space after "host assigned".

import { ConfigError } from '../../../config/errors.js';
import type { PlanContext, Planned } from '../../../machine/registry.js';
import type { FdpParams } from '../../subsys/fdp-config.js';
import type { RuhAttribute } from './group.js';

/** What a namespace plan records about its placement handles. */
export interface NsFdpPlan {
  /** The subsystem plan's configuration object (the endurance group's key). */
  readonly key: object;
  readonly params: FdpParams;
  /** RUH id per placement handle. */
  readonly phs: readonly number[];
  /** Controller-specified handle (no `fdp.ruhs`). */
  readonly ctrl: boolean;
  readonly lbafi: number;
}

/** Parses `fdp.ruhs`: ';'-separated ids or ranges "a-b" (decimal, 0x hex, 0 octal). */
export function parseRuhs(text: string, nruh: number): number[] {
  const out: number[] = [];
  for (const token of text.split(';')) {
    const m = /^([^-]*)(?:-(.*))?$/.exec(token)!;
    const n = parseUint(m[1]!);
    if (n === undefined)
      throw new ConfigError('cannot parse reclaim unit handle identifier', 'fdp.ruhs');
    let last = n;
    if (m[2] !== undefined) {
      const e = parseUint(m[2]);
      if (e === undefined)
        throw new ConfigError('cannot parse reclaim unit handle identifier', 'fdp.ruhs');
      if (e < n) throw new ConfigError('invalid reclaim unit handle identifier range', 'fdp.ruhs');
      last = e;
    }
    for (let id = n; id <= last; id++) {
      if (out.length === nruh) throw new ConfigError('too many placement handles', 'fdp.ruhs');
      out.push(id);
    }
  }
  return out;
}

/** qemu_strtoui with base 0: decimal, 0x hex or leading-0 octal, whole token, 32 bits. */
function parseUint(s: string): number | undefined {
  const t = s.trim();
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = parseInt(t, 16);
  else if (/^0[0-7]*$/.test(t)) v = parseInt(t, 8);
  else if (/^[1-9][0-9]*$/.test(t)) v = Number(t);
  else return undefined;
  return v <= 0xffff_ffff ? v : undefined;
}

/** Attributes of the subsystem's handles after the earlier namespaces' plans. */
function handleStates(
  key: object,
  params: FdpParams,
  ctx: PlanContext,
): { attr: RuhAttribute; lbafi: number }[] {
  const st: { attr: RuhAttribute; lbafi: number }[] = Array.from({ length: params.nruh }, () => ({
    attr: 'unused',
    lbafi: 0,
  }));
  for (const p of ctx.planned()) {
    const f = fdpPlanOf(p);
    if (f?.key !== key) continue;
    for (const id of f.phs) {
      const s = st[id]!;
      if (s.attr === 'unused') {
        s.attr = f.ctrl ? 'ctrl' : 'host';
        s.lbafi = f.lbafi;
      }
    }
  }
  return st;
}

export function fdpPlanOf(p: Planned): NsFdpPlan | undefined {
  if (p.typeName !== 'nvme-ns') return undefined;
  return (p.config as { fdp?: NsFdpPlan } | undefined)?.fdp;
}

/** nvme_ns_init_fdp at plan time: the namespace's placement handles, or QEMU's error. */
export function planNsFdp(
  key: object,
  params: FdpParams,
  ruhs: string | undefined,
  lbafi: number,
  ctx: PlanContext,
): NsFdpPlan {
  const st = handleStates(key, params, ctx);
  if (ruhs === undefined) {
    let id = st.findIndex((s) => s.attr === 'ctrl');
    if (id >= 0) {
      if (st[id]!.lbafi !== lbafi) {
        throw new ConfigError(
          'lba format index of controller assigned reclaim unit handle does not match namespace lba format index',
        );
      }
    } else {
      id = st.findIndex((s) => s.attr === 'unused');
      if (id < 0) throw new ConfigError('no unused reclaim unit handles left');
    }
    return { key, params, phs: [id], ctrl: true, lbafi };
  }
  const phs = parseRuhs(ruhs, params.nruh);
  for (let i = 0; i < phs.length; i++) {
    for (let j = i + 1; j < phs.length; j++) {
      if (phs[i] === phs[j]) {
        throw new ConfigError(`duplicate reclaim unit handle identifier: ${phs[i]}`, 'fdp.ruhs');
      }
    }
  }
  for (const id of phs) {
    if (id >= params.nruh)
      throw new ConfigError('invalid reclaim unit handle identifier', 'fdp.ruhs');
    const s = st[id]!;
    switch (s.attr) {
      case 'unused':
        break;
      case 'host':
        if (s.lbafi !== lbafi) {
          throw new ConfigError(
            'lba format index of host assignedreclaim unit handle does not match namespace lba format index',
            'fdp.ruhs',
          );
        }
        break;
      case 'ctrl':
        throw new ConfigError('reclaim unit handle is controller assigned', 'fdp.ruhs');
    }
  }
  return { key, params, phs, ctrl: false, lbafi };
}
