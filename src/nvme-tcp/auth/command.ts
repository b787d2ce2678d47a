// The command fields of Authentication Send / Receive (NVMe Base Spec 2.0 §6.2, §6.3;
// Fabrics FCTYPE 05h / 06h): SECP, SPSP0, SPSP1 and TL / AL. A wrong value fails the command
// with Invalid Field in Command (DNR), which is an NVMe status and not an authentication
// failure; the target checks them before the payload reaches the state machine, as nvmet does.

import { AUTH_SECP, AUTH_SPSP } from './messages.js';

export interface AuthCommandFields {
  readonly secp: number;
  readonly spsp0: number;
  readonly spsp1: number;
  /** TL (Send) or AL (Receive). */
  readonly length: number;
}

export interface AuthCommandProblem {
  /** The field, as the spec names it. */
  readonly field: 'SECP' | 'SPSP0' | 'SPSP1' | 'TL' | 'AL';
  readonly message: string;
}

/** Undefined when the fields are acceptable; else the first wrong one. */
export function checkAuthCommand(
  kind: 'send' | 'receive',
  f: AuthCommandFields,
  maxLength = 8192,
): AuthCommandProblem | undefined {
  if (f.secp !== AUTH_SECP) {
    return {
      field: 'SECP',
      message: `SECP 0x${f.secp.toString(16)}, expected 0xe9 (NVMe in-band authentication)`,
    };
  }
  if (f.spsp0 !== AUTH_SPSP)
    return { field: 'SPSP0', message: `SPSP0 0x${f.spsp0.toString(16)}, expected 0x01` };
  if (f.spsp1 !== AUTH_SPSP)
    return { field: 'SPSP1', message: `SPSP1 0x${f.spsp1.toString(16)}, expected 0x01` };
  const field = kind === 'send' ? 'TL' : 'AL';
  if (f.length === 0) return { field, message: `${field} is 0` };
  if (f.length > maxLength) return { field, message: `${field} ${f.length} exceeds ${maxLength}` };
  return undefined;
}
