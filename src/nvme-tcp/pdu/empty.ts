/** Shared zero-length data for PDUs without data (never written to: it has no bytes). */
export const EMPTY: Uint8Array = new Uint8Array(0);
