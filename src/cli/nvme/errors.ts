// What `nvmemu nvme` prints when the target cannot be reached or refuses the connection: the
// cause, then the fix. Connect's Invalid Parameters status (Fabrics 1.1 §3.3, SCT 1h SC 82h,
// 0x4182 with DNR) points at the rejected field with IPO/IATTR in DW0: the SUBNQN (byte 256
// of the Connect data) or the HOSTNQN (byte 512).

import { HostErrorCode, NvmeStatusError, NvmeTcpError } from '../../nvme-tcp/host/index.js';
import { DEFAULT_HOSTNQN } from '../../nvme-tcp/host/index.js';
import { isEmuError } from '../../util/errors.js';

/** The connection a command asked for, to name it in messages. */
export interface TargetInfo {
  readonly address: string;
  readonly port: number;
  readonly subnqn: string;
  readonly hostnqn?: string;
}

const CONNECT_INVALID_PARAMETERS = 0x182;
const IPO_SUBNQN = 256;
const IPO_HOSTNQN = 512;

/** The error with its code, and for connection problems a second line: the cause and the fix. */
export function explainError(e: Error, t?: TargetInfo): string {
  const first = isEmuError(e) ? `${e.message} [${e.code}]` : e.message;
  const why = cause(e, t);
  return why === undefined ? first : `${first}\n  ${why}`;
}

function cause(e: Error, t: TargetInfo | undefined): string | undefined {
  if (
    e instanceof NvmeStatusError &&
    e.message.startsWith('Connect') &&
    (e.status & 0x7ff) === CONNECT_INVALID_PARAMETERS &&
    t !== undefined
  ) {
    const inData = (e.dw0 & (1 << 16)) !== 0;
    const ipo = e.dw0 & 0xffff;
    const host = t.hostnqn ?? DEFAULT_HOSTNQN;
    const where = `${t.address}:${t.port}`;
    if (inData && ipo === IPO_SUBNQN) {
      return (
        `subsystem not found: ${t.subnqn} is not served at ${where};` +
        ` list the subsystems there with: nvmemu nvme discover -a ${t.address}`
      );
    }
    if (inData && ipo === IPO_HOSTNQN) {
      return `host NQN not allowed: ${t.subnqn} refuses ${host}; give an allowed one with -q/--hostnqn`;
    }
    return `host NQN not allowed / subsystem not found: ${t.subnqn} (host ${host}) at ${where}`;
  }
  if (
    e instanceof NvmeStatusError &&
    e.message.startsWith('Connect') &&
    (e.status & 0x7ff) === 0x184
  ) {
    const host = t?.hostnqn ?? DEFAULT_HOSTNQN;
    return `host NQN not allowed: the subsystem does not list ${host}; give an allowed one with -q/--hostnqn`;
  }
  if (e instanceof NvmeTcpError && e.code === HostErrorCode.AUTH) {
    return /no DH-HMAC-CHAP secret/.test(e.message)
      ? "give the host's key with --dhchap-secret=DHHC-1:xx:...: (nvme gen-dhchap-key makes one)"
      : 'the keys differ between host and target (or the target refused the hash/DH group); the target logs why';
  }
  if (
    e instanceof NvmeTcpError &&
    e.code === HostErrorCode.CONNECT &&
    /TLS handshake/.test(e.message)
  ) {
    return (
      'check --tls-key and the derivation: keys made by nvme-cli <= 2.15 need ' +
      '--tls-psk-derivation=libnvme-compat here and tls-psk-derivation=libnvme-compat on the target'
    );
  }
  if (e instanceof NvmeTcpError && e.code === HostErrorCode.CONNECT) {
    const code = (e.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNREFUSED') {
      return (
        "nothing listens there: start a target with 'nvmemu run' (it listens on" +
        ' 127.0.0.1:4420, discovery 8009), or give its address with -a and --trsvcid'
      );
    }
    if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND') {
      return 'the address cannot be reached: check -a/--traddr';
    }
  }
  return undefined;
}
