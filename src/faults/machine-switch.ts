// `nvmemu run` across power cuts: the monitor and the NVMe/TCP target outlive the machine that
// a cut replaces. MachineSwitch is the MachineView the monitor holds (it forwards to the
// current machine); rewireNvmeTcp points the target at the new controllers and drops the old
// associations, so hosts reconnect as after a real power loss of the target.

import type { Machine } from '../machine/machine.js';
import type { ComponentKind } from '../machine/registry.js';
import type { RawValue, Front } from '../config/schema.js';
import { machineSubsystems } from '../nvme-tcp/target/machine.js';
import type { TcpTarget } from '../nvme-tcp/target/port.js';

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
  remove(kind: ComponentKind, id: string): Promise<void> {
    return this.current.remove(kind, id);
  }
}

/** Serves `machine`'s subsystems on `target` instead of the old ones; old connections drop. */
export function rewireNvmeTcp(target: TcpTarget, machine: Machine): void {
  for (const s of machineSubsystems(machine).subsystems) target.fabrics.addSubsystem(s);
  for (const c of target.connections) c.socket.destroy();
}
