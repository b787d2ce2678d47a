// The `nvmemu/monitor` entry point: a QMP client for a running `nvmemu run` (or QEMU)
// (docs/monitor.md).

export {
  QmpClient,
  type QmpAddress,
  type QmpEventMessage,
  type QmpReply,
} from '../monitor/client.js';
