// The `nvmemu/nvme-tcp` entry point: the NVMe/TCP host library (docs/nvme-tcp.md) — connect to
// any NVMe/TCP target (nvmemu's, or Linux nvmet), submit commands, read the discovery log.

export * from '../nvme-tcp/host/index.js';
