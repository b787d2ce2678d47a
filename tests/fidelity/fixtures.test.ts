// The recorded QEMU fixtures (tests/fixtures/qemu/) are well formed, say what their README says,
// and docs/qemu-10.md's generated tables equal what the fixtures give (so the phase 2 spec
// cannot drift from the recordings). Also unit tests of the diff machinery on synthetic
// answers.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { answerBytes, statusText, trimmedHex, type Answer } from './answers.js';
import { CONFIGS } from './configs.js';
import { answerRows, parseTable, renderTable, mergedRows } from './diff.js';
import {
  answerRowsAll,
  DOC,
  newRowsAll,
  propertyRows,
  renderProperties,
  section,
} from './doc-tables.js';
import { renderNewAnswers } from './diff.js';
import { fieldsOf } from './fields.js';
import {
  answerProblems,
  FIXTURES,
  fixtureProblems,
  loadFixture,
  loadHelp,
  normalDefault,
  parseHelp,
  VERSIONS,
} from './fixtures.js';

const ALL = CONFIGS.map((c) => c.name);

describe('QEMU fixtures are well formed', () => {
  for (const v of VERSIONS) {
    for (const c of CONFIGS) {
      it(`${v}/${c.name}.json`, () => {
        const f = loadFixture(v, c.name);
        assert.deepEqual(fixtureProblems(f, v, c.name), []);
        assert.equal(f.startError, undefined, 'every configuration starts');
        const version = readFileSync(`${FIXTURES}/${v}/version.txt`, 'utf8').trim();
        assert.equal(f.qemu, version);
        // The command line is the configuration's (7.2 without the properties it lacks).
        const devices = f.commandLine.filter((_, i) => f.commandLine[i - 1] === '-device');
        assert.deepEqual(devices, v === '7.2' ? (c.devices72 ?? c.devices) : c.devices);
      });
    }
  }

  it('both versions were asked the same questions, except after a failed re-enable', () => {
    for (const c of CONFIGS) {
      const a = Object.keys(loadFixture('7.2', c.name).answers);
      const b = new Set(Object.keys(loadFixture('10.0', c.name).answers));
      const only72 = a.filter((k) => !b.has(k));
      // QEMU 10.0 refuses CC.CSS = 7, so the two questions asked under it are 7.2's only.
      assert.deepEqual(only72, ['log lid=0x05 css=7', 'identify cns=0x1c css=7'], c.name);
      assert.equal(b.size, a.length - 2, c.name);
    }
  });

  it('pins the facts the differences hinge on (reference qemu-nvme.md §2.2, §2.6)', () => {
    const id = (v: '7.2' | '10.0'): Uint8Array =>
      answerBytes(loadFixture(v, 'default').answers['identify cns=0x01 csi=0x00 nsid=0x0']!);
    const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
    assert.equal(Buffer.from(id('7.2').subarray(64, 70)).toString(), '7.2.22');
    assert.equal(Buffer.from(id('10.0').subarray(64, 71)).toString(), '10.0.13');
    assert.equal(u16(id('7.2'), 256), 0x10a); // OACS
    assert.equal(u16(id('10.0'), 256), 0x12a);
    assert.equal(u16(id('7.2'), 520), 0x15d); // ONCS
    assert.equal(u16(id('10.0'), 520), 0x75d);
    const cap = (v: '7.2' | '10.0'): bigint => {
      const b = answerBytes(loadFixture(v, 'default').answers['regs']!);
      return Buffer.from(b.subarray(0, 8)).readBigUInt64LE();
    };
    assert.equal(cap('7.2'), 0x004018200f0107ffn);
    assert.equal(cap('10.0'), 0x004008200f0107ffn);
  });
});

describe('device help fixtures', () => {
  for (const v of VERSIONS) {
    for (const dev of ['nvme', 'nvme-ns', 'nvme-subsys'] as const) {
      it(`${v} -device ${dev},help parses, every property once`, () => {
        const props = loadHelp(v, dev);
        const key = { nvme: 'serial', 'nvme-ns': 'nsid', 'nvme-subsys': 'nqn' }[dev];
        assert.ok(props.some((p) => p.name === key));
        assert.equal(new Set(props.map((p) => p.name)).size, props.length);
      });
    }
  }
  it('parses help lines (types with links, defaults, descriptions)', () => {
    const props = parseHelp(
      'nvme options:\n  pmrdev=<link<memory-backend>>\n  mdts=<uint8>           -  (default: 7)\n' +
        '  dbcs=<bool>            - on/off (default: on)\n',
    );
    assert.deepEqual(props, [
      { name: 'pmrdev', type: 'link<memory-backend>' },
      { name: 'mdts', type: 'uint8', default: '7' },
      { name: 'dbcs', type: 'bool', default: 'on', desc: 'on/off' },
    ]);
    assert.throws(() => parseHelp('nvme options:\n  garbage\n'), /help line '  garbage'/);
    assert.equal(normalDefault('false'), 'off');
    assert.equal(normalDefault('"auto"'), 'auto');
  });
});

