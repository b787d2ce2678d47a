// ASCII text built as bytes, for outputs of a hundred thousand lines (`zns report-zones`): every
// field goes straight into one buffer as digits, with no string per field, and the buffer leaves
// as one latin1 string per chunk. Building each line from template strings, toString(16) and
// padEnd cost ~3 µs a zone and most of the garbage collector's work (issue 20).

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const SPACE = 0x20;

/** Number of hex digits of a u32 (1 for 0). */
function hexDigits(n: number): number {
  let k = 1;
  while (k < 8 && n >>> (4 * k) !== 0) k++;
  return k;
}

export class AsciiOut {
  #buf: Buffer;
  #pos = 0;
  readonly #out: (text: string) => void;
  /** Flush once fewer than this many bytes are free (the longest unit the caller writes). */
  readonly #reserve: number;

  /**
   * `chunk` bytes per string handed to `out`; `reserve` is the most one unit (a line, a JSON
   * entry) can take, so that `unit()` before each one keeps every write in bounds.
   */
  constructor(out: (text: string) => void, chunk: number, reserve: number) {
    this.#out = out;
    this.#reserve = reserve;
    this.#buf = Buffer.allocUnsafe(Math.max(chunk, 2 * reserve));
  }

  /** Call before each unit of at most `reserve` bytes: hands the chunk out when nearly full. */
  unit(): void {
    if (this.#buf.length - this.#pos < this.#reserve) this.flush();
  }

  flush(): void {
    if (this.#pos === 0) return;
    this.#out(this.#buf.toString('latin1', 0, this.#pos));
    this.#pos = 0;
  }

  /** Pre-encoded bytes (see `ascii()`). */
  bytes(b: Uint8Array): void {
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** A string of ASCII characters (short, rare: a bigint's digits). */
  text(s: string): void {
    this.#pos += this.#buf.write(s, this.#pos, 'latin1');
  }

  /** `n` (u32) as lowercase hex, no prefix; at least `min` digits (zero-padded). */
  hex(n: number, min = 1): void {
    const k = Math.max(min, hexDigits(n));
    const b = this.#buf;
    const p = this.#pos;
    for (let i = 0; i < k; i++) b[p + i] = HEX[(n >>> (4 * (k - 1 - i))) & 0xf]!;
    this.#pos = p + k;
  }

  /** printf("%#-Nx") of the u64 `hi`:`lo`: "0" or 0x-prefixed hex, space-padded to `width`. */
  hexCol(lo: number, hi: number, width: number): void {
    const start = this.#pos;
    if (lo === 0 && hi === 0) this.#buf[this.#pos++] = 0x30;
    else {
      this.#buf[this.#pos++] = 0x30;
      this.#buf[this.#pos++] = 0x78;
      if (hi === 0) this.hex(lo);
      else {
        this.hex(hi);
        this.hex(lo, 8);
      }
    }
    while (this.#pos - start < width) this.#buf[this.#pos++] = SPACE;
  }

  /** A non-negative integer below 2^53 in decimal. */
  dec(n: number): void {
    const b = this.#buf;
    let k = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) k++;
    let x = n;
    for (let i = this.#pos + k - 1; i >= this.#pos; i--) {
      b[i] = 0x30 + (x % 10);
      x = Math.floor(x / 10);
    }
    this.#pos += k;
  }

  /** `len` bytes of `d` from `at` as lowercase hex pairs (Buffer's 'hex'). */
  hexBytes(d: Uint8Array, at: number, len: number): void {
    const b = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < len; i++) {
      const v = d[at + i]!;
      b[p++] = HEX[v >> 4]!;
      b[p++] = HEX[v & 0xf]!;
    }
    this.#pos = p;
  }
}

/** ASCII `s` as bytes, for AsciiOut.bytes(). */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
