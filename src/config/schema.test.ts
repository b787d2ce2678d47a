import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coerce, resolveProps, formatHelp, type PropDef, type TypeSchema } from './schema.js';
import { ConfigError } from './errors.js';

const p = (name: string, type: PropDef['type'], extra: Partial<PropDef> = {}): PropDef => ({
  name,
  type,
  description: '',
  ...extra,
});

describe('coerce', () => {
  // Expected texts were read off qemu-system-x86_64 7.2 for the same inputs.
  const cases: [
    string,
    PropDef,
    string | number | boolean,
    'device' | 'object' | 'qmp',
    unknown,
  ][] = [
    ['device uint8 in range', p('aerl', { kind: 'uint', bits: 8 }), '255', 'device', 255],
    ['device uint8 hex', p('aerl', { kind: 'uint', bits: 8 }), '0x10', 'device', 16],
    [
      'device uint8 above range',
      p('aerl', { kind: 'uint', bits: 8 }),
      '256',
      'device',
      "Parameter 'aerl' expects uint8_t",
    ],
    [
      'device uint16 negative wraps',
      p('v', { kind: 'uint', bits: 16 }),
      '-1',
      'device',
      "Parameter 'v' expects uint16_t",
    ],
    [
      'device uint64 -1 wraps to 2^64-1',
      p('eui64', { kind: 'uint64' }),
      '-1',
      'device',
      (1n << 64n) - 1n,
    ],
    [
      'device uint syntax',
      p('mdts', { kind: 'uint', bits: 8 }),
      'abc',
      'device',
      "Parameter 'mdts' expects integer",
    ],
    [
      'object uint syntax',
      p('prealloc-threads', { kind: 'uint', bits: 32 }),
      'abc',
      'object',
      "Parameter 'prealloc-threads' expects a uint64 value",
    ],
    [
      'object negative uint',
      p('prealloc-threads', { kind: 'uint', bits: 32 }),
      '-1',
      'object',
      "Parameter 'prealloc-threads' expects a uint64 value",
    ],
    [
      'device size with suffix',
      p('zoned.zone_size', { kind: 'size' }),
      '64M',
      'device',
      64n << 20n,
    ],
    [
      'device size syntax',
      p('zoned.zone_size', { kind: 'size' }),
      'abc',
      'device',
      "Parameter 'zoned.zone_size' expects size",
    ],
    [
      'object size syntax',
      p('size', { kind: 'size' }),
      '-1',
      'object',
      "Parameter 'size' expects a size value",
    ],
    [
      '2^53+1 stays exact',
      p('size', { kind: 'size' }),
      '9007199254740993',
      'object',
      9007199254740993n,
    ],
    [
      '2^64-1 is the largest size',
      p('size', { kind: 'size' }),
      '18446744073709551615',
      'object',
      18446744073709551615n,
    ],
    [
      '2^64 is rejected',
      p('size', { kind: 'size' }),
      '18446744073709551616',
      'object',
      "Parameter 'size' expects a size value",
    ],
    ['bool on', p('share', { kind: 'bool' }), 'on', 'object', true],
    [
      'bool bad text',
      p('share', { kind: 'bool' }),
      'maybe',
      'object',
      "Parameter 'share' expects 'on' or 'off'",
    ],
    [
      'qmp bool from text',
      p('share', { kind: 'bool' }),
      'on',
      'qmp',
      "Invalid parameter type for 'share', expected: boolean",
    ],
    ['qmp integer', p('size', { kind: 'size' }), 4096, 'qmp', 4096n],
    [
      'qmp integer from text',
      p('size', { kind: 'size' }),
      '4096',
      'qmp',
      "Invalid parameter type for 'size', expected: integer",
    ],
    [
      'int32 range',
      p('bootindex', { kind: 'int32' }),
      '99999999999',
      'device',
      "Parameter 'bootindex' expects int32_t",
    ],
    ['int32 negative', p('slot', { kind: 'int32' }), '-1', 'device', -1],
    [
      'int32 syntax',
      p('bootindex', { kind: 'int32' }),
      'abc',
      'device',
      "Parameter 'bootindex' expects integer",
    ],
    [
      'enum value',
      p('policy', { kind: 'enum', values: ['default', 'bind'] }),
      'foo',
      'object',
      "Parameter 'policy' does not accept value 'foo'",
    ],
    [
      'uuid',
      p('uuid', { kind: 'uuid' }),
      'zz',
      'device',
      "Property 'nvme-ns.uuid' doesn't take value 'zz'",
    ],
    [
      'uuid is lower-cased',
      p('uuid', { kind: 'uuid' }),
      'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
      'device',
      'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    ],
  ];
  for (const [name, def, raw, front, want] of cases) {
    it(name, () => {
      if (typeof want === 'string' && /expects|accept|doesn't|Invalid/.test(want)) {
        assert.throws(
          () => coerce(def, raw, front, 'nvme-ns'),
          (e: unknown) => {
            assert.ok(e instanceof ConfigError);
            assert.equal(e.message, want);
            assert.equal(e.property, def.name);
            return true;
          },
        );
      } else {
        assert.equal(coerce(def, raw, front, 'nvme-ns'), want);
      }
    });
  }
});

const schema: TypeSchema = {
  typeName: 'demo',
  kind: 'device',
  props: [
    p('serial', { kind: 'str' }),
    p('aerl', { kind: 'uint', bits: 8 }, { default: 3 }),
    p(
      'write-cache',
      { kind: 'enum', values: ['on', 'off', 'auto'] },
      { default: 'auto', label: 'OnOffAuto', description: 'on/off/auto' },
    ),
    p('zoned', { kind: 'bool' }, { default: false }),
    p('zoned.zasl', { kind: 'uint', bits: 8 }, { default: 0 }),
  ],
};

describe('resolveProps', () => {
  it('applies defaults and records which properties were given', () => {
    const props = resolveProps(schema, new Map([['serial', 'abc']]), 'device');
    assert.equal(props.str('serial'), 'abc');
    assert.equal(props.num('aerl'), 3);
    assert.deepEqual([...props.given], ['serial']);
  });
  it('names the type in an unknown device property', () => {
    assert.throws(
      () => resolveProps(schema, new Map([['foo', '1']]), 'device'),
      /^ConfigError: Property 'demo.foo' not found$/,
    );
  });
  it('words unknown object properties per front end', () => {
    const obj: TypeSchema = { ...schema, kind: 'object' };
    assert.throws(() => resolveProps(obj, new Map([['foo', '1']]), 'object'), {
      message: "Invalid parameter 'foo'",
    });
    assert.throws(() => resolveProps(obj, new Map([['foo', 1]]), 'qmp'), {
      message: "Parameter 'foo' is unexpected",
    });
  });
});

describe('formatHelp', () => {
  it("lays out properties as QEMU's -device TYPE,help does", () => {
    assert.equal(
      formatHelp(schema),
      [
        'demo options:',
        '  aerl=<uint8>           -  (default: 3)',
        '  serial=<str>',
        '  write-cache=<OnOffAuto> - on/off/auto (default: "auto")',
        '  zoned.zasl=<uint8>     -  (default: 0)',
        '  zoned=<bool>           -  (default: false)',
        '',
      ].join('\n'),
    );
  });
});
