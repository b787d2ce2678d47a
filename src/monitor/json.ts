// JSON on the QMP wire.
//
// Output: QEMU's compact style with a space after ':' and ',' (`{"return": {}}`), one message
// per line. bigint values are written as exact JSON integers (64-bit sizes and addresses).
//
// Input: QEMU's JSON streamer splits the byte stream into values by counting brackets outside
// strings, so requests may arrive split over reads or several per read, with or without
// newlines. A value that does not parse is answered with a GenericError "JSON parse error, ..."
// and the stream goes on with the next value. Every buffered length is capped first
// (house rule 4): a value longer than the stream's cap (DEFAULT_MAX_VALUE_BYTES unless the
// endpoint says otherwise) or nested deeper than MAX_NESTING is answered with one error and
// then skipped to its end without buffering: the splitter keeps following its strings and
// brackets, so the value after it parses normally (an oversized request must not
// desynchronise the connection; issue 19). A raw newline inside a skipped string cannot be
// valid JSON, so it also ends the skip: a client that sent garbage resynchronises at its next
// line.

/** QEMU's json-streamer caps nesting at 1024 (qobject/json-streamer.c MAX_NESTING). */
export const MAX_NESTING = 1024;
/** Default cap of one QMP message (QEMU allows 64 MiB; nothing nvmemu accepts needs more). */
export const DEFAULT_MAX_VALUE_BYTES = 1 << 20;

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

export type StreamItem =
  | { ok: true; value: unknown }
  /** `oversized`: the value exceeded the stream's cap (the caller counts and logs it). */
  | { ok: false; error: string; oversized?: true };

/** Incremental splitter: feed text, receive complete top-level values (or their errors). */
export class JsonStream {
  readonly maxBytes: number;
  #buf = '';
  #depth = 0;
  #inString = false;
  #escape = false;
  /** Scan position inside #buf (everything before it has been classified). */
  #pos = 0;
  /** Skipping the rest of an oversized value: its text is scanned, not kept. */
  #skipping = false;

  /** `maxBytes`: the longest value kept (UTF-16 code units, which bound the bytes read). */
  constructor(maxBytes = DEFAULT_MAX_VALUE_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 2) {
      throw new RangeError(`JsonStream: maxBytes must be an integer >= 2, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  push(chunk: string): StreamItem[] {
    const out: StreamItem[] = [];
    let pending = chunk;
    while (pending !== '') {
      if (this.#skipping) {
        pending = this.#skip(pending);
        continue;
      }
      this.#buf += pending;
      pending = this.#scan(out);
    }
    if (!this.#skipping && this.#buf.length > this.maxBytes) this.#startSkip(out);
    return out;
  }

  /** Scans the buffer, emitting complete values; returns unscanned text if a skip began. */
  #scan(out: StreamItem[]): string {
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
          const rest = this.#buf.slice(this.#pos);
          this.#startSkip(out, 'JSON parse error, nesting too deep');
          return rest;
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
    return '';
  }

  /**
   * Answers the value being read with one error and skips the rest of it. Everything buffered
   * has been scanned, so the scanner's state (depth, string, escape) carries on unbuffered.
   */
  #startSkip(out: StreamItem[], error?: string): void {
    out.push(
      error === undefined
        ? { ok: false, error: 'JSON parse error, message too long', oversized: true }
        : { ok: false, error },
    );
    this.#buf = '';
    this.#pos = 0;
    this.#skipping = true;
  }

  /** Scans `chunk` while skipping; returns the text after the skipped value ends. */
  #skip(chunk: string): string {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i] as string;
      if (this.#inString) {
        if (ch === '\n') {
          this.#reset();
          return chunk.slice(i + 1);
        }
        if (this.#escape) this.#escape = false;
        else if (ch === '\\') this.#escape = true;
        else if (ch === '"') {
          this.#inString = false;
          if (this.#depth === 0) {
            this.#reset();
            return chunk.slice(i + 1);
          }
        }
        continue;
      }
      if (ch === '"') this.#inString = true;
      else if (ch === '{' || ch === '[') this.#depth++;
      else if (ch === '}' || ch === ']') {
        this.#depth--;
        if (this.#depth <= 0) {
          this.#reset();
          return chunk.slice(i + 1);
        }
      } else if (this.#depth === 0 && /\s/.test(ch)) {
        // The oversized value was a bare top-level token; whitespace ends it.
        this.#reset();
        return chunk.slice(i + 1);
      }
    }
    return '';
  }

  #emit(out: StreamItem[]): void {
    const text = this.#buf.slice(0, this.#pos).trim();
    this.#drop();
    if (text === '') return;
    if (text.length > this.maxBytes) {
      // A whole oversized value can arrive in one read: the cap holds all the same.
      out.push({ ok: false, error: 'JSON parse error, message too long', oversized: true });
      return;
    }
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

  #reset(): void {
    this.#buf = '';
    this.#pos = 0;
    this.#depth = 0;
    this.#inString = false;
    this.#escape = false;
    this.#skipping = false;
  }
}
