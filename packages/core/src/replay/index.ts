export { initialView, apply, fold } from './fold.js';
export { RunViewFold, type FoldMark } from './run-view-fold.js';
export { RUN_VIEW_FOLD_VERSION } from './fold-version.js';
export { decodeRunState, encodeRunState, RUN_STATE_FOLD, RUN_STATE_FOLD_VERSION } from './run-state-snapshot.js';
export { keyOf, type KeyedKind } from './view-items.js';
export { KEYED_KINDS, keyedTouch, type KeyedRef, type KeyedTouch } from './keyed-touch.js';
export { ReplayIndex, DEFAULT_SNAPSHOT_EVERY, type ReplayIndexOptions, type ReplayEventSource, type ReplayWindow } from './replay-index.js';
export { planProgress } from './progress.js';
export { markerOf } from './markers.js';
export { measureReplay, type ReplayMeasurement, type MeasureReplayOptions } from './bench.js';
export {
  applyRunEvent,
  approvalStatusAfter,
  initialRunState,
  openToolsOf,
  pendingOf,
  readRunState,
  RUN_STATE_TYPES,
  type ApprovalRecord,
  type OpenTurn,
  type RunState,
  type UserDecision,
} from './run-state.js';
export { mulberry32, syntheticRun } from './synthetic.js';
export {
  attentionNotices,
  rememberStates,
  waitingCount,
  AWAITING_APPROVAL,
  type AttentionContext,
  type AttentionKind,
  type AttentionNotice,
  type AttentionRun,
} from './attention.js';
