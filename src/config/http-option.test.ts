import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, parseHttpSpec } from './options.js';

describe('--http [ADDR:]PORT', () => {
  it('accepts a port, an address and a port, a bracketed IPv6 address and a port', () => {
    const cases: [string, { host: string | undefined; port: number }][] = [
      ['8080', { host: undefined, port: 8080 }],
      ['0', { host: undefined, port: 0 }],
      ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
      ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
      ['localhost:8080', { host: 'localhost', port: 8080 }],
      ['[::1]:8080', { host: '::1', port: 8080 }],
    ];
    for (const [text, want] of cases) assert.deepEqual(parseHttpSpec(text), want, text);
  });

  it('refuses anything else with a message naming the value and the form', () => {
    for (const text of [
      '',
      'x',
      ':8080',
      '65536',
      '127.0.0.1',
      '::1:8080',
      '[::1]',
      'a:b:8080',
      '8080 ',
    ]) {
      assert.throws(
        () => parseHttpSpec(text),
        (e: Error) =>
          e.message ===
          `--http ${text}: expected [ADDR:]PORT (e.g. 8080, 127.0.0.1:8080 or [::1]:8080)`,
        text,
      );
    }
  });

  it('is off unless given, and nvmemu run parses it', () => {
    assert.equal(parseArgs([]).http, undefined);
    assert.deepEqual(parseArgs(['--http', '8080']).http, { host: undefined, port: 8080 });
    assert.throws(() => parseArgs(['--http']), /-http: requires an argument/);
  });
});
