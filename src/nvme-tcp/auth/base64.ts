// Strict base64 (RFC 4648 §4, with padding) for the key interchange formats. Buffer.from(s,
// 'base64') skips characters it does not know and accepts missing padding; a key that is
// accepted in a form another implementation rejects would only fail later, on the wire.

import { keyFormatError } from './errors.js';

const ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes canonical padded base64; `what` names the field in the error. */
export function decodeBase64Strict(text: string, what: string): Uint8Array {
  if (text.length % 4 !== 0 || !ALPHABET.test(text)) {
    throw keyFormatError(`${what}: not base64 (RFC 4648 alphabet with '=' padding)`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw keyFormatError(`${what}: not canonical base64 (non-zero bits after the last byte)`);
  }
  return new Uint8Array(bytes);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
