// `nvmemu scenario run FILE [--data DIR] [-o json]` (docs/scenarios.md): runs a scenario file
// in-process and prints one line per step, TAP style (or one JSON document). Exit status: 0
// every expectation held, 1 a step failed (or the machine could not be built), 2 a usage
// error or an invalid scenario file. `nvmemu scenario schema` prints the JSON Schema of the
// format, for editors.

import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Scenario } from '../scenario/index.js';
import type { CliIo } from './io.js';
import { helpText, parseOptions, type OptionTable, type Values } from './options.js';
import { statusLine } from './progress.js';
import { runGroup, type Group } from './tree.js';

export const SCENARIO_USAGE = `Usage: nvmemu scenario run FILE [--data DIR] [-o json]
       nvmemu scenario schema

run     Runs the scenario FILE (JSON: machine, faults, workload, expectations;
        docs/scenarios.md) in-process. Images are created in DIR (default: a temporary
        folder, removed afterwards). Exit status: 0 passed, 1 a step failed, 2 usage error
        or invalid scenario.
schema  Prints the JSON Schema of scenario files (for editors: "$schema").
`;

const RUN_OPTIONS: OptionTable = {
  data: { type: 'string', valueName: 'DIR', description: 'folder for the images (kept)' },
  'output-format': {
    type: 'string',
    short: 'o',
    default: 'normal',
    valueName: 'FMT',
    description: 'normal (TAP) or json',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

const SCHEMA_OPTIONS: OptionTable = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

async function runScenario(argv: string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseOptions(argv, RUN_OPTIONS, { positionals: true }));
  } catch (e) {
    io.err(`nvmemu scenario run: ${(e as Error).message}\n${SCENARIO_USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.out(
      helpText('nvmemu scenario run', RUN_OPTIONS, {
        operands: 'FILE',
        summary: 'run a fault/power-cut scenario; exit 0 pass, 1 fail',
      }),
    );
    return 0;
  }
  const json = values['output-format'] === 'json';
  if (!json && values['output-format'] !== 'normal') {
    io.err(`nvmemu scenario run: invalid output format '${String(values['output-format'])}'\n`);
    return 2;
  }
  const [file, extra] = positionals;
  if (file === undefined || extra !== undefined) {
    io.err(
      `nvmemu scenario run: ${file === undefined ? 'missing FILE' : `unexpected argument '${extra}'`}\n${SCENARIO_USAGE}`,
    );
    return 2;
  }
  // The scenario engine, the machine it builds and the CLI's error format load with the command
  // that runs a scenario (the group itself is help and options).
  const { parseScenario, ScenarioError, ScenarioRun } = await import('../scenario/index.js');
  const { formatError } = await import('./run.js');
  let scenario: Scenario;
  try {
    scenario = parseScenario(readFileSync(file, 'utf8'), file);
  } catch (e) {
    io.err(e instanceof ScenarioError ? `nvmemu scenario: ${e.message}\n` : formatError(e));
    return 2;
  }
  const data = values.data as string | undefined;
  const temp = data === undefined;
  const dir = data === undefined ? mkdtempSync(join(tmpdir(), 'nvmemu-scenario-')) : resolve(data);
  if (!temp) mkdirSync(dir, { recursive: true });
  const progress = statusLine();
  try {
    if (!json) io.out(`# scenario: ${scenario.name}\n`);
    const result = await new ScenarioRun(scenario, dir, {
      baseDir: dirname(resolve(file)),
      where: file,
    }).run(
      (r) => {
        progress.end();
        if (!json) {
          io.out(
            `${r.ok ? 'ok' : 'not ok'} ${r.index} - ${r.title}${r.message ? ` # ${r.message}` : ''}\n`,
          );
        }
      },
      (i, n, title) => progress.set(`[${i}/${n}] ${title}`),
    );
    const failed = result.steps.filter((r) => !r.ok).length;
    if (json) {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      io.out(
        `1..${result.steps.length}\n# ${result.passed ? 'PASS' : `FAIL (${failed} of ${result.steps.length} steps)`}\n`,
      );
    }
    return result.passed ? 0 : 1;
  } catch (e) {
    // A replay step's recording that is missing or damaged is a mistake in the scenario.
    if (e instanceof ScenarioError) {
      io.err(`nvmemu scenario: ${e.message}\n`);
      return 2;
    }
    io.err(formatError(e));
    return 1;
  } finally {
    progress.end();
    if (temp) rmSync(dir, { recursive: true, force: true });
  }
}

async function printSchema(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values } = parseOptions(argv, SCHEMA_OPTIONS);
    if (values.help === true) {
      io.out(
        helpText('nvmemu scenario schema', SCHEMA_OPTIONS, {
          summary: 'print the JSON Schema of scenario files',
        }),
      );
      return 0;
    }
  } catch (e) {
    io.err(`nvmemu scenario schema: ${(e as Error).message}\n`);
    return 2;
  }
  const { scenarioJsonSchema } = await import('../scenario/schema.js');
  io.out(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
  return 0;
}

export function scenarioGroup(): Group {
  return {
    kind: 'group',
    name: 'scenario',
    summary: 'run fault/power-cut scenario files',
    usage: () => SCENARIO_USAGE,
    children: [
      {
        kind: 'leaf',
        name: 'run',
        summary: 'run a scenario file; exit 0 pass, 1 fail',
        options: RUN_OPTIONS,
        complete: 'files',
        run: runScenario,
      },
      {
        kind: 'leaf',
        name: 'schema',
        summary: 'print the JSON Schema of scenario files',
        options: SCHEMA_OPTIONS,
        run: printSchema,
      },
    ],
  };
}

export async function scenarioCommand(argv: string[], io: CliIo): Promise<number> {
  return await runGroup(scenarioGroup(), argv, io);
}
