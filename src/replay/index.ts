// Record and replay (docs/record-replay.md).
export * from './format.js';
export { parseRecording, RecordingError } from './parse.js';
export { Recorder, type RecorderOptions } from './recorder.js';
export {
  replayOn,
  checkReplayable,
  type ReplayOptions,
  type ReplayReport,
  type ReplayTarget,
} from './replayer.js';
export { replayRecording, buildMachine, freshImages, type SessionOptions } from './session.js';
export { diffRecordings, type DiffReport } from './diff.js';
export { formatDivergence, type Divergence } from './compare.js';
export { fuzzMachine, type FuzzCrash, type FuzzOptions, type FuzzReport } from './fuzz.js';
