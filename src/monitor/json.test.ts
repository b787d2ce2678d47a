import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonStream, MAX_NESTING, type StreamItem } from './json.js';

const TOO_LONG = {
  ok: false,
  error: 'JSON parse error, message too long',
  oversized: true,
} as const;

function feed(s: JsonStream, chunks: readonly string[]): StreamItem[] {
  return chunks.flatMap((c) => s.push(c));
}

/** Splits `text` at the given cut points (sorted, deduplicated, in range). */
function split(text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(text.slice(prev, c));
    prev = c;
  }
  out.push(text.slice(prev));
  return out;
}

describe('JsonStream size cap', () => {
  const next = '{"execute": "ok", "id": 1}';
  const cases: [string, string][] = [
    ['inside a string', `{"a": "${'x'.repeat(100)}"}`],
    ['in nested objects', `{"a": [${'{"b": 1}, '.repeat(20)}{"b": 2}]}`],
    ['with escaped quotes in strings', `{"a": "${'\\"'.repeat(60)}"}`],
    ['as a bare top-level token', `${'7'.repeat(100)} `],
    ['as a top-level string', `"${'y'.repeat(100)}"`],
  ];
  for (const [name, big] of cases) {
    it(`answers an oversized value ${name} once, then parses the next value`, () => {
      const s = new JsonStream(64);
      assert.deepEqual(feed(s, [big, next]), [
        TOO_LONG,
        { ok: true, value: { execute: 'ok', id: 1 } },
      ]);
    });
  }

  it('rejects a whole oversized value that arrives in one chunk together with the next', () => {
    const s = new JsonStream(16);
    assert.deepEqual(s.push(`{"a": "${'z'.repeat(40)}"} {"b": 1}`), [
      TOO_LONG,
      { ok: true, value: { b: 1 } },
    ]);
  });

  it('accepts a value of exactly the cap', () => {
    const v = `{"a": "${'q'.repeat(20)}"}`;
    const s = new JsonStream(v.length);
    assert.deepEqual(s.push(v), [{ ok: true, value: { a: 'q'.repeat(20) } }]);
  });

  it('resynchronises at a raw newline inside a skipped string (garbage, not JSON)', () => {
    const s = new JsonStream(16);
    assert.deepEqual(feed(s, [`{"a": "${'g'.repeat(40)}`, '\n', '{"b": 2}']), [
      TOO_LONG,
      { ok: true, value: { b: 2 } },
    ]);
  });

  it('skips a value nested deeper than MAX_NESTING and parses the next one', () => {
    const s = new JsonStream(1 << 20);
    const deep = `${'['.repeat(MAX_NESTING + 5)}${']'.repeat(MAX_NESTING + 5)}`;
    assert.deepEqual(s.push(`${deep}{"c": 3}`), [
      { ok: false, error: 'JSON parse error, nesting too deep' },
      { ok: true, value: { c: 3 } },
    ]);
  });

  it('rejects a cap below 2', () => {
    assert.throws(() => new JsonStream(1), /maxBytes must be an integer >= 2/);
  });

  it('resynchronises whatever the split of the byte stream (property)', () => {
    const big = `{"execute": "x", "arguments": {"s": "${'a'.repeat(300)}", "t": [1, {"u": "}"}]}}`;
    const text = `${big}\n{"execute": "after", "id": 9}\n`;
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 12 }), (cuts) => {
        const got = feed(new JsonStream(128), split(text, cuts));
        assert.deepEqual(got, [TOO_LONG, { ok: true, value: { execute: 'after', id: 9 } }]);
      }),
      { numRuns: 300 },
    );
  });
});
