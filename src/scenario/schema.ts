// Placeholder replaced by the valibot schema below in the next step.
export function scenarioJsonSchema(): unknown {
  return {};
}