describe('docs/qemu-10.md tables equal the fixtures', () => {
  const doc = readFileSync(DOC, 'utf8');
  it('answers that differ between 7.2 and 10.0', () => {
    const want = parseTable(renderTable(answerRowsAll(), ALL));
    assert.ok(want.length > 50);
    assert.deepEqual(parseTable(section(doc, 'answers')), want);
  });
  it('what only 10.0 answers', () => {
    const want = parseTable(renderNewAnswers(newRowsAll(), ALL));
    assert.deepEqual(parseTable(section(doc, 'new')), want);
  });
  it('device properties new or changed in 10.0', () => {
    const want = parseTable(renderProperties(propertyRows()));
    assert.ok(want.some((r) => r[1] === '`mqes`' && r[2] === 'new'));
    assert.deepEqual(parseTable(section(doc, 'properties')), want);
  });
});

describe('the difference rows', () => {
  const ok = (data: string, len = 4096): Answer => ({
    status: '0x0000',
    dw0: '0x00000000',
    len,
    data,
  });
  it('names Identify Controller fields and the bits that changed', () => {
    const a = new Uint8Array(4096);
    const b = new Uint8Array(4096);
    a[256] = 0x0a;
    a[257] = 0x01;
    b[256] = 0x2a;
    b[257] = 0x01;
    const rows = answerRows(
      'identify cns=0x01 csi=0x00 nsid=0x0',
      ok(trimmedHex(a)),
      ok(trimmedHex(b)),
    );
    assert.deepEqual(rows, [
      {
        answer: 'identify cns=0x01 csi=0x00 nsid=0x0',
        field: 'OACS (256)',
        v72: '0x10a',
        v10: '0x12a',
        meaning: 'optional admin commands: +Directives',
        desc: 'optional admin commands',
      },
    ]);
  });
  it('reports multi-bit sub-fields with old and new values, and unnamed byte runs', () => {
    const regs = (css: number): Answer => {
      const b = new Uint8Array(0x70);
      b[4] = (css << 5) & 0xff;
      b[5] = css >> 3;
      return { len: 0x70, data: trimmedHex(b) };
    };
    const rows = answerRows('regs', regs(0xc1), regs(0x41));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.meaning, 'Controller Capabilities: CSS 0xc1→0x41');
    const raw = answerRows('identify cns=0x15 csi=0x00 nsid=0x0', ok('0001'), ok('0002aa'));
    assert.deepEqual(
      raw.map((r) => [r.field, r.v72, r.v10]),
      [['bytes 1-2', '0100', '02aa']],
    );
  });
  it('reports statuses, dw0 and one-sided answers', () => {
    const fail: Answer = { status: '0x4002', dw0: '0x00000000' };
    assert.deepEqual(
      answerRows('x', fail, ok('')).map((r) => [r.field, r.v72, r.v10]),
      [['status', '0x002+DNR', '0x000']],
    );
    assert.deepEqual(
      answerRows('x', undefined, fail).map((r) => [r.field, r.v72, r.v10]),
      [['answer', 'not asked', '0x002+DNR']],
    );
    assert.deepEqual(
      answerRows(
        'x',
        { ...fail, status: '0x0000', dw0: '0x00000001' },
        { ...fail, status: '0x0000', dw0: '0x00000004' },
      ).map((r) => [r.field, r.v72, r.v10]),
      [['dw0', '0x00000001', '0x00000004']],
    );
  });
  it('merges equal rows of several configurations', () => {
    const f = (config: string, oacs: number) => ({
      format: 1 as const,
      qemu: 'q',
      version: '7.2' as const,
      config,
      title: '',
      commandLine: ['-device', 'nvme'],
      notes: [],
      answers: {
        'identify cns=0x01 csi=0x00 nsid=0x0': ok(
          oacs === 0 ? '' : `${'00'.repeat(256)}${oacs.toString(16).padStart(2, '0')}`,
        ),
      },
    });
    const rows = mergedRows([
      [f('a', 0), f('a', 0x2a)],
      [f('b', 0), f('b', 0x2a)],
      [f('c', 0), f('c', 0x0a)],
    ]);
    assert.deepEqual(
      rows.map((r) => [r.v10, r.configs]),
      [
        ['0x2a', ['a', 'b']],
        ['0xa', ['c']],
      ],
    );
    const md = renderTable(rows, ['a', 'b']);
    assert.deepEqual(parseTable(md)[0]!.slice(2, 5), ['0x0', '0x2a', 'all']);
  });
  it('has field tables inside 4 KiB, sorted and without overlaps', () => {
    for (const key of [
      'identify cns=0x00 csi=0x00 nsid=0x1',
      'identify cns=0x01 csi=0x00 nsid=0x0',
      'identify cns=0x05 csi=0x00 nsid=0x1',
      'identify cns=0x05 csi=0x02 nsid=0x1',
      'identify cns=0x06 csi=0x00 nsid=0x0',
      'identify cns=0x08 csi=0x00 nsid=0x1',
      'identify cns=0x14 csi=0x00 nsid=0x0',
      'log lid=0x02',
      'log lid=0x05',
      'log lid=0x09 lsi=1',
      'log lid=0x20 lsi=1',
      'log lid=0x23 lsp=1 lsi=1',
      'regs',
      'pci config',
      'fdp ruh status nsid=1 after',
    ]) {
      const fields = fieldsOf(key);
      assert.ok(fields.length > 0, key);
      let end = 0;
      for (const f of fields) {
        assert.ok(f.off >= end, `${key}: ${f.name} overlaps`);
        end = f.off + f.size;
      }
      assert.ok(end <= 4096, key);
    }
  });
  it('checks answers: hex, lengths, trailing zeros, data only on success', () => {
    assert.deepEqual(answerProblems('k', ok('0a0b')), []);
    assert.deepEqual(
      answerProblems('k', { status: '0x4002', dw0: '0x00000000', len: 4, data: '01' }),
      ['k: data recorded for a failed command'],
    );
    assert.deepEqual(answerProblems('k', ok('0a00')), ['k: data keeps trailing zeros']);
    assert.deepEqual(answerProblems('k', ok('0a0b0c', 2)), ['k: data longer than len']);
    assert.deepEqual(answerProblems('k', { status: '0xc002' }), [
      'k: status has bit 15 (the phase tag is not part of it)',
    ]);
    assert.equal(statusText('0x61bc'), '0x1bc+DNR+M');
  });
});

