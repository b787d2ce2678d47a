// The scenario step that replays a recording as a workload (docs/scenarios.md `replay`): the
// recorded commands and events (faults, power cuts) run on the scenario's machine as it is at
// that step, and the step passes when the replay reports as many divergences as expected
// (default none). The recordings are read and checked before the machine is built, so a
// missing or damaged file is a mistake in the scenario (exit 2), not a failed step.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseRecording } from '../replay/parse.js';
import { checkReplayable } from '../replay/replayer.js';
import type { Recording } from '../replay/format.js';
import { ScenarioError, type Scenario } from './format.js';

/**
 * The recording of each replay step, by step index (0-based); files relative to `baseDir`.
 * `where` starts the field path of an error (the scenario file's name).
 */
export function loadRecordings(
  s: Scenario,
  baseDir: string,
  where = 'scenario',
): Map<number, Recording> {
  const out = new Map<number, Recording>();
  for (const [i, st] of s.steps.entries()) {
    if (st.step.op !== 'replay') continue;
    const at = `${where}.steps[${i}].replay.file`;
    const path = resolve(baseDir, st.step.file);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new ScenarioError(
        at,
        `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    try {
      const rec = parseRecording(bytes);
      checkReplayable(rec);
      out.set(i, rec);
    } catch (e) {
      throw new ScenarioError(at, `${path}: ${(e as Error).message}`);
    }
  }
  return out;
}
