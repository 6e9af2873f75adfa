export { initialView, apply, fold } from './fold.js';
export { Folder, type FolderCheckpoint } from './folder.js';
export { ReplayIndex, DEFAULT_SNAPSHOT_EVERY, type ReplayIndexOptions } from './replay-index.js';
export { planProgress } from './progress.js';
export { measureReplay, type ReplayMeasurement, type MeasureReplayOptions } from './bench.js';
export {
  applyRunEvent,
  approvalStatusAfter,
  initialRunState,
  pendingOf,
  readRunState,
  type ApprovalRecord,
  type OpenTurn,
  type RunState,
  type UserDecision,
} from './run-state.js';
