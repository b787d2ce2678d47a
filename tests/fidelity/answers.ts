// The fixture format of the recorded reference answers (tests/fixtures/qemu/<version>/*.json):
// one JSON object per configuration and QEMU version, its `answers` keyed by a readable command
// description ("identify cns=0x05 csi=0x02 nsid=1"), every value a hex string. Data buffers
// are stored with their trailing zero bytes cut (`len` keeps the transfer length), so a 4 KiB
// Identify page that is mostly zeros stays small and still compares byte for byte.

export interface Answer {
  /** The command as submitted (opcode, NSID and the non-zero CDWs), for a reader and replays. */
  readonly cmd?: string;
  /** CQE status field without the phase tag (15 bits: DNR 14, More 13, CRD 12:11, SCT, SC). */
  readonly status?: string;
  readonly dw0?: string;
  /** A register or value read outside a command (e.g. CSTS after an enable attempt). */
  readonly value?: string;
  /** Transfer length in bytes of `data`. */
  readonly len?: number;
  /** Data bytes as hex, trailing zero bytes removed. */
  readonly data?: string;
  /** Why there is no answer (e.g. the command did not complete in time). */
  readonly error?: string;
}

export interface Fixture {
  readonly format: 1;
  /** `qemu-system-x86_64 --version`, first line. */
  readonly qemu: string;
  readonly version: '7.2' | '10.0';
  readonly config: string;
  readonly title: string;
  /** The QEMU arguments after the qtest harness's own (drives then devices). */
  readonly commandLine: readonly string[];
  /** QEMU's message when it refused the command line (then `answers` is empty). */
  readonly startError?: string;
  readonly notes: readonly string[];
  readonly answers: Readonly<Record<string, Answer>>;
}

export function hex(v: number | bigint, digits: number): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

/** Hex of `data` without its trailing zero bytes. */
export function trimmedHex(data: Uint8Array): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return Buffer.from(data.subarray(0, end)).toString('hex');
}

/** The full `len` bytes of an answer's data (zeros restored). */
export function answerBytes(a: Answer): Uint8Array {
  const out = new Uint8Array(a.len ?? 0);
  if (a.data !== undefined && a.data.length > 0) out.set(Buffer.from(a.data, 'hex'));
  return out;
}

/** `0x002+DNR` style, as qemu-nvme.md and the docs write statuses. */
export function statusText(status: string): string {
  const s = Number.parseInt(status, 16);
  const code = s & 0x7ff;
  const dnr = (s & 0x4000) !== 0 ? '+DNR' : '';
  const more = (s & 0x2000) !== 0 ? '+M' : '';
  return `${hex(code, 3)}${dnr}${more}`;
}
