// The `nvmemu/scenario` entry point: scenario files (docs/scenarios.md) — parse and validate
// them, run them in-process, and the JSON Schema editors use to check them.

export {
  parseScenario,
  ScenarioError,
  ScenarioRun,
  blockPattern,
  type Scenario,
  type ScenarioStep,
  type ScenarioResult,
  type ScenarioRunOptions,
  type StepResult,
} from '../scenario/index.js';
export { scenarioJsonSchema } from '../scenario/schema.js';
