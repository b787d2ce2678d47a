// Errors of the authentication and key libraries (DESIGN.md rule 8: stable `code`s). Their
// messages never contain key material: they name the field and the rule it broke.

import { EmuError } from '../../util/errors.js';

export const AuthErrorCode = {
  /** A DHHC-1 secret or NVMe TLS PSK text is malformed (header, base64, length, CRC). */
  KEY_FORMAT: 'NVME_AUTH_KEY_FORMAT',
  /** An argument to a key function is out of range (hash id, key length, NQN). */
  USAGE: 'NVME_AUTH_USAGE',
} as const;
export type AuthErrorCodeName = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

export class AuthError extends EmuError {
  declare readonly code: AuthErrorCodeName;
  constructor(code: AuthErrorCodeName, message: string) {
    super(code, message);
  }
}

export const keyFormatError = (message: string): AuthError =>
  new AuthError(AuthErrorCode.KEY_FORMAT, message);
export const usageError = (message: string): AuthError =>
  new AuthError(AuthErrorCode.USAGE, message);
