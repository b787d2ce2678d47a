// Loading and checking the recorded QEMU fixtures (tests/fixtures/qemu/), and the property lists
// of `-device X,help`. Paths resolve from the compiled file (build/tests/fidelity/) to the
// source tree, so tests and the doc generator read the committed files.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Answer, Fixture } from './answers.js';
import { CONFIGS, type QemuVersion } from './configs.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = `${ROOT}tests/fixtures/qemu`;
export const VERSIONS: readonly QemuVersion[] = ['7.2', '10.0'];

export function fixturePath(v: QemuVersion, config: string): string {
  return `${FIXTURES}/${v}/${config}.json`;
}

export function haveFixtures(): boolean {
  return VERSIONS.every((v) => CONFIGS.every((c) => existsSync(fixturePath(v, c.name))));
}

export function loadFixture(v: QemuVersion, config: string): Fixture {
  return JSON.parse(readFileSync(fixturePath(v, config), 'utf8')) as Fixture;
}

/** Problems with one answer (empty when well formed). */
export function answerProblems(key: string, a: Answer): string[] {
  const p: string[] = [];
  const known = new Set(['cmd', 'status', 'dw0', 'value', 'len', 'data', 'error']);
  for (const k of Object.keys(a)) if (!known.has(k)) p.push(`${key}: unknown member ${k}`);
  if (a.status !== undefined && !/^0x[0-9a-f]{4}$/.test(a.status))
    p.push(`${key}: status ${a.status}`);
  if (a.status !== undefined && (Number.parseInt(a.status, 16) & 0x8000) !== 0) {
    p.push(`${key}: status has bit 15 (the phase tag is not part of it)`);
  }
  if (a.dw0 !== undefined && !/^0x[0-9a-f]{8}$/.test(a.dw0)) p.push(`${key}: dw0 ${a.dw0}`);
  if (
    a.value !== undefined &&
    !/^(0x[0-9a-f]{8}|cq 0x[0-9a-f]{4} sq 0x[0-9a-f]{4})$/.test(a.value)
  ) {
    p.push(`${key}: value ${a.value}`);
  }
  if (a.data !== undefined) {
    if (a.len === undefined || !Number.isInteger(a.len) || a.len <= 0)
      p.push(`${key}: data without len`);
    if (!/^([0-9a-f]{2})*$/.test(a.data)) p.push(`${key}: data is not hex bytes`);
    if (a.data.length > 2 * (a.len ?? 0)) p.push(`${key}: data longer than len`);
    if (a.data.endsWith('00')) p.push(`${key}: data keeps trailing zeros`);
  }
  if (
    a.status === undefined &&
    a.value === undefined &&
    a.data === undefined &&
    a.error === undefined
  ) {
    p.push(`${key}: empty answer`);
  }
  if (a.status !== undefined && a.status !== '0x0000' && a.data !== undefined) {
    p.push(`${key}: data recorded for a failed command`);
  }
  return p;
}

/** Problems with a whole fixture: header fields, then every answer. */
export function fixtureProblems(f: Fixture, v: QemuVersion, config: string): string[] {
  const p: string[] = [];
  if (f.format !== 1) p.push(`format ${String(f.format)}`);
  if (f.version !== v) p.push(`version ${f.version} in the ${v} folder`);
  if (f.config !== config) p.push(`config ${f.config} in ${config}.json`);
  if (!f.qemu.startsWith(`QEMU emulator version ${v}.`)) p.push(`qemu '${f.qemu}'`);
  if (!Array.isArray(f.commandLine) || f.commandLine.length === 0) p.push('no command line');
  if (f.startError === undefined && Object.keys(f.answers).length === 0) p.push('no answers');
  for (const [k, a] of Object.entries(f.answers)) p.push(...answerProblems(k, a));
  return p;
}

export interface HelpProperty {
  readonly name: string;
  readonly type: string;
  readonly default?: string;
  readonly desc?: string;
}

const HELP_LINE = /^ {2}([A-Za-z0-9_.-]+)=<((?:[^<>]|<[^<>]*>)+)>(?:\s+-\s?(.*))?$/;

/** The properties of `-device X,help` output (throws on a line it does not understand). */
export function parseHelp(text: string): HelpProperty[] {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (!/^[a-z-]+ options:$/.test(lines[0] ?? '')) throw new Error(`help header '${lines[0]}'`);
  return lines.slice(1).map((l) => {
    const m = HELP_LINE.exec(l);
    if (m === null) throw new Error(`help line '${l}'`);
    const rest = m[3] ?? '';
    const dm = /\(default: (.*)\)$/.exec(rest);
    const desc = (dm !== null ? rest.slice(0, dm.index) : rest).trim();
    return {
      name: m[1]!,
      type: m[2]!,
      ...(dm !== null ? { default: dm[1]! } : {}),
      ...(desc !== '' ? { desc } : {}),
    };
  });
}

/** A default as a value: 7.2 prints `false`/`"auto"`, 10.0 `off`/`auto` for the same thing. */
export function normalDefault(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  const s = d.replace(/^"(.*)"$/, '$1');
  return s === 'false' ? 'off' : s === 'true' ? 'on' : s;
}

export function loadHelp(v: QemuVersion, device: string): HelpProperty[] {
  return parseHelp(readFileSync(`${FIXTURES}/${v}/device-${device}-help.txt`, 'utf8'));
}
