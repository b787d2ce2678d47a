// Discovery from the host side (reference nvme-tcp.md §2.6): connect to the discovery controller
// (KATO 0), read the log page 70h the way libnvme does — the 20-byte header, then the entries in
// chunks of at most 4 KiB, then the header again, retrying while GENCTR moves — and disconnect.

import { AdminOpc } from '../../nvme/spec/opcodes.js';
import {
  DISC_ENTRY_LEN,
  DISC_HEADER_LEN,
  DISCOVERY_LOG_LID,
  DISCOVERY_NQN,
  decodeDiscoveryEntry,
  decodeDiscoveryHeader,
} from '../discovery.js';
import type { DiscoveryLog } from '../discovery.js';
import { DEFAULT_DISCOVERY_PORT, NvmeTcpController } from './controller.js';
import type { ConnectOptions } from './controller.js';
import { HostErrorCode, NvmeTcpError } from './errors.js';

/** Where `discover` connects (default port 8009) and as which host. */
export type DiscoverOptions = Omit<ConnectOptions, 'subnqn' | 'discovery' | 'ioQueues'> & {
  readonly subnqn?: string;
};

/** Get Log Page command dwords for `len` bytes at byte offset `lpo` (NUMD 0's based). */
export function getLogPageInit(
  lid: number,
  len: number,
  lpo: number,
  opts: { nsid?: number; lsp?: number; rae?: boolean; lsi?: number; csi?: number } = {},
): {
  opcode: number;
  nsid: number;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
} {
  const numd = len / 4 - 1;
  return {
    opcode: AdminOpc.GET_LOG_PAGE,
    nsid: opts.nsid ?? 0,
    cdw10:
      lid | ((opts.lsp ?? 0) << 8) | (opts.rae === true ? 1 << 15 : 0) | ((numd & 0xffff) << 16),
    cdw11: ((numd >>> 16) & 0xffff) | ((opts.lsi ?? 0) << 16),
    cdw12: lpo >>> 0,
    cdw13: Math.floor(lpo / 2 ** 32),
    cdw14: (opts.csi ?? 0) << 24,
  };
}

async function readLog(
  c: NvmeTcpController,
  len: number,
  lpo: number,
  rae: boolean,
): Promise<Uint8Array> {
  const r = await c.adminOk(
    'Get Log Page 70h',
    getLogPageInit(DISCOVERY_LOG_LID, len, lpo, { rae }),
    {
      readLength: len,
    },
  );
  return r.data;
}

/** Reads the whole discovery log from an already connected discovery controller. */
export async function readDiscoveryLog(c: NvmeTcpController, retries = 10): Promise<DiscoveryLog> {
  for (let attempt = 0; attempt < retries; attempt++) {
    const h1 = decodeDiscoveryHeader(await readLog(c, 20, 0, true));
    const n = Number(h1.numrec);
    const body = new Uint8Array(DISC_HEADER_LEN + n * DISC_ENTRY_LEN);
    const total = n * DISC_ENTRY_LEN;
    for (let off = 0; off < total; off += 4096) {
      const len = Math.min(4096, total - off);
      body.set(await readLog(c, len, DISC_HEADER_LEN + off, true), DISC_HEADER_LEN + off);
    }
    const h2 = decodeDiscoveryHeader(await readLog(c, 20, 0, false));
    if (h2.genctr !== h1.genctr) continue;
    if (h2.numrec !== h1.numrec) {
      throw new NvmeTcpError(HostErrorCode.PROTOCOL, 'discovery log NUMREC changed while reading');
    }
    const entries = [];
    for (let i = 0; i < n; i++)
      entries.push(decodeDiscoveryEntry(body, DISC_HEADER_LEN + i * DISC_ENTRY_LEN));
    return { ...h1, entries };
  }
  throw new NvmeTcpError(HostErrorCode.TIMEOUT, 'discovery log kept changing (GENCTR)');
}

/** Connects to a discovery controller, reads its log and disconnects. */
export async function discover(opts: DiscoverOptions): Promise<DiscoveryLog> {
  const c = await NvmeTcpController.connect({
    ...opts,
    port: opts.port ?? DEFAULT_DISCOVERY_PORT,
    subnqn: opts.subnqn ?? DISCOVERY_NQN,
    discovery: true,
    kato: opts.kato ?? 0,
  });
  try {
    return await readDiscoveryLog(c);
  } finally {
    await c.disconnect();
  }
}
