import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  flattenKeyval,
  formatKeyval,
  KeyvalError,
  keyvalListItems,
  parseKeyval,
  type KeyvalOptions,
  type KeyvalTree,
} from './keyval.js';

/** Null-prototype trees compared as plain JSON values. */
const plain = (t: KeyvalTree): unknown => JSON.parse(JSON.stringify(t));
const parse = (text: string, opts?: KeyvalOptions): unknown => plain(parseKeyval(text, opts).tree);

const long = (n: number): string => 'k'.repeat(n);

describe('parseKeyval builds the tree QEMU builds', () => {
  // [edge case, input, options, expected tree]
  const cases: [string, string, KeyvalOptions, unknown][] = [
    ['Nothing', '', {}, {}],
    ['One key', 'a=1', {}, { a: '1' }],
    ['Multiple keys, last one wins', 'a=1,b=2,,x,a=3', {}, { a: '3', b: '2,x' }],
    ['Even for id', 'id=foo,id=bar', {}, { id: 'bar' }],
    ['Trailing comma is ignored', 'x=y,', {}, { x: 'y' }],
    ["',,' at the end is a literal comma", 'x=y,,', {}, { x: 'y,' }],
    ["',,,' is a literal comma, then the separator", 'x=y,,,z=1', {}, { x: 'y,', z: '1' }],
    ['Value containing ,id= is not a new key', 'x=,,id=bar', {}, { x: ',id=bar' }],
    ["'=' in a value is ordinary", 'x=a=b==c', {}, { x: 'a=b==c' }],
    ['Empty value', 'x=', {}, { x: '' }],
    ['Empty value before the next key', 'x=,y=1', {}, { x: '', y: '1' }],
    ['Unicode value kept as is', 'serial=ünï😀,b=č', {}, { serial: 'ünï😀', b: 'č' }],
    [
      'Hyphen and underscore in keys',
      'mem-path=/x,zone_size=1',
      {},
      { 'mem-path': '/x', zone_size: '1' },
    ],
    ['Dotted keys', 'a.b.c=1,a.b.c=2,d=3', {}, { a: { b: { c: '2' } }, d: '3' }],
    ['Dotted key, the nvme-ns way', 'zoned.zone_size=64M', {}, { zoned: { zone_size: '64M' } }],
    ['Siblings under one object', 'a.x=1,a.y=2', {}, { a: { x: '1', y: '2' } }],
    ["Anti-social id is the caller's problem", 'id=666', {}, { id: '666' }],
    ['Key of 127 characters', `${long(127)}=v`, {}, { [long(127)]: 'v' }],
    ['Key fragment of 127 characters', `a.${long(127)}=v`, {}, { a: { [long(127)]: 'v' } }],
    [
      'Object.prototype names are ordinary keys',
      'constructor=1,toString.x=2',
      {},
      { constructor: '1', toString: { x: '2' } },
    ],
    [
      'Implied key',
      'an,aus=off,noaus=',
      { impliedKey: 'implied' },
      { implied: 'an', aus: 'off', noaus: '' },
    ],
    [
      'Implied key for -device',
      'nvme,serial=x',
      { impliedKey: 'driver' },
      { driver: 'nvme', serial: 'x' },
    ],
    [
      '-m with implied size',
      '4G,slots=4,maxmem=32G',
      { impliedKey: 'size' },
      { size: '4G', slots: '4', maxmem: '32G' },
    ],
    [
      'Implied key only applies to the first element',
      'size=1G,slots=2',
      { impliedKey: 'size' },
      { size: '1G', slots: '2' },
    ],
    ['Implied dotted key', 'val', { impliedKey: 'eins.zwei' }, { eins: { zwei: 'val' } }],
    [
      'Implied value may contain dots and colons',
      'help.abc:x',
      { impliedKey: 'implied' },
      { implied: 'help.abc:x' },
    ],
    [
      'Implied key may be given again explicitly',
      'a,implied=b',
      { impliedKey: 'implied' },
      { implied: 'b' },
    ],
    [
      'List elements need not be in order',
      'l.0=null,l.2=zwei,l.1=eins',
      {},
      { l: { 0: 'null', 1: 'eins', 2: 'zwei' } },
    ],
    [
      'Multiple indexes, last one wins',
      'l.1=goner,l.0=null,l.01=eins',
      {},
      { l: { 0: 'null', 1: 'eins' } },
    ],
    [
      'List at deeper nesting',
      'a.l.1=eins,a.l.00=null',
      {},
      { a: { l: { 0: 'null', 1: 'eins' } } },
    ],
    ['List of objects', 'n.0.x=1,n.1.x=2', {}, { n: { 0: { x: '1' }, 1: { x: '2' } } }],
    [
      'Short-form boolean when asked for',
      'memory-backend-file,share',
      { impliedKey: 'qom-type', bareKeysAreOn: true },
      { 'qom-type': 'memory-backend-file', share: 'on' },
    ],
    [
      "'no' prefix turns a short-form boolean off",
      'pc,nonvdimm',
      { impliedKey: 'type', bareKeysAreOn: true },
      { type: 'pc', nvdimm: 'off' },
    ],
    [
      'Short-form dotted boolean',
      'zoned.cross_read',
      { bareKeysAreOn: true },
      { zoned: { cross_read: 'on' } },
    ],
  ];
  for (const [why, input, opts, expected] of cases) {
    it(`${why}: ${JSON.stringify(input)}`, () => {
      assert.deepEqual(parse(input, opts), expected);
    });
  }

  it('returns null-prototype objects at every level', () => {
    const { tree } = parseKeyval('a.b=1');
    assert.equal(Object.getPrototypeOf(tree), null);
    assert.equal(Object.getPrototypeOf(tree.a), null);
  });

  it('accepts the implied key as a plain string argument', () => {
    assert.deepEqual(plain(parseKeyval('nvme', 'driver').tree), { driver: 'nvme' });
  });
});

