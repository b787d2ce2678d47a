// The device and object registry: every `-object TYPE` and `-device TYPE` is one entry here
// (the component contract is config/component.ts).

import type { ComponentType } from '../config/component.js';

export type {
  Component,
  ComponentKind,
  ComponentType,
  HostProbe,
  MachineSettings,
  PlanContext,
  Planned,
  RealizeContext,
} from '../config/component.js';

const types = new Map<string, ComponentType>();

/** Registers a type; each type module calls this once from its registration function. */
export function registerType(t: ComponentType): void {
  const key = `${t.kind}:${t.schema.typeName}`;
  if (types.has(key)) throw new Error(`type ${key} registered twice`);
  types.set(key, t);
}

export function findType(kind: 'object' | 'device', typeName: string): ComponentType | undefined {
  return types.get(`${kind}:${typeName}`);
}

export function listTypes(kind: 'object' | 'device'): ComponentType[] {
  return [...types.values()]
    .filter((t) => t.kind === kind)
    .sort((a, b) => a.schema.typeName.localeCompare(b.schema.typeName));
}
