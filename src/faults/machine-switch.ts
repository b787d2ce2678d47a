// `nvmemu run` across power cuts: the monitor and the NVMe/TCP target outlive the machine that
// a cut replaces. MachineSwitch is the MachineView both hold (it forwards to the current
// machine). The old machine's controllers were removed with it, which ended their
// associations, so hosts reconnect as after a real power loss of the target.

import type { Machine } from '../machine/machine.js';
import type { ComponentKind } from '../machine/registry.js';
import type { RawValue, Front } from '../config/schema.js';

export class MachineSwitch {
  constructor(public current: Machine) {}

  get settings(): Machine['settings'] {
    return this.current.settings;
  }
  get state(): Machine['state'] {
    return this.current.state;
  }
  plans(): ReturnType<Machine['plans']> {
    return this.current.plans();
  }
  components(): ReturnType<Machine['components']> {
    return this.current.components();
  }
  component(id: string, kind?: ComponentKind): ReturnType<Machine['component']> {
    return this.current.component(id, kind);
  }
  add(
    kind: ComponentKind,
    values: ReadonlyMap<string, RawValue>,
    front: Front,
    location: string,
  ): ReturnType<Machine['add']> {
    return this.current.add(kind, values, front, location);
  }
  remove(kind: ComponentKind, id: string): ReturnType<Machine['remove']> {
    return this.current.remove(kind, id);
  }
}
