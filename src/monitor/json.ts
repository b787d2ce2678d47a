// JSON on the QMP wire.
//
// Output: QEMU's compact style with a space after ':' and ',' (`{"return": {}}`), one message
// per line. bigint values are written as exact JSON integers (64-bit sizes and addresses).
//
// Input: QEMU's JSON streamer splits the byte stream into values by counting brackets outside
// strings, so requests may arrive split over reads or several per read, with or without
// newlines. A value that does not parse is answered with a GenericError "JSON parse error, ..."
// and the stream goes on with the next value. Every buffered length is capped first
// (house rule 4): an unterminated value longer than MAX_VALUE_BYTES or nested deeper than
// MAX_NESTING is dropped with an error.

/** QEMU's json-streamer caps: MAX_NESTING 1024; we cap a single value at 1 MiB. */
export const MAX_NESTING = 1024;
export const MAX_VALUE_BYTES = 1 << 20;

export function qmpStringify(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'object':
      if (Array.isArray(v)) return `[${v.map((x) => qmpStringify(x)).join(', ')}]`;
      return `{${Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${JSON.stringify(k)}: ${qmpStringify(x)}`)
        .join(', ')}}`;
    default:
      return 'null';
  }
}

export type StreamItem = { ok: true; value: unknown } | { ok: false; error: string };

/** Incremental splitter: feed text, receive complete top-level values (or their errors). */
export class JsonStream {
  #buf = '';
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Scan position inside #buf (everything before it has been classified). */
  #pos = 0;

  push(chunk: string): StreamItem[] {
    const out: StreamItem[] = [];
    this.#buf += chunk;
    while (this.#pos < this.#buf.length) {
      const ch = this.#buf[this.#pos] as string;
      this.#pos++;
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (ch === '\\') this.#escape = true;
        else if (ch === '"') this.#inString = false;
        if (this.#depth === 0 && !this.#inString) this.#emit(out);
        continue;
      }
      if (ch === '"') {
        this.#inString = true;
      } else if (ch === '{' || ch === '[') {
        this.#depth++;
        if (this.#depth > MAX_NESTING) {
          this.#fail(out, 'JSON parse error, nesting too deep');
          continue;
        }
      } else if (ch === '}' || ch === ']') {
        this.#depth--;
        if (this.#depth <= 0) {
          this.#depth = 0;
          this.#emit(out);
        }
      } else if (this.#depth === 0 && /\s/.test(ch)) {
        // Whitespace ends a bare top-level token (`1`, `true`, `bad`).
        if (this.#buf.slice(0, this.#pos).trim() !== '') this.#emit(out);
        else this.#drop();
      }
    }
    if (this.#buf.length > MAX_VALUE_BYTES) this.#fail(out, 'JSON parse error, value too long');
    return out;
  }

  #emit(out: StreamItem[]): void {
    const text = this.#buf.slice(0, this.#pos).trim();
    this.#drop();
    if (text === '') return;
    try {
      out.push({ ok: true, value: JSON.parse(text) as unknown });
    } catch (e) {
      out.push({ ok: false, error: `JSON parse error, ${(e as Error).message}` });
    }
  }

  #drop(): void {
    this.#buf = this.#buf.slice(this.#pos);
    this.#pos = 0;
  }

  #fail(out: StreamItem[], error: string): void {
    out.push({ ok: false, error });
    this.#buf = '';
    this.#pos = 0;
    this.#depth = 0;
    this.#inString = false;
    this.#escape = false;
  }
}
