// `nvmemu nvme connect`: nvme-cli 2.13's connect options (-t -a -s -n -q -i -Q -g -G -S -C
// --tls --tls-key), but there is no kernel to hand the controller to: nvmemu makes the
// association — TLS handshake, Connect, DH-HMAC-CHAP on every queue when the target asks,
// controller enable, I/O queues — says what was negotiated, and disconnects. It is the quick
// check of a target's security setup (docs/security.md); exit status 1 with the reason when
// the target refuses.

import type { CliIo } from '../io.js';
import { NvmeTcpController } from '../../nvme-tcp/host/index.js';
import { describeNegotiated } from '../../nvme-tcp/auth/common.js';
import { HASHES } from '../../nvme-tcp/auth/hash.js';
import { DH_GROUPS } from '../../nvme-tcp/auth/dh.js';
import type { NvmeSubcommand } from './admin-cmds.js';
import { emit } from './admin-cmds.js';
import { connectOptions, num, type Values } from './options.js';

export const CONNECT_COMMAND: NvmeSubcommand = {
  name: 'connect',
  shortS: true,
  options: {
    'nr-io-queues': {
      type: 'string',
      short: 'i',
      valueName: 'N',
      description: 'I/O queues (default 1)',
    },
    'queue-size': { type: 'string', short: 'Q', valueName: 'N', description: 'I/O queue entries' },
    'dhchap-secret': {
      type: 'string',
      short: 'S',
      valueName: 'KEY',
      description: "the host's DH-HMAC-CHAP key (DHHC-1:xx:...:)",
    },
    'dhchap-ctrl-secret': {
      type: 'string',
      short: 'C',
      valueName: 'KEY',
      description: "the controller's key: authenticate it too (bidirectional)",
    },
  },
  async run(v: Values, io: CliIo): Promise<number> {
    const queueSize = num(v, 'queue-size', 128);
    const o = connectOptions(v, { ioQueues: num(v, 'nr-io-queues', 1) });
    const c = await NvmeTcpController.connect({ ...o, queueSize, kato: 5000 });
    try {
      const report = {
        subnqn: o.subnqn,
        traddr: o.address,
        trsvcid: o.port,
        hostnqn: c.hostnqn,
        cntlid: c.cntlid,
        'io-queues': c.io.length,
        authentication:
          c.negotiated === undefined
            ? null
            : {
                hash: HASHES[c.negotiated.hash].linux,
                dhgroup: DH_GROUPS[c.negotiated.dhGroup].name,
                bidirectional: c.negotiated.bidirectional,
              },
        tls: c.tlsIdentity === undefined ? null : { identity: c.tlsIdentity },
      };
      emit(v, io, report, () => {
        let s = `connected to ${o.subnqn} at ${o.address}:${o.port ?? 4420} as ${c.hostnqn}\n`;
        s += `  cntlid ${c.cntlid}, ${c.io.length} I/O queue${c.io.length === 1 ? '' : 's'}\n`;
        s +=
          c.negotiated === undefined
            ? '  authentication: none (the target did not ask)\n'
            : `  authenticated (every queue): ${describeNegotiated(c.negotiated)}\n`;
        s +=
          c.tlsIdentity === undefined
            ? '  TLS: none\n'
            : `  TLS 1.3 (TLS_AES_128_GCM_SHA256), PSK identity ${c.tlsIdentity}\n`;
        return s;
      });
      return 0;
    } finally {
      await c.disconnect();
    }
  },
};
