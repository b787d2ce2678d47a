// `nvmemu scenario run FILE [--data DIR]` (docs/scenarios.md): runs a scenario file in-process
// and prints one line per step, TAP style. Exit status: 0 every expectation held, 1 a step
// failed (or the machine could not be built), 2 a usage error or an invalid scenario file.

import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseScenario, ScenarioError, ScenarioRun, type Scenario } from '../scenario/index.js';
import type { CliIo } from './io.js';
import { formatError } from './run.js';

export const SCENARIO_USAGE = `Usage: nvmemu scenario run FILE [--data DIR]

Runs the scenario FILE (JSON: machine, faults, workload, expectations; docs/scenarios.md)
in-process. Images are created in DIR (default: a temporary folder, removed afterwards).
Exit status: 0 passed, 1 a step failed, 2 usage error or invalid scenario.
`;

export async function scenarioCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help') {
    io.out(SCENARIO_USAGE);
    return 0;
  }
  if (sub !== 'run') {
    io.err(
      `nvmemu scenario: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}\n${SCENARIO_USAGE}`,
    );
    return 2;
  }
  let file: string | undefined;
  let data: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--data') {
      data = rest[++i];
      if (data === undefined) {
        io.err(`nvmemu scenario: --data needs a folder\n`);
        return 2;
      }
    } else if (a.startsWith('-') || file !== undefined) {
      io.err(`nvmemu scenario: unexpected argument '${a}'\n${SCENARIO_USAGE}`);
      return 2;
    } else {
      file = a;
    }
  }
  if (file === undefined) {
    io.err(`nvmemu scenario: missing FILE\n${SCENARIO_USAGE}`);
    return 2;
  }
  let scenario: Scenario;
  try {
    scenario = parseScenario(readFileSync(file, 'utf8'), file);
  } catch (e) {
    io.err(e instanceof ScenarioError ? `nvmemu scenario: ${e.message}\n` : formatError(e));
    return 2;
  }
  const temp = data === undefined;
  const dir = data === undefined ? mkdtempSync(join(tmpdir(), 'nvmemu-scenario-')) : resolve(data);
  if (!temp) mkdirSync(dir, { recursive: true });
  try {
    io.out(`# scenario: ${scenario.name}\n`);
    const result = await new ScenarioRun(scenario, dir).run((r) =>
      io.out(
        `${r.ok ? 'ok' : 'not ok'} ${r.index} - ${r.title}${r.message ? ` # ${r.message}` : ''}\n`,
      ),
    );
    const failed = result.steps.filter((r) => !r.ok).length;
    io.out(
      `1..${result.steps.length}\n# ${result.passed ? 'PASS' : `FAIL (${failed} of ${result.steps.length} steps)`}\n`,
    );
    return result.passed ? 0 : 1;
  } catch (e) {
    io.err(formatError(e));
    return 1;
  } finally {
    if (temp) rmSync(dir, { recursive: true, force: true });
  }
}
