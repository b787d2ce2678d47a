// NVMe in-band authentication (DH-HMAC-CHAP, NVMe Base Spec 2.0 §8.13, TP 8006/8010):
// transport-independent, no I/O. See docs/security.md.
export { DhchapSecret, parseDhchapSecret, genDhchapKey, allowedKeyLengths } from './secret.js';
export type { KeyHash, GenDhchapKeyOptions } from './secret.js';
export { HASHES, hashIdFromName, isHashId, digest, hmac } from './hash.js';
export type { HashId } from './hash.js';
export {
  DH_GROUPS,
  dhGroupIdFromName,
  isDhGroupId,
  dhPrime,
  dhKeyPair,
  checkPublicValue,
} from './dh.js';
export type { DhGroupId, DhKeyPair } from './dh.js';
export * from './messages.js';
export { decodeMessage } from './decode.js';
export type { Decoded } from './decode.js';
export {
  hostResponse,
  controllerResponse,
  augmentedChallenge,
  sessionKey,
  generatedPsk,
} from './response.js';
export type { ResponseInput } from './response.js';
export { ControllerAuth } from './controller-auth.js';
export type {
  ControllerAuthConfig,
  ControllerAuthState,
  ReceiveResult,
} from './controller-auth.js';
export { HostAuth, HOST_RECEIVE_LENGTH } from './host-auth.js';
export type { HostAuthConfig, HostAuthState, HostStep, HostOutcome } from './host-auth.js';
export { describeFailure, describeNegotiated, explainFailure } from './common.js';
export type { AuthFailure, Negotiated, RandomSource } from './common.js';
export { AuthError, AuthErrorCode } from './errors.js';
export { checkAuthCommand } from './command.js';
export type { AuthCommandFields, AuthCommandProblem } from './command.js';
