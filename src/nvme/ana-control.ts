// Changing an ANA group's state at run time (docs/multipath.md): the one implementation behind
// the monitor's x-nvmemu-set-ana-state and the scenario step `ana` (the fault kind `ana-state`
// resolves its scope like every fault). The state is set on the controllers of this machine,
// the "port" this nvmemu process is: an nvme device's controller, the controllers of an
// nvme-subsys, or every controller.

import type { Component } from '../machine/registry.js';
import { EmuError, ErrorCode } from '../util/errors.js';
import type { Controller } from './ctrl/controller.js';
import { NvmeDevice, NvmeSubsysDevice } from './index.js';
import { ANA_STATE_NAMES, ANAGRPMAX } from './spec/ana.js';

export interface AnaRequest {
  /** An nvme or nvme-subsys device id; every controller of the machine when absent. */
  readonly id?: string;
  readonly group: number;
  /** optimized, non-optimized, inaccessible, persistent-loss or change. */
  readonly state: string;
  /** Report the change state (ANA Transition) this long first, then `state`. */
  readonly transitionMs?: number;
}

/** Applies `r`; returns the controller IDs it changed. Throws EmuError (nothing changed). */
export function setAnaState(components: readonly Component[], r: AnaRequest): number[] {
  const state = ANA_STATE_NAMES.get(r.state);
  if (state === undefined) {
    throw new EmuError(
      ErrorCode.EMU_ERR_CONFIG,
      `ANA state '${r.state}' is not one of: ${[...ANA_STATE_NAMES.keys()].join(', ')}`,
    );
  }
  if (!Number.isInteger(r.group) || r.group < 1 || r.group > ANAGRPMAX) {
    throw new EmuError(ErrorCode.EMU_ERR_CONFIG, `ANA group must be between 1 and ${ANAGRPMAX}`);
  }
  const ms = r.transitionMs ?? 0;
  // The change state may last at most ANATT (spec/ana.ts): a host waits that long.
  if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) {
    throw new EmuError(ErrorCode.EMU_ERR_CONFIG, 'transition must be between 0 and 10000 ms');
  }
  const ctrls = controllersOf(components, r.id);
  for (const c of ctrls) c.ana.set(r.group, state, ms);
  return ctrls.map((c) => c.cntlid);
}

function controllersOf(components: readonly Component[], id: string | undefined): Controller[] {
  const devs = components.filter((c): c is NvmeDevice => c instanceof NvmeDevice);
  const all = (ds: readonly NvmeDevice[]): Controller[] =>
    ds.flatMap((d) => [d.controller, ...d.secondaryControllers()]);
  if (id === undefined) {
    if (devs.length === 0) throw new EmuError(ErrorCode.EMU_ERR_CONFIG, 'no nvme controller');
    return all(devs);
  }
  const dev = components.find((c) => c.id === id);
  if (dev instanceof NvmeDevice) return [dev.controller];
  if (dev instanceof NvmeSubsysDevice) {
    return all(devs.filter((d) => d.controller.subsys === dev.subsystem));
  }
  throw new EmuError(
    ErrorCode.EMU_ERR_CONFIG,
    dev === undefined
      ? `Device '${id}' not found`
      : `Device '${id}' is not an nvme controller or nvme-subsys`,
  );
}
