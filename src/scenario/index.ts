// Scenario files (docs/scenarios.md): parse, then run in-process.

export { parseScenario, ScenarioError, type Scenario, type ScenarioStep } from './format.js';
export {
  ScenarioRun,
  type ScenarioResult,
  type ScenarioRunOptions,
  type StepResult,
} from './runner.js';
export { loadRecordings } from './replay-step.js';
export { blockPattern } from './pattern.js';
