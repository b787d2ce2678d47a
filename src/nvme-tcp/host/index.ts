// NVMe/TCP host library: public surface. See docs/nvme-tcp.md for the API guide.
export {
  NvmeTcpController,
  DEFAULT_HOSTNQN,
  DEFAULT_IO_PORT,
  DEFAULT_DISCOVERY_PORT,
  connectData,
} from './controller.js';
export type { ConnectOptions } from './controller.js';
export { HostQueue, buildSqe } from './queue.js';
export type { CommandInit, CommandOptions, CommandResult, QueueOptions } from './queue.js';
export { discover, readDiscoveryLog, getLogPageInit } from './discovery.js';
export type { DiscoverOptions } from './discovery.js';
export { HostErrorCode, NvmeTcpError, NvmeStatusError } from './errors.js';
export type { HostErrorCodeName } from './errors.js';
export { statusNameFor, FabricsType, FABRICS_OPCODE } from './status-names.js';
export {
  NvmeAuthError,
  AUTHREQ_ATR,
  AUTHREQ_ASCR,
  authenticateQueue,
  tlsCredentials,
} from './auth.js';
export type { DhchapOptions, TlsOptions } from './auth.js';
export type { StatusContext } from './status-names.js';