describe('nvme-cli 2.13 guest fixtures', () => {
  const base = `${FIXTURES}/../nvme-cli-2.13`;
  const runs = existsSync(base)
    ? readdirSync(base).filter((d) => statSync(`${base}/${d}`).isDirectory())
    : [];
  it('has the QEMU 10.0 reference run', () => {
    assert.ok(runs.includes('qemu-10.0'), `runs: ${runs.join(', ')}`);
  });
  for (const run of runs) {
    it(`${run}: every configuration answered, every JSON output parses`, () => {
      for (const c of CONFIGS) {
        const dir = `${base}/${run}/${c.name}`;
        const lines = readFileSync(`${dir}/commands.tsv`, 'utf8')
          .split('\n')
          .filter((l) => l);
        assert.ok(lines.length >= 19, `${run}/${c.name}: ${lines.length} commands`);
        for (const l of lines) {
          const [rc, name, cmd] = l.split('\t') as [string, string, string];
          assert.match(rc, /^\d+$/);
          const json = cmd.includes(' -o json');
          const out = `${dir}/${name}.${json ? 'json' : 'txt'}`;
          assert.ok(existsSync(out), out);
          // nvme-cli 2.13 prints a failure as a JSON error object when asked for JSON.
          const text = readFileSync(out, 'utf8');
          if (json && text.trim() !== '') assert.doesNotThrow(() => JSON.parse(text), out);
          if (rc !== '0') {
            assert.ok(
              existsSync(`${dir}/${name}.err`) || text.includes('"error"'),
              `${out}: no error`,
            );
          }
        }
      }
    });
  }
  it('QEMU 10.0 answered cmdset-ind-id-ns and endurance-log everywhere (the issue 21 gaps)', () => {
    for (const c of CONFIGS) {
      const tsv = readFileSync(`${base}/qemu-10.0/${c.name}/commands.tsv`, 'utf8');
      assert.match(tsv, /^0\tns1-cmdset-ind-id-ns\t/m, c.name);
      assert.match(tsv, /^0\tendurance-log\t/m, c.name);
    }
  });
});
