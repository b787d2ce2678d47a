// Argument checking for the monitor's own commands, worded as QEMU's QObject input visitor
// words it: members in declaration order ("Parameter 'id' is missing", "Invalid parameter
// type for 'id', expected: string"), then leftovers ("Parameter 'x' is unexpected"). Commands
// that take device or object properties check those against the shared property schemas
// instead (config/schema.ts); they declare `open: true` here.

import { genericError } from './errors.js';

export type ArgType = 'string' | 'integer' | 'boolean' | 'any';

export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  readonly optional?: boolean;
}

export type Args = Readonly<Record<string, unknown>>;

function typeOk(type: ArgType, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'any':
      return true;
  }
}

/** Throws a GenericError for the first problem, before the command has any side effect. */
export function checkArgs(specs: readonly ArgSpec[], args: Args, open = false): void {
  for (const s of specs) {
    const v = args[s.name];
    if (v === undefined) {
      if (s.optional === true) continue;
      throw genericError(`Parameter '${s.name}' is missing`);
    }
    if (!typeOk(s.type, v)) {
      throw genericError(`Invalid parameter type for '${s.name}', expected: ${s.type}`);
    }
  }
  if (open) return;
  for (const key of Object.keys(args)) {
    if (!specs.some((s) => s.name === key)) throw genericError(`Parameter '${key}' is unexpected`);
  }
}
