// The live view (docs/live-view.md): a web page, `/metrics` and `/api/...` of a running machine.

export { startLiveView, hostPort, type LiveView, type LiveViewOptions } from './server.js';
export { API_ENDPOINTS, type ApiEndpoint } from './api.js';
export { QMP_METRICS } from './metrics.js';
export { BUCKETS, bucketBound, bucketOf, CommandTelemetry } from './telemetry.js';
export { bucketBoundUs, percentileUs } from './figures.js';
export type * from './wire.js';
