// The generated tables of docs/qemu-10.md: every answer that differs between the QEMU 7.2 and
// QEMU 10.0 fixtures, and the device properties that 10.0 added or changed. Run
//   node build/tests/fidelity/doc-tables.js --write
// after re-recording (then `npm run format`); fixtures.test.ts checks the doc against them.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIGS } from './configs.js';
import {
  mergedRows,
  newAnswerRows,
  renderNewAnswers,
  renderTable,
  type NewAnswerRow,
  type TableRow,
} from './diff.js';
import { loadFixture, loadHelp, normalDefault, ROOT, type HelpProperty } from './fixtures.js';

export const DOC = `${ROOT}docs/qemu-10.md`;
export const DEVICES = ['nvme', 'nvme-ns', 'nvme-subsys'] as const;

export function answerRowsAll(): TableRow[] {
  return mergedRows(
    CONFIGS.map((c) => [loadFixture('7.2', c.name), loadFixture('10.0', c.name)] as const),
  );
}

export function newRowsAll(): NewAnswerRow[] {
  return newAnswerRows(
    CONFIGS.map((c) => [loadFixture('7.2', c.name), loadFixture('10.0', c.name)] as const),
  );
}

export interface PropertyRow {
  readonly device: string;
  readonly name: string;
  readonly change: 'new' | 'changed' | 'removed';
  readonly v72: string;
  readonly v10: string;
  readonly desc: string;
}

function show(p: HelpProperty | undefined): string {
  if (p === undefined) return '—';
  const d = normalDefault(p.default);
  return d === undefined ? p.type : `${p.type}, ${d}`;
}

/** Properties new in 10.0, gone, or with another type or default (formatting aside). */
export function propertyRows(): PropertyRow[] {
  const rows: PropertyRow[] = [];
  for (const device of DEVICES) {
    const a = new Map(loadHelp('7.2', device).map((p) => [p.name, p]));
    const b = new Map(loadHelp('10.0', device).map((p) => [p.name, p]));
    for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
      const pa = a.get(name);
      const pb = b.get(name);
      const change =
        pa === undefined
          ? 'new'
          : pb === undefined
            ? 'removed'
            : show(pa) !== show(pb)
              ? 'changed'
              : undefined;
      if (change === undefined) continue;
      rows.push({
        device,
        name,
        change,
        v72: show(pa),
        v10: show(pb),
        desc: pb?.desc ?? pa?.desc ?? '',
      });
    }
  }
  return rows;
}

const esc = (s: string): string =>
  s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderProperties(rows: readonly PropertyRow[]): string {
  const lines = [
    '| device | property | change | QEMU 7.2 | QEMU 10.0 | description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.device} | \`${r.name}\` | ${r.change} | ${esc(r.v72)} | ${esc(r.v10)} | ${esc(r.desc)} |`,
    );
  }
  return lines.join('\n');
}

export const MARKERS = {
  answers: ['<!-- BEGIN generated: answers -->', '<!-- END generated: answers -->'],
  properties: ['<!-- BEGIN generated: properties -->', '<!-- END generated: properties -->'],
  new: ['<!-- BEGIN generated: new answers -->', '<!-- END generated: new answers -->'],
} as const;

/** The text between a marker pair. */
export function section(doc: string, which: keyof typeof MARKERS): string {
  const [begin, end] = MARKERS[which];
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/qemu-10.md lacks the ${which} markers`);
  return doc.slice(i + begin.length, j);
}

function replaceSection(doc: string, which: keyof typeof MARKERS, body: string): string {
  const [begin, end] = MARKERS[which];
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/qemu-10.md lacks the ${which} markers`);
  return `${doc.slice(0, i + begin.length)}\n\n${body}\n\n${doc.slice(j)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const answers = renderTable(
    answerRowsAll(),
    CONFIGS.map((c) => c.name),
  );
  const props = renderProperties(propertyRows());
  const fresh = renderNewAnswers(
    newRowsAll(),
    CONFIGS.map((c) => c.name),
  );
  if (process.argv.includes('--write')) {
    let doc = readFileSync(DOC, 'utf8');
    doc = replaceSection(doc, 'answers', answers);
    doc = replaceSection(doc, 'properties', props);
    doc = replaceSection(doc, 'new', fresh);
    writeFileSync(DOC, doc);
    console.log(`wrote ${DOC}; run npm run format`);
  } else {
    console.log(answers);
    console.log();
    console.log(props);
    console.log();
    console.log(fresh);
  }
}