describe('parseKeyval rejects malformed options with QEMU messages', () => {
  // [edge case, input, options, message]
  const cases: [string, string, KeyvalOptions, string][] = [
    ['Empty key', '=val', {}, "Invalid parameter ''"],
    ['Lone comma', ',', {}, "Invalid parameter ''"],
    ['Empty key fragment', '.', {}, "Invalid parameter '.'"],
    ['Empty trailing fragment', 'key.=1', {}, "Invalid parameter 'key.'"],
    ['Empty middle fragment', 'a..b=1', {}, "Invalid parameter 'a..b'"],
    ['Key must start with a letter', '7up=val', {}, "Invalid parameter '7up'"],
    ['Crap after a valid key', 'key[0]=val', {}, "Invalid parameter 'key[0]'"],
    ['Root can not be a list', '0=1', {}, "Invalid parameter '0'"],
    ['Index followed by crap', 'a.1b=1', {}, "Invalid parameter 'a.1b'"],
    ['Non-ASCII key', 'ключ=1', {}, "Invalid parameter 'ключ'"],
    ['Overlong key', `${long(128)}=v`, {}, `Parameter '${long(128)}' is too long`],
    [
      'Overlong key fragment',
      `a.${long(128)}=v`,
      {},
      `Parameter fragment '${long(128)}' is too long`,
    ],
    ['Bare key without implied key', 'share', {}, "Expected '=' after parameter 'share'"],
    [
      'Bare key after the first element',
      'nvme,share',
      { impliedKey: 'driver' },
      "Expected '=' after parameter 'share'",
    ],
    [
      'Implied value not supported without implied key',
      'an,noaus,noaus=',
      {},
      "Expected '=' after parameter 'an'",
    ],
    ["Key 'no' is not a negated empty key", 'no', {}, "Expected '=' after parameter 'no'"],
    ["Short form 'no' alone names no key", 'no', { bareKeysAreOn: true }, "Invalid parameter 'no'"],
    ['Invalid bare key is reported as invalid', '7up', {}, "Invalid parameter '7up'"],
    ['Implied key with empty value', ',', { impliedKey: 'implied' }, "Invalid parameter ''"],
    ['Implied key with comma value', ',,,a=1', { impliedKey: 'implied' }, "Invalid parameter ''"],
    [
      "Implied key's value can't have ',,'",
      'val,,ue',
      { impliedKey: 'implied' },
      "Invalid parameter ''",
    ],
    ['Empty key is not an implied key', '=val', { impliedKey: 'implied' }, "Invalid parameter ''"],
    ['Scalar, then object', 'a=1,a.b=2', {}, "Parameters 'a.*' used inconsistently"],
    ['Object, then scalar', 'a.b=1,a=2', {}, "Parameters 'a.*' used inconsistently"],
    ['Deeper conflict', 'a.b=1,a.b.c=2', {}, "Parameters 'a.b.*' used inconsistently"],
    [
      'Implied key against an object',
      'x,size.a=1',
      { impliedKey: 'size' },
      "Parameters 'size.*' used inconsistently",
    ],
    ['Both list and object', 'a.b.c=1,a.b.0=2', {}, "Parameters 'a.b.*' used inconsistently"],
    [
      'Both list and object, one level up',
      'a.0.c=1,a.b.c=2',
      {},
      "Parameters 'a.*' used inconsistently",
    ],
    ['Missing list index', 'l.1=lonely', {}, "Parameter 'l.0' missing"],
    ['Gap in a list', 'l.0=a,l.2=b,l.02=c', {}, "Parameter 'l.1' missing"],
    [
      'Huge index is capped and leaves a gap',
      'l.0=a,l.99999999999=b',
      {},
      "Parameter 'l.1' missing",
    ],
  ];
  for (const [why, input, opts, message] of cases) {
    it(`${why}: ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseKeyval(input, opts),
        (e: unknown) =>
          e instanceof KeyvalError && e.code === 'EMU_ERR_CONFIG' && e.message === message,
      );
    });
  }

  it('Commas after a value pair up as escapes, so no empty key can follow a value', () => {
    assert.deepEqual(parse('a=1,,,'), { a: '1,' }); // escape, then trailing separator
    assert.deepEqual(parse('a=1,,b'), { a: '1,b' }); // the escape swallows what looks like a key
    assert.deepEqual(parse('a=1,,,,b=2'), { a: '1,,b=2' }); // two escapes
    assert.deepEqual(parse('a=1,,,b=2'), { a: '1,', b: '2' }); // escape, then separator
  });
});

describe('help and short-form warnings', () => {
  it('"help" alone asks for help, with or without implied key', () => {
    assert.equal(parseKeyval('help').help, true);
    assert.equal(parseKeyval('help', 'implied').help, true);
    assert.deepEqual(plain(parseKeyval('help', 'implied').tree), {});
  });

  it('"?" is help too, and help mixes with other keys', () => {
    const r = parseKeyval('val,?,foo=bar', { impliedKey: 'implied' });
    assert.equal(r.help, true);
    assert.deepEqual(plain(r.tree), { implied: 'val', foo: 'bar' });
  });

  it('key "help" with a value is an ordinary key', () => {
    const r = parseKeyval('help=on');
    assert.equal(r.help, false);
    assert.deepEqual(plain(r.tree), { help: 'on' });
  });

  it('short-form booleans produce QEMU 7.2 deprecation warnings, in order', () => {
    const r = parseKeyval('memory-backend-file,share,noprealloc,size=1G', {
      impliedKey: 'qom-type',
      bareKeysAreOn: true,
    });
    assert.deepEqual(r.warnings, [
      "short-form boolean option 'share' deprecated\nPlease use share=on instead",
      "short-form boolean option 'noprealloc' deprecated\nPlease use prealloc=off instead",
    ]);
    assert.deepEqual(parseKeyval('a=1').warnings, []);
  });

  it('help is not a short-form boolean', () => {
    const r = parseKeyval('help', { bareKeysAreOn: true });
    assert.equal(r.help, true);
    assert.deepEqual(r.warnings, []);
  });
});

describe('list, flatten and format helpers', () => {
  it('keyvalListItems returns list members in index order', () => {
    const { tree } = parseKeyval('l.2=c,l.0=a,l.1=b,o.x=1');
    assert.deepEqual(keyvalListItems(tree.l as KeyvalTree), ['a', 'b', 'c']);
    assert.equal(keyvalListItems(tree.o as KeyvalTree), undefined);
    assert.equal(keyvalListItems(tree), undefined);
  });

  it('flattenKeyval lists leaves as dotted paths in input order', () => {
    const { tree } = parseKeyval('nvme,zoned.zone_size=64M,serial=a,,b,zoned.max_open=4', 'driver');
    assert.deepEqual(
      [...flattenKeyval(tree)],
      [
        ['driver', 'nvme'],
        ['zoned.zone_size', '64M'],
        ['zoned.max_open', '4'],
        ['serial', 'a,b'],
      ],
    );
  });

  it('formatKeyval doubles commas and leads with the implied value', () => {
    const { tree } = parseKeyval('nvme,serial=a,,b,zoned.zone_size=64M', 'driver');
    assert.equal(formatKeyval(tree), 'driver=nvme,serial=a,,b,zoned.zone_size=64M');
    assert.equal(formatKeyval(tree, 'driver'), 'nvme,serial=a,,b,zoned.zone_size=64M');
  });

  it('formatKeyval spells out an implied value the short syntax cannot carry', () => {
    const t = (v: string): KeyvalTree =>
      Object.assign(Object.create(null) as KeyvalTree, { d: v, x: '1' });
    assert.equal(formatKeyval(t('a,b'), 'd'), 'd=a,,b,x=1');
    assert.equal(formatKeyval(t('a=b'), 'd'), 'd=a=b,x=1');
    assert.equal(formatKeyval(t('help'), 'd'), 'd=help,x=1');
    assert.equal(formatKeyval(t(''), 'd'), 'd=,x=1');
  });

  it('formatKeyval refuses trees the syntax cannot express', () => {
    const bad: [unknown, string][] = [
      [{ '7up': 'x' }, "Invalid parameter '7up'"],
      [{ 'a.b': 'x' }, "Invalid parameter 'a.b'"],
      [{ a: {} }, "Parameter 'a' is an empty object"],
      [{ a: { '01': 'x' } }, "Invalid parameter 'a.01'"],
      [{ a: { 1: 'x' } }, "Parameter 'a.0' missing"],
      [{ a: { 0: 'x', b: 'y' } }, "Parameters 'a.*' used inconsistently"],
      [{ [long(128)]: 'x' }, `Invalid parameter '${long(128)}'`],
    ];
    for (const [tree, message] of bad) {
      assert.throws(() => formatKeyval(tree as KeyvalTree), { message }, message);
    }
    assert.equal(formatKeyval(Object.create(null) as KeyvalTree), '');
  });
});

describe('formatKeyval and parseKeyval round-trip', () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,6}$/);
  const value = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[,=a.]{0,6}$/),
    fc.string({ unit: 'grapheme', maxLength: 6 }),
  );
  const toNull = (o: Record<string, unknown>): KeyvalTree =>
    Object.assign(Object.create(null) as KeyvalTree, o);
  const { tree } = fc.letrec<{ node: string | KeyvalTree; tree: KeyvalTree }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      value,
      fc.dictionary(name, tie('node'), { minKeys: 1, maxKeys: 3 }).map(toNull),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((a) => toNull({ ...a })),
    ),
    tree: fc.dictionary(name, tie('node'), { maxKeys: 5 }).map(toNull),
  }));

  it('parse(format(tree)) is the tree, with and without an implied key', () => {
    fc.assert(
      fc.property(tree, value, (t, implied) => {
        assert.deepEqual(plain(parseKeyval(formatKeyval(t)).tree), plain(t));
        const withDriver = toNull({ driver: implied, ...t });
        const text = formatKeyval(withDriver, 'driver');
        assert.deepEqual(plain(parseKeyval(text, 'driver').tree), plain(withDriver));
      }),
      { numRuns: 300 },
    );
  });
});

describe('QemuOpts flat keys', () => {
  it('keeps dotted names flat so zoned=on and zoned.zone_size coexist', () => {
    const { tree } = parseKeyval('nvme-ns,zoned=on,zoned.zone_size=64M', {
      impliedKey: 'driver',
      flat: true,
    });
    assert.deepEqual({ ...tree }, { driver: 'nvme-ns', zoned: 'on', 'zoned.zone_size': '64M' });
  });
  it('still rejects invalid key fragments', () => {
    assert.throws(() => parseKeyval('a.=1', { flat: true }), { message: "Invalid parameter 'a.'" });
  });
});
