// Public surface of the PDU codecs (one import point for the target and host).
export * from './types.js';
export { encodePdu, parsePdu, parsePduHeader, completePdu, pduData } from './codec.js';
export type { EncodeOptions } from './codec.js';
export { checkCommonHeader, readCommonHeader, alignedPdo } from './header.js';
export type { CommonHeader, FrameLayout } from './header.js';
export { sqeCid, cqeCid, SQE_LEN, CQE_LEN } from './capsule.js';
export { IcOff } from './ic.js';
export { TermOff } from './term.js';
export { DataOff, R2tOff } from './data.js';
